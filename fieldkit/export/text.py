"""Plain text and Markdown transcripts with ``[hh:mm:ss]`` timestamps (QualCoder reads
these as links into the audio), one paragraph per speaker turn, and the shared line
layout (one line per segment) used by the REFI-QDA text
sources, whose codings point at exact character offsets in it."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from fieldkit.export.model import Bundle, Session, hms
from fieldkit.i18n import N_, _
from fieldkit.i18n import format_date, language

#: values shown in the metadata, translated where shown: session kinds, text layers,
#: pseudonymisation modes
VALUE_WORDS = (N_("individual"), N_("pair interview"), N_("group"), N_("focus group"), N_("observation"),
               N_("telephone"), N_("notes only"), N_("verbatim"), N_("edited"),
               N_("code"), N_("role"), N_("interviewer"), N_("observer"))

EXT = {"txt": ".txt", "md": ".md"}


def kind_words(kind: str) -> str:
    """A session kind as stored, in English words ("focus group", "pair interview")."""
    return "pair interview" if kind == "pair" else kind.replace("_", " ")


def segment_line(seg, layer: str) -> str:
    text = " ".join(seg.text(layer).split())
    who = f"{seg.speaker}: " if seg.speaker else ""
    return f"[{hms(seg.start_ms)}] {who}{text}"


def turn_line(turn, layer: str, times: bool = False) -> str:
    """One speaker turn as one line: ``[hh:mm:ss] S1: text text ...``, with ``times`` the
    start of every further segment inside it too (``... text [hh:mm:ss] text``)."""
    first = turn[0]
    who = f"{first.speaker}: " if first.speaker else ""
    parts = []
    for k, seg in enumerate(turn):
        text = " ".join(seg.text(layer).split())
        if k and times:
            text = f"[{hms(seg.start_ms)}] {text}"
        if text:
            parts.append(text)
    return f"[{hms(first.start_ms)}] {who}{' '.join(parts)}"


@dataclass
class Layout:
    text: str
    spans: list[tuple[int, int]]   # per segment: [start, end) character offsets of its line


def transcript_layout(session: Session, layer: str) -> Layout:
    """The transcript as lines: a theme heading line where the talk turned to a theme,
    then one line per segment. ``spans[i]`` is where segment i's line is (code points,
    end exclusive: ``text[start:end]`` is the line without its newline)."""
    heads: dict[int, list[str]] = {}
    for mark in session.themes:
        at = mark.segment_index if mark.segment_index is not None else 0
        heads.setdefault(at, []).append(
            f"== {mark.title}{' (back)' if mark.returned else ''} ==")
    parts: list[str] = []
    spans: list[tuple[int, int]] = []
    pos = 0
    for seg in session.segments:
        for h in heads.get(seg.index, []):
            parts.append(h + "\n")
            pos += len(h) + 1
        line = segment_line(seg, layer)
        spans.append((pos, pos + len(line)))
        parts.append(line + "\n")
        pos += len(line) + 1
    return Layout("".join(parts), spans)


def shown_date(iso: str) -> str:
    """The session's date for the reader: written out in Norwegian ("4. mars 2026"), ISO
    (2026-03-04, sortable, unambiguous for an international reader) in English."""
    return format_date(iso) if language() == "nb" else iso


def metadata_lines(bundle: Bundle, s: Session) -> list[tuple[str, str]]:
    rows = [(_("Session"), s.label), (_("Title"), s.title),
            (_("Kind"), _(kind_words(s.kind))),
            (_("Date"), shown_date(s.date) if s.date else _("unknown")), (_("Place"), s.place or "-")]
    if s.participants:
        rows.append((_("Participants"), "; ".join(
            f"{p.speaker}" + (f" ({', '.join(x for x in (p.role, p.organisation) if x)})"
                              if (p.role or p.organisation) and p.speaker != ", ".join(
                                  x for x in (p.role, p.organisation) if x) else "")
            for p in s.participants)))
    if s.researchers:
        rows.append((_("Researchers"), "; ".join(f"{lab} ({_(fn)})" for lab, fn in s.researchers)))
    if s.follows:
        rows.append((_("Follows"), s.follows))
    if s.followed_by:
        rows.append((_("Followed by"), "; ".join(s.followed_by)))
    if s.guide_title:
        rows.append((_("Guide"), _("{title}, version {version}").format(
            title=s.guide_title, version=s.guide_version)))
    for k, v in s.header.items():
        if v:
            rows.append((k, v))
    rows.append((_("Duration"), hms(s.duration_ms)))
    rows.append((_("Text layer"), _(bundle.layer)))
    rows.append((_("Pseudonymised"), _(bundle.mode) if bundle.mode != "off" else _("no")))
    if s.is_pilot:
        rows.append((_("Pilot"), _("yes")))
    return rows


def render(bundle: Bundle, s: Session, markdown: bool) -> str:
    out: list[str] = []
    if markdown:
        out += [f"# {s.title or s.label}", ""]
        out += [f"- **{k}:** {v}" for k, v in metadata_lines(bundle, s)] + [""]
    else:
        out += [s.title or s.label, "=" * len(s.title or s.label)]
        out += [f"{k}: {v}" for k, v in metadata_lines(bundle, s)] + [""]
    heads: dict[int, list[str]] = {}
    for mark in s.themes:
        at = mark.segment_index if mark.segment_index is not None else 0
        title = mark.title + (_(" (back)") if mark.returned else "")
        heads.setdefault(at, []).append(f"## {title}" if markdown else f"== {title} ==")
    after: dict[int, list] = {}
    loose = []
    for e in s.reading_events():
        (after.setdefault(e.segment_index, []) if e.segment_index is not None else loose).append(e)

    def ev_line(e) -> str:
        t = f"[{hms(e.position_ms)}] " if e.position_ms is not None else ""
        first, *more = e.summary().split("\n")      # a pasted note keeps its lines
        if markdown:   # each line in the quote, a hard break (backslash) between them
            return "\\\n".join([f"> {t}{first}"] + [f"> {line}" for line in more])
        return "\n".join([f"    {t}{{{first}"] + [f"    {line}" for line in more]) + "}"

    for turn in s.turns():
        for h in heads.get(turn[0].index, []):
            out += [h, ""] if markdown else [h]
        line = turn_line(turn, bundle.layer, bundle.turn_times)
        speaker = turn[0].speaker
        if markdown and speaker:
            line = line.replace(f"] {speaker}: ", f"] **{speaker}:** ", 1)
        out.append(line)
        evs = [e for seg in turn for e in after.get(seg.index, [])]
        if markdown:
            out.append("")
            if evs:   # one paragraph per event in the quote (else they run on as one line)
                out += ["\n>\n".join(ev_line(e) for e in evs), ""]
        else:
            out += [ev_line(e) for e in evs]
    if loose:
        loose_title = _("Notes without a time")
        out += ["", f"## {loose_title}" if markdown else f"== {loose_title} ==", ""]
        for e in loose:
            out.append(ev_line(e))
            if markdown:
                out.append("")
    return "\n".join(out).rstrip("\n") + "\n"


def plan(bundle: Bundle, out_dir: Path, fmt: str) -> list:
    return [
        (out_dir / f"{s.stem}{EXT[fmt]}",
         (lambda f, s=s: f.write(render(bundle, s, fmt == "md").encode("utf-8"))))
        for s in bundle.sessions
    ]
