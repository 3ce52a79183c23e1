"""The people of a project: informants (the registry, with their consent forms) and researchers."""
