"""Review: the transcript against the audio, with the notes and tags in place.

Segments and events are one list in time order. Keys: Enter/e edits the segment under
the cursor (the edited layer: what was heard stays as it was), 1-9 assign a speaker to
the segment, a says who a voice is for all its segments ("S2 is L03"), space plays the
segment (or the uncertain word just jumped to), ] / [ jump to the next/previous
uncertain word (underlined and dimmed) and play it from a second before, / finds, R replaces, q marks a
quote, n/N and t/T jump to the next/previous note or tag, j jumps to a theme, v shows
verbatim or edited, Ctrl+R marks the session reviewed, K shows the observer agreement
(kappa per tag code between the two researchers who tagged, and the moments they differ:
Enter on one jumps there).
"""

from __future__ import annotations

import uuid
from typing import TYPE_CHECKING

from rich.text import Text
from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical
from textual.message import Message
from textual.screen import ModalScreen
from textual.widgets import Footer, Input, Label, OptionList, Static
from textual.widgets.option_list import Option

from fieldkit.i18n import N_, _, ngettext
from fieldkit.tui.screens.base import ProjectScreen
from fieldkit.tui.screens.review_range import RangeTranscription
from fieldkit.tui.widgets.live import clock
from fieldkit.tui.widgets.transcript_list import TranscriptList

if TYPE_CHECKING:
    from fieldkit.sessions.review import Marker, ReviewData, SegmentRow, Speaker, UncertainWord

MARK_STYLE = {"note": "italic cyan", "tag": "bold yellow", "quote": "bold magenta", "coverage": "green",
              "probe": "dim green", "returned": "cyan", "marker": "bold"}


#: the kinds of row in the transcript list (internal names, never shown)
SEGMENT, MARKER = "segment", "marker"

class ReplaceScreen(ModalScreen[tuple[str, str] | None]):
    BINDINGS = [Binding("escape", "dismiss(None)", N_("Cancel"))]

    def compose(self) -> ComposeResult:
        with Vertical(id="replace-box"):
            yield Label(_("Find and replace in the edited text (whole words, any case)"))
            yield Input(placeholder=_("find"), id="replace-find")
            yield Input(placeholder=_("replace with"), id="replace-with")

    @on(Input.Submitted)
    def _submitted(self, event: Input.Submitted) -> None:
        if event.input.id == "replace-find":
            self.query_one("#replace-with", Input).focus()
            return
        find = self.query_one("#replace-find", Input).value
        if find.strip():
            self.dismiss((find, event.value))


class ThemeJumpScreen(ModalScreen[int | None]):
    BINDINGS = [Binding("escape", "dismiss(None)", N_("Cancel"))]

    def __init__(self, themes: list[tuple[str, int]]) -> None:
        super().__init__()
        self.themes = themes

    def compose(self) -> ComposeResult:
        with Vertical(id="theme-box"):
            yield Label(_("Jump to where the talk turned to a theme"))
            yield OptionList(*[Option(f"{clock(ms)}  {title}") for title, ms in self.themes], id="theme-list")

    @on(OptionList.OptionSelected)
    def _chosen(self, event: OptionList.OptionSelected) -> None:
        self.dismiss(self.themes[event.option_index][1])


class VoiceScreen(ModalScreen["Speaker | None"]):
    """Who is this voice? One choice names all of the voice's segments."""
    BINDINGS = [Binding("escape", "dismiss(None)", N_("Cancel"))]

    def __init__(self, voice: str, speakers: list["Speaker"]) -> None:
        super().__init__()
        self.voice = voice
        self.speakers = speakers

    def compose(self) -> ComposeResult:
        with Vertical(id="voice-box"):
            yield Label(_("{voice} is ... (all of {voice}'s segments; later runs keep it)").format(voice=self.voice))
            yield OptionList(*[Option(f"{sp.key}  {sp.label}") for sp in self.speakers], id="voice-list")

    @on(OptionList.OptionSelected, "#voice-list")
    def _chosen(self, event: OptionList.OptionSelected) -> None:
        event.stop()
        self.dismiss(self.speakers[event.option_index])


