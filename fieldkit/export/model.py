"""What an export holds: plain dataclasses, already pseudonymised.

:mod:`fieldkit.export.collect` fills them from the database; every writer works on these
only, so no writer can reach a name the collection step did not replace.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Any

from fieldkit.i18n import N_, _

#: events shown in reading formats (DOCX, Markdown, text, REFI notes, ELAN)
READING_KINDS = ("note", "tag", "quote", "marker", "debrief", "coverage", "probe", "returned")

KIND_LABELS = {
    "note": N_("Note"), "tag": N_("Tag"), "coverage": N_("Guide"), "probe": N_("Probe"),
    "returned": N_("Returned"), "marker": N_("Marker"), "quote": N_("Quote"),
    "consent": N_("Consent"), "debrief": N_("Debrief"), "recording": N_("Recording"),
}
#: coverage states as written in an export, in the exporting person's language
COVERAGE_WORDS = {"not_yet": N_("not yet"), "partly": N_("partly"), "covered": N_("covered"),
                  "skipped": N_("skipped")}
#: event kinds as a value in a table column (lower case, like the other values there)
KIND_VALUES = {"note": N_("note"), "tag": N_("tag"), "coverage": N_("coverage"), "probe": N_("probe"),
               "returned": N_("returned"), "marker": N_("marker"), "quote": N_("quote"),
               "consent": N_("consent"), "debrief": N_("debrief"), "recording": N_("audio recording")}

#: what a consent or recording event was, by its code, as the app's timeline says it
SUBKIND_WORDS = {"consent": {"recording_yes": N_("recording yes"), "recording_no": N_("recording no"),
                             "withdrawn": N_("withdrawn")},
                 "recording": {"start": N_("start"), "pause": N_("pause"), "resume": N_("resume"),
                               "stop": N_("stop")}}


def subkind_word(kind: str, code: str) -> str:
    """A consent answer ("recording yes") or a recording mark ("pause") in the exporting
    person's language; "" for other kinds (their code has a column of its own)."""
    words = SUBKIND_WORDS.get(kind)
    if words is None or not code:
        return ""
    return _(words[code]) if code in words else code.replace("_", " ")


def coverage_word(code: str) -> str:
    """A coverage state ("partly") in the exporting person's language ("delvis")."""
    return _(COVERAGE_WORDS[code]) if code in COVERAGE_WORDS else code.replace("_", " ")


def kind_label(kind: str) -> str:
    """An event kind as a heading or label ("Note", "Notat")."""
    return _(KIND_LABELS[kind]) if kind in KIND_LABELS else kind


def kind_value(kind: str) -> str:
    """An event kind as a table value ("note", "notat")."""
    return _(KIND_VALUES[kind]) if kind in KIND_VALUES else kind


def hms(ms: int | None) -> str:
    """[hh:mm:ss] without brackets, rounded down to the second ("00:01:02")."""
    from fieldkit.recording.clock import hms as clock_hms

    return clock_hms(ms)


@dataclass
class Participant:
    code: str
    role: str = ""
    organisation: str = ""
    speaker: str = ""           # the label used for them in this export
    site: str = ""              # case network / municipality ("" when organisations are redacted)
    group: str = ""             # informant group ("central", "local" ...)


@dataclass
class Segment:
    index: int
    start_ms: int
    end_ms: int
    speaker: str
    verbatim: str
    edited: str | None = None
    by_researcher: bool = False   # spoken by a researcher (interviewer or observer)
    #: how sure the model was, 0..1: the mean probability of its words (else from the
    #: segment's average log probability); None for text not from a model
    confidence: float | None = None

    def text(self, layer: str = "edited") -> str:
        if layer == "edited" and self.edited is not None:
            return self.edited
        return self.verbatim


