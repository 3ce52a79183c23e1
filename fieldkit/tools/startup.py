"""The start-up step, before the home screen lists the projects: the data folder, the
demo project on a first run, every project opened once (which brings its database to the
current schema) and recordings left by a crash repaired.

The home list itself (:mod:`fieldkit.sessions.overview`) only reads. A project the quick
read with sqlite3 alone can read needs nothing here; when all can, SQLAlchemy stays
unimported until the first screen is up."""

from __future__ import annotations

from typing import TYPE_CHECKING

from fieldkit.i18n import _

if TYPE_CHECKING:
    from fieldkit.projects import ProjectHandle, Workspace


def first_run(workspace: "Workspace") -> None:
    """The data folder, and the demo project if fieldkit never ran here (a FieldkitError
    says why it could not be made)."""
    from fieldkit.tools.demo import ensure_demo

    workspace.ensure()
    ensure_demo(workspace)


def prepare(workspace: "Workspace") -> list[str]:
    """Everything the home screen needs done before it reads (see the module docstring).
    Returns problems, one sentence each, naming the project."""
    from fieldkit.errors import FieldkitError
    from fieldkit.store.dbfile import read_project

    if not any(True for _ in workspace.project_folders()):
        try:
            first_run(workspace)
        except FieldkitError as exc:
            return [_("Demo project: {message}").format(message=exc.message)]
    problems: list[str] = []
    for folder in workspace.project_folders():
        if read_project(folder / "project.db") is not None:
            continue   # read as it is (sqlite3 alone): nothing to migrate or repair
        from fieldkit.privacy.crypto import ProjectLocked

        try:
            with workspace.open(folder) as handle:   # opening migrates the database
                problems.extend(_recover(handle, handle.project().name))
        except ProjectLocked:
            continue   # listed as locked; repaired when it is unlocked and opened
        except FieldkitError as exc:
            problems.append(f"{folder.name}: {exc.message}")
    return problems


def _recover(handle: "ProjectHandle", name: str) -> list[str]:
    """Recordings left by a crash (their recorder process is gone) are repaired at once,
    and a live transcription that died with them is closed and its session queued for
    the final pass."""
    from fieldkit.errors import FieldkitError
    from fieldkit.recording.recovery import recover_all
    from fieldkit.transcription.final import close_dead_live_runs

    try:
        found = recover_all(handle)
    except FieldkitError as exc:
        return [_("{name}: an unfinished recording could not be repaired: {message}").format(
            name=name, message=exc.message) + (f" {exc.hint}" if exc.hint else "")]
    return [f"{name}: {r.message}" for r in [*found, *close_dead_live_runs(handle)]]
