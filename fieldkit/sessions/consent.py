"""Consent at the start of a session: what each participant has given ("may we record?",
stored with its time and as a consent event on the session's timeline), storing the
setup screen's ticks, and what is still missing (which blocks recording).

The setup screen, the runtime and the CLI store consent the same way: a "may we record?"
answer is stored, with its event naming the participant, only when it changes."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import date
from typing import TYPE_CHECKING

from sqlmodel import select

from fieldkit.errors import FieldkitError
from fieldkit.i18n import N_, Said, _
from fieldkit.instruments.events import new_event
from fieldkit.people.informants import get_informant
from fieldkit.store.models import EventKind, Informant, SessionParticipant, utcnow

if TYPE_CHECKING:
    from sqlmodel import Session as DBSession

    from fieldkit.projects import ProjectHandle


def session_consents(handle: "ProjectHandle", session_id: uuid.UUID) -> dict[str, bool | None]:
    """Recording consent already given for this session, by informant code."""
    with handle.db.session() as s:
        return {inf.code: part.recording_consent for part, inf in s.exec(
            select(SessionParticipant, Informant).join(Informant).where(SessionParticipant.session_id == session_id))}


def record_session_consent(handle: "ProjectHandle", session_id: uuid.UUID, code: str, recording: bool,
                           *, position_ms: int | None = None, author_id: uuid.UUID | None = None) -> SessionParticipant:
    """The participant's answer to "may we record?" at the start of the session."""
    inf = get_informant(handle, code)
    with handle.db.transaction() as s:
        return _record(s, session_id, inf, recording, position_ms=position_ms, author_id=author_id)


def _record(s: "DBSession", session_id: uuid.UUID, inf: Informant, recording: bool, *,
            position_ms: int | None, author_id: uuid.UUID | None) -> SessionParticipant:
    """The answer and its consent event, in the caller's transaction."""
    if inf.withdrawn_on and recording:
        raise FieldkitError(_("{code} withdrew on {withdrawn_on}; they cannot be "
                                "recorded.").format(code=inf.code, withdrawn_on=inf.withdrawn_on))
    part = s.exec(select(SessionParticipant).where(SessionParticipant.session_id == session_id,
                                                   SessionParticipant.informant_id == inf.id)).first()
    if part is None:
        part = SessionParticipant(session_id=session_id, informant_id=inf.id, speaker_label=inf.code)
    part.recording_consent, part.recording_consent_at = recording, utcnow()
    s.add(part)
    s.add(new_event(session_id, EventKind.consent, position_ms=position_ms, author_id=author_id,
                    informant_id=inf.id, code="recording_yes" if recording else "recording_no"))
    return part


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
    with handle.db.transaction() as s:
        store_ticks_in(s, handle, session_id, ticks, author_id=author_id, position_ms=position_ms, asked=asked)
    return missing_consents(handle, session_id)


def store_ticks_in(s: "DBSession", handle: "ProjectHandle", session_id: uuid.UUID, ticks: dict[str, ConsentTicks],
                   *, author_id: uuid.UUID | None = None, position_ms: int | None = None,
                   asked: bool = False) -> None:
    """:func:`store_consent_ticks` in the caller's transaction (setup saves the plan and
    its consent in one: a failed consent write leaves nothing of the plan half-saved)."""
    today = date.today()
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
            _record(s, session_id, inf, True, position_ms=position_ms, author_id=author_id)
        elif not t.recording and (before is True or (asked and before is None)):
            _record(s, session_id, inf, False, position_ms=position_ms, author_id=author_id)


def missing_consents(handle: "ProjectHandle", session_id: uuid.UUID) -> list[MissingConsent]:
    """What is missing for each participant. Missing recording consent (or a withdrawal)
    blocks recording; a missing information letter or written consent is a warning."""
    out = []
    with handle.db.session() as s:
        for part, inf in s.exec(select(SessionParticipant, Informant).join(Informant)
                                .where(SessionParticipant.session_id == session_id).order_by(Informant.code)):
            if inf.withdrawn_on:
                out.append(MissingConsent(inf.code, Said("withdrawn", N_("{code} withdrew on {date}"),
                                                              code=inf.code, date=inf.withdrawn_on), True))
                continue
            if part.recording_consent is not True:
                out.append(MissingConsent(inf.code, Said("no_recording_consent", N_(
                    "{code} has not consented to recording"), code=inf.code), True))
            if inf.info_letter_sent_on is None:
                out.append(MissingConsent(inf.code, Said("no_letter", N_(
                    "{code} has no information letter on record"), code=inf.code), False))
            if inf.written_consent_on is None:
                out.append(MissingConsent(inf.code, Said("no_written_consent", N_(
                    "{code} has no written consent on record"), code=inf.code), False))
    return out
