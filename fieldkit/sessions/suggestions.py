"""Suggestions that a guide question or probe was asked, stored as events.

A suggestion is an ``Event(kind=EventKind.suggest, code="suggested")`` at the position where the
interviewer's turn starts, ``question_id`` the guide item (q4, p7) and ``text`` a small
JSON object ``{"said": <the turn>, "score": <0..1>, "made_at_ms": <recording position when
made while recording, or null>}``. A researcher's answer is another event of the same kind
with code ``confirmed`` or ``dismissed`` and ``text`` the suggestion's event id, with its
author and time. Suggestions are never coverage: confirming one also stores the ordinary
coverage event (``covered`` for a question, a ``probe`` event for a probe) at the moment it
was asked, so the coverage screen, the matrix and the exports count confirmed ones only.
"""

from __future__ import annotations

import json
import threading
import uuid
from dataclasses import dataclass
from typing import TYPE_CHECKING

from sqlmodel import select

from fieldkit.errors import FieldkitError
from fieldkit.i18n import _
from fieldkit.instruments.events import add_event, new_event
from fieldkit.instruments.guides.coverage import session_guide
from fieldkit.sessions.listening import Listener, Segment, Suggestion, Turn, lead_turns, suggest
from fieldkit.store.models import (
    CoverageStatus, Event, EventKind, Informant, Researcher, Session, SessionParticipant,
    TranscriptSegment,
)

if TYPE_CHECKING:
    from fieldkit.store.db import Database

SUGGESTED, CONFIRMED, DISMISSED = "suggested", "confirmed", "dismissed"


@dataclass
class StoredSuggestion:
    id: uuid.UUID           # the suggestion event
    question: str
    text: str
    at_ms: int | None
    made_at_ms: int | None
    score: float
    state: str              # open / confirmed / dismissed
    label: str = ""         # the guide item's text

    def as_json(self) -> dict:
        """The shape `fieldkit coverage --json` prints."""
        return {"question": self.question, "text": self.text, "at_ms": self.at_ms,
                "made_at_ms": self.made_at_ms, "score": self.score, "state": self.state}


def _lead_keys(s, sess: Session) -> tuple[set[str], uuid.UUID | None]:
    lead = s.get(Researcher, sess.lead_id) if sess.lead_id else None
    return ({lead.initials} if lead else set()), (lead.id if lead else None)


def transcript_segments(db: "Database", session_id: uuid.UUID) -> tuple[list[Segment], set[str]]:
    """The session's transcript as matcher segments, with the lead's speaker key(s).
    A segment's speaker is ``R:<researcher id>`` when attributed to a researcher, else its
    label. With no lead known (or none of the lead's segments found) every speaker counts,
    and only the question-shape of a turn tells the interviewer's turns apart."""
    with db.session() as s:
        sess = s.get(Session, session_id)
        if sess is None:
            raise FieldkitError(_("No session {session_id}.").format(session_id=session_id))
        labels, lead_id = _lead_keys(s, sess)
        rows = s.exec(select(TranscriptSegment).where(TranscriptSegment.session_id == session_id)
                      .order_by(TranscriptSegment.start_ms)).all()
        segs = []
        for r in rows:
            key = f"R:{r.speaker_researcher_id}" if r.speaker_researcher_id else (r.speaker_label or "?")
            text = r.edited if r.edited is not None else r.verbatim
            segs.append(Segment(key, r.start_ms, r.end_ms, text or ""))
    leads = set(labels)
    if lead_id is not None:
        leads.add(f"R:{lead_id}")
    if not any(sg.speaker in leads for sg in segs):
        leads = {sg.speaker for sg in segs}
    return segs, leads


def _informant_type(db: "Database", session_id: uuid.UUID) -> str | None:
    with db.session() as s:
        roles = {inf.role for _p, inf in s.exec(
            select(SessionParticipant, Informant).join(Informant)
            .where(SessionParticipant.session_id == session_id)) if inf.role}
    return roles.pop() if len(roles) == 1 else None


