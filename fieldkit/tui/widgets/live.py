"""Small widgets of the interview and setup screens: the recording bar with its level
meter, the guide panel, the coverage overview, the event log and the transcript tail.
They only render what the screen hands them; none of them touches the database."""

from __future__ import annotations

from typing import TYPE_CHECKING

from rich.text import Text
from textual.containers import Vertical
from textual.widgets import Static

from fieldkit.i18n import N_, _
from fieldkit.recording.clock import hms as clock  # the one hh:mm:ss (re-exported for screens)

if TYPE_CHECKING:
    from fieldkit.instruments.guides.model import Guide, Question, Theme
    from fieldkit.sessions.live import EventView, TagKey
    from fieldkit.sessions.roster import Seat

__all__ = ["clock", "meter", "RecordingBar", "GuidePanel", "CoverageList", "EventLog", "TagLegend",
           "TranscriptTail", "Roster", "describe"]

#: what a recording or consent event says, by its code
RECORDING = {"start": N_("start"), "pause": N_("pause"), "resume": N_("resume"),
             "stop": N_("stop")}
CONSENT = {"recording_yes": N_("recording yes"), "recording_no": N_("recording no"),
           "withdrawn": N_("withdrawn")}

SYMBOL = {"covered": "✓", "partly": "½", "skipped": "–", "not_yet": "·"}
STYLE = {"covered": "green", "partly": "yellow", "skipped": "red", "not_yet": "dim"}


def meter(db: float, width: int = 12) -> Text:
    """A level meter from -60 to 0 dBFS: green, yellow above -12, red above -3."""
    filled = max(0, min(width, round((db + 60) / 60 * width)))
    t = Text()
    for i in range(width):
        level = -60 + (i + 1) * 60 / width
        style = "red" if level > -3 else "yellow" if level > -12 else "green"
        t.append("▮" if i < filled else "▯", style=style if i < filled else "dim")
    return t


class RecordingBar(Static):
    def show(self, *, state: str, position_ms: int | None, level_db: float | None, disk_s: float | None,
             title: str, role: str, warning: str = "") -> None:
        t = Text()
        if state == "recording":
            t.append(" ● " + _("REC") + " ", style="bold white on red")
        elif state == "paused":
            t.append(" ❚❚ " + _("PAUSED") + " ", style="bold black on yellow")
        elif state == "starting":
            t.append(" … " + _("starting") + " ", style="bold")
        elif state == "stopping":
            t.append(" ■ " + _("stopping…") + " ", style="bold")
        elif state == "stopped":
            t.append(" ■ " + _("STOPPED") + " ", style="bold")
        else:
            t.append(" " + _("NOT RECORDING") + " ", style="bold reverse")
        t.append(f" {clock(position_ms)} ")
        if level_db is not None:
            t.append(" ")
            t.append_text(meter(level_db))
            t.append(f" {level_db:5.0f} dB")
        if disk_s is not None:
            hours = disk_s / 3600
            t.append("  " + (_("disk {n} h").format(n=round(hours)) if hours >= 1
                             else _("disk {n} min").format(n=round(disk_s / 60))),
                     style="bold red" if disk_s < 15 * 60 else "")
        t.append(f"  {title}", style="bold")
        t.append(f"  [{role}]", style="dim")
        if warning:
            t.append(f"  ⚠ {warning}", style="bold yellow")
        self.update(t)


class GuidePanel(Static):
    def show(self, guide: "Guide | None", theme: "Theme | None", question: "Question | None",
             coverage: dict[str, str], probes_used: set[str], suggested: "set[str] | frozenset[str]" = frozenset()) -> None:
        if guide is None or question is None or theme is None:
            self.update(Text(_("No guide for this session: tags and notes still work."), style="dim"))
            return
        t = Text()
        minutes = f" ({theme.minutes} min)" if theme.minutes else ""
        n = guide.themes.index(theme) + 1
        t.append(_("Theme {n}/{total}: {title}").format(n=n, total=len(guide.themes), title=theme.title)
                 + f"{minutes}\n", style="bold")
        for line in theme.instructions:
            t.append(f"  › {line}\n", style="italic dim")
        status = coverage.get(question.id, "not_yet")
        qn = theme.questions.index(question) + 1
        t.append(f"\n{SYMBOL[status]} ", style=STYLE[status])
        t.append(_("Q{n}/{total}").format(n=qn, total=len(theme.questions)) + " ", style="bold")
        t.append(question.text, style="bold")
        if question.id in suggested:   # the guide listened: this seems asked
            t.append("  ← " + _("asked? c confirms, x dismisses"), style="bold yellow")
        t.append("\n")
        for line in question.instructions:
            t.append(f"  › {line}\n", style="italic")
        for i, probe in enumerate(question.probes, start=1):
            used = probe.id in probes_used
            t.append(f"  {i} ", style="bold" if not used else "dim")
            t.append(("✓ " if used else "") + probe.text, style="dim" if used else "")
            if probe.id in suggested and not used:
                t.append("  ← " + _("asked? {n} confirms").format(n=i), style="yellow")
            t.append("\n")
        if question.examples:
            t.append("  " + _("mention if needed:") + " ", style="dim")
            t.append(" · ".join(question.examples) + "\n", style="dim italic")
        if question.only_for:
            t.append("  " + _("only for: {who}").format(who=", ".join(question.only_for)) + "\n", style="dim")
        self.update(t)


