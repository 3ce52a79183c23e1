"""What every project screen shares: an open ProjectHandle for the project it shows.

A screen is made with the project's slug (and usually a session id); it opens its own
handle when mounted and closes it when removed, so screens never share a database
connection with each other or with a second app instance (the observer's terminal).
All database work goes through the core modules (``fieldkit.events``,
``fieldkit.guides.coverage``, ``fieldkit.transcription.review`` ...), never SQL here.
"""

from __future__ import annotations

import uuid
from typing import TYPE_CHECKING, Generic, TypeVar

from textual.screen import Screen

if TYPE_CHECKING:
    from fieldkit.projects import ProjectHandle

R = TypeVar("R")


class ProjectScreen(Screen[R], Generic[R]):
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
