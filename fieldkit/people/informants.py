"""Consent records: per informant (information letter, written consent, where the form is
kept, withdrawal) and per session participant (recording consent given at the start of
the session, stored with its time and as a consent event on the session's timeline)."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import date
from typing import TYPE_CHECKING

from sqlmodel import select

from fieldkit.errors import FieldkitError
from fieldkit.instruments.events import add_event
from fieldkit.store.models import EventKind, Informant, SessionParticipant, utcnow
from fieldkit.i18n import _

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
    if inf.withdrawn_on:
        return f"withdrawn {inf.withdrawn_on}"
    if inf.written_consent_on:
        return f"written consent {inf.written_consent_on}"
    if inf.info_letter_sent_on:
        return f"letter sent {inf.info_letter_sent_on}, no written consent yet"
    return "no information letter recorded"


def record_session_consent(handle: "ProjectHandle", session_id: uuid.UUID, code: str, recording: bool,
                           *, position_ms: int | None = None, author_id: uuid.UUID | None = None) -> SessionParticipant:
    """The participant's answer to "may we record?" at the start of the session."""
    inf = get_informant(handle, code)
    if inf.withdrawn_on and recording:
        raise FieldkitError(_("{code} withdrew on {withdrawn_on}; they cannot be "
                                "recorded.").format(code=code, withdrawn_on=inf.withdrawn_on))
    with handle.db.transaction() as s:
        part = s.exec(select(SessionParticipant).where(SessionParticipant.session_id == session_id,
                                                       SessionParticipant.informant_id == inf.id)).first()
        if part is None:
            part = SessionParticipant(session_id=session_id, informant_id=inf.id, speaker_label=code)
        part.recording_consent, part.recording_consent_at = recording, utcnow()
        s.add(part)
    add_event(handle.db, session_id, EventKind.consent, position_ms=position_ms, author_id=author_id,
              informant_id=inf.id, code="recording_yes" if recording else "recording_no")
    return part


def withdraw(handle: "ProjectHandle", code: str, on: date | None = None) -> Informant:
    with handle.db.transaction() as s:
        inf = s.exec(select(Informant).where(Informant.project_id == handle.project_id,
                                             Informant.code == code)).first()
        if inf is None:
            raise FieldkitError(_("No informant with code {code!r} in this project.").format(code=code))
        inf.withdrawn_on = on or date.today()
        s.add(inf)
    return inf


@dataclass
class ConsentTicks:
    """What the setup screen's consent row says for one participant."""

    letter: bool      # the information letter was given
    written: bool     # written consent was signed
    recording: bool   # "may we record?" answered yes


@dataclass
class MissingConsent:
    code: str
    text: str
    blocks_recording: bool


def store_consent_ticks(handle: "ProjectHandle", session_id: uuid.UUID, ticks: dict[str, ConsentTicks],
                        author_id: uuid.UUID | None = None, position_ms: int | None = None,
                        asked: bool = False) -> list[MissingConsent]:
    """Keep the consent ticks of a session's participants, whether the plan is saved for
    later (Ctrl+S) or the interview starts. A letter or written consent ticked is dated
    today unless it already has a date. The recording answer is stored (with its consent
    event) only when it changes, so saving and then starting does not record it twice.
    With ``asked`` (the interview is starting, so the question was put), an unticked
    "may we record?" is a "no"; while planning it is "not asked yet".
    Returns what is still missing (see :func:`missing_consents`)."""
    today = date.today()
    changed: list[tuple[str, bool]] = []
    with handle.db.transaction() as s:
        for code, t in ticks.items():
            inf = s.exec(select(Informant).where(Informant.project_id == handle.project_id,
                                                 Informant.code == code)).first()
            if inf is None:
                raise FieldkitError(_("No informant with code {code!r} in this "
                                        "project.").format(code=code))
            if t.letter and inf.info_letter_sent_on is None:
                inf.info_letter_sent_on = today
            if t.written and inf.written_consent_on is None:
                inf.written_consent_on = today
            s.add(inf)
            part = s.exec(select(SessionParticipant).where(SessionParticipant.session_id == session_id,
                                                           SessionParticipant.informant_id == inf.id)).first()
            before = part.recording_consent if part is not None else None
            # an unticked box on a participant never asked stays "not asked" (None);
            # a "yes" unticked again is a "no"
            if t.recording and before is not True:
                changed.append((code, True))
            elif not t.recording and (before is True or (asked and before is None)):
                changed.append((code, False))
    for code, yes in changed:
        record_session_consent(handle, session_id, code, yes, position_ms=position_ms, author_id=author_id)
    return missing_consents(handle, session_id)


def missing_consents(handle: "ProjectHandle", session_id: uuid.UUID) -> list[MissingConsent]:
    """What is missing for each participant. Missing recording consent (or a withdrawal)
    blocks recording; a missing information letter or written consent is a warning."""
    out = []
    with handle.db.session() as s:
        for part, inf in s.exec(select(SessionParticipant, Informant).join(Informant)
                                .where(SessionParticipant.session_id == session_id).order_by(Informant.code)):
            if inf.withdrawn_on:
                out.append(MissingConsent(inf.code, f"{inf.code} withdrew on {inf.withdrawn_on}", True))
                continue
            if part.recording_consent is not True:
                out.append(MissingConsent(inf.code, f"{inf.code} has not consented to recording", True))
            if inf.info_letter_sent_on is None:
                out.append(MissingConsent(inf.code, f"{inf.code} has no information letter on record", False))
            if inf.written_consent_on is None:
                out.append(MissingConsent(inf.code, f"{inf.code} has no written consent on record", False))
    return out
