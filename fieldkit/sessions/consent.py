"""Consent at the start of a session: what each participant has given, storing the
answers, and what is still missing (which blocks recording)."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import date
from typing import TYPE_CHECKING

from fieldkit.errors import FieldkitError

if TYPE_CHECKING:
    from fieldkit.projects import ProjectHandle


def session_consents(handle: "ProjectHandle", session_id: uuid.UUID) -> dict[str, bool | None]:
    """Recording consent already given for this session, by informant code."""
    from sqlmodel import select

    from fieldkit.store.models import Informant, SessionParticipant

    with handle.db.session() as s:
        return {inf.code: part.recording_consent for part, inf in s.exec(
            select(SessionParticipant, Informant).join(Informant).where(SessionParticipant.session_id == session_id))}


@dataclass
class ConsentAnswer:
    letter: bool      # the information letter was given
    written: bool     # written consent was signed
    recording: bool   # "may we record?" answered yes today


def record_consents(handle: "ProjectHandle", session_id: uuid.UUID, answers: dict[str, ConsentAnswer],
                    author_id: uuid.UUID | None = None) -> list["ConsentProblem"]:
    """Store what was checked at the start of the session; returns what is still missing
    (see :func:`consent_problems`)."""
    from sqlmodel import select

    from fieldkit.consent import record_session_consent
    from fieldkit.store.models import Informant

    today = date.today()
    with handle.db.transaction() as s:
        for code, a in answers.items():
            inf = s.exec(select(Informant).where(Informant.project_id == handle.project_id,
                                                 Informant.code == code)).first()
            if inf is None:
                raise FieldkitError(f"No informant with code {code!r} in this project.")
            if a.letter and inf.info_letter_sent_on is None:
                inf.info_letter_sent_on = today
            if a.written and inf.written_consent_on is None:
                inf.written_consent_on = today
            s.add(inf)
    for code, a in answers.items():
        record_session_consent(handle, session_id, code, a.recording, author_id=author_id)
    return consent_problems(handle, session_id)


@dataclass
class ConsentProblem:
    code: str
    text: str
    blocks_recording: bool


def consent_problems(handle: "ProjectHandle", session_id: uuid.UUID) -> list[ConsentProblem]:
    """What is missing for each participant. Missing recording consent (or a withdrawal)
    blocks recording; a missing information letter or written consent is a warning."""
    from sqlmodel import select

    from fieldkit.store.models import Informant, SessionParticipant

    out = []
    with handle.db.session() as s:
        for part, inf in s.exec(select(SessionParticipant, Informant).join(Informant)
                                .where(SessionParticipant.session_id == session_id).order_by(Informant.code)):
            if inf.withdrawn_on:
                out.append(ConsentProblem(inf.code, f"{inf.code} withdrew on {inf.withdrawn_on}", True))
                continue
            if part.recording_consent is not True:
                out.append(ConsentProblem(inf.code, f"{inf.code} has not consented to recording", True))
            if inf.info_letter_sent_on is None:
                out.append(ConsentProblem(inf.code, f"{inf.code} has no information letter on record", False))
            if inf.written_consent_on is None:
                out.append(ConsentProblem(inf.code, f"{inf.code} has no written consent on record", False))
    return out
