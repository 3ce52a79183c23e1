"""The informant registry: pseudonym codes, who they are, their consent forms (information
letter, written consent, where the form is kept) and withdrawal. Recording consent given
at the start of a session is the session's: see :mod:`fieldkit.sessions.consent`."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from typing import TYPE_CHECKING

from sqlmodel import select

from fieldkit.errors import FieldkitError
from fieldkit.store.models import Informant, SessionParticipant
from fieldkit.i18n import N_, Said, _

if TYPE_CHECKING:
    from fieldkit.projects import ProjectHandle


def add_informant(handle: "ProjectHandle", code: str, **fields: object) -> Informant:
    code = code.strip()
    if not code:
        raise FieldkitError(_("An informant needs a pseudonym code (for example L03)."))
    with handle.db.transaction() as s:
        if s.exec(select(Informant).where(Informant.project_id == handle.project_id,
                                          Informant.code == code)).first():
            raise FieldkitError(_("The code {code!r} is already used in this project.").format(code=code))
        inf = Informant(project_id=handle.project_id, code=code, **fields)
        s.add(inf)
    return inf


def get_informant(handle: "ProjectHandle", code: str) -> Informant:
    with handle.db.session() as s:
        inf = s.exec(select(Informant).where(Informant.project_id == handle.project_id,
                                             Informant.code == code)).first()
    if inf is None:
        raise FieldkitError(_("No informant with code {code!r} in this project.").format(code=code))
    return inf


@dataclass
class InformantRow:
    """One informant as the informants screen, the setup list and ``informant list`` show it."""

    code: str
    name: str
    role: str
    organisation: str
    site: str
    group: str
    attributes: str
    consent: str
    sessions: int
    withdrawn: bool


def informant_rows(handle: "ProjectHandle") -> list[InformantRow]:
    """Every informant of the project, by code, with how many sessions they took part in."""
    from sqlalchemy import func

    with handle.db.session() as s:
        counts = dict(s.exec(select(SessionParticipant.informant_id, func.count(SessionParticipant.id))
                             .group_by(SessionParticipant.informant_id)).all())
        return [InformantRow(i.code, i.name, i.role, i.organisation, i.site, i.group_label,
                             ", ".join(f"{k}={v}" for k, v in sorted(i.attributes.items())), consent_state(i),
                             counts.get(i.id, 0), i.withdrawn_on is not None)
                for i in s.exec(select(Informant).where(Informant.project_id == handle.project_id)
                                .order_by(Informant.code))]


def next_code(handle: "ProjectHandle", prefix: str = "I") -> str:
    """The next free pseudonym code: I01, I02 ..."""
    with handle.db.session() as s:
        used = set(s.exec(select(Informant.code).where(Informant.project_id == handle.project_id)))
    n = 1
    while f"{prefix}{n:02d}" in used:
        n += 1
    return f"{prefix}{n:02d}"


def consent_state(inf: Informant) -> str:
    """The informant's consent as the interface shows it (a Said: kind and date)."""
    if inf.withdrawn_on:
        return Said("withdrawn", N_("withdrawn {date}"), date=inf.withdrawn_on)
    if inf.written_consent_on:
        return Said("written_consent", N_("written consent {date}"), date=inf.written_consent_on)
    if inf.info_letter_sent_on:
        return Said("letter_sent", N_("letter sent {date}, no written consent yet"), date=inf.info_letter_sent_on)
    return Said("no_letter", N_("no information letter recorded"))


def withdraw(handle: "ProjectHandle", code: str, on: date | None = None) -> Informant:
    with handle.db.transaction() as s:
        inf = s.exec(select(Informant).where(Informant.project_id == handle.project_id,
                                             Informant.code == code)).first()
        if inf is None:
            raise FieldkitError(_("No informant with code {code!r} in this project.").format(code=code))
        inf.withdrawn_on = on or date.today()
        s.add(inf)
    return inf
