"""What every project screen shares: an open ProjectHandle for the project it shows.

A screen is made with the project's slug (and usually a session id); it opens its own
handle when mounted and closes it when removed, so screens never share a database
connection with each other or with a second app instance (the observer's terminal).
All database work goes through the core modules (``fieldkit.instruments.events``,
``fieldkit.instruments.guides.coverage``, ``fieldkit.sessions.review`` ...), never SQL here.

Screens do their slow work in workers started with ``exit_on_error=False`` (a failed
export must not close the app). A worker that fails is shown here, for every screen: a
notification with the error's message and, for a FieldkitError, its hint.
"""

from __future__ import annotations

import uuid
from typing import TYPE_CHECKING, Generic, TypeVar

from textual.screen import Screen
from textual.worker import Worker, WorkerState

from fieldkit.i18n import _
from fieldkit.errors import FieldkitError

if TYPE_CHECKING:
    from fieldkit.projects import ProjectHandle

R = TypeVar("R")


class ShowsWorkerErrors:
    """Mix into any screen (ProjectScreen has it; the home screen and dialogs may): a
    background job of the screen that fails is shown, and the screen stays."""

    def on_worker_state_changed(self, event: Worker.StateChanged) -> None:
        if event.state == WorkerState.ERROR:
            show_worker_error(self, event.worker)  # type: ignore[arg-type]


class ProjectScreen(ShowsWorkerErrors, Screen[R], Generic[R]):
    """A screen over one project (and optionally one of its sessions)."""

    def __init__(self, slug: str, session_id: uuid.UUID | str | None = None, **kwargs) -> None:  # noqa: ANN003
        super().__init__(**kwargs)
        self.slug = slug
        self.session_id = uuid.UUID(str(session_id)) if session_id else None
        self._handle: "ProjectHandle | None" = None

    @property
    def handle(self) -> "ProjectHandle":
        if self._handle is None:
            self._handle = self.app.workspace.open(self.slug)
        return self._handle

    def on_unmount(self) -> None:
        if self._handle is not None:
            self._handle.close()
            self._handle = None


def worker_error_text(worker: Worker) -> tuple[str, str]:
    """(title, message) for a failed worker: a FieldkitError's message and hint as they
    are; anything else with the task's name and the exception's type."""
    error = worker.error
    task = (worker.name or _("a background task")).replace("_", " ")
    title = _("Could not {task}").format(task=task)
    if isinstance(error, FieldkitError):
        return title, error.message + (f"\n{error.hint}" if error.hint else "")
    return title, f"{type(error).__name__}: {error}"


def show_worker_error(screen: Screen, worker: Worker) -> None:
    title, message = worker_error_text(worker)
    screen.log.error(f"worker {worker.name!r} failed", worker.error)
    screen.notify(message, title=title, severity="error", timeout=20)
