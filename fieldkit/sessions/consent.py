"""Consent at the start of a session: what each participant has given, storing the
answers, and what is still missing (which blocks recording)."""

from __future__ import annotations

import uuid
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from fieldkit.projects import ProjectHandle


def session_consents(handle: "ProjectHandle", session_id: uuid.UUID) -> dict[str, bool | None]:
    """Recording consent already given for this session, by informant code."""
    from sqlmodel import select

    from fieldkit.store.models import Informant, SessionParticipant

    with handle.db.session() as s:
        return {inf.code: part.recording_consent for part, inf in s.exec(
            select(SessionParticipant, Informant).join(Informant).where(SessionParticipant.session_id == session_id))}


# One implementation, in fieldkit.people.informants: the setup screen, the runtime and the CLI store
# consent the same way (a "may we record?" answer is stored, with its event naming the
# participant, only when it changes).
from fieldkit.people.informants import ConsentTicks as ConsentAnswer  # noqa: E402
from fieldkit.people.informants import MissingConsent as ConsentProblem  # noqa: E402
from fieldkit.people.informants import missing_consents as consent_problems  # noqa: E402


def record_consents(handle: "ProjectHandle", session_id: uuid.UUID, answers: dict[str, ConsentAnswer],
                    author_id: uuid.UUID | None = None) -> list[ConsentProblem]:
    """Store what was checked at the start of the session (the question was put, so an
    unticked "may we record?" is a no); returns what is still missing."""
    from fieldkit.people.informants import store_consent_ticks

    return store_consent_ticks(handle, session_id, answers, author_id=author_id, asked=True)


__all__ = ["ConsentAnswer", "ConsentProblem", "consent_problems", "record_consents", "session_consents"]
