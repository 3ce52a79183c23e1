"""The interview, without the UI: planning a session, consent at the start, and the live
view both terminals (the lead's and the observer's) share.

The interview and observer screens are thin: they read a :class:`LiveView` from the
database every half second and write every keypress through an :class:`EventWriter`,
a thread that stores events in order, one short transaction each, so the screen never
waits for the disk and a second terminal on the same database sees the event on its
next read. Positions are taken at the moment of the keypress, on the session clock
(:mod:`fieldkit.recording.clock`), not when the write happens.
"""

from __future__ import annotations

import queue
import threading
import time
import uuid
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import TYPE_CHECKING, Any, Callable

from fieldkit.errors import FieldkitError

if TYPE_CHECKING:
    from fieldkit.guides.model import Guide
    from fieldkit.projects import ProjectHandle
    from fieldkit.store.db import Database
    from fieldkit.store.models import Event, Session


# --------------------------------------------------------------------------- setup

@dataclass
class GuideChoice:
    version_id: uuid.UUID
    label: str
    header: list[str]
    informant_types: list[str]


@dataclass
class PersonChoice:
    id: uuid.UUID
    label: str      # initials for researchers, code for informants
    detail: str     # name (researchers) / role, organisation and consent state (informants)


@dataclass
class InformantChoice(PersonChoice):
    letter: date | None = None
    written: date | None = None
    withdrawn: date | None = None


@dataclass
class SetupChoices:
    guides: list[GuideChoice]
    schemes: list[tuple[uuid.UUID, str]]
    researchers: list[PersonChoice]
    informants: list[InformantChoice]


def setup_choices(handle: "ProjectHandle") -> SetupChoices:
    """What a session can be made of. Installs the bundled tag schemes into a project
    that has none, so the interview screen always has tag keys."""
    from sqlmodel import select

    from fieldkit.consent import consent_state
    from fieldkit.guides.store import latest_versions
    from fieldkit.store.models import Informant, Researcher, TagScheme
    from fieldkit.tags import bundled_tag_schemes, install_tag_scheme

    with handle.db.session() as s:
        has_scheme = s.exec(select(TagScheme).where(TagScheme.project_id == handle.project_id)).first()
    if has_scheme is None:
        for path in bundled_tag_schemes():
            install_tag_scheme(handle.db, handle.project_id, path)
    guides = []
    for g, version in latest_versions(handle.db, handle.project_id):
        outline = version.outline or {}
        guides.append(GuideChoice(version.id, f"{g.title} (v{version.number})",
                                  list(outline.get("header", [])), list(outline.get("informant_types", []))))
    with handle.db.session() as s:
        schemes = [(t.id, t.name) for t in s.exec(
            select(TagScheme).where(TagScheme.project_id == handle.project_id).order_by(TagScheme.name))]
        researchers = [PersonChoice(r.id, r.initials, r.name) for r in s.exec(
            select(Researcher).where(Researcher.project_id == handle.project_id).order_by(Researcher.initials))]
        informants = [
            InformantChoice(i.id, i.code, ", ".join(x for x in (i.role, i.organisation, consent_state(i)) if x),
                            i.info_letter_sent_on, i.written_consent_on, i.withdrawn_on)
            for i in s.exec(select(Informant).where(Informant.project_id == handle.project_id)
                            .order_by(Informant.code))
        ]
    return SetupChoices(guides, schemes, researchers, informants)


def add_researcher(handle: "ProjectHandle", name: str, initials: str) -> uuid.UUID:
    from sqlmodel import select

    from fieldkit.store.models import Researcher

    name, initials = name.strip(), initials.strip().upper()
    if not name or not initials:
        raise FieldkitError("A researcher needs a name and initials.")
    with handle.db.transaction() as s:
        if s.exec(select(Researcher).where(Researcher.project_id == handle.project_id,
                                           Researcher.initials == initials)).first():
            raise FieldkitError(f"The initials {initials!r} are already used in this project.")
        r = Researcher(project_id=handle.project_id, name=name, initials=initials)
        s.add(r)
    return r.id


@dataclass
class SessionPlan:
    title: str
    kind: str = "individual"
    guide_version_id: uuid.UUID | None = None
    tag_scheme_id: uuid.UUID | None = None
    lead_id: uuid.UUID | None = None
    observer_id: uuid.UUID | None = None
    place: str = ""
    header: dict[str, str] = field(default_factory=dict)
    informants: list[str] = field(default_factory=list)   # informant codes
    is_pilot: bool = False


