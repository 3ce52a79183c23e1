"""The live view both terminals (the lead's and the observer's) share, read from the
database in one go, and the tag keys of a session."""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field
from datetime import datetime
from typing import TYPE_CHECKING

from fieldkit.errors import FieldkitError
from fieldkit.i18n import _

if TYPE_CHECKING:
    from fieldkit.instruments.guides.model import Guide
    from fieldkit.projects import ProjectHandle
    from fieldkit.store.db import Database
    from fieldkit.store.models import Event, Session


@dataclass
class TagKey:
    id: uuid.UUID
    key: str
    code: str
    label: str
    mode: str       # point / state
    colour: str


@dataclass
class EventView:
    id: uuid.UUID
    kind: str
    position_ms: int | None
    end_ms: int | None
    code: str
    question_id: str
    text: str
    author: str     # initials or ""
    subject: str = ""   # the informant it is about (consent events): their code
    author_id: uuid.UUID | None = None


@dataclass
class LiveView:
    """Everything the interview and observer screens show, read in one go."""
    session_id: uuid.UUID
    title: str
    status: str
    recording: str                  # recording / paused / stopped / none
    clock_ms: int
    clock_wall: datetime | None
    recorder_pid: int | None
    events: list[EventView]
    coverage: dict[str, str]        # question id -> status
    probes_used: set[str]
    open_states: dict[str, uuid.UUID]   # tag code -> open state event
    transcript_tail: list[tuple[int, str]]
    stamp: tuple
    starts_at: datetime | None = None
    live_transcript: bool = False   # a live transcription runs for this session (any terminal)
    lead_id: uuid.UUID | None = None
    suggestions: dict[str, uuid.UUID] = field(default_factory=dict)  # item id -> open suggestion

    def position_ms(self, now: datetime | float | None = None) -> int | None:
        """The session clock at ``now`` (a datetime or epoch seconds; default now)."""
        import time

        from fieldkit.recording.clock import position_at

        now = time.time() if now is None else now
        if self.recording == "none":
            # a session without audio (notes only): time since the session began
            if self.starts_at is None:
                return None
            return position_at("recording", 0, self.starts_at, now)
        return position_at(self.recording, self.clock_ms, self.clock_wall, now)


def tag_keys(handle: "ProjectHandle", session_id: uuid.UUID) -> list[TagKey]:
    """The tag keys of the session's scheme (or the project's first scheme)."""
    from sqlmodel import select

    from fieldkit.store.models import Session, TagCode, TagScheme

    with handle.db.session() as s:
        sess = s.get(Session, session_id)
        scheme_id = sess.tag_scheme_id if sess else None
        if scheme_id is None:
            first = s.exec(select(TagScheme).where(TagScheme.project_id == handle.project_id)
                           .order_by(TagScheme.name)).first()
            scheme_id = first.id if first else None
        if scheme_id is None:
            return []
        return [TagKey(c.id, c.key, c.code, c.label, c.mode.value, c.colour)
                for c in s.exec(select(TagCode).where(TagCode.scheme_id == scheme_id).order_by(TagCode.sort))]


def live_stamp(db: "Database", session_id: uuid.UUID) -> tuple:
    """A cheap fingerprint of what the live view shows: unchanged stamp, nothing to read."""
    from sqlalchemy import func
    from sqlmodel import select

    from fieldkit.store.models import Event, Recording, Session, TranscriptSegment

    with db.session() as s:
        ev = s.exec(select(func.count(Event.id), func.max(Event.updated_at))
                    .where(Event.session_id == session_id)).one()
        seg = s.exec(select(func.count(TranscriptSegment.id), func.max(TranscriptSegment.end_ms))
                     .where(TranscriptSegment.session_id == session_id)).one()
        rec = s.exec(select(func.max(Recording.updated_at)).where(Recording.session_id == session_id)).one()
        status = s.exec(select(Session.status).where(Session.id == session_id)).one()
    return (tuple(ev), tuple(seg), rec, status)


