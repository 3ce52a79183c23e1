"""Reviewing a transcript against its audio, without the UI: the segments with the
session's notes and tags at their times, editing (the edited layer; the verbatim text
is never changed), speakers, find and replace, quotes and the reviewed status."""

from __future__ import annotations

import re
import uuid
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from fieldkit.errors import FieldkitError

if TYPE_CHECKING:
    from fieldkit.projects import ProjectHandle
    from fieldkit.store.models import Event


@dataclass
class SegmentRow:
    id: uuid.UUID
    start_ms: int
    end_ms: int
    verbatim: str
    edited: str | None
    speaker: str

    @property
    def text(self) -> str:
        return self.edited if self.edited is not None else self.verbatim


@dataclass
class Marker:
    """A note, tag, quote, probe or coverage change, at its time."""
    id: uuid.UUID
    kind: str
    position_ms: int | None
    end_ms: int | None
    label: str
    author: str


@dataclass
class Speaker:
    key: str            # "1".."9"
    label: str          # what the transcript shows: pseudonym code or initials
    informant_id: uuid.UUID | None = None
    researcher_id: uuid.UUID | None = None


@dataclass
class ThemeMark:
    theme_id: str
    title: str
    position_ms: int


@dataclass
class ReviewData:
    session_id: uuid.UUID
    title: str
    status: str
    segments: list[SegmentRow]
    markers: list[Marker]
    speakers: list[Speaker]
    themes: list[ThemeMark] = field(default_factory=list)
    has_audio: bool = False


def load_review(handle: "ProjectHandle", session_id: uuid.UUID) -> ReviewData:
    from sqlmodel import select

    from fieldkit.guides.model import Guide
    from fieldkit.store.models import (
        Event, EventKind, GuideVersion, Informant, Recording, RecordingFile, Researcher, Session,
        SessionParticipant, TagCode, TranscriptSegment,
    )

    with handle.db.session() as s:
        sess = s.get(Session, session_id)
        if sess is None:
            raise FieldkitError(f"No session {session_id} in this project.")
        segs = [SegmentRow(g.id, g.start_ms, g.end_ms, g.verbatim, g.edited, g.speaker_label)
                for g in s.exec(select(TranscriptSegment).where(TranscriptSegment.session_id == session_id)
                                .order_by(TranscriptSegment.start_ms))]
        researchers = {r.id: r for r in s.exec(select(Researcher).where(Researcher.project_id == sess.project_id))}
        labels = {c.id: c.label for c in s.exec(select(TagCode))}
        guide = None
        if sess.guide_version_id is not None:
            guide = Guide.from_outline(s.get(GuideVersion, sess.guide_version_id).outline)
        markers, themes = [], {}
        for ev in s.exec(select(Event).where(Event.session_id == session_id)
                         .order_by(Event.position_ms, Event.wall_time)):
            author = researchers[ev.created_by].initials if ev.created_by in researchers else ""
            if ev.kind == EventKind.note:
                label = ev.text
            elif ev.kind == EventKind.tag:
                label = labels.get(ev.tag_code_id, ev.code)
            elif ev.kind == EventKind.quote:
                label = "Quote: " + ev.text
            elif ev.kind in (EventKind.coverage, EventKind.probe, EventKind.returned):
                item = guide.label(ev.question_id) if guide else ev.question_id
                label = {"coverage": f"{ev.code.replace('_', ' ')}: ", "probe": "probe: ",
                         "returned": "back to: "}[ev.kind.value] + item
                theme = guide.theme_of(ev.question_id) if guide else None
                if theme is not None and ev.position_ms is not None and ev.code != "skipped":
                    if theme.id not in themes or ev.position_ms < themes[theme.id].position_ms:
                        themes[theme.id] = ThemeMark(theme.id, theme.title, ev.position_ms)
            elif ev.kind == EventKind.marker:
                label = "mark"
            else:
                continue  # recording markers, consent and debrief are not part of the transcript
            markers.append(Marker(ev.id, ev.kind.value, ev.position_ms, ev.end_ms, label, author))
        speakers: list[Speaker] = []
        for part, inf in s.exec(select(SessionParticipant, Informant).join(Informant)
                                .where(SessionParticipant.session_id == session_id).order_by(Informant.code)):
            speakers.append(Speaker("", part.speaker_label or inf.code, informant_id=inf.id))
        for rid in (sess.lead_id, sess.observer_id):
            if rid in researchers:
                speakers.append(Speaker("", researchers[rid].initials, researcher_id=rid))
        for n, sp in enumerate(speakers[:9], start=1):
            sp.key = str(n)
        has_audio = s.exec(select(RecordingFile).join(Recording).where(Recording.session_id == session_id)
                           .limit(1)).first() is not None
        ordered = sorted(themes.values(), key=lambda t: t.position_ms)
        return ReviewData(session_id, sess.title, sess.status.value, segs, markers, speakers[:9], ordered,
                          has_audio)


