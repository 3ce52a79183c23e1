"""Privacy: pseudonymisation, purge at withdrawal and at the deadline, encryption at rest."""