class CoverageList(Static):
    def show(self, guide: "Guide | None", coverage: dict[str, str], current: str | None,
             suggested: "set[str] | frozenset[str]" = frozenset()) -> None:
        if guide is None:
            self.update("")
            return
        t = Text()
        for n, theme in enumerate(guide.themes, start=1):
            marks = [coverage.get(q.id, "not_yet") for q in theme.questions]
            here = any(q.id == current for q in theme.questions)
            title = theme.title if len(theme.title) <= 18 else theme.title[:17] + "…"
            t.append("▶" if here else " ", style="bold")
            t.append(f"{n} {title:<18} ", style="bold" if here else "")
            for q, m in zip(theme.questions, marks):
                if m == "not_yet" and q.id in suggested:   # seems asked: waiting for c or x
                    t.append("?", style="bold yellow" + (" reverse" if q.id == current else ""))
                    continue
                t.append(SYMBOL[m], style=STYLE[m] + (" reverse" if q.id == current else ""))
            t.append("\n")
        self.update(t)


def describe(ev: "EventView", tags: dict[str, "TagKey"], guide: "Guide | None") -> Text:
    t = Text()
    t.append(clock(ev.position_ms), style="dim")
    t.append(f" {ev.author or '··':<3}", style="bold")
    if ev.kind == "tag":
        tag = tags.get(ev.code)
        label = tag.label if tag else ev.code
        colour = tag.colour if tag else "white"
        if tag is not None and tag.mode == "state":
            label += " ▶" if ev.end_ms is None else f" ■ {clock(ev.end_ms)}"
        t.append(label, style=f"bold {colour}")
    elif ev.kind == "note":
        t.append("✎ " + ev.text)
    elif ev.kind == "coverage":
        label = guide.label(ev.question_id) if guide else ev.question_id
        t.append(f"{SYMBOL.get(ev.code, '?')} {label}", style=STYLE.get(ev.code, ""))
    elif ev.kind == "probe":
        t.append(_("probe:") + " " + (guide.label(ev.question_id) if guide else ev.question_id), style="dim")
    elif ev.kind == "returned":
        t.append("↩ " + _("back to") + " " + (guide.label(ev.question_id) if guide else ev.question_id), style="cyan")
    elif ev.kind == "marker":
        t.append("◆ " + _("mark"), style="bold")
    elif ev.kind == "recording":
        t.append(_("recording {what}").format(what=_(RECORDING.get(ev.code, ev.code))), style="dim italic")
    elif ev.kind == "consent":
        who = f"{ev.subject}: " if ev.subject else ""
        t.append(_("consent {who}{what}").format(who=who, what=_(CONSENT[ev.code]) if ev.code in CONSENT
                                                   else ev.code.replace("_", " ")), style="dim italic")
    else:
        t.append(f"{ev.kind} {ev.text}".strip())
    if ev.subject and ev.kind in ("tag", "note", "marker"):
        t.append(f" → {ev.subject}", style="bold cyan")   # the participant it is about (seat digit)
    t.truncate(200)
    return t


class EventLog(Static):
    def show(self, events: "list[EventView]", tags: dict[str, "TagKey"], guide: "Guide | None",
             limit: int = 12) -> None:
        shown = [e for e in events if e.kind != "debrief"][-limit:]
        t = Text(no_wrap=True, overflow="ellipsis")
        for i, ev in enumerate(shown):
            if i:
                t.append("\n")
            t.append_text(describe(ev, tags, guide))
        self.update(t if shown else Text(_("No notes or tags yet."), style="dim"))


class TagLegend(Static):
    """Every tag key on at most two lines: labels are shortened to fit the width, so a
    narrow terminal (80 columns) still shows every key."""

    LINES = 2
    _shown: tuple = ()

    def show(self, tags: "list[tuple[str, TagKey]]", open_codes: set[str]) -> None:
        self._shown = (tags, open_codes)
        width = self.size.width or (self.app.size.width if self.is_attached else 80)
        self.update(legend(tags, open_codes, width, self.LINES))

    def on_resize(self) -> None:
        if self._shown:
            self.show(*self._shown)