def save_session(handle: "ProjectHandle", plan: SessionPlan, session_id: uuid.UUID | None = None) -> uuid.UUID:
    """Create a planned session, or change one that has not started. Participants follow
    ``plan.informants`` (speaker label = pseudonym code)."""
    from sqlmodel import select

    from fieldkit.store.models import Informant, Session, SessionKind, SessionParticipant, SessionStatus

    if not plan.title.strip():
        raise FieldkitError("The session needs a title.")
    if plan.lead_id is not None and plan.lead_id == plan.observer_id:
        raise FieldkitError("The lead interviewer and the observer must be two people.")
    with handle.db.transaction() as s:
        if session_id is None:
            sess = Session(project_id=handle.project_id, title=plan.title.strip())
        else:
            sess = s.get(Session, session_id)
            if sess is None:
                raise FieldkitError(f"No session {session_id} in this project.")
            if sess.status != SessionStatus.planned:
                raise FieldkitError(f"The session {sess.title!r} has started; its setup can no longer change.")
        sess.title = plan.title.strip()
        sess.kind = SessionKind(plan.kind)
        sess.guide_version_id = plan.guide_version_id
        sess.tag_scheme_id = plan.tag_scheme_id
        sess.lead_id, sess.observer_id = plan.lead_id, plan.observer_id
        sess.place, sess.is_pilot = plan.place.strip(), plan.is_pilot
        sess.header = {k: v for k, v in plan.header.items() if v.strip()}
        s.add(sess)
        s.flush()
        wanted = {}
        for code in plan.informants:
            inf = s.exec(select(Informant).where(Informant.project_id == handle.project_id,
                                                 Informant.code == code)).first()
            if inf is None:
                raise FieldkitError(f"No informant with code {code!r} in this project.")
            if inf.withdrawn_on:
                raise FieldkitError(f"{code} withdrew on {inf.withdrawn_on} and cannot take part.")
            wanted[inf.id] = code
        for part in s.exec(select(SessionParticipant).where(SessionParticipant.session_id == sess.id)):
            if part.informant_id not in wanted:
                s.delete(part)
            else:
                wanted.pop(part.informant_id)
        for inf_id, code in wanted.items():
            s.add(SessionParticipant(session_id=sess.id, informant_id=inf_id, speaker_label=code))
        sid = sess.id
    return sid


def load_plan(handle: "ProjectHandle", session_id: uuid.UUID) -> SessionPlan:
    from sqlmodel import select

    from fieldkit.store.models import Informant, Session, SessionParticipant

    with handle.db.session() as s:
        sess = s.get(Session, session_id)
        if sess is None:
            raise FieldkitError(f"No session {session_id} in this project.")
        codes = list(s.exec(
            select(Informant.code).join(SessionParticipant).where(SessionParticipant.session_id == session_id)
            .order_by(Informant.code)))
        return SessionPlan(sess.title, sess.kind.value, sess.guide_version_id, sess.tag_scheme_id, sess.lead_id,
                           sess.observer_id, sess.place, dict(sess.header), codes, sess.is_pilot)


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


def observer_target(handle: "ProjectHandle", session_ref: str | None,
                    initials: str | None) -> tuple[str, uuid.UUID, uuid.UUID | None]:
    """(project slug, session id, author id) for ``fieldkit observe``: the named session or
    the one being recorded now; the author is the session's observer unless named."""
    from sqlmodel import select

    from fieldkit.sessions_lookup import find_session
    from fieldkit.store.models import Researcher, Session, SessionStatus

    if session_ref:
        sess = find_session(handle, session_ref)
    else:
        with handle.db.session() as s:
            running = s.exec(select(Session).where(Session.project_id == handle.project_id,
                                                   Session.status == SessionStatus.recording)
                             .order_by(Session.starts_at.desc())).all()
        if not running:
            raise FieldkitError(f"No session of {handle.project().name!r} is being recorded now.",
                                hint="Start the interview in the other terminal first, or name one with --session.")
        sess = running[0]
    author = sess.observer_id
    if initials:
        with handle.db.session() as s:
            r = s.exec(select(Researcher).where(Researcher.project_id == handle.project_id,
                                                Researcher.initials == initials.strip().upper())).first()
        if r is None:
            raise FieldkitError(f"No researcher with initials {initials!r} in this project.")
        author = r.id
    return handle.project().slug, sess.id, author


# --------------------------------------------------------------------------- live view

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

    def position_ms(self, now: datetime | None = None) -> int | None:
        from fieldkit.store.models import utcnow

        if self.recording == "none":
            # a session without audio (notes only): time since the session began
            if self.starts_at is None:
                return None
            return max(0, int(((now or utcnow()) - self.starts_at).total_seconds() * 1000))
        if self.recording == "recording" and self.clock_wall is not None:
            return self.clock_ms + max(0, int(((now or utcnow()) - self.clock_wall).total_seconds() * 1000))
        return self.clock_ms


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


