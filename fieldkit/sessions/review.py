"""Reviewing a transcript against its audio, without the UI: the segments with the
session's notes and tags at their times, editing (the edited layer; the verbatim text
is never changed, only cut or joined with its segment by a split or a merge), speakers
(one segment, or a whole voice found by `fieldkit speakers`), uncertain words, find and
replace, quotes, undo of each of these edits, the flags (speech without transcript,
repeated phrases) and the reviewed status."""

from __future__ import annotations

import re
import uuid
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from fieldkit.errors import FieldkitError
from fieldkit.i18n import N_, Said, _
from fieldkit.text import clean_text

#: what a guide mark says in the review list, in the user's language where shown
GUIDE_MARKS = {"not_yet": N_("not yet: {item}"), "partly": N_("partly: {item}"), "covered": N_("covered: {item}"),
               "skipped": N_("skipped: {item}")}

if TYPE_CHECKING:
    from fieldkit.transcription.service import LayerModels
    from fieldkit.projects import ProjectHandle
    from fieldkit.store.models import Event


#: a word whose probability is below this is shown as uncertain. Chosen by measurement
#: (tests/bench/confidence_bench.py on ../shared/speech, base model): see the README.
UNCERTAIN_BELOW = 0.7
#: playback of an uncertain word starts this long before it (and runs as long past it)
UNCERTAIN_LEAD_MS = 1000


@dataclass
class SegmentRow:
    id: uuid.UUID
    start_ms: int
    end_ms: int
    verbatim: str
    edited: str | None
    speaker: str
    words: list[dict] = field(default_factory=list)   # [{"w", "s", "e", "p"}]
    voice: str = ""          # the voice speaker attribution found ("S2"), "" if none
    manual: bool = False     # the speaker was chosen by a researcher

    @property
    def text(self) -> str:
        return self.edited if self.edited is not None else self.verbatim

    def uncertain(self) -> list[int]:
        """Indexes of the words below UNCERTAIN_BELOW (none once the text is edited: the
        edited words are the researcher's, not the model's)."""
        if self.edited is not None:
            return []
        return [i for i, w in enumerate(self.words) if float(w.get("p", 1.0)) < UNCERTAIN_BELOW]


@dataclass
class UncertainWord:
    segment: int        # index in ReviewData.segments
    word: int           # index in that segment's words
    start_ms: int
    end_ms: int
    text: str
    p: float

    def play_span(self) -> tuple[int, int]:
        return max(0, self.start_ms - UNCERTAIN_LEAD_MS), self.end_ms + UNCERTAIN_LEAD_MS


def uncertain_words(data: "ReviewData") -> list[UncertainWord]:
    """Every uncertain word of the transcript in time order."""
    out = []
    for si, seg in enumerate(data.segments):
        for wi in seg.uncertain():
            w = seg.words[wi]
            out.append(UncertainWord(si, wi, int(w["s"]), int(w["e"]), w["w"].strip(), float(w["p"])))
    return out


def next_uncertain(data: "ReviewData", after: tuple[int, int] | None, step: int) -> UncertainWord | None:
    """The uncertain word after (step 1) or before (step -1) the position (segment index,
    word index); from the start or the end when the position is None."""
    words = uncertain_words(data)
    if not words:
        return None
    if after is None:
        return words[0] if step > 0 else words[-1]
    keys = [(w.segment, w.word) for w in words]
    if step > 0:
        return next((w for w, k in zip(words, keys) if k > after), None)
    return next((w for w, k in zip(reversed(words), reversed(keys)) if k < after), None)


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
    voices: dict[str, str] = field(default_factory=dict)   # "S2" -> who most of its segments are now
    lead_id: uuid.UUID | None = None
    audio_ms: int = 0                  # the end of the session's audio
    transcript_to_ms: int = 0          # how far the transcript reaches without a gap
    final_waiting: bool = False        # queued for (or running) the background final pass
    layers: "LayerModels | None" = None   # which model made the verbatim layer, how much people edited

    @property
    def transcript_short(self) -> bool:
        """The transcript stops well before the end of the audio (a live transcription cut
        off by a crash, audio added later): the review says so and offers to finish it."""
        return self.audio_ms - self.transcript_to_ms > SHORT_MS