def legend(tags: "list[tuple[str, TagKey]]", open_codes: set[str], width: int, lines: int = 2) -> Text:
    """The legend as Text: the longest labels that let every key fit in ``lines``."""
    def chunks(limit: int | None) -> list[tuple[str, str, "TagKey"]]:
        out = []
        for key, tag in tags:
            label = tag.label + (" ▶" if tag.code in open_codes else "")
            if limit is not None and len(label) > limit:
                label = label[: max(0, limit - 1)] + "…" if limit > 1 else label[:limit]
            out.append((f" {key} ", f" {label} " if label else " ", tag))
        return out

    def pack(items: list) -> list[list] | None:
        rows: list[list] = [[]]
        used = 0
        for item in items:
            n = len(item[0]) + len(item[1])
            if used and used + n > width:
                rows.append([])
                used = 0
            rows[-1].append(item)
            used += n
        return rows if len(rows) <= lines else None

    longest = max((len(t.label) + 2 for _k, t in tags), default=0)
    rows = None
    for limit in [None, *range(longest, -1, -1)]:
        rows = pack(chunks(limit))
        if rows is not None:
            break
    rows = rows or pack(chunks(0)) or [chunks(0)]
    t = Text(no_wrap=True, overflow="ellipsis")
    for i, row in enumerate(rows):
        if i:
            t.append("\n")
        for key_text, label, tag in row:
            t.append(key_text, style=f"bold reverse {tag.colour}")
            t.append(label, style="bold" if tag.code in open_codes else "")
    return t


class TranscriptTail(Static):
    """The live transcript's newest lines, as many as the pane holds: the pane takes a
    share of the column it sits in (a few lines at 80x24, a dozen at 120x40), and the
    newest line is always at its bottom (older lines go out at the top)."""

    #: the share of the column's height the pane takes, and its limits (text lines)
    SHARE, MIN_LINES, MAX_LINES = 0.4, 3, 16

    _content: "tuple[list[tuple[int, str]], bool, str] | None" = None

    def show(self, lines: list[tuple[int, str]], live: bool, whose: str = "") -> None:
        self._content = (lines, live, whose)
        self._draw()

    def rows(self) -> int:
        """Text lines the pane shows: from the height of the column it sits in."""
        parent = self.parent
        height = parent.size.height if parent is not None else 0
        if not height:
            return self.MIN_LINES + 1
        return max(self.MIN_LINES, min(self.MAX_LINES, int(height * self.SHARE) - 3))

    def on_resize(self) -> None:
        self._draw()

    def _draw(self) -> None:
        rows = self.rows()
        if self.styles.height is None or self.styles.height.value != rows + 1:
            self.styles.height = rows + 1          # and the border above
        if self._content is None:
            return
        lines, live, whose = self._content
        if not lines:
            source = _("Live transcript ({whose})").format(whose=whose) if whose else _("Live transcript")
            self.update(Text(_("{source}: waiting for the first pause in speech…").format(source=source) if live
                             else _("No live transcript in this session."), style="dim"))
            return
        t = Text()
        for i, (ms, text) in enumerate(lines):
            if i:
                t.append("\n")
            t.append(clock(ms) + " ", style="dim")
            t.append(text.strip())
        width = self.content_size.width or self.size.width
        if width > 0 and self.is_mounted:
            wrapped = t.wrap(self.app.console, width)
            if len(wrapped) > rows:
                t = Text("\n").join(wrapped[-rows:])
        self.update(t)


class Roster(Static):
    """The seats of a focus group: seat number -> informant code and role. A digit typed
    right after a tag or note says which of them it is about."""

    def show(self, seats: "list[Seat]") -> None:
        from fieldkit.i18n import _

        t = Text(no_wrap=True, overflow="ellipsis")
        seated = [x for x in seats if x.seat]
        for i, x in enumerate(seated):
            if i:
                t.append("\n")
            t.append(f" {x.seat} ", style="reverse bold")
            t.append(f" {x.code}", style="bold")
            if x.role:
                t.append(f"  {x.role}", style="dim")
        if seated:
            t.append("\n")
            t.append(_("tag or note, then a seat digit: who it is about"), style="dim italic")
        self.update(t)


class TailColumn(Vertical):
    """The column the live transcript pane sits in. The pane's height is a share of this
    column's, so it is measured again whenever the column changes height (the tag legend
    below taking its second line once the tags are known): otherwise the pane kept the
    height of whichever layout it was first drawn in, one line more or less depending on
    how fast the machine was."""

    def on_resize(self) -> None:
        for tail in self.query(TranscriptTail):
            tail._draw()
