"""After the interview: untouched themes, the debrief notes (each researcher's first
impressions and the joint note), the session's people and its guide."""

from __future__ import annotations

import uuid
from typing import TYPE_CHECKING

from fieldkit.errors import FieldkitError

if TYPE_CHECKING:
    from fieldkit.guides.model import Guide
    from fieldkit.projects import ProjectHandle
    from fieldkit.store.models import Event, Session


def untouched_themes(handle: "ProjectHandle", session_id: uuid.UUID) -> list[str]:
    from fieldkit.guides.coverage import session_coverage
    from fieldkit.store.models import Session

    with handle.db.session() as s:
        sess = s.get(Session, session_id)
        if sess is None or sess.guide_version_id is None:
            return []
    return session_coverage(handle.db, session_id).untouched_themes()


DEBRIEF_PARTS = ("impressions", "joint")


def save_debrief(handle: "ProjectHandle", session_id: uuid.UUID, part: str, text: str,
                 author_id: uuid.UUID | None) -> "Event | None":
    """Keep one researcher's first impressions (part "impressions", author = researcher)
    or the pair's joint note ("joint"). Saving again replaces the text of the same
    researcher's entry; an empty text removes nothing (nothing written is ever lost)."""
    from sqlmodel import select

    from fieldkit.events import add_event
    from fieldkit.store.models import Event, EventKind

    if part not in DEBRIEF_PARTS:
        raise FieldkitError(f"Unknown debrief part {part!r}.")
    text = text.strip()
    with handle.db.transaction() as s:
        q = select(Event).where(Event.session_id == session_id, Event.kind == EventKind.debrief, Event.code == part)
        if part == "impressions":
            q = q.where(Event.created_by == author_id)
        existing = s.exec(q).first()
        if existing is not None:
            if text and text != existing.text:
                existing.text = text
                s.add(existing)
            return existing
    if not text:
        return None
    return add_event(handle.db, session_id, EventKind.debrief, position_ms=None, author_id=author_id,
                     code=part, text=text)


def load_debrief(handle: "ProjectHandle", session_id: uuid.UUID) -> dict[tuple[str, uuid.UUID | None], str]:
    from sqlmodel import select

    from fieldkit.store.models import Event, EventKind

    with handle.db.session() as s:
        return {(e.code, e.created_by if e.code == "impressions" else None): e.text for e in s.exec(
            select(Event).where(Event.session_id == session_id, Event.kind == EventKind.debrief))}


def session_people(handle: "ProjectHandle", session_id: uuid.UUID) -> tuple["Session", dict[uuid.UUID, str]]:
    """The session and its researchers {id: "AL (Ada Lead)"} (lead first)."""
    from fieldkit.store.models import Researcher, Session

    with handle.db.session() as s:
        sess = s.get(Session, session_id)
        if sess is None:
            raise FieldkitError(f"No session {session_id} in this project.")
        people = {}
        for rid in (sess.lead_id, sess.observer_id):
            if rid is not None:
                r = s.get(Researcher, rid)
                if r is not None:
                    people[r.id] = f"{r.initials} ({r.name})"
        s.expunge(sess)
        return sess, people


def guide_of(handle: "ProjectHandle", session_id: uuid.UUID) -> "Guide | None":
    from fieldkit.guides.coverage import session_guide
    from fieldkit.store.models import Session

    with handle.db.session() as s:
        sess = s.get(Session, session_id)
        if sess is None or sess.guide_version_id is None:
            return None
    return session_guide(handle.db, session_id)
