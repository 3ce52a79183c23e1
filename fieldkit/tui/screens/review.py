"""Review: the transcript against the audio, with the notes and tags in place.

Segments and events are one list in time order. The researcher edits the readable layer
(what was heard stays as it was), merges a segment with the next and splits one at the
text cursor (with the speaker of the words after it), undoes any change with Ctrl+Z,
types the team's snippets, assigns speakers and says who a voice is for all its segments,
plays the audio like a transcription pedal (play/pause with a rewind on resume, 5 s
jumps, slower/faster, a playhead the list follows), finds and replaces, marks quotes,
jumps between notes, tags, themes, uncertain words and flags (speech without transcript,
repeated phrases), and sees the observer agreement (kappa per tag code between the two
researchers who tagged, and the moments they differ). The keys are the BINDINGS below
(the help screen and the palette list them from there).
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
from textual.widgets import Footer, Label, OptionList, Static
from textual.widgets.option_list import Option

from fieldkit.i18n import N_, _, ngettext
from fieldkit.tui.commands import HELP_KEYS, SHELL_KEYS
from fieldkit.tui.widgets.inputs import Input, LinesInput
from fieldkit.tui.screens.base import ProjectScreen
from fieldkit.tui.screens.review_range import RangeTranscription
from fieldkit.tui.widgets.live import clock
from fieldkit.tui.widgets.model_advice import ModelAdvice
from fieldkit.tui.widgets.snippets import expand_in_input, finished_input
from fieldkit.tui.widgets.transcript_list import TranscriptList

if TYPE_CHECKING:
    from fieldkit.sessions.review import Marker, ReviewData, SegmentRow, Speaker, UncertainWord

MARK_STYLE = {"note": "italic cyan", "tag": "bold yellow", "quote": "bold magenta", "coverage": "green",
              "probe": "dim green", "returned": "cyan", "marker": "bold", "flag": "bold red"}

#: what an undone change was, in the notice after Ctrl+Z
UNDONE = {"edit": N_("Undone: the edit at {at}."), "merge": N_("Undone: the merge at {at}."),
          "split": N_("Undone: the split at {at}."), "speaker": N_("Undone: the speaker change at {at}."),
          "voice": N_("Undone: the voice's speaker."), "quote": N_("Undone: the quote.")}


#: the kinds of row in the transcript list (internal names, never shown)
SEGMENT, MARKER = "segment", "marker"

class ReplaceScreen(ModalScreen[tuple[str, str] | None]):
    """Find and replace: Enter in the second line shows what would change (how many
    matches, the first few before and after); Enter again replaces them all (Ctrl+Z in
    review undoes it), Esc leaves everything as it was."""
    BINDINGS = [*HELP_KEYS, Binding("escape", "dismiss(None)", N_("Cancel"), id="replace.cancel",
                        tooltip=N_("close without changing anything"))]

    def __init__(self, preview=None) -> None:
        super().__init__()
        self.preview = preview
        self.shown: tuple[str, str] | None = None    # the pair whose preview is on screen

    def compose(self) -> ComposeResult:
        with Vertical(id="replace-box"):
            yield Static(_("Find and replace in the edited text (whole words, any case)"), id="replace-title")
            yield Input(placeholder=_("find"), id="replace-find")
            yield Input(placeholder=_("replace with"), id="replace-with")
            yield Static("", id="replace-preview")

    @on(Input.Submitted)
    def _submitted(self, event: Input.Submitted) -> None:
        if event.input.id == "replace-find":
            self.query_one("#replace-with", Input).focus()
            return
        find = self.query_one("#replace-find", Input).value
        if not find.strip():
            return
        pair = (find, event.value)
        if self.preview is None or self.shown == pair:
            self.dismiss(pair)
            return
        self._show(self.preview(*pair), pair)

    def _show(self, preview, pair: tuple[str, str]) -> None:
        out = Text()
        if not preview.matches:
            out.append(_("{text!r} is not in the edited text.").format(text=pair[0]), style="bold")
            self.shown = None
        else:
            out.append(ngettext("{n} match", "{n} matches", preview.matches).format(n=preview.matches)
                       + " · " + ngettext("{n} segment", "{n} segments", preview.segments).format(
                           n=preview.segments), style="bold")
            for m in preview.first:
                out.append(f"\n{clock(m.start_ms)}  ", style="dim")
                out.append(m.before[:60], style="strike")
                out.append("\n          → " + m.after[:60])
            out.append("\n" + _("Enter replaces them all (Ctrl+Z in review undoes it); Esc cancels."), style="dim")
            self.shown = pair
        self.query_one("#replace-preview", Static).update(out)


class ThemeJumpScreen(ModalScreen[int | None]):
    BINDINGS = [*HELP_KEYS, Binding("escape", "dismiss(None)", N_("Cancel"), id="theme_jump.cancel",
                        tooltip=N_("close without changing anything"))]

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


class SuggestionsScreen(ModalScreen[int | None]):
    """The guide's suggestions for this session: which questions seem asked. c confirms,
    x dismisses (each stored as an event with its author), enter jumps to the moment."""
    BINDINGS = [*HELP_KEYS,
                Binding("c", "answer('confirmed')", N_("Confirm"), id="suggestions.confirm",
                        tooltip=N_("yes, this question was asked here: it counts as covered")),
                Binding("x", "answer('dismissed')", N_("Dismiss"), id="suggestions.dismiss",
                        tooltip=N_("no, this question was not asked here")),
                Binding("escape", "dismiss(None)", N_("Close"), id="suggestions.close",
                        tooltip=N_("back to the transcript"))]

    def __init__(self, handle, session_id: uuid.UUID, author_id: uuid.UUID | None, items: list) -> None:
        super().__init__()
        self.handle, self.session_id, self.author_id = handle, session_id, author_id
        self.items = items   # fieldkit.sessions.suggestions.StoredSuggestion
        self.answered = 0

    def _line(self, x) -> Text:
        state = {"open": _("asked? c confirms, x dismisses"), "confirmed": _("confirmed"),
                 "dismissed": _("dismissed")}[x.state]
        t = Text(f"{clock(x.at_ms or 0)}  {x.question:<4} ")
        t.append(f"[{state}] ", style={"open": "bold yellow", "confirmed": "green",
                                       "dismissed": "dim"}[x.state])
        t.append(x.label)
        t.append(f"  «{x.text[:70]}»", style="dim italic")
        return t

    def compose(self) -> ComposeResult:
        with Vertical(id="suggestions-box"):
            yield Label(_("Which guide questions seem asked (from the interviewer's turns)"))
            yield OptionList(*[Option(self._line(x)) for x in self.items], id="suggestions-list")

    def action_answer(self, state: str) -> None:
        from fieldkit.sessions.suggestions import answer

        options = self.query_one("#suggestions-list", OptionList)
        i = options.highlighted
        if i is None or not self.items:
            return
        x = answer(self.handle.db, self.session_id, self.items[i].id, state, author_id=self.author_id)
        self.items[i] = x
        self.answered += 1
        options.replace_option_prompt_at_index(i, self._line(x))
        if i + 1 < len(self.items):
            options.highlighted = i + 1

    @on(OptionList.OptionSelected, "#suggestions-list")
    def _chosen(self, event: OptionList.OptionSelected) -> None:
        event.stop()
        self.dismiss(self.items[event.option_index].at_ms or 0)


class VoiceScreen(ModalScreen["Speaker | None"]):
    """Who is this voice? One choice names all of the voice's segments: the listed digit
    chooses at once, or the arrows and Enter."""
    BINDINGS = [*HELP_KEYS, Binding("escape", "dismiss(None)", N_("Cancel"), id="voice.cancel",
                        tooltip=N_("close without changing anything"))] + [
        Binding(str(d), f"pick({d})", N_("Speaker"), show=False, id=f"voice.pick_{d}",
                tooltip=N_("this voice is the speaker listed with this digit")) for d in range(1, 10)]

    def action_pick(self, number: int) -> None:
        speaker = next((sp for sp in self.speakers if sp.key == str(number)), None)
        if speaker is not None:
            self.dismiss(speaker)
        else:
            self.notify(_("No speaker {n} in this session.").format(n=number), severity="warning", timeout=3)

    def __init__(self, voice: str, speakers: list["Speaker"], said: str = "") -> None:
        super().__init__()
        self.voice = voice
        self.speakers = speakers
        self.said = said     # the segment's words: the review is not shown behind the dialog

    def compose(self) -> ComposeResult:
        with Vertical(id="voice-box"):
            yield Label(_("{voice} is ... (all of {voice}'s segments; later runs keep it)").format(voice=self.voice))
            if self.said:
                yield Label(f"“{self.said}”", id="voice-said")
            yield OptionList(*[Option(f"{sp.key}  {sp.label}") for sp in self.speakers], id="voice-list")

    @on(OptionList.OptionSelected, "#voice-list")
    def _chosen(self, event: OptionList.OptionSelected) -> None:
        event.stop()
        self.dismiss(self.speakers[event.option_index])


class SplitSpeakerScreen(ModalScreen[object]):
    """Who speaks from the cursor on? The split's second part gets the speaker chosen by
    its digit (or arrows and Enter); 0 or the first line keeps the segment's speaker; Esc
    goes back to the edit without splitting."""
    BINDINGS = [*HELP_KEYS, Binding("escape", "dismiss(None)", N_("Cancel"), id="split.cancel",
                                    tooltip=N_("back to the edit without splitting")),
                Binding("0", "pick(0)", N_("Same speaker"), show=False, id="split.same",
                        tooltip=N_("split here; both parts keep the segment's speaker"))] + [
        Binding(str(d), f"pick({d})", N_("Speaker"), show=False, id=f"split.pick_{d}",
                tooltip=N_("the words after the cursor are this speaker's")) for d in range(1, 10)]

    SAME = "same"

    def __init__(self, current: str, speakers: list["Speaker"]) -> None:
        super().__init__()
        self.current, self.speakers = current, speakers

    def compose(self) -> ComposeResult:
        with Vertical(id="voice-box"):
            yield Label(_("Split here. Who speaks from the cursor on?"))
            yield OptionList(Option(_("0  the same speaker ({who})").format(who=self.current or "?")),
                             *[Option(f"{sp.key}  {sp.label}") for sp in self.speakers], id="split-list")

    def action_pick(self, number: int) -> None:
        if number == 0:
            self.dismiss(self.SAME)
            return
        speaker = next((sp for sp in self.speakers if sp.key == str(number)), None)
        if speaker is not None:
            self.dismiss(speaker)
        else:
            self.notify(_("No speaker {n} in this session.").format(n=number), severity="warning", timeout=3)

    @on(OptionList.OptionSelected, "#split-list")
    def _chosen(self, event: OptionList.OptionSelected) -> None:
        event.stop()
        self.dismiss(self.SAME if event.option_index == 0 else self.speakers[event.option_index - 1])


class SnippetsScreen(ModalScreen[bool]):
    """The project's text snippets: abbreviation and text on one line adds one (or changes
    its text), Delete removes the highlighted one. The same list as `fieldkit snippets`."""
    BINDINGS = [*HELP_KEYS,
                Binding("escape", "dismiss(True)", N_("Close"), id="snippets.close",
                        tooltip=N_("back to the transcript")),
                Binding("delete", "remove", N_("Remove"), id="snippets.remove",
                        tooltip=N_("remove the highlighted snippet"))]

    def __init__(self, handle) -> None:
        super().__init__()
        self.handle = handle
        self.table: dict[str, str] = {}

    def compose(self) -> ComposeResult:
        with Vertical(id="snippets-box"):
            yield Static(_("Text snippets: typed in an edit, an abbreviation and a space expand to its text"))
            yield OptionList(id="snippets-list")
            yield Input(placeholder=_(",,i {informant}   (abbreviation, a space, the text; Enter adds)"),
                        id="snippets-new")
            yield Static(_("A text can use {names}.").format(names="{informant} {informants} {lead} {observer}"),
                         classes="dim")

    def on_mount(self) -> None:
        self._fill()
        self.query_one("#snippets-new", Input).focus()

    def _fill(self) -> None:
        from fieldkit.sessions.snippets import snippets

        self.table = snippets(self.handle)
        options = self.query_one("#snippets-list", OptionList)
        options.clear_options()
        if self.table:
            options.add_options([Option(f"{abbr:<8} → {text}") for abbr, text in self.table.items()])
        else:
            options.add_option(Option(Text(_("No snippets yet."), style="dim"), disabled=True))

    @on(Input.Submitted, "#snippets-new")
    def _add(self, event: Input.Submitted) -> None:
        from fieldkit.errors import FieldkitError
        from fieldkit.sessions.snippets import set_snippet

        abbr, _sep, text = event.value.strip().partition(" ")
        try:
            set_snippet(self.handle, abbr, text.strip())
        except FieldkitError as exc:
            self.notify(exc.message + (f" {exc.hint}" if exc.hint else ""), severity="warning", timeout=6)
            return
        event.input.value = ""
        self._fill()

    def action_remove(self) -> None:
        from fieldkit.sessions.snippets import remove_snippet

        i = self.query_one("#snippets-list", OptionList).highlighted
        if i is None or not self.table:
            return
        remove_snippet(self.handle, list(self.table)[i])
        self._fill()


class ReviewScreen(RangeTranscription, ProjectScreen[None]):
    BINDINGS = [
        *SHELL_KEYS,   # Help and Quit first in the footer: a narrow terminal cuts the rest
        Binding("e,enter", "edit", N_("Edit"), id="review.edit", tooltip=N_("edit this segment's readable (edited) text; the verbatim text is kept")),
        Binding("space,f4", "play", N_("Play/pause"), id="review.play", tooltip=N_("play from this segment, or pause; playing again goes on from a little before where it paused (the rewind: w)")),
        Binding("J", "merge", N_("Merge"), id="review.merge", tooltip=N_("merge this segment with the next one")),
        Binding("ctrl+b", "split", N_("Split"), id="review.split", tooltip=N_("split the segment being edited at the cursor, and say who speaks from there on")),
        Binding("ctrl+z", "undo", N_("Undo"), id="review.undo", tooltip=N_("undo the last change: an edit, replace-all, merge, split, speaker or quote")),
        Binding("left,f2", "seek(-1)", N_("Back 5 s"), show=False, id="review.seek_back", tooltip=N_("playback 5 seconds back")),
        Binding("right,f3", "seek(1)", N_("Forward 5 s"), show=False, id="review.seek_forward", tooltip=N_("playback 5 seconds forward")),
        Binding("minus,f6", "rate(-1)", N_("Slower"), show=False, id="review.slower", tooltip=N_("play slower (the pitch stays)")),
        Binding("plus,f7", "rate(1)", N_("Faster"), show=False, id="review.faster", tooltip=N_("play faster (the pitch stays)")),
        Binding("w", "rewind_setting", N_("Rewind 1-3 s"), show=False, id="review.rewind", tooltip=N_("how far playing goes back after a pause: 1, 2 or 3 seconds (kept for you)")),
        Binding("f", "jump('flag', 1)", N_("Next flag"), show=False, id="review.next_flag", tooltip=N_("the next speech without transcript or repeated phrase")),
        Binding("S", "snippets", N_("Snippets"), show=False, id="review.snippets", tooltip=N_("the project's text snippets (abbreviations that expand while you edit)")),
        Binding("slash,ctrl+f", "find", N_("Find"), id="review.find", tooltip=N_("find text in the transcript")),
        Binding("ctrl+g", "find_next", N_("Next match"), show=False, id="review.find_next", tooltip=N_("the next match of the last search")),
        Binding("R", "replace", N_("Replace"), show=False, id="review.replace", tooltip=N_("replace text in the edited layer (for example a name by NN)")),
        Binding("q", "quote", N_("Quote"), id="review.quote", tooltip=N_("mark this segment as a quote; its reference is session@time")),
        Binding("n", "jump('note', 1)", N_("Next note"), show=False, id="review.next_note", tooltip=N_("move to the next note")),
        Binding("N", "jump('note', -1)", N_("Prev note"), show=False, id="review.prev_note", tooltip=N_("move to the previous note")),
        Binding("t", "jump('tag', 1)", N_("Next tag"), show=False, id="review.next_tag", tooltip=N_("move to the next tag")),
        Binding("T", "jump('tag', -1)", N_("Prev tag"), show=False, id="review.prev_tag", tooltip=N_("move to the previous tag")),
        Binding("s", "suggestions", N_("Asked?"), show=False, id="review.suggestions", tooltip=N_("suggest which guide questions were asked, from the interviewer's turns; confirm (c) or dismiss (x) each")),
        Binding("j", "theme", N_("Theme"), show=False, id="review.theme", tooltip=N_("jump to where a guide theme was covered")),
        Binding("a", "voice", N_("Who is this voice"), show=False, id="review.voice", tooltip=N_("say who the voice of this segment is; every segment of that voice follows")),
        Binding("right_square_bracket", "uncertain(1)", N_("Next unsure"), id="review.next_unsure", tooltip=N_("the next word the transcriber was unsure of")),
        Binding("left_square_bracket", "uncertain(-1)", N_("Prev unsure"), show=False, id="review.prev_unsure", tooltip=N_("the previous word the transcriber was unsure of")),
        Binding("v", "layer", N_("Verbatim/edited"), show=False, id="review.layer", tooltip=N_("show the verbatim or the edited layer")),
        Binding("ctrl+r", "reviewed", N_("Reviewed"), show=False, id="review.reviewed", tooltip=N_("mark the session as reviewed")),
        Binding("b", "mark_range", N_("Transcribe range"), show=False, id="review.mark_range", tooltip=N_("mark where a range to transcribe again starts, then where it ends")),
        Binding("F", "finish_transcript", N_("Transcribe the rest"), show=False, id="review.finish_transcript",
                tooltip=N_("Transcribe what the transcript does not cover yet (all of it when there is none)")),
        Binding("K", "agreement", N_("Agreement"), show=False, id="review.agreement", tooltip=N_("how alike the two researchers tagged this session")),
        Binding("m", "note_here", N_("Note here"), show=False, id="review.note_here", tooltip=N_("a note at the time of this segment")),
        Binding("g", "linked", N_("Linked session"), show=False, id="review.linked", tooltip=N_("open the linked session (the other seat)")),
        Binding("D", "second_debrief", N_("Second debrief"), show=False, id="review.second_debrief", tooltip=N_("a second debrief, after reading the transcript")),
        Binding("escape", "back", N_("Back"), id="review.back", tooltip=N_("back to the previous screen")),
    ] + [Binding(str(d), f"speaker({d})", N_("Speaker {d}").replace("{d}", str(d)), show=False,
                 id=f"review.speaker_{d}", tooltip=N_("this segment's speaker, by number"))
         for d in range(1, 10)]

    class Loaded(Message):
        def __init__(self, data: "ReviewData", flags: list | None = None, expansion=None) -> None:
            super().__init__()
            self.data = data
            self.flags, self.expansion = flags, expansion

    class SpeechFound(Message):
        def __init__(self, speech: list[tuple[int, int]]) -> None:
            super().__init__()
            self.speech = speech

    class AgreementReady(Message):
        def __init__(self, report, error: str | None) -> None:
            super().__init__()
            self.report = report
            self.error = error

    class Played(Message):
        def __init__(self, error: str | None, start_ms: int = 0, end_ms: int = 0, seconds: float = 0.0,
                     token: int = 0) -> None:
            super().__init__()
            self.error = error
            self.start_ms, self.end_ms, self.seconds, self.token = start_ms, end_ms, seconds, token

    def __init__(self, slug: str, session_id: uuid.UUID | str) -> None:
        super().__init__(slug, session_id)
        self.data: ReviewData | None = None
        self.rows: list[tuple[str, object]] = []   # ("segment", SegmentRow) | ("marker", Marker)
        self.show_verbatim = False
        self.mode = ""          # "edit" / "find" while the input line is open
        self.last_find = ""
        self.player = None
        self.word_at: UncertainWord | None = None    # the uncertain word last jumped to
        self.undo_stack: list = []     # changes done here (sessions.review.SegmentChange, Replaced), last on top
        self.transport = None          # fieldkit.recording.playback.Transport, once something plays
        self._play_token = 0           # the playback last asked for (an older one that starts late stops)
        self._paused_at_key: str | None = None    # the row the cursor was on when playback paused
        self._sought = False           # paused and moved by the jump keys since: no rewind on playing
        self.play_at: tuple[uuid.UUID, int] | None = None   # the segment and word being played
        self._playhead_timer = None
        self.flags: list = []          # sessions.review.Flag: speech without transcript, repeated phrases
        self.speech: list[tuple[int, int]] | None = None    # the session's speech (VAD), once found
        self.expansion = None          # sessions.snippets.Expansion for this session
        self._advice_asked = False     # the model advice was looked for (once a transcript shows)
        self._focus_after: str | None = None    # the row the cursor goes to after the next load
        self._piece_end = 0            # where the piece of audio being played ends (ms)
        self.last_played: tuple[int, int, float] | None = None    # what the player started last

    def compose(self) -> ComposeResult:
        yield Label(_("Review"), id="review-title", classes="pane-title")
        yield Static("", id="review-speakers")
        yield Static("", id="review-reach", classes="hidden")
        # a Norwegian project without a Norwegian model: said here too, with the download
        yield ModelAdvice(id="review-model-advice", advice_only=True)
        yield TranscriptList(id="review-list")
        yield Static("", id="review-playing")
        yield LinesInput(id="review-input", classes="hidden")
        yield Footer()

    def on_mount(self) -> None:
        self.load()

    @work(thread=True, exclusive=True, group="review-load", exit_on_error=False)
    def load(self) -> None:
        from fieldkit.sessions.review import load_review, review_flags
        from fieldkit.sessions.snippets import session_expansion

        data = load_review(self.handle, self.session_id)
        self.post_message(self.Loaded(data, review_flags(data, self.speech or []),
                                      session_expansion(self.handle, self.session_id)))

    @work(thread=True, exclusive=True, group="review-speech", exit_on_error=False)
    def find_speech(self, audio_ms: int, words: list[tuple[int, int]]) -> None:
        """The session's speech (VAD) once, for the flags of speech without transcript: only
        where the transcript as it opened has no words."""
        from textual.worker import get_current_worker

        from fieldkit.sessions.review import session_speech

        worker = get_current_worker()
        speech = session_speech(self.handle, self.session_id, audio_ms, cancel=lambda: worker.is_cancelled,
                                words=words)
        if not worker.is_cancelled:
            self.post_message(self.SpeechFound(speech))

    def on_review_screen_speech_found(self, message: SpeechFound) -> None:
        self.speech = message.speech
        self.load()

    def on_review_screen_loaded(self, message: Loaded) -> None:
        keep = self._focus_after or self._cursor_key()
        self._focus_after = None
        if message.data is not self.data:
            self.word_at = None
        if message.flags is not None:
            self.flags = message.flags
        if message.expansion is not None:
            self.expansion = message.expansion
        self.data = data = message.data
        if self.speech is None and data.has_audio and data.audio_ms:
            self.speech = []          # asked once; the flags come when it is found
            from fieldkit.transcription.gaps import word_times

            self.find_speech(data.audio_ms, word_times(data.segments))
        layer = self._layer_text(data)
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
        self._show_reach(data)
        if not self._advice_asked and data.layers is not None and data.layers.without_norwegian_model:
            self._advice_asked = True    # a transcript by a model that is not Norwegian: advice?
            self.query_one("#review-model-advice", ModelAdvice).ask()
        if data.final_waiting:   # the background pass is on it: show its transcript once it is there
            self.set_timer(5.0, self._reload_if_current)
        items: list[tuple[int, int, str, object]] = []
        for seg in data.segments:
            items.append((seg.start_ms, 1, SEGMENT, seg))
        for m in data.markers:
            items.append((m.position_ms if m.position_ms is not None else -1, 0, MARKER, m))
        for m in self._flag_markers():
            items.append((m.position_ms, 0, MARKER, m))
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
            empty = (_("No transcript yet: the transcription is queued and runs in the background.")
                     if data.final_waiting else _("No transcript yet: press F to transcribe this session."))
            options.add_option(Option(Text(empty, style="dim"), disabled=True))
        index = next((i for i, (k, o) in enumerate(self.rows) if f"{k[0]}-{o.id}" == keep), None)
        if index is None:
            index = next((i for i, (k, _o) in enumerate(self.rows) if k == "segment"), 0)
        if self.rows:
            options.highlighted = index
        if not self.mode:     # an open edit, note or search line keeps the keys
            options.focus()

    def _layer_text(self, data: "ReviewData") -> str:
        """The layer shown and which model made it (as `fieldkit transcribe` says): the
        verbatim layer is the model's, the edited one the model's with people's edits."""
        layers = data.layers
        models = ", ".join(m + (" " + _("(live)") if m in layers.live_only else "")
                           for m in layers.verbatim) if layers is not None else ""
        if self.show_verbatim:
            return _("showing verbatim by {models}").format(models=models) if models else _("showing verbatim")
        if models:
            return _("showing edited: {models}, edited by people").format(models=models)
        return _("showing edited")

    def _flag_markers(self) -> list["Marker"]:
        """The flags as rows of the list (never stored: found again on every load). Made
        once per list of flags: a layer toggle or an edit keeps the flags, and making 2,000
        rows again took most of the 0.2 s a toggle took at 2,000 segments."""
        cached = getattr(self, "_flag_rows", None)
        if cached is not None and cached[0] is self.flags:
            return cached[1]
        out = self._make_flag_markers()
        self._flag_rows = (self.flags, out)
        return out

    def _make_flag_markers(self) -> list["Marker"]:
        from fieldkit.sessions.review import Marker

        out = []
        for f in self.flags:
            if f.kind == "uncovered":
                label = _("speech without transcript {start}–{end} (space plays it)").format(
                    start=clock(f.start_ms), end=clock(f.end_ms))
            else:
                label = ngettext("said {n} time in a row: “{phrase}” (a transcriber loop?)",
                                 "said {n} times in a row: “{phrase}” (a transcriber loop?)", f.times).format(
                    n=f.times, phrase=f.phrase)
            key = uuid.uuid5(uuid.NAMESPACE_OID, f"{self.session_id}:{f.kind}:{f.start_ms}:{f.end_ms}")
            out.append(Marker(key, "flag", f.start_ms, f.end_ms, label, "!"))
        return out

    def _row_sig(self, kind: str, obj) -> tuple:
        """What a row shows, in short: a row is drawn again only when this changes."""
        if kind == "segment":
            seg: SegmentRow = obj
            word = None
            if self.word_at is not None and self.data is not None and \
                    self.data.segments[self.word_at.segment].id == seg.id:
                word = self.word_at.word
            # the layer changes only edited rows: their text and their mark
            playing = self.play_at[1] if self.play_at is not None and self.play_at[0] == seg.id else None
            return (seg.start_ms, seg.end_ms, seg.speaker, seg.verbatim if self.show_verbatim else seg.text,
                    seg.edited is not None and not self.show_verbatim, len(seg.words), word, playing)
        m: Marker = obj
        return (m.position_ms, m.author, m.kind, str(m.label))

    def _show_reach(self, data: "ReviewData") -> None:
        """A transcript that stops before the end of the audio says so (never silently)."""
        reach = self.query_one("#review-reach", Static)
        short = data.has_audio and data.segments and data.transcript_short
        reach.set_class(not short, "hidden")
        if short:
            text = _("Transcript ends at {at} of {end}: F transcribes the rest.").format(
                at=clock(data.transcript_to_ms), end=clock(data.audio_ms))
            if data.final_waiting:
                text += " " + _("(The final transcription is queued and completes it by itself.)")
            reach.update(text)

    def _reload_if_current(self) -> None:
        if self.is_current and not self.mode:
            self.load()

    def action_finish_transcript(self) -> None:
        """F: transcribe what is missing: the part after where the transcript stops (the
        range transcription), or the whole session when it has no transcript (queued for
        the background final pass, which goes on when this screen is left)."""
        data = self.data
        if data is None:
            return
        if not data.has_audio:
            self.notify(_("This session has no audio to transcribe."), severity="warning", timeout=4)
        elif not data.segments:
            self.queue_transcription()
        elif data.transcript_short:
            self.transcribe_range(data.transcript_to_ms, data.audio_ms)
        else:
            self.notify(_("The transcript reaches the end of the audio."), timeout=3)

    @work(thread=True, exclusive=True, group="review-queue", exit_on_error=False)
    def queue_transcription(self) -> None:
        from fieldkit.tui.screens.transcribe import queue_and_start

        text, severity = queue_and_start(self.app, self.handle, self.slug, self.session_id)
        self.app.call_from_thread(self.notify, text, severity=severity, timeout=8)
        self.load()

    def _row_text(self, kind: str, obj) -> Text:
        t = Text()
        if kind == "segment":
            seg: SegmentRow = obj
            playing = self.play_at[1] if self.play_at is not None and self.play_at[0] == seg.id else None
            t.append(clock(seg.start_ms) + " ", style="dim")
            t.append("▶" if playing is not None else " ", style="bold green")
            t.append(f"{seg.speaker or '?':>4} ", style="bold")
            unsure = set(seg.uncertain())
            own_words = seg.words and (seg.edited is None or self.show_verbatim)
            if own_words and (unsure or playing is not None):
                current = self.word_at
                for i, w in enumerate(seg.words):
                    style = "dim underline" if i in unsure else ""
                    if current is not None and self.data is not None and \
                            self.data.segments[current.segment].id == seg.id and current.word == i:
                        style = "reverse underline"
                    if playing == i:
                        style = "reverse bold green"
                    t.append(w["w"] if i else w["w"].lstrip(), style=style)
            else:
                t.append(seg.verbatim if self.show_verbatim else seg.text,
                         style="bold green" if playing is not None else "")
            if seg.edited is not None and not self.show_verbatim:
                t.append(" ✎", style="dim")
        else:
            m: Marker = obj
            t.append(clock(m.position_ms) + "  ", style="dim")     # (the playhead's column)
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
        inp = self.query_one("#review-input", LinesInput)
        inp.remove_class("hidden")
        # a transcript edit or a note keeps pasted lines; a search joins them
        inp.keep_lines = mode in ("edit", "note")
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
            value = finished_input(event.input, event.value, self.expansion)
            text = value.strip()
            # shown at once; the stored text follows from the write and the reload after it
            before = seg.edited
            seg.edited = None if text == seg.verbatim.strip() else text
            if self.data is not None:
                self.post_message(self.Loaded(self.data))
            self.save_edit(seg, value, before)
        elif mode == "find":
            self.last_find = event.value
            self.action_find_next()
        elif mode == "note" and event.value.strip():
            self.add_note_here(self._note_ms, finished_input(event.input, event.value, self.expansion))

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

        try:
            add_note(self.handle, self.session_id, position_ms, text, self._author())
        except Exception:
            self._note_ms = position_ms
            self.app.call_from_thread(self._not_stored, "note", text)
            raise
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

    def unsaved_work(self) -> bool:
        """Whether an edit or a note is open with text typed and not saved (the app asks
        before quitting)."""
        if self.mode not in ("edit", "note"):
            return False
        value = self.query_one("#review-input", Input).value
        if self.mode == "note":
            return bool(value.strip())
        return self._editing is not None and value.strip() != self._editing.text.strip()

    def save_unsaved_work(self) -> None:
        """Store the open edit or note now, in this thread (the app is about to exit)."""
        inp = self.query_one("#review-input", Input)
        value = finished_input(inp, inp.value, self.expansion)
        if self.mode == "edit" and self._editing is not None:
            from fieldkit.sessions.review import edit_segment_undoable

            edit_segment_undoable(self.handle, self._editing.id, value)
        elif self.mode == "note" and value.strip():
            from fieldkit.sessions.notes import add_note

            add_note(self.handle, self.session_id, self._note_ms, value, self._author())
        self._close_input()

    @work(thread=True, group="review-write", exit_on_error=False)
    def save_edit(self, seg: "SegmentRow", text: str, before: str | None = None) -> None:
        from fieldkit.sessions.review import edit_segment_undoable

        try:
            self.undo_stack.append(edit_segment_undoable(self.handle, seg.id, text))
        except Exception:
            # not stored (another program holds the database ...): the row shows what is
            # stored again and the typed text is offered back; the error is shown as well
            seg.edited = before
            self.app.call_from_thread(self._not_stored, "edit", text, seg)
            raise
        self.load()

    def _not_stored(self, mode: str, text: str, seg: "SegmentRow | None" = None) -> None:
        """An edit or a note whose write failed: the typed text back in its line (unless
        another line is open by now), to try again with Enter."""
        if self.data is not None:
            self.post_message(self.Loaded(self.data))
        if self.mode:
            return
        if mode == "edit" and seg is not None:
            self._editing = seg
            self._open_input("edit", text, _("edit the text at {at} (Enter saves, Esc cancels)").format(
                at=clock(seg.start_ms)))
        elif mode == "note":
            self._open_input("note", text, _("note at {time} (Enter saves, Esc cancels)").format(
                time=clock(self._note_ms)))

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
    def set_speaker(self, seg, speaker) -> None:
        from fieldkit.sessions.review import assign_speaker_undoable

        self.undo_stack.append(assign_speaker_undoable(self.handle, seg.id, speaker))
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

        self.app.push_screen(VoiceScreen(voice, self.data.speakers, (seg.text or "")[:200]), chosen)

    @work(thread=True, group="review-write", exit_on_error=False)
    def set_voice(self, voice: str, speaker) -> None:
        from fieldkit.sessions.review import assign_voice_undoable

        n, change = assign_voice_undoable(self.handle, self.session_id, voice, speaker)
        if change.after:
            self.undo_stack.append(change)
        self.app.call_from_thread(self.notify, ngettext("{voice} is {who}: {n} segment.",
                                                        "{voice} is {who}: {n} segments.", n).format(
            voice=voice, who=speaker.label, n=n), timeout=4)
        self.load()

    def action_replace(self) -> None:
        from fieldkit.sessions.review import preview_replace

        def chosen(pair: tuple[str, str] | None) -> None:
            if pair:
                self.replace(*pair)

        self.app.push_screen(ReplaceScreen(lambda find, rep: preview_replace(self.handle, self.session_id, find, rep)),
                             chosen)

    @work(thread=True, group="review-write", exit_on_error=False)
    def replace(self, find: str, replacement: str) -> None:
        from fieldkit.sessions.review import replace_all

        done = replace_all(self.handle, self.session_id, find, replacement)
        if done.changed:
            self.undo_stack.append(done)
        self.app.call_from_thread(self.notify, ngettext("Replaced {find!r} in {n} segment (Ctrl+Z undoes it).",
                                                        "Replaced {find!r} in {n} segments (Ctrl+Z undoes it).",
                                                        done.changed).format(find=find, n=done.changed), timeout=6)
        self.load()

    def action_undo(self) -> None:
        if self.mode:
            self.notify(_("Finish the edit first (Enter saves, Esc cancels); then Ctrl+Z undoes."), timeout=3)
            return
        if not self.undo_stack:
            self.notify(_("Nothing to undo."), timeout=2)
            return
        self.undo(self.undo_stack.pop())

    @work(thread=True, group="review-write", exit_on_error=False)
    def undo(self, done) -> None:
        from fieldkit.sessions.review import ChangedSince, Replaced, undo_change

        try:
            n = undo_change(self.handle, done)
        except ChangedSince as exc:
            self.app.call_from_thread(self.notify, exc.message, severity="warning", timeout=6)
            return
        if isinstance(done, Replaced):
            kept = done.changed - n
            text = ngettext("Replace undone: {n} segment restored.", "Replace undone: {n} segments restored.",
                            n).format(n=n)
            if kept:
                text += " " + ngettext("{n} segment edited since keeps its later edit.",
                                       "{n} segments edited since keep their later edit.", kept).format(n=kept)
        else:
            at = min((snap["start_ms"] for snap in done.before), default=0)
            text = _(UNDONE[done.kind]).format(at=clock(at))
            if done.before:
                self._focus_after = f"s-{done.before[0]['id']}"
        self.app.call_from_thread(self.notify, text, timeout=6)
        self.load()

    # ------------------------------------------------------------------ merge, split

    def action_merge(self) -> None:
        if self.mode:
            return
        seg = self._segment_at_cursor()
        if seg is None:
            self.notify(_("No segment here."), severity="warning", timeout=3)
            return
        self.merge(seg)

    @work(thread=True, group="review-write", exit_on_error=False)
    def merge(self, seg) -> None:
        from fieldkit.errors import FieldkitError
        from fieldkit.sessions.review import merge_with_next

        try:
            change = merge_with_next(self.handle, seg.id)
        except FieldkitError as exc:
            self.app.call_from_thread(self.notify, exc.message, severity="warning", timeout=4)
            return
        self.undo_stack.append(change)
        self._focus_after = f"s-{change.focus}"
        self.app.call_from_thread(self.notify, _("Merged with the next segment (Ctrl+Z undoes it)."), timeout=3)
        self.load()

    def action_split(self) -> None:
        """Ctrl+B: while editing, split at the text cursor and ask who speaks from there; in
        the list, open the edit so the cursor can be put where the split goes."""
        if self.mode != "edit":
            if self.mode:
                return
            self.action_edit()
            if self.mode == "edit":
                self.query_one("#review-input", LinesInput).placeholder = ""
                self.notify(_("Put the cursor where the next speaker starts, then Ctrl+B splits there."),
                            timeout=5)
            return
        if self.data is None:
            return
        inp = self.query_one("#review-input", LinesInput)
        seg, text, at = self._editing, inp.value, inp.cursor_position

        def chosen(who) -> None:
            if who is None:
                inp.focus()
                return
            self._close_input()
            self.split(seg, at, text, None if who == SplitSpeakerScreen.SAME else who)

        self.app.push_screen(SplitSpeakerScreen(seg.speaker, self.data.speakers), chosen)

    @work(thread=True, group="review-write", exit_on_error=False)
    def split(self, seg, at: int, text: str, speaker) -> None:
        from fieldkit.errors import FieldkitError
        from fieldkit.sessions.review import split_segment

        try:
            change = split_segment(self.handle, seg.id, at, speaker, text=text)
        except FieldkitError as exc:
            self.app.call_from_thread(self.notify, exc.message, severity="warning", timeout=4)
            return
        self.undo_stack.append(change)
        self._focus_after = f"s-{change.focus}"
        self.app.call_from_thread(self.notify, _("Split at {at} (Ctrl+Z undoes it).").format(
            at=clock(change.after[1]["start_ms"])), timeout=3)
        self.load()

    # ------------------------------------------------------------------ snippets

    def action_snippets(self) -> None:
        if self.mode:
            return
        self.app.push_screen(SnippetsScreen(self.handle), lambda _done: self.load())

    @on(Input.Changed, "#review-input")
    def _typed(self, event: Input.Changed) -> None:
        if self.mode in ("edit", "note"):    # a search is never expanded
            expand_in_input(event.input, self.expansion)

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
    def quote(self, seg, event_id: uuid.UUID | None = None) -> None:
        from fieldkit.sessions.review import mark_quote_undoable, quote_reference

        author = self._author()
        self.undo_stack.append(mark_quote_undoable(self.handle, self.session_id, seg.start_ms, seg.end_ms, seg.text,
                                                   author, event_id))
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
        if kind == "flag":    # round again from the top
            for j in range(0, i + 1):
                k, obj = self.rows[j]
                if k == "marker" and obj.kind == kind:
                    self._goto(j)
                    return
        self.notify({("note", True): _("No next note."), ("note", False): _("No earlier note."),
                     ("tag", True): _("No next tag."), ("tag", False): _("No earlier tag."),
                     ("flag", True): _("Nothing flagged: every stretch of speech has transcript words.")}.get(
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

    # ------------------------------------------------------------------ the guide listens

    def action_suggestions(self) -> None:
        self.make_suggestions()

    @work(thread=True, exclusive=True, group="review-suggest", exit_on_error=False)
    def make_suggestions(self) -> None:
        from fieldkit.errors import FieldkitError
        from fieldkit.sessions.suggestions import suggest_for_session

        try:
            items = suggest_for_session(self.handle.db, self.session_id)
        except FieldkitError as e:
            self.app.call_from_thread(self.notify, str(e), severity="warning", timeout=4)
            return
        self.app.call_from_thread(self._show_suggestions, items)

    def _show_suggestions(self, items: list) -> None:
        if not items:
            self.notify(_("No suggestions: no interviewer turn matched a guide question."), timeout=4)
            return

        def chosen(ms: int | None) -> None:
            self.load()   # confirmed ones are coverage now
            if ms is None:
                return
            for j, (k, obj) in enumerate(self.rows):
                if k == "segment" and obj.end_ms > ms:
                    self._goto(j)
                    return

        self.app.push_screen(SuggestionsScreen(self.handle, self.session_id, self._author(), items), chosen)

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

    # ------------------------------------------------------------------ playing (the pedal)

    def play_span(self) -> tuple[int, int] | None:
        """What space plays: the uncertain word just jumped to, from a second before it; a
        flagged stretch; or else the segment under the cursor."""
        i = self._cursor()
        if i is not None and self.rows[i][0] == MARKER and self.rows[i][1].kind == "flag":
            flag = self.rows[i][1]
            return flag.position_ms, flag.end_ms
        seg = self._segment_at_cursor()
        if seg is None:
            return None
        word = self.word_at
        if word is not None and self.data is not None and self.data.segments[word.segment].id == seg.id:
            return word.play_span()
        return seg.start_ms, seg.end_ms

    def _transport(self):
        from fieldkit.errors import FieldkitError
        from fieldkit.recording.playback import REWIND_MS, Transport, load_rewind_ms

        if self.transport is None:
            try:
                rewind = load_rewind_ms()
            except FieldkitError as exc:
                self.notify(exc.message, severity="warning", timeout=6)
                rewind = REWIND_MS
            self.transport = Transport(self.data.audio_ms if self.data else 0, rewind)
        if self.data is not None:
            self.transport.end_ms = self.data.audio_ms
        return self.transport

    def _can_play(self) -> bool:
        if self.data is not None and not self.data.has_audio:
            self.notify(_("This session has no audio to play."), severity="warning", timeout=4)
            return False
        return self.data is not None

    def action_play(self) -> None:
        """Play/pause like a transcription pedal: pausing remembers where; playing again on
        the same row goes on from a little before it (the rewind), on another row from that
        row (an uncertain word or a flag: just that stretch)."""
        import time

        if not self._can_play():
            return
        span = self.play_span()
        if span is None:
            self.notify(_("No segment here to play."), severity="warning", timeout=3)
            return
        tr = self._transport()
        now = time.monotonic()
        if tr.playing:
            tr.pause(now)
            self._paused_at_key = self._cursor_key()
            self._sought = False
            self._play_token += 1
            if self.player is not None:
                self.player.stop()
            self._show_playhead()
            return
        if self._paused_at_key is not None and self._paused_at_key == self._cursor_key():
            if self._sought:          # moved by the jump keys while paused: from exactly there
                tr.start(tr.position_ms, now)
            else:
                tr.resume(now)
        else:
            i = self._cursor()
            on_flag = i is not None and self.rows[i][0] == MARKER and self.rows[i][1].kind == "flag"
            just_span = on_flag or (self.word_at is not None and span == self.word_at.play_span())
            tr.start(span[0], now, span[1] if just_span else None)
        self._paused_at_key = None
        self._sought = False
        self._play_on()

    def _play_on(self) -> None:
        """Play what the transport says: a piece from its position (the next piece follows)."""
        from fieldkit.recording.playback import PIECE_MS

        tr = self.transport
        stop = min(tr.until_ms if tr.until_ms is not None else tr.end_ms, tr.position_ms + PIECE_MS)
        self._piece_end = stop
        self._play_token += 1
        self.play(tr.position_ms, stop, tr.rate, self._play_token)
        if self._playhead_timer is None:
            self._playhead_timer = self.set_interval(0.2, self._show_playhead)
        self._show_playhead()

    def action_seek(self, direction: int) -> None:
        import time

        from fieldkit.recording.playback import JUMP_MS

        if not self._can_play():
            return
        tr = self._transport()
        if not tr.playing and self._paused_at_key is None:   # nothing played yet: from the cursor
            span = self.play_span()
            tr.position_ms = span[0] if span else 0
        tr.jump(direction * JUMP_MS, time.monotonic())
        if tr.playing:
            self._play_on()
        else:
            self._show_playhead()
            self._follow(tr.position_ms)
            self._paused_at_key = self._cursor_key()
            self._sought = True

    def action_rate(self, step: int) -> None:
        import time

        if not self._can_play():
            return
        tr = self._transport()
        rate = tr.change_rate(step, time.monotonic())
        if tr.playing:
            self._play_on()
        self.notify(_("Playback speed {rate}× (the pitch stays).").format(rate=f"{rate:g}"), timeout=2)
        self._show_playhead()

    def action_rewind_setting(self) -> None:
        from fieldkit.errors import FieldkitError
        from fieldkit.recording.playback import REWIND_CHOICES, save_rewind_ms

        tr = self._transport()
        now = REWIND_CHOICES.index(tr.rewind_ms) if tr.rewind_ms in REWIND_CHOICES else 0
        tr.rewind_ms = REWIND_CHOICES[(now + 1) % len(REWIND_CHOICES)]
        try:
            save_rewind_ms(tr.rewind_ms)
        except (OSError, FieldkitError) as exc:
            self.notify(_("Cannot keep the setting: {error}").format(error=exc), severity="warning", timeout=5)
        self.notify(_("Playing after a pause goes back {n} s.").format(n=tr.rewind_ms // 1000), timeout=3)

    @work(thread=True, exclusive=True, group="review-play", exit_on_error=False)
    def play(self, start_ms: int, end_ms: int, rate: float = 1.0, token: int = 0) -> None:
        from fieldkit.errors import FieldkitError
        from fieldkit.recording.playback import Player

        if self.player is None:
            self.player = Player()
        try:
            seconds = self.player.play(self.handle, self.session_id, start_ms, end_ms, rate)
            self.post_message(self.Played(None, start_ms, end_ms, seconds, token))
        except FieldkitError as exc:
            self.post_message(self.Played(exc.message, token=token))
        except Exception as exc:  # noqa: BLE001 - no output device, no PortAudio: say so
            self.post_message(self.Played(_("Cannot play: {error}").format(error=exc), token=token))

    def on_review_screen_played(self, message: Played) -> None:
        import time

        tr = self.transport
        if message.token != self._play_token:
            return                    # a newer playback replaced it (sounddevice plays one at a time)
        if tr is None or not tr.playing:
            if self.player is not None and not message.error:
                self.player.stop()    # paused while it was being read
            return
        if message.error:
            tr.pause(time.monotonic())
            self.notify(message.error, severity="error", timeout=6)
            self._show_playhead()
            return
        # the sound starts now: the playhead counts from here
        tr.start(message.start_ms, time.monotonic(), tr.until_ms)
        self.last_played = (message.start_ms, message.end_ms, message.seconds)

    def playhead_ms(self) -> int | None:
        """Where the playback is now on the session clock (None: nothing plays)."""
        import time

        tr = self.transport
        return tr.at(time.monotonic()) if tr is not None and tr.playing else None

    def _segment_index_at(self, ms: int) -> int | None:
        """The segment being spoken at ``ms`` (the last one begun by then)."""
        if self.data is None:
            return None
        found = None
        for i, g in enumerate(self.data.segments):
            if g.start_ms > ms:
                break
            found = i
        return found

    def _follow(self, ms: int) -> None:
        """The playhead's segment (and word) highlighted, and the cursor on it unless an
        edit is open."""
        if self.data is None:
            return
        i = self._segment_index_at(ms)
        if i is None:
            new = None
        else:
            g = self.data.segments[i]
            word = next((k for k, w in enumerate(g.words) if int(w["s"]) <= ms < int(w["e"]) + 150), None)
            if word is None:
                word = next((k - 1 for k, w in enumerate(g.words) if int(w["s"]) > ms), len(g.words) - 1) \
                    if g.words and ms < g.end_ms else None
            new = (g.id, word if word is not None and word >= 0 else None)
        if new == self.play_at:
            return
        self.play_at = new
        options = self.query_one("#review-list", TranscriptList)
        if not self.rows or not options.option_count:
            return
        # the two rows whose playhead mark changed are drawn again, nothing else (2,000 rows)
        options.sync([f"{kind[0]}-{obj.id}" for kind, obj in self.rows],
                     [self._row_sig(kind, obj) for kind, obj in self.rows],
                     lambda i: self._row_text(*self.rows[i]))
        follow = not self.mode and self.transport is not None and self.transport.until_ms is None
        if new is not None and follow:
            j = next((j for j, (k, obj) in enumerate(self.rows) if k == SEGMENT and obj.id == new[0]), None)
            if j is not None and options.highlighted != j:
                self._goto(j)

    def _show_playhead(self) -> None:
        import time

        line = self.query_one("#review-playing", Static)
        tr = self.transport
        if tr is None:
            line.update("")
            return
        now = time.monotonic()
        if tr.playing and not tr.finished(now) and tr.at(now) >= self._piece_end:
            tr.start(self._piece_end, now, tr.until_ms)
            self._play_on()            # the next piece of a long recording
            return
        if tr.finished(now):
            tr.pause(now)
            self._paused_at_key = self._cursor_key()
        at = tr.at(now)
        self._follow(at)
        seg_i = self._segment_index_at(at)
        who = ""
        if seg_i is not None and self.data.segments[seg_i].speaker:
            who = f" · {self.data.segments[seg_i].speaker}"
        speed = f" · {tr.rate:g}×" if tr.rate != 1.0 else ""
        if tr.playing:
            line.update(Text(_("▶ Playing {at}{who}{speed} (space pauses; ←/→ 5 s; -/+ speed)").format(
                at=clock(at), who=who, speed=speed), style="bold"))
        else:
            line.update(Text(_("⏸ Paused at {at}{who}{speed}: space goes on from {back}").format(
                at=clock(at), who=who, speed=speed, back=clock(max(0, at - tr.rewind_ms))), style="dim"))
            if self._playhead_timer is not None:
                self._playhead_timer.stop()
                self._playhead_timer = None