#: a transcript that stops this much before the end of the audio is reported as short
SHORT_MS = 1500


def transcript_reach(runs, segments, audio_ms: int) -> int:
    """How far from the start the transcript reaches without a gap (ms): complete runs
    reach the end of what they were given, live and batch runs as far as they got
    (``done_ms``), ranges from their start to where they got, and segments themselves."""
    spans = [(0, max((g.end_ms for g in segments), default=0))] if segments else []
    for r in runs:
        status = getattr(r.status, "value", r.status)
        if r.mode in ("live", "batch"):
            end = max(r.total_ms, r.done_ms) if status == "done" and r.mode == "batch" else r.done_ms
            spans.append((0, end))
        elif r.mode == "range":
            lo = (r.settings or {}).get("range_ms", [0, 0])[0]
            spans.append((lo, r.done_ms))
    reach = 0
    for lo, hi in sorted(spans):
        if lo > reach + SHORT_MS:
            break
        reach = max(reach, hi)
    return min(reach, audio_ms) if audio_ms else reach


def load_review(handle: "ProjectHandle", session_id: uuid.UUID) -> ReviewData:
    from sqlmodel import select

    from fieldkit.instruments.guides.model import Guide
    from fieldkit.transcription.service import layer_models_in
    from fieldkit.store.models import (
        Event, EventKind, GuideVersion, Informant, Recording, RecordingFile, Researcher, Session,
        SessionParticipant, TagCode, TranscriptionRun, TranscriptSegment,
    )

    with handle.db.session() as s:
        sess = s.get(Session, session_id)
        if sess is None:
            raise FieldkitError(_("No session {session_id} in this project.").format(session_id=session_id))
        segs = [SegmentRow(g.id, g.start_ms, g.end_ms, g.verbatim, g.edited, g.speaker_label, list(g.words or []),
                           g.speaker_auto, g.speaker_manual)
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
                label = Said("quote", N_("Quote: {text}"), text=ev.text)
            elif ev.kind in (EventKind.coverage, EventKind.probe, EventKind.returned):
                item = guide.label(ev.question_id) if guide else ev.question_id
                if ev.kind == EventKind.coverage:
                    label = Said(f"coverage_{ev.code}", GUIDE_MARKS.get(ev.code, N_("{status}: {item}")),
                                 item=item, status=ev.code.replace("_", " "))
                elif ev.kind == EventKind.probe:
                    label = Said("probe", N_("probe: {item}"), item=item)
                else:
                    label = Said("returned", N_("back to: {item}"), item=item)
                theme = guide.theme_of(ev.question_id) if guide else None
                if theme is not None and ev.position_ms is not None and ev.code != "skipped":
                    if theme.id not in themes or ev.position_ms < themes[theme.id].position_ms:
                        themes[theme.id] = ThemeMark(theme.id, theme.title, ev.position_ms)
            elif ev.kind == EventKind.marker:
                label = Said("mark", N_("mark"))
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
        files = s.exec(select(RecordingFile).join(Recording).where(Recording.session_id == session_id)).all()
        has_audio = bool(files)
        audio_ms = max((f.offset_ms + f.duration_ms for f in files), default=0)
        runs = s.exec(select(TranscriptionRun).where(TranscriptionRun.session_id == session_id)).all()
        reach = transcript_reach(runs, segs, audio_ms)
        final_waiting = any(r.mode == "batch" and r.status.value in ("queued", "running") for r in runs)
        layers = layer_models_in(s, session_id)
        ordered = sorted(themes.values(), key=lambda t: t.position_ms)
        voices: dict[str, dict[str, int]] = {}
        for g in segs:
            if g.voice:
                tally = voices.setdefault(g.voice, {})
                tally[g.speaker] = tally.get(g.speaker, 0) + g.end_ms - g.start_ms
        shown = {v: max(t.items(), key=lambda kv: kv[1])[0]
                 for v, t in sorted(voices.items(), key=lambda kv: int(kv[0][1:]) if kv[0][1:].isdigit() else 0)}
        return ReviewData(session_id, sess.title, sess.status.value, segs, markers, speakers[:9], ordered,
                          has_audio, shown, sess.lead_id, audio_ms, reach, final_waiting, layers)


def _segment(s, segment_id: uuid.UUID):
    from fieldkit.store.models import TranscriptSegment

    seg = s.get(TranscriptSegment, segment_id)
    if seg is None:
        raise FieldkitError(_("No transcript segment {segment_id}.").format(segment_id=segment_id))
    return seg


def edit_segment(handle: "ProjectHandle", segment_id: uuid.UUID, text: str) -> str | None:
    """Set the edited layer of a segment; the verbatim text stays as heard. Text equal to
    the verbatim clears the edit. Returns the stored edited text (None: no edit)."""
    with handle.db.transaction() as s:
        seg = _segment(s, segment_id)
        text = clean_text(text).strip()   # (the store cleans it too; compared cleaned)
        seg.edited = None if text == seg.verbatim.strip() else text
        s.add(seg)
        return seg.edited


def assign_speaker(handle: "ProjectHandle", segment_id: uuid.UUID, speaker: Speaker) -> None:
    """One segment's speaker, chosen by a researcher: `fieldkit speakers` keeps it."""
    with handle.db.transaction() as s:
        seg = _segment(s, segment_id)
        seg.speaker_label = speaker.label
        seg.speaker_informant_id = speaker.informant_id
        seg.speaker_researcher_id = speaker.researcher_id
        seg.speaker_manual = True
        s.add(seg)


def assign_voice(handle: "ProjectHandle", session_id: uuid.UUID, voice: str, speaker: Speaker) -> int:
    """"S2 is L03": every segment of a voice found by speaker attribution gets the speaker,
    kept by later runs. Returns how many segments changed."""
    from fieldkit.speakers.attribute import Person
    from fieldkit.speakers.attribute import assign_voice as assign

    return assign(handle, session_id, voice, Person(speaker.label, speaker.informant_id, speaker.researcher_id))


def _find_rx(find: str, case: bool, whole_word: bool) -> "re.Pattern[str]":
    if not find.strip():
        raise FieldkitError(_("Nothing to find."))
    pattern = re.escape(find)
    if whole_word:
        pattern = rf"(?<!\w){pattern}(?!\w)"
    return re.compile(pattern, 0 if case else re.IGNORECASE)


@dataclass
class ReplaceMatch:
    start_ms: int
    before: str     # the segment's text now
    after: str      # and after the replacement


@dataclass
class ReplacePreview:
    """What a replace-all would change, before it does: how many matches in how many
    segments, and the first few segments before and after."""
    find: str
    replace: str
    matches: int
    segments: int
    first: list[ReplaceMatch] = field(default_factory=list)


@dataclass
class Replaced:
    """A replace-all done, with what undoes it: each changed segment's edited text before
    (None: it had no edit) and after."""
    changed: int
    before: dict[uuid.UUID, str | None] = field(default_factory=dict)
    after: dict[uuid.UUID, str | None] = field(default_factory=dict)


def preview_replace(handle: "ProjectHandle", session_id: uuid.UUID, find: str, replace: str, *,
                    case: bool = False, whole_word: bool = True, first: int = 3) -> ReplacePreview:
    """What :func:`replace_all` would change (nothing is written)."""
    from sqlmodel import select

    from fieldkit.store.models import TranscriptSegment

    rx = _find_rx(find, case, whole_word)
    out = ReplacePreview(find, replace, 0, 0)
    with handle.db.session() as s:
        for seg in s.exec(select(TranscriptSegment).where(TranscriptSegment.session_id == session_id)
                          .order_by(TranscriptSegment.start_ms)):
            new, n = rx.subn(lambda _m: replace, seg.text)
            if n:
                out.matches += n
                out.segments += 1
                if len(out.first) < first:
                    out.first.append(ReplaceMatch(seg.start_ms, seg.text, new))
    return out


def replace_all(handle: "ProjectHandle", session_id: uuid.UUID, find: str, replace: str, *,
                case: bool = False, whole_word: bool = True) -> Replaced:
    """Replace in the edited layer of every segment (starting from its current text), in
    one transaction; verbatim text is never touched. The result undoes it (:func:`undo_replace`)."""
    from sqlmodel import select

    from fieldkit.store.models import TranscriptSegment

    rx = _find_rx(find, case, whole_word)
    done = Replaced(0)
    with handle.db.transaction() as s:
        for seg in s.exec(select(TranscriptSegment).where(TranscriptSegment.session_id == session_id)):
            new, n = rx.subn(lambda _m: replace, seg.text)
            if n:
                done.before[seg.id] = seg.edited
                seg.edited = None if new == seg.verbatim else new
                done.after[seg.id] = seg.edited
                s.add(seg)
                done.changed += 1
    return done


def undo_replace(handle: "ProjectHandle", done: Replaced) -> int:
    """Put back the edited text a replace-all changed. A segment edited again since keeps
    that later edit (it is not undone behind the researcher's back). Returns how many
    segments were restored."""
    from fieldkit.store.models import TranscriptSegment

    restored = 0
    with handle.db.transaction() as s:
        for seg_id, before in done.before.items():
            seg = s.get(TranscriptSegment, seg_id)
            if seg is not None and seg.edited == done.after.get(seg_id):
                seg.edited = before
                s.add(seg)
                restored += 1
    return restored


def find_replace(handle: "ProjectHandle", session_id: uuid.UUID, find: str, replace: str, *,
                 case: bool = False, whole_word: bool = True) -> int:
    """Replace in the edited layer of every segment (starting from its current text);
    returns how many segments changed. Verbatim text is never touched."""
    return replace_all(handle, session_id, find, replace, case=case, whole_word=whole_word).changed


def find_segments(data: ReviewData, text: str) -> list[int]:
    """Indexes of the segments whose shown text contains ``text`` (case-insensitive)."""
    needle = text.casefold()
    return [i for i, seg in enumerate(data.segments) if needle in seg.text.casefold()]


def quote_reference(session_id: uuid.UUID, ms: int) -> str:
    """A stable reference to a moment: session and time, e.g. ``S1a2b3c4d@00:12:34``."""
    from fieldkit.recording.clock import hms

    return f"S{session_id.hex[:8]}@{hms(ms)}"


def mark_quote(handle: "ProjectHandle", session_id: uuid.UUID, start_ms: int, end_ms: int, text: str,
               author_id: uuid.UUID | None = None, event_id: uuid.UUID | None = None) -> "Event":
    """A quote event; ``event_id``: the id the review screen already shows it under."""
    from fieldkit.instruments.events import add_event

    if end_ms < start_ms:
        raise FieldkitError(_("A quote ends after it starts."))
    extra = {"id": event_id} if event_id is not None else {}
    return add_event(handle.db, session_id, "quote", position_ms=start_ms, end_ms=end_ms, author_id=author_id,
                     code=quote_reference(session_id, start_ms), text=text.strip(), **extra)


def quote_marker(event_id: uuid.UUID, start_ms: int, end_ms: int, text: str, author: str) -> Marker:
    """The review row of a quote, as :func:`load_review` makes it."""
    return Marker(event_id, "quote", start_ms, end_ms, Said("quote", N_("Quote: {text}"), text=text), author)


def mark_reviewed(handle: "ProjectHandle", session_id: uuid.UUID) -> None:
    from fieldkit.store.models import Session, SessionStatus

    with handle.db.transaction() as s:
        sess = s.get(Session, session_id)
        if sess is None:
            raise FieldkitError(_("No session {session_id} in this project.").format(session_id=session_id))
        sess.status = SessionStatus.reviewed


# --------------------------------------------------------------------------- undo, merge, split

#: the columns of a segment an edit can change and an undo puts back
_SEG_FIELDS = ("session_id", "run_id", "start_ms", "end_ms", "speaker_label", "speaker_informant_id",
               "speaker_researcher_id", "speaker_auto", "speaker_manual", "verbatim", "edited", "words",
               "language", "avg_logprob", "no_speech_prob")


def _snap(seg) -> dict:
    return {"id": seg.id, **{f: getattr(seg, f) for f in _SEG_FIELDS}}


@dataclass
class SegmentChange:
    """An edit done in review, with what undoes it: the segments it touched as they were
    (``before``) and as it left them (``after``); a segment only in ``before`` was removed
    (merged away), one only in ``after`` was added (split off). ``kind`` says which edit
    ("edit", "merge", "split", "speaker", "quote"); a quote carries its event in ``event_id``."""
    kind: str
    before: list[dict] = field(default_factory=list)
    after: list[dict] = field(default_factory=list)
    event_id: uuid.UUID | None = None
    focus: uuid.UUID | None = None      # the segment the cursor belongs on afterwards

    @property
    def changed(self) -> int:
        return max(len(self.before), len(self.after)) or (1 if self.event_id else 0)


class ChangedSince(FieldkitError):
    """An undo that would throw away a change made since (another terminal, a sync)."""


def _same(seg, snap: dict) -> bool:
    return all(getattr(seg, f) == snap[f] for f in _SEG_FIELDS)


def undo_change(handle: "ProjectHandle", change: "SegmentChange | Replaced") -> int:
    """Put back what one review edit changed, in one transaction, and return how many
    segments (or events) were restored. A replace-all restores each segment not edited
    again since (:func:`undo_replace`); any other edit is undone whole or not at all:
    a segment changed since (a sync, another terminal) stops it with :class:`ChangedSince`."""
    from fieldkit.store.models import Event, TranscriptSegment

    if isinstance(change, Replaced):
        return undo_replace(handle, change)
    with handle.db.transaction() as s:
        if change.event_id is not None:
            ev = s.get(Event, change.event_id)
            if ev is None:
                return 0
            s.delete(ev)
            return 1
        now = {snap["id"]: s.get(TranscriptSegment, snap["id"]) for snap in change.after}
        for snap in change.after:
            if now[snap["id"]] is None or not _same(now[snap["id"]], snap):
                raise ChangedSince(_("The segment at {at} was changed since; that change is kept and "
                                     "this undo is not done.").format(at=_clock(snap["start_ms"])))
        before_ids = {snap["id"] for snap in change.before}
        for snap in change.after:
            if snap["id"] not in before_ids:
                s.delete(now[snap["id"]])
        s.flush()
        for snap in change.before:
            seg = now.get(snap["id"]) or s.get(TranscriptSegment, snap["id"])
            if seg is None:
                seg = TranscriptSegment(id=snap["id"], session_id=snap["session_id"], start_ms=snap["start_ms"],
                                        end_ms=snap["end_ms"], verbatim=snap["verbatim"])
            for f in _SEG_FIELDS:
                setattr(seg, f, snap[f])
            s.add(seg)
        return max(len(change.before), 1)


def _clock(ms: int) -> str:
    from fieldkit.recording.clock import hms

    return hms(ms)


def edit_segment_undoable(handle: "ProjectHandle", segment_id: uuid.UUID, text: str) -> SegmentChange:
    """:func:`edit_segment`, returning what undoes it."""
    with handle.db.transaction() as s:
        seg = _segment(s, segment_id)
        change = SegmentChange("edit", [_snap(seg)], focus=seg.id)
        text = clean_text(text).strip()
        seg.edited = None if text == seg.verbatim.strip() else text
        s.add(seg)
        s.flush()
        change.after = [_snap(seg)]
        return change


def assign_speaker_undoable(handle: "ProjectHandle", segment_id: uuid.UUID, speaker: Speaker) -> SegmentChange:
    """:func:`assign_speaker`, returning what undoes it."""
    with handle.db.transaction() as s:
        seg = _segment(s, segment_id)
        change = SegmentChange("speaker", [_snap(seg)], focus=seg.id)
        _set_speaker(seg, speaker)
        s.add(seg)
        s.flush()
        change.after = [_snap(seg)]
        return change


def _set_speaker(seg, speaker: Speaker) -> None:
    seg.speaker_label = speaker.label
    seg.speaker_informant_id = speaker.informant_id
    seg.speaker_researcher_id = speaker.researcher_id
    seg.speaker_manual = True


def _join(a: str, b: str) -> str:
    return " ".join(t for t in (a.strip(), b.strip()) if t)


def merge_with_next(handle: "ProjectHandle", segment_id: uuid.UUID) -> SegmentChange:
    """Join a segment with the next one in time (the fragments a speaker change leaves):
    one segment from the first's start to the later end, with the first's speaker. Both
    layers are joined the same way: the verbatim texts (and their word timings) one after
    the other, and the edited text, where either has one, from both shown texts. The
    next segment's row goes (an undo brings it back with its id)."""
    from sqlmodel import select

    from fieldkit.store.models import TranscriptSegment

    with handle.db.transaction() as s:
        seg = _segment(s, segment_id)
        nxt = s.exec(select(TranscriptSegment).where(
            TranscriptSegment.session_id == seg.session_id, TranscriptSegment.id != seg.id,
            (TranscriptSegment.start_ms > seg.start_ms)
            | ((TranscriptSegment.start_ms == seg.start_ms) & (TranscriptSegment.id > seg.id)))
            .order_by(TranscriptSegment.start_ms, TranscriptSegment.id)).first()
        if nxt is None:
            raise FieldkitError(_("The segment at {at} is the last one: nothing to merge it with.").format(
                at=_clock(seg.start_ms)))
        change = SegmentChange("merge", [_snap(seg), _snap(nxt)], focus=seg.id)
        edited = None
        if seg.edited is not None or nxt.edited is not None:
            edited = _join(seg.text, nxt.text)
        seg.verbatim = _join(seg.verbatim, nxt.verbatim)
        seg.edited = edited
        seg.words = list(seg.words or []) + list(nxt.words or [])
        a, b = seg.end_ms - seg.start_ms, nxt.end_ms - nxt.start_ms
        if seg.avg_logprob is not None and nxt.avg_logprob is not None and a + b > 0:
            seg.avg_logprob = (seg.avg_logprob * a + nxt.avg_logprob * b) / (a + b)
        seg.end_ms = max(seg.end_ms, nxt.end_ms)
        s.add(seg)
        s.delete(nxt)
        s.flush()
        change.after = [_snap(seg)]
        return change


def _verbatim_offset(edited: str, verbatim: str, at: int) -> int:
    """Where in ``verbatim`` the position ``at`` of the edited text falls (the edited text
    is the verbatim one corrected: the characters they share place it)."""
    from difflib import SequenceMatcher

    sm = SequenceMatcher(None, edited, verbatim, autojunk=False)
    for tag, i1, i2, j1, j2 in sm.get_opcodes():
        if i1 <= at <= i2:
            if tag == "equal":
                return j1 + (at - i1)
            return j1 if at - i1 <= (i2 - i1) / 2 else j2
    return len(verbatim)


def _word_boundary(text: str, at: int) -> int:
    """``at`` moved to the start of the word it falls in (a split never cuts a word)."""
    at = max(0, min(at, len(text)))
    while 0 < at < len(text) and not text[at - 1].isspace() and not text[at].isspace():
        at -= 1
    return at


@dataclass
class SplitPlan:
    """Where a split falls in both layers and in time (see :func:`split_plan`)."""
    verbatim: tuple[str, str]
    edited: tuple[str | None, str | None]
    words: tuple[list[dict], list[dict]]
    first_end_ms: int
    second_start_ms: int


def split_plan(seg: SegmentRow | object, at: int) -> SplitPlan:
    """Split a segment at character ``at`` of its shown text (the edited layer where it has
    one, else the verbatim). The edited layer is cut
    exactly there; the verbatim layer at the same place, moved to a word's start; the word
    timings go with their words, and the time is cut between the last word of the first
    part and the first word of the second (without word timings: in proportion to the
    text). Raises FieldkitError when either part would be empty."""
    verbatim = seg.verbatim
    edited = seg.edited
    shown = edited if edited is not None else verbatim
    at = max(0, min(at, len(shown)))
    if edited is not None:
        e1, e2 = edited[:at].strip(), edited[at:].strip()
        v_at = _word_boundary(verbatim, _verbatim_offset(edited, verbatim, at))
    else:
        v_at = _word_boundary(verbatim, at)
        e1 = e2 = None
    v1, v2 = verbatim[:v_at].strip(), verbatim[v_at:].strip()
    if (edited is not None and not (e1 and e2)) or (edited is None and not (v1 and v2)):
        raise FieldkitError(_("Put the cursor between two words to split the segment there."))
    words = list(seg.words or [])
    tokens = verbatim.split()
    if words and len(words) == len(tokens):
        k = len(verbatim[:v_at].split())
    else:
        k = round(len(words) * v_at / max(1, len(verbatim)))
    if words and 0 < k < len(words):
        end1, start2 = int(words[k - 1]["e"]), int(words[k]["s"])
    else:
        start2 = seg.start_ms + round((seg.end_ms - seg.start_ms) * v_at / max(1, len(verbatim)))
        end1 = start2
    end1 = max(seg.start_ms, min(end1, seg.end_ms))
    start2 = max(end1, min(start2, seg.end_ms))
    if edited is not None:   # a part whose edit says what its verbatim says is not edited
        e1 = None if e1 == v1 else e1
        e2 = None if e2 == v2 else e2
    return SplitPlan((v1, v2), (e1, e2), (words[:k], words[k:]), end1, start2)


def split_segment(handle: "ProjectHandle", segment_id: uuid.UUID, at: int, speaker: Speaker | None = None, *,
                  text: str | None = None) -> SegmentChange:
    """Split a segment at character ``at`` of its shown text (:func:`split_plan`) into two
    stored segments; ``speaker``: who says the second part (the words after the cursor get
    another speaker), else both keep the segment's; ``text``: the segment's text as being
    edited (stored as its edit first, in the same change). The first part keeps the row's id."""
    from fieldkit.store.models import TranscriptSegment

    with handle.db.transaction() as s:
        seg = _segment(s, segment_id)
        change = SegmentChange("split", [_snap(seg)])
        if text is not None:
            cleaned = clean_text(text)
            lead = len(cleaned) - len(cleaned.lstrip())
            at = max(0, at - lead)
            cleaned = cleaned.strip()
            seg.edited = None if cleaned == seg.verbatim.strip() else cleaned
            if seg.edited is None:    # the shown text is the verbatim one: where it starts
                at += len(seg.verbatim) - len(seg.verbatim.lstrip())
        plan = split_plan(seg, at)
        second = TranscriptSegment(**{f: getattr(seg, f) for f in _SEG_FIELDS})
        second.id = uuid.uuid4()
        seg.verbatim, second.verbatim = plan.verbatim
        seg.edited, second.edited = plan.edited
        seg.words, second.words = plan.words
        second.end_ms = seg.end_ms
        seg.end_ms, second.start_ms = plan.first_end_ms, plan.second_start_ms
        if speaker is not None:
            _set_speaker(second, speaker)
        s.add(seg)
        s.add(second)
        s.flush()
        change.after = [_snap(seg), _snap(second)]
        change.focus = second.id
        return change


def assign_voice_undoable(handle: "ProjectHandle", session_id: uuid.UUID, voice: str,
                          speaker: Speaker) -> tuple[int, SegmentChange]:
    """:func:`assign_voice`, returning how many segments changed and what undoes it."""
    before = {g["id"]: g for g in _session_snaps(handle, session_id)}
    n = assign_voice(handle, session_id, voice, speaker)
    after = [g for g in _session_snaps(handle, session_id) if before.get(g["id"]) != g]
    return n, SegmentChange("voice", [before[g["id"]] for g in after if g["id"] in before], after)


def _session_snaps(handle: "ProjectHandle", session_id: uuid.UUID) -> list[dict]:
    from sqlmodel import select

    from fieldkit.store.models import TranscriptSegment

    with handle.db.session() as s:
        return [_snap(g) for g in s.exec(select(TranscriptSegment).where(TranscriptSegment.session_id == session_id))]


def mark_quote_undoable(handle: "ProjectHandle", session_id: uuid.UUID, start_ms: int, end_ms: int, text: str,
                        author_id: uuid.UUID | None = None, event_id: uuid.UUID | None = None) -> SegmentChange:
    """:func:`mark_quote`, returning what undoes it (the quote event goes again)."""
    ev = mark_quote(handle, session_id, start_ms, end_ms, text, author_id, event_id)
    return SegmentChange("quote", event_id=ev.id)


# --------------------------------------------------------------------------- flags: dropped speech, loops


@dataclass
class Flag:
    """A place in the transcript review points out: ``kind`` "uncovered" (speech the
    voice-activity detector found that no transcript word covers) or "repeated" (a phrase
    said over and over: a transcriber loop); ``phrase`` and ``times`` for the latter."""
    kind: str
    start_ms: int
    end_ms: int
    phrase: str = ""
    times: int = 0


def repeated_flags(data: ReviewData) -> list[Flag]:
    """Repeated phrases (fieldkit.transcription.gaps.repeated_phrases) in the verbatim layer."""
    from fieldkit.transcription.gaps import repeated_phrases

    rows = [_Verbatim(g.start_ms, g.end_ms, g.verbatim) for g in data.segments]
    return [Flag("repeated", r.start_ms, r.end_ms, r.phrase, r.times) for r in repeated_phrases(rows)]


@dataclass
class _Verbatim:
    start_ms: int
    end_ms: int
    verbatim: str


#: the audio is read and searched for speech this much at a time (memory stays small)
FLAG_WINDOW_MS = 600_000


def session_speech(handle: "ProjectHandle", session_id: uuid.UUID, audio_ms: int, cancel=None,
                   words: list[tuple[int, int]] | None = None) -> list[tuple[int, int]]:
    """Speech in the session's audio as the final pass's dropped-speech check finds it (the
    Silero VAD of fieldkit.transcription.gaps), read a window at a time so memory stays
    small; ``cancel()`` true stops early. ``words`` (their times): only the stretches no
    word covers are searched (with a little audio either side), which is all that speech
    without transcript can be: a full transcript leaves little to search. [] without audio."""
    from fieldkit.recording.audio import load_audio
    from fieldkit.transcription import gaps

    if words is None:
        spans = [(lo, min(audio_ms, lo + FLAG_WINDOW_MS)) for lo in range(0, max(0, audio_ms), FLAG_WINDOW_MS)]
    else:
        spans, cur = [], 0
        for s, e in gaps._covered(words, gaps.WORD_PAD_MS) + [(audio_ms, audio_ms)]:
            if s - cur >= gaps.MIN_GAP_MS:
                a, b = max(0, cur - HOLE_MARGIN_MS), min(audio_ms, s + HOLE_MARGIN_MS)
                spans += [(lo, min(b, lo + FLAG_WINDOW_MS)) for lo in range(a, b, FLAG_WINDOW_MS)]
            cur = max(cur, e)
    out: list[tuple[int, int]] = []
    for lo, hi in spans:
        if cancel is not None and cancel():
            break
        audio = load_audio(handle, session_id, lo, hi, sr=gaps.SR)
        out += [(s + lo, e + lo) for s, e in gaps.speech_spans(audio)]
    return out


#: a stretch without words is searched for speech with this much audio either side
HOLE_MARGIN_MS = 1000


def review_flags(data: ReviewData, speech: list[tuple[int, int]]) -> list[Flag]:
    """What review points out, in time order: speech (``speech``: :func:`session_speech`)
    that no word of the transcript as it is now covers ("speech without transcript
    0:30-0:34", at least gaps.MIN_GAP_MS), and repeated phrases."""
    from fieldkit.transcription import gaps

    out = [Flag("uncovered", s, e) for s, e in gaps.uncovered(speech, gaps.word_times(data.segments))]
    return sorted(out + repeated_flags(data), key=lambda f: (f.start_ms, f.kind))
