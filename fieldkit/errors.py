"""Errors that carry a message meant for the researcher, not a traceback, and the exit
codes of the ``fieldkit`` command, all in one place.

Every error class names its exit code from :class:`ExitCode`; a command that ends with a
status of its own (``ctx.exit``) uses one of these too. Each number means one thing; the
README's "Exit codes" table lists them for scripts.
"""

from enum import IntEnum


class ExitCode(IntEnum):
    """What ``fieldkit`` returns to the shell."""

    OK = 0
    #: the command could not do what was asked; the message says why (also: a doctor check failed)
    FAILED = 1
    #: the command line, or a file given to it (guide, tag scheme, settings), is not valid
    USAGE = 2
    #: a project's database cannot be opened (locked by another program, damaged, newer schema)
    DATABASE = 3
    #: the data folder cannot be used
    DATA_DIR = 4
    #: an encrypted project is locked: no passphrase, or a wrong one
    LOCKED = 5
    #: a speech model is missing or transcription failed
    TRANSCRIPTION = 6
    #: a recording to import cannot be read
    IMPORT = 7
    #: the microphone or the recorder failed
    RECORDER = 8
    #: a file would be overwritten (export without --force)
    EXISTS = 9
    #: telling speakers apart failed (speaker model or audio)
    SPEAKERS = 10
    #: the team server could not be reached, or refused the request
    SYNC = 11
    #: stopped by the user: Ctrl+C, or a confirmation answered "no"
    INTERRUPTED = 130


class FieldkitError(Exception):
    """A problem the user can act on. ``str(err)`` is shown as is; the command exits with
    ``exit_code``."""

    exit_code: int = ExitCode.FAILED

    def __init__(self, message: str, *, hint: str | None = None):
        super().__init__(message)
        self.message = message
        self.hint = hint

    def __str__(self) -> str:  # pragma: no cover - trivial
        return self.message if not self.hint else f"{self.message}\n  {self.hint}"


class DatabaseError(FieldkitError):
    """The project database cannot be opened as it is (locked, damaged, too new)."""

    exit_code = ExitCode.DATABASE


class DataDirError(FieldkitError):
    exit_code = ExitCode.DATA_DIR