@dataclass
class Event:
    id: str
    kind: str
    position_ms: int | None
    end_ms: int | None = None
    author: str = ""             # initials or role label, never a name
    code: str = ""               # tag code, coverage status or sub-kind
    tag_label: str = ""
    text: str = ""
    question_id: str = ""
    question_text: str = ""
    informant: str = ""          # the participant it is about (code/label)
    segment_index: int | None = None      # the segment it falls in (None: no time or no transcript)
    end_segment_index: int | None = None  # for a state tag: the segment its end falls in
    wall_time: str = ""

    @property
    def is_tag(self) -> bool:
        return self.kind == "tag"

    def summary(self) -> str:
        """One line for comments and inline marks."""
        label = _(KIND_LABELS[self.kind]) if self.kind in KIND_LABELS else self.kind
        if self.kind == "tag":
            body = self.tag_label or self.code
            if self.informant:                   # who it is about, as the app and the CSV say it
                body += f" → {self.informant}"
            if self.end_ms is not None and self.position_ms is not None:
                body += _(" (until {time})").format(time=hms(self.end_ms))
            if self.text:
                body += f": {self.text}"
        elif self.kind == "coverage":
            body = f"{self.question_text or self.question_id}: {coverage_word(self.code)}"
        elif self.kind in ("probe", "returned"):
            body = self.question_text or self.question_id
        elif self.kind == "debrief":   # round 1 right after, round 2 after the transcript
            body = self.text or self.code
            n = 2 if self.code.endswith("2") else 1
            label = (_("Debrief {n}, joint note") if self.code.startswith("joint")
                     else _("Debrief {n}, impressions")).format(n=n)
        else:
            body = self.text or self.code
            if self.informant:                   # a note about someone: "Note (TB) → L01: ..."
                return f"{label}{f' ({self.author})' if self.author else ''} → {self.informant}: {body}"
        who = f" ({self.author})" if self.author else ""
        return f"{label}{who}: {body}"


@dataclass
class ThemeMark:
    theme_id: str
    title: str
    position_ms: int | None
    segment_index: int | None   # the heading goes before this segment (None: at the top)
    returned: bool = False


@dataclass
class Question:
    id: str
    theme_id: str
    theme: str
    text: str
    guide_key: str = ""         # which guide it belongs to (question ids repeat across guides)
    guide_title: str = ""

    @property
    def key(self) -> str:
        return f"{self.guide_key}/{self.id}"


@dataclass
class Code:
    id: str            # stable key: "<scheme>/<code>"
    code: str
    label: str
    scheme: str
    colour: str = "#888888"
    mode: str = "point"
    description: str = ""


@dataclass
class Session:
    id: str
    label: str                  # short, name-free: "2026-03-04 · a1b2c3 · L03"
    title: str
    kind: str
    status: str
    date: str                   # ISO date or ""
    place: str
    is_pilot: bool
    participants: list[Participant] = field(default_factory=list)
    researchers: list[tuple[str, str]] = field(default_factory=list)  # (label, function)
    guide_title: str = ""
    guide_version: int | None = None
    guide_key: str = ""         # the guide's id: coverage is keyed by guide and question
    header: dict[str, str] = field(default_factory=dict)
    duration_ms: int = 0
    segments: list[Segment] = field(default_factory=list)
    events: list[Event] = field(default_factory=list)
    coverage: dict[str, str] = field(default_factory=dict)   # question id -> status
    themes: list[ThemeMark] = field(default_factory=list)
    audio_path: str = ""        # "<id>.wav" when the session's audio goes along (only when not pseudonymised)
    stem: str = ""              # file name stem, name-free
    follows: str = ""           # label of the session this one follows (observation -> group interview)
    followed_by: list[str] = field(default_factory=list)   # labels of the sessions following it

    def reading_events(self) -> list[Event]:
        return [e for e in self.events if e.kind in READING_KINDS]

    def turns(self) -> list[list[Segment]]:
        """The segments grouped into speaker turns, what Word, Markdown and text show as
        one paragraph each: a turn is the segments one speaker says in a row, and ends
        where the speaker changes or a theme heading comes between."""
        heads = {m.segment_index if m.segment_index is not None else 0 for m in self.themes}
        out: list[list[Segment]] = []
        for seg in self.segments:
            if out and out[-1][-1].speaker == seg.speaker and seg.index not in heads:
                out[-1].append(seg)
            else:
                out.append([seg])
        return out


@dataclass
class Bundle:
    project: str
    layer: str
    mode: str
    created: str
    sessions: list[Session] = field(default_factory=list)
    codes: list[Code] = field(default_factory=list)
    questions: list[Question] = field(default_factory=list)
    researchers: list[str] = field(default_factory=list)   # labels
    report: dict[str, int] = field(default_factory=dict)
    report_lines: list[str] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)
    line_numbers: bool = False
    language: str = "no"        # the project's language ("no", "nb", "nn", "en" ...)
    csv_separator: str = ","
    turn_times: bool = False    # reading formats: each segment's [hh:mm:ss] inside a turn too

    def question(self, guide_key: str, question_id: str) -> "Question | None":
        if not hasattr(self, "_q_index"):
            self._q_index = {q.key: q for q in self.questions}
        return self._q_index.get(f"{guide_key}/{question_id}")

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)
