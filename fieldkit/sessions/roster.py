"""The roster of a group session: seat number -> informant code and role, as the
researcher sees it during a focus group of 8-9. After a tag or note key, one digit (the
seat) says which participant the event is about; the event is stored first, at the
keypress, and its informant is set when the digit comes."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from typing import TYPE_CHECKING

from fieldkit.errors import FieldkitError
from fieldkit.i18n import _

if TYPE_CHECKING:
    from fieldkit.projects import ProjectHandle


@dataclass
class Seat:
    seat: int
    informant_id: uuid.UUID
    code: str
    role: str


def roster(handle: "ProjectHandle", session_id: uuid.UUID) -> list[Seat]:
    """The session's participants by seat number (participants without a seat last)."""
    from sqlmodel import select

    from fieldkit.store.models import Informant, SessionParticipant

    with handle.db.session() as s:
        rows = s.exec(select(SessionParticipant, Informant).join(Informant)
                      .where(SessionParticipant.session_id == session_id)).all()
        seats = [Seat(p.seat or 0, i.id, i.code, i.role) for p, i in rows]
    return sorted(seats, key=lambda x: (x.seat == 0, x.seat, x.code))


def set_seats(handle: "ProjectHandle", session_id: uuid.UUID, seats: dict[str, int]) -> None:
    """Give participants seat numbers: {informant code: seat}. A seat is 1-9 and unique."""
    from sqlmodel import select

    from fieldkit.store.models import Informant, SessionParticipant

    if len(set(seats.values())) != len(seats):
        raise FieldkitError(_("Two participants cannot share a seat."))
    with handle.db.transaction() as s:
        rows = {i.code: p for p, i in s.exec(select(SessionParticipant, Informant).join(Informant)
                                            .where(SessionParticipant.session_id == session_id))}
        for code, seat in seats.items():
            if code not in rows:
                raise FieldkitError(_("{code} is not a participant of this session.").format(code=code))
            if not 1 <= int(seat) <= 9:
                raise FieldkitError(_("Seat numbers go from 1 to 9 (got {seat}).").format(seat=seat))
        taken = {p.seat: c for c, p in rows.items() if p.seat and c not in seats}
        for code, seat in seats.items():
            if seat in taken:
                rows[taken[seat]].seat = None
                s.add(rows[taken[seat]])
            rows[code].seat = int(seat)
            s.add(rows[code])


def set_event_informant(handle: "ProjectHandle", session_id: uuid.UUID, event_id: uuid.UUID,
                        seat: int) -> str | None:
    """Say which participant an event (tag or note) is about, by seat number. Returns the
    informant code, or None when nobody sits there (the event is left as it is)."""
    from fieldkit.store.models import Event, utcnow

    by_seat = {x.seat: x for x in roster(handle, session_id) if x.seat}
    who = by_seat.get(seat)
    if who is None:
        return None
    with handle.db.transaction() as s:
        ev = s.get(Event, event_id)
        if ev is None or ev.session_id != session_id:
            return None
        ev.informant_id = who.informant_id
        ev.updated_at = utcnow()
        s.add(ev)
    return who.code
