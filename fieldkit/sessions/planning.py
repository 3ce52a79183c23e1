"""Planning a session: when it is to be held.

A plan has a date and time (``Session.planned_at``, stored in UTC), kept apart from
``starts_at`` (when the interview actually began). Typed as researchers write it:
"2026-03-04 10:00", "2026-03-04 10.00", "4.3.2026 10:00", or a date alone.
"""

from __future__ import annotations

import re
import uuid
from datetime import date, datetime, timezone
from typing import TYPE_CHECKING

from fieldkit.errors import FieldkitError
from fieldkit.i18n import _

if TYPE_CHECKING:
    from fieldkit.projects import ProjectHandle

_FORMATS = ("%Y-%m-%d %H:%M", "%Y-%m-%d", "%d.%m.%Y %H:%M", "%d.%m.%Y", "%d.%m.%y %H:%M", "%d.%m.%y")


def parse_when(text: str) -> datetime | None:
    """Local date and time typed in a form, as an aware UTC datetime; "" is None."""
    text = " ".join(text.replace("kl.", " ").replace("T", " ").split())
    if not text:
        return None
    text = re.sub(r"(\d{1,2})[.:](\d{2})$", r"\1:\2", text) if " " in text else text
    for fmt in _FORMATS:
        try:
            local = datetime.strptime(text, fmt)
        except ValueError:
            continue
        return local.astimezone().astimezone(timezone.utc)
    raise FieldkitError(_("{text!r} is not a date and time like 2026-03-04 10:00.").format(text=text),
                        hint=_("Write the date as YYYY-MM-DD (or DD.MM.YYYY) and the "
                                 "time as HH:MM."))


def format_when(when: datetime | None) -> str:
    """A stored time in local time, as the form shows it."""
    if when is None:
        return ""
    if when.tzinfo is None:
        when = when.replace(tzinfo=timezone.utc)
    return when.astimezone().strftime("%Y-%m-%d %H:%M")


def set_planned_at(handle: "ProjectHandle", session_id: uuid.UUID, when: datetime | date | None) -> None:
    """Set (or clear) when a planned session is to be held."""
    from fieldkit.store.models import Session

    if isinstance(when, date) and not isinstance(when, datetime):
        when = datetime(when.year, when.month, when.day).astimezone()
    with handle.db.transaction() as s:
        sess = s.get(Session, session_id)
        if sess is None:
            raise FieldkitError(_("No session {session_id} in this project.").format(session_id=session_id))
        sess.planned_at = when.astimezone(timezone.utc) if when is not None else None
        s.add(sess)


def planned_at(handle: "ProjectHandle", session_id: uuid.UUID) -> datetime | None:
    from fieldkit.store.models import Session

    with handle.db.session() as s:
        sess = s.get(Session, session_id)
        return sess.planned_at if sess is not None else None
