"""Storage: SQLModel models and the project database."""
