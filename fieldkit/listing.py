"""What the project screens list: a project's sessions and informants, read for them.

Screens never run SQL (tests/test_architecture.py checks it); they call these.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from fieldkit.projects import ProjectHandle
    from fieldkit.store.models import Informant


@dataclass(frozen=True)
class SessionSummary:
    id: uuid.UUID
    title: str
    kind: str          # SessionKind value
    status: str        # SessionStatus value
    starts_at: datetime | None
    is_pilot: bool


def project_sessions(handle: "ProjectHandle") -> list[SessionSummary]:
    """The project's sessions, by start time (planned ones without a time first), then by
    when they were made (the quick read in fieldkit.store.dbfile keeps the same order)."""
    from sqlmodel import select

    from fieldkit.store.models import Session

    with handle.db.session() as s:
        return [SessionSummary(x.id, x.title, x.kind.value, x.status.value, x.starts_at, x.is_pilot)
                for x in s.exec(select(Session).where(Session.project_id == handle.project_id)
                                .order_by(Session.starts_at, Session.created_at))]


def session_lead_id(handle: "ProjectHandle", session_id: uuid.UUID) -> uuid.UUID | None:
    """The researcher leading a session (None if none was named, or no such session)."""
    from fieldkit.store.models import Session

    with handle.db.session() as s:
        sess = s.get(Session, session_id)
        return sess.lead_id if sess is not None else None


def informants_with_session_counts(handle: "ProjectHandle") -> list[tuple["Informant", int]]:
    """Every informant of the project by code, with the number of sessions they took part in."""
    from sqlalchemy import func
    from sqlmodel import select

    from fieldkit.store.models import Informant, SessionParticipant

    with handle.db.session() as s:
        counts = dict(s.exec(select(SessionParticipant.informant_id, func.count(SessionParticipant.id))
                             .group_by(SessionParticipant.informant_id)).all())
        return [(i, counts.get(i.id, 0))
                for i in s.exec(select(Informant).where(Informant.project_id == handle.project_id)
                                .order_by(Informant.code))]


def next_informant_code(handle: "ProjectHandle", prefix: str = "I") -> str:
    """The next free pseudonym code: I01, I02 ..."""
    from sqlmodel import select

    from fieldkit.store.models import Informant

    with handle.db.session() as s:
        used = set(s.exec(select(Informant.code).where(Informant.project_id == handle.project_id)))
    n = 1
    while f"{prefix}{n:02d}" in used:
        n += 1
    return f"{prefix}{n:02d}"