class ReviewScreen(RangeTranscription, ProjectScreen[None]):
    BINDINGS = [
        Binding("e,enter", "edit", N_("Edit")),
        Binding("space", "play", N_("Play")),
        Binding("slash,ctrl+f", "find", N_("Find")),
        Binding("ctrl+g", "find_next", N_("Next match"), show=False),
        Binding("R", "replace", N_("Replace")),
        Binding("q", "quote", N_("Quote")),
        Binding("n", "jump('note', 1)", N_("Next note"), show=False),
        Binding("N", "jump('note', -1)", N_("Prev note"), show=False),
        Binding("t", "jump('tag', 1)", N_("Next tag"), show=False),
        Binding("T", "jump('tag', -1)", N_("Prev tag"), show=False),
        Binding("j", "theme", N_("Theme")),
        Binding("a", "voice", N_("Who is this voice")),
        Binding("right_square_bracket", "uncertain(1)", N_("Next unsure")),
        Binding("left_square_bracket", "uncertain(-1)", N_("Prev unsure"), show=False),
        Binding("v", "layer", N_("Verbatim/edited")),
        Binding("ctrl+r", "reviewed", N_("Reviewed")),
        Binding("b", "mark_range", N_("Transcribe range")),
        Binding("K", "agreement", N_("Agreement")),
        Binding("m", "note_here", N_("Note here")),
        Binding("g", "linked", N_("Linked session"), show=False),
        Binding("D", "second_debrief", N_("Second debrief"), show=False),
        Binding("escape", "back", N_("Back")),
    ] + [Binding(str(d), f"speaker({d})", N_("Speaker {d}").replace("{d}", str(d)), show=False)
         for d in range(1, 10)]

    class Loaded(Message):
        def __init__(self, data: "ReviewData") -> None:
            super().__init__()
            self.data = data

    class AgreementReady(Message):
        def __init__(self, report, error: str | None) -> None:  # noqa: ANN001 - agreement.AgreementReport
            super().__init__()
            self.report = report
            self.error = error

    class Played(Message):
        def __init__(self, error: str | None) -> None:
            super().__init__()
            self.error = error

    def __init__(self, slug: str, session_id: uuid.UUID | str) -> None:
        super().__init__(slug, session_id)
        self.data: ReviewData | None = None
        self.rows: list[tuple[str, object]] = []   # ("segment", SegmentRow) | ("marker", Marker)
        self.show_verbatim = False
        self.mode = ""          # "edit" / "find" while the input line is open
        self.last_find = ""
        self.player = None
        self.word_at: UncertainWord | None = None    # the uncertain word last jumped to

    def compose(self) -> ComposeResult:
        yield Label(_("Review"), id="review-title", classes="pane-title")
        yield Static("", id="review-speakers")
        yield TranscriptList(id="review-list")
        yield Input(id="review-input", classes="hidden")
        yield Footer()

    def on_mount(self) -> None:
        self.load()

    @work(thread=True, exclusive=True, group="review-load", exit_on_error=False)
    def load(self) -> None:
        from fieldkit.sessions.review import load_review

        self.post_message(self.Loaded(load_review(self.handle, self.session_id)))

    def on_review_screen_loaded(self, message: Loaded) -> None:
        keep = self._cursor_key()
        if message.data is not self.data:
            self.word_at = None
        self.data = data = message.data
        layer = _("showing verbatim") if self.show_verbatim else _("showing edited")
        edited = sum(1 for s in data.segments if s.edited is not None)
        counts = ngettext("{n} segment, {edited} edited", "{n} segments, {edited} edited",
                          len(data.segments)).format(n=len(data.segments), edited=edited)
        self.query_one("#review-title", Label).update(
            _("Review — {title}").format(title=data.title) + f"  ·  {counts}  ·  {layer}  ·  {_(data.status)}")
        line = _("Speakers: {list}").format(
            list="  ".join(f"{sp.key} {sp.label}" for sp in data.speakers) or _("(none in this session)"))
        if data.voices:
            line += "   " + _("Voices: {list}").format(
                list="  ".join(v if who == v else f"{v}={who}" for v, who in data.voices.items()))
        self.query_one("#review-speakers", Static).update(line)
        items: list[tuple[int, int, str, object]] = []
        for seg in data.segments:
            items.append((seg.start_ms, 1, SEGMENT, seg))
        for m in data.markers:
            items.append((m.position_ms if m.position_ms is not None else -1, 0, MARKER, m))
        items.sort(key=lambda x: (x[0], x[1]))
        self.rows = [(kind, obj) for _ms, _o, kind, obj in items]
        options = self.query_one("#review-list", TranscriptList)
        if data.segments:
            # only the rows whose content changed are drawn again (2,000 segments: an edit,
            # a quote or the layer shows at once, not after the whole list is rebuilt)
            options.sync([f"{kind[0]}-{obj.id}" for kind, obj in self.rows],
                         [self._row_sig(kind, obj) for kind, obj in self.rows],
                         lambda i: self._row_text(*self.rows[i]))
        else:
            options.clear_options()
            options.sync([], [], lambda i: Text())
            options.add_options([Option(self._row_text(kind, obj), id=f"{kind[0]}-{obj.id}")
                                 for kind, obj in self.rows])
            options.add_option(Option(Text(_("No transcript yet: run `fieldkit transcribe` for this session."),
                                           style="dim"), disabled=True))
        index = next((i for i, (k, o) in enumerate(self.rows) if f"{k[0]}-{o.id}" == keep), None)
        if index is None:
            index = next((i for i, (k, _o) in enumerate(self.rows) if k == "segment"), 0)
        if self.rows:
            options.highlighted = index
        options.focus()

    def _row_sig(self, kind: str, obj) -> tuple:  # noqa: ANN001
        """What a row shows, in short: a row is drawn again only when this changes."""
        if kind == "segment":
            seg: SegmentRow = obj
            word = None
            if self.word_at is not None and self.data is not None and \
                    self.data.segments[self.word_at.segment].id == seg.id:
                word = self.word_at.word
            # the layer changes only edited rows: their text and their mark
            return (seg.start_ms, seg.speaker, seg.verbatim if self.show_verbatim else seg.text,
                    seg.edited is not None and not self.show_verbatim, len(seg.words), word)
        m: Marker = obj
        return (m.position_ms, m.author, m.kind, m.label)

    def _row_text(self, kind: str, obj) -> Text:  # noqa: ANN001
        t = Text()
        if kind == "segment":
            seg: SegmentRow = obj
            t.append(clock(seg.start_ms) + " ", style="dim")
            t.append(f"{seg.speaker or '?':>4} ", style="bold")
            unsure = set(seg.uncertain())
            if unsure and seg.words:
                current = self.word_at
                for i, w in enumerate(seg.words):
                    style = "dim underline" if i in unsure else ""
                    if current is not None and self.data is not None and \
                            self.data.segments[current.segment].id == seg.id and current.word == i:
                        style = "reverse underline"
                    t.append(w["w"] if i else w["w"].lstrip(), style=style)
            else:
                t.append(seg.verbatim if self.show_verbatim else seg.text)
            if seg.edited is not None and not self.show_verbatim:
                t.append(" ✎", style="dim")
        else:
            m: Marker = obj
            t.append(clock(m.position_ms) + " ", style="dim")
            t.append(f"{m.author or '··':>4} ", style="dim")
            t.append(f"▸ {m.label}", style=MARK_STYLE.get(m.kind, ""))
        return t

    # ------------------------------------------------------------------ cursor

    def _cursor(self) -> int | None:
        index = self.query_one("#review-list", OptionList).highlighted
        return index if index is not None and index < len(self.rows) else None

    def _cursor_key(self) -> str | None:
        i = self._cursor()
        if i is None:
            return None
        kind, obj = self.rows[i]
        return f"{kind[0]}-{obj.id}"

    def _segment_at_cursor(self) -> "SegmentRow | None":
        """The segment under the cursor, or for a note/tag row the segment it falls in."""
        i = self._cursor()
        if i is None:
            return None
        kind, obj = self.rows[i]
        if kind == "segment":
            return obj
        for k, o in self.rows[i:]:
            if k == "segment":
                return o
        return None

    def _goto(self, index: int) -> None:
        options = self.query_one("#review-list", OptionList)
        options.highlighted = index
        options.scroll_to_highlight()

    # ------------------------------------------------------------------ input line

    def _open_input(self, mode: str, value: str, placeholder: str) -> None:
        self.mode = mode
        inp = self.query_one("#review-input", Input)
        inp.remove_class("hidden")
        inp.placeholder = placeholder
        inp.value = value
        inp.focus()

    def _close_input(self) -> None:
        self.mode = ""
        inp = self.query_one("#review-input", Input)
        inp.add_class("hidden")
        self.query_one("#review-list", OptionList).focus()

    @on(OptionList.OptionHighlighted, "#review-list")
    def _moved(self, event: OptionList.OptionHighlighted) -> None:
        # moving away from the uncertain word's segment: the next jump starts from the cursor
        seg = self._segment_at_cursor()
        if self.word_at is not None and self.data is not None and (
                seg is None or self.data.segments[self.word_at.segment].id != seg.id):
            self.word_at = None

    @on(OptionList.OptionSelected, "#review-list")
    def _row_chosen(self, event: OptionList.OptionSelected) -> None:
        event.stop()
        self.action_edit()

    def action_edit(self) -> None:
        if self.mode:
            return
        seg = self._segment_at_cursor()
        if seg is None:
            self.notify(_("No segment here to edit."), severity="warning", timeout=3)
            return
        self._editing = seg
        self._open_input("edit", seg.text, _("edit the text at {at} (Enter saves, Esc cancels)").format(
            at=clock(seg.start_ms)))

    def action_find(self) -> None:
        if not self.mode:
            self._open_input("find", self.last_find, _("find in the transcript (Enter: next match)"))

    @on(Input.Submitted, "#review-input")
    def _input_done(self, event: Input.Submitted) -> None:
        mode = self.mode
        self._close_input()
        if mode == "edit":
            seg = self._editing
            text = event.value.strip()
            # shown at once; the stored text follows from the write and the reload after it
            seg.edited = None if text == seg.verbatim.strip() else text
            if self.data is not None:
                self.post_message(self.Loaded(self.data))
            self.save_edit(seg, event.value)
        elif mode == "find":
            self.last_find = event.value
            self.action_find_next()
        elif mode == "note" and event.value.strip():
            self.add_note_here(self._note_ms, event.value)

    def action_note_here(self) -> None:
        """A note at the moment of the segment under the cursor."""
        seg = self._segment_at_cursor()
        if self.mode or seg is None:
            return
        self._note_ms = seg.start_ms
        self._open_input("note", "", _("note at {time} (Enter saves, Esc cancels)").format(time=clock(seg.start_ms)))

    @work(thread=True, group="review-write", exit_on_error=False)
    def add_note_here(self, position_ms: int, text: str) -> None:
        from fieldkit.sessions.notes import add_note

        add_note(self.handle, self.session_id, position_ms, text, self._author())
        self.load()

    def action_linked(self) -> None:
        from fieldkit.sessions.linked import linked_session

        other = linked_session(self.handle, self.session_id)
        if other is None:
            self.notify(_("This session is not linked to another."), severity="warning", timeout=3)
        else:
            self.app.switch_screen(ReviewScreen(self.slug, other))

    def action_second_debrief(self) -> None:
        from fieldkit.tui.screens.debrief import DebriefScreen

        self.app.push_screen(DebriefScreen(self.slug, self.session_id, author_id=self._author(), round=2))

    @work(thread=True, group="review-write", exit_on_error=False)
    def save_edit(self, seg: "SegmentRow", text: str) -> None:
        from fieldkit.sessions.review import edit_segment

        edit_segment(self.handle, seg.id, text)
        self.load()

    def action_find_next(self) -> None:
        if not self.last_find or self.data is None:
            return
        from fieldkit.sessions.review import find_segments

        hits = {self.data.segments[i].id for i in find_segments(self.data, self.last_find)}
        if not hits:
            self.notify(_("{text!r} is not in the transcript.").format(text=self.last_find), severity="warning",
                        timeout=3)
            return
        start = (self._cursor() or 0) + 1
        order = list(range(start, len(self.rows))) + list(range(0, start))
        for i in order:
            kind, obj = self.rows[i]
            if kind == "segment" and obj.id in hits:
                self._goto(i)
                return

    def action_back(self) -> None:
        if self.mode:
            self._close_input()
        else:
            if self.player is not None:
                self.player.stop()
            self.dismiss(None)

    # ------------------------------------------------------------------ changes

    def action_speaker(self, number: int) -> None:
        if self.data is None:
            return
        seg = self._segment_at_cursor()
        speaker = next((sp for sp in self.data.speakers if sp.key == str(number)), None)
        if seg is None or speaker is None:
            self.notify(_("No speaker {n} in this session.").format(n=number) if speaker is None
                        else _("No segment here."),
                        severity="warning", timeout=3)
            return
        self.set_speaker(seg, speaker)

    @work(thread=True, group="review-write", exit_on_error=False)
    def set_speaker(self, seg, speaker) -> None:  # noqa: ANN001
        from fieldkit.sessions.review import assign_speaker

        assign_speaker(self.handle, seg.id, speaker)
        self.load()

    def action_voice(self) -> None:
        if self.data is None:
            return
        seg = self._segment_at_cursor()
        if seg is None or not seg.voice:
            self.notify(_("This segment has no voice yet: run `fieldkit speakers` for the session.")
                        if seg is not None else _("No segment here."), severity="warning", timeout=4)
            return
        if not self.data.speakers:
            self.notify(_("No speakers in this session: add its participants first."), severity="warning",
                        timeout=4)
            return
        voice = seg.voice

        def chosen(speaker: "Speaker | None") -> None:
            if speaker is not None:
                self.set_voice(voice, speaker)

        self.app.push_screen(VoiceScreen(voice, self.data.speakers), chosen)

    @work(thread=True, group="review-write", exit_on_error=False)
    def set_voice(self, voice: str, speaker) -> None:  # noqa: ANN001
        from fieldkit.sessions.review import assign_voice

        n = assign_voice(self.handle, self.session_id, voice, speaker)
        self.app.call_from_thread(self.notify, ngettext("{voice} is {who}: {n} segment.",
                                                        "{voice} is {who}: {n} segments.", n).format(
            voice=voice, who=speaker.label, n=n), timeout=4)
        self.load()

    def action_replace(self) -> None:
        def chosen(pair: tuple[str, str] | None) -> None:
            if pair:
                self.replace(*pair)

        self.app.push_screen(ReplaceScreen(), chosen)

    @work(thread=True, group="review-write", exit_on_error=False)
    def replace(self, find: str, replacement: str) -> None:
        from fieldkit.sessions.review import find_replace

        n = find_replace(self.handle, self.session_id, find, replacement)
        self.app.call_from_thread(self.notify, ngettext("Replaced {find!r} in {n} segment.",
                                                        "Replaced {find!r} in {n} segments.", n).format(
            find=find, n=n), timeout=4)
        self.load()

    def action_quote(self) -> None:
        seg = self._segment_at_cursor()
        if seg is None:
            self.notify(_("No segment here to quote."), severity="warning", timeout=3)
            return
        event_id = uuid.uuid4()
        if self.data is not None:    # shown at once; the reload after the write finds it there
            from fieldkit.sessions.review import quote_marker

            author = self._author()
            initials = next((sp.label for sp in self.data.speakers if author and sp.researcher_id == author), "")
            self.data.markers.append(quote_marker(event_id, seg.start_ms, seg.end_ms, seg.text, initials))
            self.post_message(self.Loaded(self.data))
        self.quote(seg, event_id)

    @work(thread=True, group="review-write", exit_on_error=False)
    def quote(self, seg, event_id: uuid.UUID | None = None) -> None:  # noqa: ANN001
        from fieldkit.sessions.review import mark_quote, quote_reference

        author = self._author()
        mark_quote(self.handle, self.session_id, seg.start_ms, seg.end_ms, seg.text, author, event_id)
        self.app.call_from_thread(self.notify, _("Quote {ref} marked.").format(
            ref=quote_reference(self.session_id, seg.start_ms)),
                                  timeout=4)
        self.load()

    def _author(self) -> uuid.UUID | None:
        return self.data.lead_id if self.data is not None else None

    def action_reviewed(self) -> None:
        self.reviewed()

    @work(thread=True, group="review-write", exit_on_error=False)
    def reviewed(self) -> None:
        from fieldkit.sessions.review import mark_reviewed

        mark_reviewed(self.handle, self.session_id)
        self.app.call_from_thread(self.notify, _("Session marked as reviewed."), timeout=3)
        self.load()

    def action_layer(self) -> None:
        self.show_verbatim = not self.show_verbatim
        if self.data is not None:
            self.post_message(self.Loaded(self.data))

    # ------------------------------------------------------------------ jumping

    def action_jump(self, kind: str, step: int) -> None:
        i = self._cursor() or 0
        order = range(i + step, len(self.rows)) if step > 0 else range(i + step, -1, -1)
        for j in order:
            k, obj = self.rows[j]
            if k == "marker" and obj.kind == kind:
                self._goto(j)
                return
        self.notify({("note", True): _("No next note."), ("note", False): _("No earlier note."),
                     ("tag", True): _("No next tag."), ("tag", False): _("No earlier tag.")}.get(
            (kind, step > 0), _("Nothing more in that direction.")), timeout=2)

    def action_uncertain(self, step: int) -> None:
        if self.data is None:
            return
        from fieldkit.sessions.review import next_uncertain

        here = None
        if self.word_at is not None:
            here = (self.word_at.segment, self.word_at.word)
        else:
            seg = self._segment_at_cursor()
            if seg is not None:
                si = next(i for i, g in enumerate(self.data.segments) if g.id == seg.id)
                here = (si, -1) if step > 0 else (si, 10**6)
        word = next_uncertain(self.data, here, step)
        if word is None:
            self.notify(_("No later uncertain word.") if step > 0 else _("No earlier uncertain word."), timeout=2)
            return
        before = self.word_at
        self.word_at = word
        options = self.query_one("#review-list", OptionList)
        ids = {self.data.segments[w.segment].id for w in (before, word) if w is not None}
        for j, (k, obj) in enumerate(self.rows):
            if k == "segment" and obj.id in ids:     # redraw: the highlighted word moved
                options.replace_option_prompt_at_index(j, self._row_text(k, obj))
        seg_id = self.data.segments[word.segment].id
        self._goto(next(j for j, (k, obj) in enumerate(self.rows) if k == "segment" and obj.id == seg_id))
        self.notify(_("{at} “{word}” (sure {p}); space plays it again").format(
            at=clock(word.start_ms), word=word.text, p=f"{word.p:.0%}"), timeout=3)
        if self.data.has_audio:       # hear it at once, from a second before the word
            self.play(*word.play_span())

    def action_theme(self) -> None:
        if self.data is None or not self.data.themes:
            self.notify(_("No theme was marked as covered in this session."), severity="warning", timeout=3)
            return

        def chosen(ms: int | None) -> None:
            if ms is None:
                return
            for j, (k, obj) in enumerate(self.rows):
                if k == "segment" and obj.end_ms > ms:
                    self._goto(j)
                    return

        self.app.push_screen(ThemeJumpScreen([(t.title, t.position_ms) for t in self.data.themes]), chosen)

    # ------------------------------------------------------------------ observer agreement

    def action_agreement(self) -> None:
        """K: how alike the two researchers tagged this session (kappa per tag code) and
        the moments where they differ; choosing one jumps there."""
        self.compute_agreement()

    @work(thread=True, exclusive=True, group="review-agreement", exit_on_error=False)
    def compute_agreement(self) -> None:
        from fieldkit.sessions.agreement import session_agreement
        from fieldkit.errors import FieldkitError

        try:
            self.post_message(self.AgreementReady(session_agreement(self.handle, self.session_id), None))
        except FieldkitError as exc:
            self.post_message(self.AgreementReady(None, exc.message + (f" {exc.hint}" if exc.hint else "")))

    def on_review_screen_agreement_ready(self, message: AgreementReady) -> None:
        if message.error:
            self.notify(message.error, severity="warning", timeout=8)
            return
        from fieldkit.tui.screens.agreement import AgreementScreen

        self.app.push_screen(AgreementScreen(message.report), self.jump_to_ms)

    def jump_to_ms(self, ms: int | None) -> None:
        """The cursor to the first row at or after ``ms`` (a tag or note there, else the
        segment being spoken)."""
        if ms is None:
            return
        for j, (k, obj) in enumerate(self.rows):
            at = obj.position_ms if k == "marker" else obj.start_ms
            end = at if k == "marker" else obj.end_ms
            if (at is not None and at >= ms) or (k == "segment" and end > ms):
                self._goto(j)
                return
        if self.rows:
            self._goto(len(self.rows) - 1)

    # ------------------------------------------------------------------ playing

    def play_span(self) -> tuple[int, int] | None:
        """What space plays: the uncertain word just jumped to, from a second before it, or
        else the segment under the cursor."""
        seg = self._segment_at_cursor()
        if seg is None:
            return None
        word = self.word_at
        if word is not None and self.data is not None and self.data.segments[word.segment].id == seg.id:
            return word.play_span()
        return seg.start_ms, seg.end_ms

    def action_play(self) -> None:
        span = self.play_span()
        if span is None:
            self.notify(_("No segment here to play."), severity="warning", timeout=3)
            return
        if self.data is not None and not self.data.has_audio:
            self.notify(_("This session has no audio to play."), severity="warning", timeout=4)
            return
        self.play(*span)

    @work(thread=True, exclusive=True, group="review-play", exit_on_error=False)
    def play(self, start_ms: int, end_ms: int) -> None:
        from fieldkit.errors import FieldkitError
        from fieldkit.recording.playback import Player

        if self.player is None:
            self.player = Player()
        try:
            self.player.play(self.handle, self.session_id, start_ms, end_ms)
            self.post_message(self.Played(None))
        except FieldkitError as exc:
            self.post_message(self.Played(exc.message))
        except Exception as exc:  # noqa: BLE001 - no output device, no PortAudio: say so
            self.post_message(self.Played(_("Cannot play: {error}").format(error=exc)))

    def on_review_screen_played(self, message: Played) -> None:
        if message.error:
            self.notify(message.error, severity="error", timeout=6)
