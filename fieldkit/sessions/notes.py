"""Notes written later, at a moment of the recording: in review, while reading the
transcript against the audio (a second look, compared with the first impressions)."""

from __future__ import annotations

import uuid
from typing import TYPE_CHECKING

from fieldkit.errors import FieldkitError
from fieldkit.i18n import _
from fieldkit.text import clean_text

if TYPE_CHECKING:
    from fieldkit.projects import ProjectHandle
    from fieldkit.store.models import Event


def add_note(handle: "ProjectHandle", session_id: uuid.UUID, position_ms: int | None, text: str,
             author_id: uuid.UUID | None = None, informant_id: uuid.UUID | None = None) -> "Event":
    """Store a note at ``position_ms`` of the session's recording (None: a note without a
    time). An empty note is refused, so nothing empty lands in the exports."""
    from fieldkit.instruments.events import add_event
    from fieldkit.store.models import Session

    text = clean_text(text).strip()   # (the store cleans it too; a note of controls is empty)
    if not text:
        raise FieldkitError(_("A note needs some text."))
    if position_ms is not None and position_ms < 0:
        raise FieldkitError(_("A note's time cannot be before the start of the recording."))
    with handle.db.session() as s:
        if s.get(Session, session_id) is None:
            raise FieldkitError(_("No session {id} in this project.").format(id=session_id))
    return add_event(handle.db, session_id, "note", position_ms=position_ms, author_id=author_id, text=text,
                     informant_id=informant_id)