def _segment(s, segment_id: uuid.UUID):  # noqa: ANN001, ANN202
    from fieldkit.store.models import TranscriptSegment

    seg = s.get(TranscriptSegment, segment_id)
    if seg is None:
        raise FieldkitError(f"No transcript segment {segment_id}.")
    return seg


def edit_segment(handle: "ProjectHandle", segment_id: uuid.UUID, text: str) -> str | None:
    """Set the edited layer of a segment; the verbatim text stays as heard. Text equal to
    the verbatim clears the edit. Returns the stored edited text (None: no edit)."""
    with handle.db.transaction() as s:
        seg = _segment(s, segment_id)
        text = text.strip()
        seg.edited = None if text == seg.verbatim.strip() else text
        s.add(seg)
        return seg.edited


def assign_speaker(handle: "ProjectHandle", segment_id: uuid.UUID, speaker: Speaker) -> None:
    with handle.db.transaction() as s:
        seg = _segment(s, segment_id)
        seg.speaker_label = speaker.label
        seg.speaker_informant_id = speaker.informant_id
        seg.speaker_researcher_id = speaker.researcher_id
        s.add(seg)


def find_replace(handle: "ProjectHandle", session_id: uuid.UUID, find: str, replace: str, *,
                 case: bool = False, whole_word: bool = True) -> int:
    """Replace in the edited layer of every segment (starting from its current text);
    returns how many segments changed. Verbatim text is never touched."""
    from sqlmodel import select

    from fieldkit.store.models import TranscriptSegment

    if not find.strip():
        raise FieldkitError("Nothing to find.")
    pattern = re.escape(find)
    if whole_word:
        pattern = rf"(?<!\w){pattern}(?!\w)"
    rx = re.compile(pattern, 0 if case else re.IGNORECASE)
    changed = 0
    with handle.db.transaction() as s:
        for seg in s.exec(select(TranscriptSegment).where(TranscriptSegment.session_id == session_id)):
            new, n = rx.subn(lambda _m: replace, seg.text)
            if n:
                seg.edited = None if new == seg.verbatim else new
                s.add(seg)
                changed += 1
    return changed


def find_segments(data: ReviewData, text: str) -> list[int]:
    """Indexes of the segments whose shown text contains ``text`` (case-insensitive)."""
    needle = text.casefold()
    return [i for i, seg in enumerate(data.segments) if needle in seg.text.casefold()]


def quote_reference(session_id: uuid.UUID, ms: int) -> str:
    """A stable reference to a moment: session and time, e.g. ``S1a2b3c4d@00:12:34``."""
    from fieldkit.recording.clock import hms

    return f"S{session_id.hex[:8]}@{hms(ms)}"


def mark_quote(handle: "ProjectHandle", session_id: uuid.UUID, start_ms: int, end_ms: int, text: str,
               author_id: uuid.UUID | None = None) -> "Event":
    from fieldkit.events import add_event

    if end_ms < start_ms:
        raise FieldkitError("A quote ends after it starts.")
    return add_event(handle.db, session_id, "quote", position_ms=start_ms, end_ms=end_ms, author_id=author_id,
                     code=quote_reference(session_id, start_ms), text=text.strip())


def mark_reviewed(handle: "ProjectHandle", session_id: uuid.UUID) -> None:
    from fieldkit.store.models import Session, SessionStatus

    with handle.db.transaction() as s:
        sess = s.get(Session, session_id)
        if sess is None:
            raise FieldkitError(f"No session {session_id} in this project.")
        sess.status = SessionStatus.reviewed