def load_live(handle: "ProjectHandle", session_id: uuid.UUID, tail: int = 6) -> LiveView:
    from sqlmodel import select

    from fieldkit.store.models import (
        Event, EventKind, Recording, RecordingState, Researcher, Session, TagCode, TagMode,
        TranscriptSegment,
    )

    stamp = live_stamp(handle.db, session_id)
    with handle.db.session() as s:
        sess = s.get(Session, session_id)
        if sess is None:
            raise FieldkitError(f"No session {session_id} in this project.")
        initials = {r.id: r.initials for r in s.exec(select(Researcher).where(
            Researcher.project_id == handle.project_id))}
        recs = s.exec(select(Recording).where(Recording.session_id == session_id)
                      .order_by(Recording.started_at)).all()
        live = [r for r in recs if r.state in (RecordingState.recording, RecordingState.paused)]
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
        segs = s.exec(select(TranscriptSegment).where(TranscriptSegment.session_id == session_id)
                      .order_by(TranscriptSegment.start_ms.desc()).limit(tail)).all()
        views, coverage, probes, open_states = [], {}, set(), {}
        for ev in events:
            views.append(EventView(ev.id, ev.kind.value, ev.position_ms, ev.end_ms, ev.code, ev.question_id,
                                   ev.text, initials.get(ev.created_by, "")))
            if ev.kind == EventKind.coverage:
                coverage[ev.question_id] = ev.code
            elif ev.kind == EventKind.probe:
                probes.add(ev.question_id)
            elif ev.kind == EventKind.tag and ev.end_ms is None and ev.tag_code_id in state_codes:
                open_states[ev.code] = ev.id
        return LiveView(session_id, sess.title, sess.status.value, rec_state, clock_ms, clock_wall, pid, views,
                        coverage, probes, open_states, [(g.start_ms, g.text) for g in reversed(segs)], stamp,
                        sess.starts_at)


def toggle_tag(db: "Database", session_id: uuid.UUID, tag: TagKey, position_ms: int | None,
               author_id: uuid.UUID | None = None) -> tuple["Event", str]:
    """One keypress of a tag key. A point tag is stored; a state tag (a digression ...)
    starts, or ends the stretch already open in this session, whichever terminal opened
    it. Returns (event, "point" | "started" | "ended")."""
    from sqlmodel import select

    from fieldkit.events import add_event, close_state_event
    from fieldkit.store.models import Event, EventKind

    if tag.mode == "state":
        with db.session() as s:
            open_ev = s.exec(select(Event).where(Event.session_id == session_id, Event.kind == EventKind.tag,
                                                 Event.tag_code_id == tag.id,
                                                 Event.end_ms.is_(None))).first()
        if open_ev is not None:
            end = position_ms if position_ms is not None else open_ev.position_ms
            if end is not None and open_ev.position_ms is not None:
                end = max(end, open_ev.position_ms)
            return close_state_event(db, open_ev.id, end), "ended"
        return add_event(db, session_id, EventKind.tag, position_ms=position_ms, author_id=author_id,
                         code=tag.code, tag_code_id=tag.id), "started"
    return add_event(db, session_id, EventKind.tag, position_ms=position_ms, author_id=author_id,
                     code=tag.code, tag_code_id=tag.id), "point"


# --------------------------------------------------------------------------- writing

@dataclass
class Stored:
    """What the writer reports back for each job."""
    label: str
    result: Any
    error: Exception | None
    pressed_at: float          # time.monotonic() of the keypress
    stored_at: float           # time.monotonic() when the commit returned

    @property
    def latency_ms(self) -> float:
        return (self.stored_at - self.pressed_at) * 1000


class EventWriter:
    """A thread that runs database writes in the order they were asked for.

    ``submit(label, fn, pressed_at)`` returns at once; ``fn()`` runs on the thread and
    ``on_stored(Stored)`` is called there afterwards (the screen posts a message from
    it). A write that fails (a locked database past its busy timeout ...) is retried
    for ``retry_s`` before it is reported as an error, so a short lock held by another
    terminal costs nothing. ``close()`` finishes every queued write first.
    """

    def __init__(self, on_stored: Callable[[Stored], None], retry_s: float = 10.0) -> None:
        self.on_stored = on_stored
        self.retry_s = retry_s
        self._q: queue.Queue = queue.Queue()
        self._thread = threading.Thread(target=self._run, name="fieldkit-events", daemon=True)
        self._thread.start()

    def submit(self, label: str, fn: Callable[[], Any], pressed_at: float | None = None) -> None:
        self._q.put((label, fn, pressed_at if pressed_at is not None else time.monotonic()))

    def close(self, timeout: float = 30) -> None:
        self._q.put(None)
        self._thread.join(timeout)

    def pending(self) -> int:
        return self._q.qsize()

    def _run(self) -> None:
        while True:
            job = self._q.get()
            if job is None:
                return
            label, fn, pressed = job
            deadline = time.monotonic() + self.retry_s
            while True:
                try:
                    result, error = fn(), None
                    break
                except Exception as exc:  # noqa: BLE001 - reported to the screen, never lost silently
                    if time.monotonic() >= deadline or not _retryable(exc):
                        result, error = None, exc
                        break
                    time.sleep(0.2)
            try:
                self.on_stored(Stored(label, result, error, pressed, time.monotonic()))
            except Exception:  # noqa: BLE001 - a closed screen must not stop the writer
                pass


