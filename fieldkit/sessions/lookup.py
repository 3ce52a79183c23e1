"""Finding a session from what a researcher types (its id, an id prefix, its title),
and the session an observer's terminal attaches to."""

from __future__ import annotations

import uuid
from typing import TYPE_CHECKING

from fieldkit.errors import FieldkitError
from fieldkit.i18n import _

if TYPE_CHECKING:
    from fieldkit.projects import ProjectHandle
    from fieldkit.store.models import Session


def find_session(handle: "ProjectHandle", ref: str) -> "Session":
    from sqlmodel import select

    from fieldkit.store.models import Session

    ref = ref.strip()
    with handle.db.session() as s:
        sessions = s.exec(select(Session).where(Session.project_id == handle.project_id)).all()
    try:
        exact = uuid.UUID(ref)
        matches = [x for x in sessions if x.id == exact]
    except ValueError:
        key = ref.lower().replace("-", "")
        matches = [x for x in sessions if x.id.hex.startswith(key)] if len(key) >= 4 else []
        matches = matches or [x for x in sessions if x.title.lower() == ref.lower()]
    if len(matches) == 1:
        return matches[0]
    if not matches:
        raise FieldkitError(_("No session {ref!r} in this project.").format(ref=ref),
                            hint=_("Give its id (or the first 6+ characters) or its "
                                     "exact title."))
    raise FieldkitError(_("{ref!r} matches {n} sessions.").format(ref=ref, n=len(matches)), hint=_("Give "
                                                                              "more of "
                                                                              "the id."))


def observer_target(handle: "ProjectHandle", session_ref: str | None,
                    initials: str | None) -> tuple[str, uuid.UUID, uuid.UUID | None]:
    """(project slug, session id, author id) for ``fieldkit observe``: the named session or
    the one being recorded now; the author is the session's observer unless named."""
    from sqlmodel import select

    from fieldkit.store.models import Researcher, Session, SessionStatus

    if session_ref:
        sess = find_session(handle, session_ref)
    else:
        with handle.db.session() as s:
            running = s.exec(select(Session).where(Session.project_id == handle.project_id,
                                                   Session.status == SessionStatus.recording)
                             .order_by(Session.starts_at.desc())).all()
        if not running:
            raise FieldkitError(_("No session of {name!r} is being recorded now.").format(name=handle.project().name),
                                hint=_("Start the interview in the other terminal "
                                         "first, or name one with --session."))
        sess = running[0]
    author = sess.observer_id
    if initials:
        with handle.db.session() as s:
            r = s.exec(select(Researcher).where(Researcher.project_id == handle.project_id,
                                                Researcher.initials == initials.strip().upper())).first()
        if r is None:
            raise FieldkitError(_("No researcher with initials {initials!r} in this "
                                    "project.").format(initials=initials))
        author = r.id
    return handle.project().slug, sess.id, author
