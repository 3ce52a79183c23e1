"""Errors that carry a message meant for the researcher, not a traceback."""


class FieldkitError(Exception):
    """A problem the user can act on. ``str(err)`` is shown as is; exit code 1..."""

    exit_code = 1

    def __init__(self, message: str, *, hint: str | None = None):
        super().__init__(message)
        self.message = message
        self.hint = hint

    def __str__(self) -> str:  # pragma: no cover - trivial
        return self.message if not self.hint else f"{self.message}\n  {self.hint}"


class DatabaseError(FieldkitError):
    """The project database cannot be opened as it is (locked, damaged, too new)."""

    exit_code = 3


class DataDirError(FieldkitError):
    exit_code = 4