def load_live(handle: "ProjectHandle", session_id: uuid.UUID, tail: int = 6,
              author_id: uuid.UUID | None = None) -> LiveView:
    """What a terminal shows. With ``author_id``, ``open_states`` holds that researcher's
    open state tags only (state tags toggle per researcher, see :func:`toggle_tag`)."""
    from sqlmodel import select

    from fieldkit.store.models import (
        Event, EventKind, Informant, Recording, RecordingState, Researcher, RunStatus, Session, TagCode,
        TagMode, TranscriptionRun, TranscriptSegment,
    )

    stamp = live_stamp(handle.db, session_id)
    with handle.db.session() as s:
        sess = s.get(Session, session_id)
        if sess is None:
            raise FieldkitError(_("No session {id} in this project.").format(id=session_id))
        initials = {r.id: r.initials for r in s.exec(select(Researcher).where(
            Researcher.project_id == handle.project_id))}
        codes = {i.id: i.code for i in s.exec(select(Informant).where(
            Informant.project_id == handle.project_id))}
        recs = s.exec(select(Recording).where(Recording.session_id == session_id)
                      .order_by(Recording.started_at)).all()
        live = [r for r in recs if r.state in (RecordingState.recording, RecordingState.paused)]
        live_run = any(r.info.get("live_transcript") for r in live)  # the lead's transcriber is starting
        if live:
            r = live[-1]
            rec_state, clock_ms, clock_wall, pid = r.state.value, r.clock_ms, r.clock_wall, r.recorder_pid
        elif recs:
            rec_state, clock_wall, pid = "stopped", None, None
            clock_ms = max((r.clock_ms for r in recs), default=0)
        else:
            rec_state, clock_ms, clock_wall, pid = "none", 0, None, None
        events = s.exec(select(Event).where(Event.session_id == session_id)
                        .order_by(Event.wall_time, Event.created_at)).all()
        state_codes = set(s.exec(select(TagCode.id).where(TagCode.mode == TagMode.state)))
        live_run = live_run or s.exec(select(TranscriptionRun.id).where(
            TranscriptionRun.session_id == session_id, TranscriptionRun.mode == "live",
            TranscriptionRun.status.in_([RunStatus.queued, RunStatus.running]))).first() is not None
        segs = s.exec(select(TranscriptSegment).where(TranscriptSegment.session_id == session_id)
                      .order_by(TranscriptSegment.start_ms.desc()).limit(tail)).all()
        views, coverage, probes, open_states = [], {}, set(), {}
        suggested: dict[uuid.UUID, str] = {}
        answered: set[str] = set()
        for ev in events:
            views.append(EventView(ev.id, ev.kind.value, ev.position_ms, ev.end_ms, ev.code, ev.question_id,
                                   ev.text, initials.get(ev.created_by, ""),
                                   codes.get(ev.informant_id, "") if ev.informant_id else "", ev.created_by))
            if ev.kind == EventKind.coverage:
                coverage[ev.question_id] = ev.code
            elif ev.kind == EventKind.probe:
                probes.add(ev.question_id)
            elif ev.kind == EventKind.suggest:
                if ev.code == "suggested":
                    suggested[ev.id] = ev.question_id
                else:
                    answered.add(ev.text)
            elif (ev.kind == EventKind.tag and ev.end_ms is None and ev.tag_code_id in state_codes
                  and (author_id is None or ev.created_by == author_id)):
                open_states[ev.code] = ev.id
        return LiveView(session_id, sess.title, sess.status.value, rec_state, clock_ms, clock_wall, pid, views,
                        coverage, probes, open_states, [(g.start_ms, g.text) for g in reversed(segs)], stamp,
                        sess.starts_at, live_run, sess.lead_id,
                        {q: i for i, q in suggested.items() if str(i) not in answered})