def _retryable(exc: Exception) -> bool:
    text = str(exc).lower()
    return "locked" in text or "busy" in text


def begin_session(handle: "ProjectHandle", session_id: uuid.UUID) -> None:
    """The interview has begun (with or without a recording): its start time is set, so
    a notes-only session still gives every note a time (since the start)."""
    from fieldkit.store.models import Session, utcnow

    with handle.db.transaction() as s:
        sess = s.get(Session, session_id)
        if sess is not None and sess.starts_at is None:
            sess.starts_at = utcnow()


def end_notes_only(handle: "ProjectHandle", session_id: uuid.UUID) -> None:
    """A session that was held without recording is over."""
    from fieldkit.store.models import Session, SessionStatus, utcnow

    with handle.db.transaction() as s:
        sess = s.get(Session, session_id)
        if sess is not None and sess.status in (SessionStatus.planned, SessionStatus.recording):
            sess.status, sess.ended_at = SessionStatus.recorded, utcnow()


# --------------------------------------------------------------------------- stop & debrief

def untouched_themes(handle: "ProjectHandle", session_id: uuid.UUID) -> list[str]:
    from fieldkit.guides.coverage import session_coverage
    from fieldkit.store.models import Session

    with handle.db.session() as s:
        sess = s.get(Session, session_id)
        if sess is None or sess.guide_version_id is None:
            return []
    return session_coverage(handle.db, session_id).untouched_themes()


DEBRIEF_PARTS = ("impressions", "joint")


def save_debrief(handle: "ProjectHandle", session_id: uuid.UUID, part: str, text: str,
                 author_id: uuid.UUID | None) -> "Event | None":
    """Keep one researcher's first impressions (part "impressions", author = researcher)
    or the pair's joint note ("joint"). Saving again replaces the text of the same
    researcher's entry; an empty text removes nothing (nothing written is ever lost)."""
    from sqlmodel import select

    from fieldkit.events import add_event
    from fieldkit.store.models import Event, EventKind

    if part not in DEBRIEF_PARTS:
        raise FieldkitError(f"Unknown debrief part {part!r}.")
    text = text.strip()
    with handle.db.transaction() as s:
        q = select(Event).where(Event.session_id == session_id, Event.kind == EventKind.debrief, Event.code == part)
        if part == "impressions":
            q = q.where(Event.created_by == author_id)
        existing = s.exec(q).first()
        if existing is not None:
            if text and text != existing.text:
                existing.text = text
                s.add(existing)
            return existing
    if not text:
        return None
    return add_event(handle.db, session_id, EventKind.debrief, position_ms=None, author_id=author_id,
                     code=part, text=text)


def load_debrief(handle: "ProjectHandle", session_id: uuid.UUID) -> dict[tuple[str, uuid.UUID | None], str]:
    from sqlmodel import select

    from fieldkit.store.models import Event, EventKind

    with handle.db.session() as s:
        return {(e.code, e.created_by if e.code == "impressions" else None): e.text for e in s.exec(
            select(Event).where(Event.session_id == session_id, Event.kind == EventKind.debrief))}


def session_people(handle: "ProjectHandle", session_id: uuid.UUID) -> tuple["Session", dict[uuid.UUID, str]]:
    """The session and its researchers {id: "AL (Ada Lead)"} (lead first)."""
    from fieldkit.store.models import Researcher, Session

    with handle.db.session() as s:
        sess = s.get(Session, session_id)
        if sess is None:
            raise FieldkitError(f"No session {session_id} in this project.")
        people = {}
        for rid in (sess.lead_id, sess.observer_id):
            if rid is not None:
                r = s.get(Researcher, rid)
                if r is not None:
                    people[r.id] = f"{r.initials} ({r.name})"
        s.expunge(sess)
        return sess, people


def guide_of(handle: "ProjectHandle", session_id: uuid.UUID) -> "Guide | None":
    from fieldkit.guides.coverage import session_guide
    from fieldkit.store.models import Session

    with handle.db.session() as s:
        sess = s.get(Session, session_id)
        if sess is None or sess.guide_version_id is None:
            return None
    return session_guide(handle.db, session_id)
