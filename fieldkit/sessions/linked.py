"""Sessions that belong together: a meeting observed, and the group interview of the same
participants held straight afterwards. The later session *follows* the earlier one
(``session.related_session_id``); setup offers "follows session ...", carries the
participants over, and proposes the observation guide and tag scheme for an observation."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING, Any

from fieldkit.i18n import _

if TYPE_CHECKING:
    from fieldkit.projects import ProjectHandle
    from fieldkit.sessions.plan import SetupChoices


@dataclass
class SessionRef:
    id: uuid.UUID
    title: str
    kind: str
    when: datetime | None


@dataclass
class Linked:
    follows: SessionRef | None            # the session this one follows
    followed_by: list[SessionRef]         # sessions that follow this one

    def all(self) -> list[SessionRef]:
        return ([self.follows] if self.follows else []) + list(self.followed_by)


def _ref(sess) -> SessionRef:
    return SessionRef(sess.id, sess.title, sess.kind.value, sess.starts_at or sess.planned_at or sess.created_at)


def linked_sessions(handle: "ProjectHandle", session_id: uuid.UUID) -> Linked:
    """The session this one follows and the sessions that follow it."""
    from sqlmodel import select

    from fieldkit.store.models import Session

    with handle.db.session() as s:
        sess = s.get(Session, session_id)
        if sess is None:
            return Linked(None, [])
        follows = s.get(Session, sess.related_session_id) if sess.related_session_id else None
        after = s.exec(select(Session).where(Session.related_session_id == session_id)
                       .order_by(Session.created_at)).all()
        return Linked(_ref(follows) if follows else None, [_ref(x) for x in after])


def linked_session(handle: "ProjectHandle", session_id: uuid.UUID) -> uuid.UUID | None:
    """The one session to jump to from this one (review's "go to the linked session"):
    the session it follows, else the first that follows it."""
    linked = linked_sessions(handle, session_id)
    refs = linked.all()
    return refs[0].id if refs else None


def link_label(handle: "ProjectHandle", session_id: uuid.UUID) -> str:
    """A short line for lists: "follows: Meeting 1" / "followed by: Group interview"."""
    linked = linked_sessions(handle, session_id)
    parts = []
    if linked.follows:
        parts.append(_("follows: {title}").format(title=linked.follows.title))
    if linked.followed_by:
        parts.append(_("followed by: {titles}").format(titles=", ".join(r.title for r in linked.followed_by)))
    return "; ".join(parts)


def follow_candidates(handle: "ProjectHandle", exclude: uuid.UUID | None = None) -> list[SessionRef]:
    """Sessions a new one can follow, today's (and the latest) first."""
    from sqlmodel import select

    from fieldkit.store.models import Session

    with handle.db.session() as s:
        rows = s.exec(select(Session).where(Session.project_id == handle.project_id)).all()
        refs = [_ref(x) for x in rows if x.id != exclude]
    today = datetime.now().date()

    def key(r: SessionRef):
        when = r.when
        return (when is None or when.date() != today, -(when.timestamp() if when else 0), r.title)

    return sorted(refs, key=key)


def carried_participants(handle: "ProjectHandle", session_id: uuid.UUID) -> list[str]:
    """The informant codes of a session (seat order), to carry over to the one following it."""
    from fieldkit.sessions.plan import load_plan

    return list(load_plan(handle, session_id).informants)


def observation_defaults(choices: "SetupChoices") -> tuple[uuid.UUID | None, uuid.UUID | None]:
    """The guide and tag scheme proposed when the kind Observation is chosen: the project's
    observation guide (title with "observ": Observation, Observasjonsskjema) and the
    meeting-observation tag scheme."""
    guide = next((g.version_id for g in choices.guides if "observ" in g.label.lower()), None)
    scheme = next((sid for sid, name in choices.schemes if "observ" in name.lower()), None)
    return guide, scheme


def follow_order(items: list[tuple[Any, Any]]) -> list[Any]:
    """Ids in their order, except that a session is directly followed by the sessions
    that follow it (the observed meeting, then its group interview): ``items`` are
    (id, follows id or None). Used for exports and lists, so a pair stays together."""
    ids = [i for i, _f in items]
    known = set(ids)
    parent = {i: f for i, f in items if f in known and f != i}
    children: dict[Any, list[Any]] = {}
    for i in ids:
        if i in parent:
            children.setdefault(parent[i], []).append(i)
    out: list[Any] = []
    seen: set[Any] = set()

    def put(i: Any) -> None:
        if i in seen:
            return
        seen.add(i)
        out.append(i)
        for c in children.get(i, []):
            put(c)

    for i in ids:
        if i not in parent:
            put(i)
    for i in ids:   # a loop of follows (setup never makes one) still lists every session
        put(i)
    return out
