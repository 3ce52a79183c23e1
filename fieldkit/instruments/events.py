"""Writing events (notes, tags, coverage changes, markers) for a session.

Every writer in fieldkit (the interview screen, the observer terminal, the CLI, the
guide coverage service) stores events through :func:`add_event`, so each is one short
transaction that commits at once: a crash right after a keypress loses nothing.
``position_ms`` is the audio position on the session clock (see
``fieldkit.recording.clock``); None for a session without recording.
"""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import TYPE_CHECKING, Any

from fieldkit.store.models import Event, EventKind, utcnow

if TYPE_CHECKING:
    from fieldkit.store.db import Database


def add_event(
    db: "Database",
    session_id: uuid.UUID,
    kind: EventKind | str,
    *,
    position_ms: int | None,
    author_id: uuid.UUID | None = None,
    wall_time: datetime | None = None,
    **fields: Any,
) -> Event:
    """Store one event and commit. ``fields`` are Event columns (text, code, ...)."""
    ev = new_event(session_id, kind, position_ms=position_ms, author_id=author_id, wall_time=wall_time, **fields)
    with db.transaction() as s:
        s.add(ev)
    return ev


def new_event(
    session_id: uuid.UUID,
    kind: EventKind | str,
    *,
    position_ms: int | None,
    author_id: uuid.UUID | None = None,
    wall_time: datetime | None = None,
    **fields: Any,
) -> Event:
    """One event, to be added in the caller's transaction."""
    return Event(
        session_id=session_id,
        kind=EventKind(kind),
        position_ms=position_ms,
        created_by=author_id,
        wall_time=wall_time or utcnow(),
        **fields,
    )


def close_state_event(db: "Database", event_id: uuid.UUID, end_ms: int | None) -> Event:
    """End a state tag (a digression ...) started earlier, by this or another process."""
    with db.transaction() as s:
        ev = s.get(Event, event_id)
        if ev is None:
            raise KeyError(event_id)
        ev.end_ms = end_ms
        s.add(ev)
    return ev