def store_suggestion(db: "Database", session_id: uuid.UUID, sug: Suggestion, *,
                     author_id: uuid.UUID | None = None) -> Event:
    payload = {"said": sug.text, "score": sug.score, "made_at_ms": sug.made_at_ms}
    return add_event(db, session_id, EventKind.suggest, position_ms=sug.at_ms,
                     author_id=author_id, code=SUGGESTED, question_id=sug.question,
                     text=json.dumps(payload, ensure_ascii=False))


def suggest_for_session(db: "Database", session_id: uuid.UUID, *,
                        author_id: uuid.UUID | None = None) -> list[StoredSuggestion]:
    """Make suggestions from the session's transcript (after the fact) and store the new
    ones. Items that already have a suggestion (in any state) or are already covered are
    not suggested again. Returns every suggestion of the session."""
    guide = session_guide(db, session_id)
    segs, leads = transcript_segments(db, session_id)
    existing = session_suggestions(db, session_id)
    already = {x.question: x.at_ms or 0 for x in existing}
    from fieldkit.instruments.guides.coverage import session_coverage
    cov = session_coverage(db, session_id)
    for qid, status in cov.status.items():
        if status in (CoverageStatus.covered, CoverageStatus.partly):
            already.setdefault(qid, 0)
    for pid in cov.probes_used:
        already.setdefault(pid, 0)
    new = suggest(guide, segs, leads, informant_type=_informant_type(db, session_id), already=already)
    if new:
        with db.transaction() as s:
            for sug in new:
                payload = {"said": sug.text, "score": sug.score, "made_at_ms": None}
                s.add(new_event(session_id, EventKind.suggest, position_ms=sug.at_ms,
                                author_id=author_id, code=SUGGESTED, question_id=sug.question,
                                text=json.dumps(payload, ensure_ascii=False)))
    return session_suggestions(db, session_id)


def session_suggestions(db: "Database", session_id: uuid.UUID) -> list[StoredSuggestion]:
    """Every suggestion of a session with its current state, in recording order."""
    with db.session() as s:
        evs = s.exec(select(Event).where(Event.session_id == session_id,
                                         Event.kind == EventKind.suggest)
                     .order_by(Event.wall_time, Event.created_at)).all()
        sess = s.get(Session, session_id)
    guide = None
    if sess is not None and sess.guide_version_id is not None:
        guide = session_guide(db, session_id)
    out: dict[uuid.UUID, StoredSuggestion] = {}
    for ev in evs:
        if ev.code == SUGGESTED:
            try:
                data = json.loads(ev.text or "{}")
            except ValueError:
                data = {}
            out[ev.id] = StoredSuggestion(
                ev.id, ev.question_id, str(data.get("said", "")), ev.position_ms,
                data.get("made_at_ms"), float(data.get("score", 0.0)), "open",
                guide.label(ev.question_id) if guide else ev.question_id)
        elif ev.code in (CONFIRMED, DISMISSED):
            try:
                target = out.get(uuid.UUID(ev.text))
            except ValueError:
                target = None
            if target is not None:
                target.state = ev.code
    return sorted(out.values(), key=lambda x: (x.at_ms if x.at_ms is not None else -1, x.question))


def _find(db: "Database", session_id: uuid.UUID, suggestion_id: uuid.UUID) -> StoredSuggestion:
    for x in session_suggestions(db, session_id):
        if x.id == suggestion_id:
            return x
    raise FieldkitError(_("No suggestion {id} in this session.").format(id=suggestion_id))


def answer(db: "Database", session_id: uuid.UUID, suggestion_id: uuid.UUID, state: str, *,
           author_id: uuid.UUID | None = None) -> StoredSuggestion:
    """Confirm or dismiss a suggestion (a later answer replaces an earlier one). Confirming
    stores the coverage (a question covered, a probe used) at the moment it was asked, in
    the same transaction."""
    if state not in (CONFIRMED, DISMISSED):
        raise FieldkitError(_("A suggestion is confirmed or dismissed, not {state!r}.").format(state=state))
    sug = _find(db, session_id, suggestion_id)
    with db.transaction() as s:
        s.add(new_event(session_id, EventKind.suggest, position_ms=sug.at_ms, author_id=author_id,
                        code=state, question_id=sug.question, text=str(sug.id)))
        if state == CONFIRMED and sug.state != CONFIRMED:
            if sug.question.startswith("p"):
                s.add(new_event(session_id, EventKind.probe, position_ms=sug.at_ms,
                                author_id=author_id, question_id=sug.question))
            else:
                s.add(new_event(session_id, EventKind.coverage, position_ms=sug.at_ms,
                                author_id=author_id, code=CoverageStatus.covered.value,
                                question_id=sug.question))
    sug.state = state
    return sug