def toggle_tag(db: "Database", session_id: uuid.UUID, tag: TagKey, position_ms: int | None,
               author_id: uuid.UUID | None = None) -> tuple["Event", str]:
    """One keypress of a tag key. A point tag is stored; a state tag (a digression ...)
    starts, or ends the stretch this researcher (``author_id``) has open in this session:
    two researchers tagging the same state (pilot interviews, for observer agreement)
    each keep their own stretches. Returns (event, "point" | "started" | "ended")."""
    from sqlmodel import select

    from fieldkit.instruments.events import add_event, close_state_event
    from fieldkit.store.models import Event, EventKind

    if tag.mode == "state":
        with db.session() as s:
            open_ev = s.exec(select(Event).where(Event.session_id == session_id, Event.kind == EventKind.tag,
                                                 Event.tag_code_id == tag.id,
                                                 Event.end_ms.is_(None),
                                                 Event.created_by == author_id if author_id is not None
                                                 else Event.created_by.is_(None))).first()
        if open_ev is not None:
            end = position_ms if position_ms is not None else open_ev.position_ms
            if end is not None and open_ev.position_ms is not None:
                end = max(end, open_ev.position_ms)
            return close_state_event(db, open_ev.id, end), "ended"
        return add_event(db, session_id, EventKind.tag, position_ms=position_ms, author_id=author_id,
                         code=tag.code, tag_code_id=tag.id), "started"
    return add_event(db, session_id, EventKind.tag, position_ms=position_ms, author_id=author_id,
                     code=tag.code, tag_code_id=tag.id), "point"


def lead_question(view: LiveView, items: list[tuple]) -> int | None:
    """Where the lead is in the guide, from what the lead last marked: the question after
    one covered or skipped (the lead's screen moves on), the question marked partly or
    whose probe was used, the first open question of a theme the informant went back to.
    ``items`` are (theme, question) in guide order. None: the lead marked nothing yet."""
    if view.lead_id is None or not items:
        return None
    where = {q.id: i for i, (_t, q) in enumerate(items)}
    probe_of = {p.id: i for i, (_t, q) in enumerate(items) for p in q.probes}
    for ev in reversed(view.events):
        if ev.author_id != view.lead_id:
            continue
        if ev.kind == "coverage" and ev.question_id in where:
            i = where[ev.question_id]
            return min(i + 1, len(items) - 1) if ev.code in ("covered", "skipped") else i
        if ev.kind == "probe" and ev.question_id in probe_of:
            return probe_of[ev.question_id]
        if ev.kind == "returned":
            in_theme = [i for i, (t, _q) in enumerate(items) if t.id == ev.question_id]
            if in_theme:
                open_ = [i for i in in_theme if view.coverage.get(items[i][1].id, "not_yet") == "not_yet"]
                return (open_ or in_theme)[0]
    return None


def mark_live_transcript(handle: "ProjectHandle", recording_id: uuid.UUID) -> None:
    """Say on the recording that it is transcribed live (before the transcriber has even
    loaded its model), so the observer's terminal shows the lead's live transcript."""
    from fieldkit.store.models import Recording

    with handle.db.transaction() as s:
        rec = s.get(Recording, recording_id)
        if rec is not None:
            rec.info = {**rec.info, "live_transcript": True}


def timebox_due(guide: "Guide", coverage: dict[str, str], probes_used: set[str], position_ms: int | None,
                done: set[int], suggested: set[str] | None = None) -> tuple[int, list[str]] | None:
    """The time-box notice due now: (50 or 75, titles of the themes not yet touched), or
    None. The planned time is the sum of the themes' planned minutes; a theme is touched
    when one of its questions has any coverage, a probe was used or a question is
    suggested as asked. Only themes with planned minutes are named."""
    planned = sum(t.minutes or 0 for t in guide.themes) * 60_000
    if not planned or position_ms is None:
        return None
    suggested = suggested or set()
    due = [share for share in (75, 50) if share not in done and position_ms >= planned * share / 100]
    if not due:
        return None
    share = due[0]
    untouched = [t.title for t in guide.themes if t.minutes
                 and all(coverage.get(q.id, "not_yet") == "not_yet" and q.id not in suggested
                         and not any(p.id in probes_used for p in q.probes) for q in t.questions)]
    return share, untouched