def new_segments(db: "Database", session_id: uuid.UUID, after_ms: int) -> list[Segment]:
    """Transcript segments that start after ``after_ms`` (the live transcript's new ones)."""
    with db.session() as s:
        rows = s.exec(select(TranscriptSegment).where(TranscriptSegment.session_id == session_id,
                                                      TranscriptSegment.start_ms > after_ms)
                      .order_by(TranscriptSegment.start_ms)).all()
        return [Segment(f"R:{r.speaker_researcher_id}" if r.speaker_researcher_id else (r.speaker_label or ""),
                        r.start_ms, r.end_ms, r.edited if r.edited is not None else r.verbatim or "")
                for r in rows]


class LiveListener:
    """While recording: fed the live transcript's new segments (from the transcriber's
    thread, never the audio thread); stores a suggestion as soon as a finished lead turn
    matches. A turn is finished when another speaker's segment follows it."""

    def __init__(self, db: "Database", session_id: uuid.UUID, *, author_id: uuid.UUID | None = None) -> None:
        self.db, self.session_id, self.author_id = db, session_id, author_id
        guide = session_guide(db, session_id)
        self.listener = Listener(guide, informant_type=_informant_type(db, session_id))
        self.listener.done.update({x.question: x.at_ms or 0 for x in session_suggestions(db, session_id)})
        _segs, leads = transcript_segments(db, session_id)
        with db.session() as s:
            sess = s.get(Session, session_id)
            labels, lead_id = _lead_keys(s, sess)
        self.leads = set(labels) | ({f"R:{lead_id}"} if lead_id else set())
        self.pending: list[Segment] = []
        self.seen_ms = max((sg.start_ms for sg in _segs), default=-1)   # segments up to here are read
        if self.listener.method == "semantic":
            # the model and the guide's items are ready before the first question is asked
            threading.Thread(target=self.listener.prepare, name="guide-listens-prepare", daemon=True).start()

    def poll(self, position_ms: int | None) -> list[StoredSuggestion]:
        """Read the transcript's new segments and feed them (the runtime's view thread)."""
        segs = new_segments(self.db, self.session_id, self.seen_ms)
        if segs:
            self.seen_ms = segs[-1].start_ms
        return self.feed(segs, position_ms)

    def feed(self, segments: list[Segment], position_ms: int | None) -> list[StoredSuggestion]:
        """New segments (speaker keys as in transcript_segments); returns new suggestions.
        A segment with no speaker yet (the live transcript has none) is a turn by itself:
        then only its question shape tells an interviewer's question."""
        made: list[StoredSuggestion] = []
        for seg in segments:
            if self.pending and seg.speaker != self.pending[-1].speaker:
                made += self._finish(position_ms)
            self.pending.append(seg)
            if seg.speaker in ("", "?"):
                made += self._finish(position_ms)
        return made

    def flush(self, position_ms: int | None) -> list[StoredSuggestion]:
        return self._finish(position_ms)

    def _finish(self, position_ms: int | None) -> list[StoredSuggestion]:
        segs, self.pending = self.pending, []
        leads = self.leads | {s.speaker for s in segs if s.speaker in ("", "?")}
        leads = leads or {s.speaker for s in segs}
        out = []
        for turn in lead_turns(segs, leads):
            for sug in self.listener.feed(Turn(turn.start_ms, turn.end_ms, turn.text), made_at_ms=position_ms):
                ev = store_suggestion(self.db, self.session_id, sug, author_id=self.author_id)
                out.append(StoredSuggestion(ev.id, sug.question, sug.text, sug.at_ms, sug.made_at_ms,
                                            sug.score, "open", self.listener.guide.label(sug.question)))
        return out


__all__ = ["StoredSuggestion", "suggest_for_session", "session_suggestions", "answer",
           "LiveListener", "transcript_segments"]
