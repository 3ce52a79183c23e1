"""The interview screen, for the lead's terminal (which records) and the observer's
(``fieldkit observe``, which attaches to the recording of another terminal).

The screen is a front end of :class:`fieldkit.sessions.runtime.SessionRuntime`, the
same object ``fieldkit record`` drives: the runtime owns the recorder, the live
transcription, the event writer and the session clock; the screen turns keys into its
calls and its news into notifications.

One keypress, no dialog: tag keys from the project's tag scheme (real bindings, id
``tag.<code>``, remappable in the keymap), coverage, probes, a plain mark, and a note whose
time is the moment its key was pressed (the keys are the BINDINGS below). Every keypress
takes its audio position at once (from the Key event's own timestamp) and is stored by the runtime's event writer thread; the screen reads the
shared database every half second, so each terminal shows the other's events within a
second.
"""

from __future__ import annotations

import time
import uuid
from typing import TYPE_CHECKING

from textual import events, on, work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical
from textual.message import Message
from textual.widgets import Footer, Label

from fieldkit.i18n import N_, _, ngettext
from fieldkit.text import clean_text
from fieldkit.tui.widgets.inputs import Input, LinesInput
from fieldkit.tui.commands import SHELL_KEYS
from fieldkit.tui.screens.base import ProjectScreen
from fieldkit.tui.widgets.snippets import expand_in_input, finished_input
from fieldkit.tui.widgets.live import (
    CoverageList, EventLog, GuidePanel, RecordingBar, Roster, TagLegend, TailColumn, TranscriptTail, clock,
)

if TYPE_CHECKING:
    from fieldkit.sessions.live import LiveView, TagKey
    from fieldkit.sessions.runtime import Opened, SessionRuntime
    from fieldkit.sessions.writer import Stored

POLL_S = 0.5
#: how long after a tag or note key a seat digit says who it is about (or until another key)
WHO_WINDOW_S = 3.0


class InterviewScreen(ProjectScreen[None]):
    AUTO_FOCUS = ""  # nothing focused: single keys first; n goes to the note line
    BINDINGS = [
        *SHELL_KEYS,   # Help and Quit first in the footer: an 80-column terminal cuts the rest
        Binding("up", "question(-1)", N_("Prev Q"), show=False, id="interview.prev_question", tooltip=N_("the previous question of the guide")),
        Binding("down", "question(1)", N_("Next Q"), show=False, id="interview.next_question", tooltip=N_("the next question of the guide")),
        Binding("left", "theme(-1)", N_("Prev theme"), show=False, id="interview.prev_theme", tooltip=N_("the previous theme of the guide")),
        Binding("right", "theme(1)", N_("Next theme"), show=False, id="interview.next_theme", tooltip=N_("the next theme of the guide")),
        Binding("c", "cover('covered')", N_("Covered"), id="interview.covered", tooltip=N_("this question is covered (moves on)")),
        Binding("x", "cover('partly')", N_("Partly"), id="interview.partly", tooltip=N_("partly covered")),
        Binding("s", "cover('skipped')", N_("Skipped"), id="interview.skipped", tooltip=N_("skipped (moves on)")),
        Binding("w", "returned", N_("Went back"), show=False, id="interview.went_back", tooltip=N_("the informant went back to this theme")),
        Binding("n", "note", N_("Note"), id="interview.note", tooltip=N_("a note; its time is when the key was pressed (Enter saves)")),
        Binding("space", "marker", N_("Mark"), show=False, id="interview.mark", tooltip=N_("a plain mark on the timeline")),
        Binding("q", "stop", N_("Stop"), id="interview.stop", tooltip=N_("stop the interview (lists untouched themes and asks first)")),
        Binding("p", "pause", N_("Pause"), id="interview.pause", tooltip=N_("pause or resume the recording")),
        Binding("ctrl+f", "follow", N_("Follow lead"), id="interview.follow_lead", tooltip=N_("follow the lead's place in the guide, or keep your own")),
        Binding("ctrl+t", "toggle_tail", N_("Transcript"), show=False, id="interview.transcript", tooltip=N_("show or hide the live transcript")),
        Binding("escape", "leave_note", N_("Keys"), show=False, id="interview.leave_note", tooltip=N_("leave the note line; the note keeps its text and time")),
    ] + [Binding(str(d), f"digit({d})", N_("Probe"), show=d == 1, key_display="1-9" if d == 1 else None,
                 id=f"interview.probe_{d}",
                 tooltip=N_("the lead's terminal: a probe of this question, by its number in the guide; "
                            "right after a tag or note (3 s) it says who the tag is about instead"))
         for d in range(1, 10)]

    class Loaded(Message):
        def __init__(self, opened: "Opened", expansion=None) -> None:
            super().__init__()
            self.opened = opened
            self.expansion = expansion      # sessions.snippets.Expansion for the note line

    class ViewRead(Message):
        def __init__(self, view: "LiveView") -> None:
            super().__init__()
            self.view = view

    class Written(Message):
        def __init__(self, stored: "Stored") -> None:
            super().__init__()
            self.stored = stored

    class RecorderNews(Message):
        def __init__(self, kind: str, text: str) -> None:
            super().__init__()
            self.kind, self.text = kind, text

    def __init__(self, slug: str, session_id: uuid.UUID | str, *, observer: bool = False,
                 record: bool | None = None, device: str | int | None = None, live: bool = False,
                 author_id: uuid.UUID | None = None) -> None:
        super().__init__(slug, session_id)
        self.observer = observer
        self.record = (not observer) if record is None else record
        self.device, self.live = device, live
        self._author_id = author_id
        self.runtime: SessionRuntime | None = None
        self.guide = None
        self.tags: dict[str, TagKey] = {}          # code -> tag
        self.people: dict = {}
        self.view: LiveView | None = None
        self.items: list[tuple] = []               # (theme, question) in guide order
        self.index = 0
        self._timebox_done: set[int] = set()       # the time-box notices already given (50, 75)
        self.follow_lead = observer                # the observer's guide follows the lead's
        self.note_pos: int | None = None
        self.note_pressed: float | None = None
        self._key_time: float | None = None
        self.roster: list = []                     # seats (focus groups): digit after a tag -> who
        self._who_until: float | None = None       # a seat digit now says who the last tag/note is about
        self._question = None                      # the stop (or leave) question, while it shows
        self.expansion = None                      # the team's snippets, in the note line

    # what tests and benchmarks look at, from the runtime
    @property
    def recorder(self):
        return self.runtime.recorder if self.runtime is not None else None

    @property
    def transcriber(self):
        return self.runtime.transcriber if self.runtime is not None else None

    @property
    def latencies(self) -> list[float]:
        return self.runtime.latencies if self.runtime is not None else []

    @property
    def author_id(self) -> uuid.UUID | None:
        return self.runtime.author_id if self.runtime is not None else self._author_id

    @property
    def stopping(self) -> bool:
        return self.runtime is not None and self.runtime.stopping

    # ------------------------------------------------------------------ layout

    def compose(self) -> ComposeResult:
        yield RecordingBar(id="rec-bar")
        with Horizontal(id="iv-main"):
            with TailColumn(id="iv-left"):
                yield GuidePanel(id="guide-panel")
                yield TranscriptTail(id="tail")
            with Vertical(id="iv-right"):
                yield Label(_("Coverage"), classes="pane-title")
                yield CoverageList(id="coverage")
                yield Label(_("Notes and tags"), classes="pane-title")
                yield EventLog(id="event-log")
                yield Label(_("Seats"), classes="pane-title hidden", id="roster-title")
                yield Roster(id="roster", classes="hidden")
        yield TagLegend(id="tag-legend")
        # one line on the screen, Enter saves (one keypress for the observer); a pasted
        # passage keeps its lines (shown as ↵)
        yield LinesInput(placeholder=_("n: write a note (Enter saves, Esc leaves it)"), id="note", select_on_focus=False)
        yield Footer(compact=True)  # compact: q Stop (Leave) stays in view at 80 columns

    def on_mount(self) -> None:
        from fieldkit.sessions.runtime import SessionRuntime

        self.query_one("#note", Input).can_focus = True
        if self.observer:  # in the observer's seat q leaves the seat (after asking), it stops nothing
            from dataclasses import replace

            from fieldkit.tui import compat

            def observer_key(b: Binding) -> Binding:
                if b.id == "interview.stop":
                    return replace(b, description=_("Leave"), tooltip=_(
                        "leave the observer's seat (it asks first; the recording goes on)"))
                if (b.id or "").startswith("interview.probe_"):  # the observer never ticks the lead's probes
                    return replace(b, description=_("Who"), tooltip=_(
                        "right after a tag or note: the seat of the participant it is about"))
                return b

            compat.replace_bindings(self, observer_key)
        self.runtime = SessionRuntime(
            self.handle, self.session_id, record=self.record, observer=self.observer, device=self.device,
            live=self.live, author_id=self._author_id,
            on_stored=lambda stored: self.post_message(self.Written(stored)),
            on_news=lambda news: self.post_message(self.RecorderNews(news.kind, news.text)))
        self._show_bar()
        self.load()

    @work(thread=True, group="iv-load", exit_on_error=False)
    def load(self) -> None:
        from fieldkit.sessions.snippets import session_expansion

        opened = self.runtime.open()
        try:
            expansion = session_expansion(self.handle, self.session_id)
        except Exception:  # noqa: BLE001 - snippets are a convenience: they never keep the interview from opening
            expansion = None
        self.post_message(self.Loaded(opened, expansion))

    def on_interview_screen_loaded(self, message: Loaded) -> None:
        opened = message.opened
        self.expansion = message.expansion
        self.guide = opened.guide
        self.session = opened.session
        self.people = opened.people
        self.roster = [x for x in opened.roster if x.seat]
        if len(self.roster) > 1:
            self.query_one("#roster-title").remove_class("hidden")
            roster = self.query_one(Roster)
            roster.remove_class("hidden")
            roster.show(self.roster)
        self._bind_tags(opened.tags)
        self.items = list(opened.guide.iter_questions()) if opened.guide else []
        self.index = self._first_open_question(opened.view)
        self._apply(opened.view)
        if self.record:
            self.start_recording()
        self.set_interval(POLL_S, self.poll)
        self.set_interval(0.25, self._show_bar)

    def _bind_tags(self, tags: "list[TagKey]") -> None:
        """Each tag key becomes a binding (id ``tag.<code>``): in the key panel, the help
        screen and the command palette, and remappable in the keymap."""
        self.tags = {t.code: t for t in tags}
        from fieldkit.tui import compat

        extra = [Binding(t.key, f"tag('{t.code}')", t.label, show=False, id=f"tag.{t.code}",
                         tooltip=_("tag this moment: {label}").format(label=t.label)) for t in tags]
        compat.add_bindings(self, extra)
        # the help screen and the command palette list BINDINGS: this screen's include its tags
        self.BINDINGS = [*type(self).BINDINGS, *extra]
        self.refresh_bindings()

    def tag_key(self, tag: "TagKey") -> str:
        """The key a tag is on now (the keymap may have moved it)."""
        from fieldkit.tui import compat

        keys = compat.app_keymap(self.app).get(f"tag.{tag.code}")
        return keys.split(",")[0] if keys else tag.key

    def _first_open_question(self, view: "LiveView") -> int:
        for i, (_t, q) in enumerate(self.items):
            if view.coverage.get(q.id, "not_yet") == "not_yet":
                return i
        return 0

    # ------------------------------------------------------------------ recording

    @work(thread=True, group="iv-recorder", exit_on_error=False)
    def start_recording(self) -> None:
        from fieldkit.errors import FieldkitError

        try:
            self.runtime.start_recording()
        except FieldkitError as exc:
            self.post_message(self.RecorderNews("failed", exc.message + (f" {exc.hint}" if exc.hint else "")))

    def on_interview_screen_recorder_news(self, message: RecorderNews) -> None:
        if message.kind == "started":
            self.notify(_("Recording started."), timeout=2)
        elif message.kind == "failed":
            self.record = False
            self.runtime.record = False
            self.runtime.warning = _("not recording")
            self.notify(message.text, title=_("Recording did not start"), severity="error", timeout=15)
        elif message.kind == "stopped":
            pass  # the debrief (or the notice of a full disk) says it
        else:
            severity = ("error" if message.kind in ("device_lost", "disk_full", "stop_failed")
                        else "information" if message.kind in ("device_back", "sound_back", "clipping_over")
                        else "warning")
            self.notify(message.text, severity=severity, timeout=10)
        self.refresh_bindings()
        self._show_bar()

    def _show_bar(self) -> None:
        bars = self.query(RecordingBar)
        if not bars:
            return   # a timer's last tick while the screen is being taken down
        rt = self.runtime
        role = _("observer") if self.observer else (_("lead") if self.record else _("notes"))
        initials = self.people.get(self.author_id, "") if self.people else ""
        if initials:
            role += f" · {initials.split(' ')[0]}"
        if self.observer and self.follow_lead:
            role += " · " + _("following the lead")
        title = self.view.title if self.view else ""
        bars.first().show(
            state=rt.state if rt is not None else "starting", position_ms=rt.position_ms() if rt else None,
            level_db=rt.level_db if rt else None, disk_s=rt.disk_left_s() if rt else None, title=title,
            role=role, warning=rt.warning if rt else "")

    def position_ms(self, at_monotonic: float | None = None) -> int | None:
        """The session clock at a keypress (monotonic time of the Key event)."""
        return self.runtime.position_at_key(at_monotonic) if self.runtime is not None else None

    # ------------------------------------------------------------------ reading

    def poll(self) -> None:
        self.read_view()

    @work(thread=True, exclusive=True, group="iv-poll", exit_on_error=False)
    def read_view(self, force: bool = False) -> None:
        view = self.runtime.read_view(force)
        if view is not None:
            self.post_message(self.ViewRead(view))

    def on_interview_screen_view_read(self, message: ViewRead) -> None:
        previous = self.view
        self._apply(message.view)
        if (self.observer and previous is not None and previous.recording in ("recording", "paused")
                and message.view.recording == "stopped" and not self.stopping):
            self._keep_note()
            reason = _("The lead stopped the recording in the other terminal at {at}: the interview is over, "
                       "so this terminal moved on to the debrief.").format(at=clock(message.view.position_ms()))
            self.notify(_("The recording was stopped in the other terminal."), timeout=10)
            self._to_debrief(reason)

    def _apply(self, view: "LiveView") -> None:
        from fieldkit.sessions.live import lead_question

        self.view = view
        if self.follow_lead and self.observer:
            i = lead_question(view, self.items)
            if i is not None:
                self.index = i
        theme, question = self._current()
        suggested = set(view.suggestions)
        self.query_one(GuidePanel).show(self.guide, theme, question, view.coverage, view.probes_used, suggested)
        self.query_one(CoverageList).show(self.guide, view.coverage, question.id if question else None, suggested)
        self._timebox(view)
        self.query_one(EventLog).show(view.events, self.tags, self.guide)
        self.query_one(TagLegend).show([(self.tag_key(t), t) for t in self.tags.values()], set(view.open_states))
        live = self.live or view.live_transcript
        self.query_one(TranscriptTail).show(view.transcript_tail, live,
                                            whose=_("the lead's") if self.observer and live else "")
        self._show_bar()

    def _current(self):
        if not self.items:
            return None, None
        return self.items[self.index]

    # ------------------------------------------------------------------ keys

    def on_key(self, event: events.Key) -> None:
        """The keypress time, for the action the key runs. Any key but a digit ends the
        moment in which a seat digit says who the last tag or note was about."""
        self._key_time = event.time
        if not (event.character or "").isdigit():
            self._who_until = None

    def _open_who(self, pressed: float) -> None:
        """After a tag or note, in every session and both terminals, a digit within
        WHO_WINDOW_S (before any other key) says who it is about and never ticks a probe."""
        self._who_until = pressed + WHO_WINDOW_S

    def _pressed(self) -> float:
        """When the key behind the running action was pressed (monotonic)."""
        t = self._key_time
        self._key_time = None
        return t if t is not None else time.monotonic()

    def _stored_or_say(self, submitted: bool) -> None:
        if not submitted and self.stopping:
            self.notify(_("The interview is ending: this key was not stored."), severity="warning", timeout=3)

    def check_action(self, action: str, parameters: tuple) -> bool | None:
        """Keys that do nothing here are not offered: no Pause in the observer's seat (or
        without a recording), Follow lead only there."""
        if action == "pause":
            return bool(self.runtime is not None and self.runtime.can_pause)
        if action == "follow":
            return self.observer
        return True

    def action_tag(self, code: str) -> None:
        pressed = self._pressed()
        tag = self.tags.get(code)
        if tag is not None:
            submitted = self.runtime.tag(tag, pressed)
            self._stored_or_say(submitted)
            if submitted:
                self._open_who(pressed)

    def press_tag(self, tag: "TagKey", pressed: float | None = None) -> None:
        self._stored_or_say(self.runtime.tag(tag, pressed if pressed is not None else time.monotonic()))

    def action_cover(self, status: str) -> None:
        pressed = self._pressed()
        _theme, question = self._current()
        if question is None:
            self.notify(_("This session has no guide."), severity="warning")
            return
        open_suggestion = self.view.suggestions.get(question.id) if self.view is not None else None
        if open_suggestion is not None and status in ("covered", "partly"):
            # the guide suggested this question: c confirms it (covered), x dismisses it
            state = "confirmed" if status == "covered" else "dismissed"
            submitted = self.runtime.answer_suggestion(open_suggestion, state, pressed, question.text)
            self._stored_or_say(submitted)
            if submitted and state == "confirmed" and self.index < len(self.items) - 1:
                self.index += 1
                self._refresh_guide()
            return
        submitted = self.runtime.cover(question.id, status, pressed, question.text)
        self._stored_or_say(submitted)
        if submitted and status in ("covered", "skipped") and self.index < len(self.items) - 1:
            self.index += 1  # on to the next question
            self._refresh_guide()

    def action_digit(self, number: int) -> None:
        """One meaning per terminal: in the lead's a digit ticks a probe, in the observer's it
        says who; in both, a digit right after a tag or note says who and never ticks a probe."""
        pressed = self._pressed()
        if self._who_until is not None and pressed <= self._who_until:
            # right after a tag or note: the digit is a seat (stored after the event itself)
            self._who_until = None
            self._seat(number, pressed)
            return
        self._who_until = None
        if self.observer:
            self.notify(_("A digit says who the last tag or note is about: press it right after "
                          "the tag (probes are ticked in the lead's terminal)."), severity="warning", timeout=4)
            return
        self.action_probe(number, pressed)

    def _seat(self, number: int, pressed: float) -> None:
        who = next((x for x in self.roster if x.seat == number), None)
        if len(self.roster) <= 1 and who is None:
            self.notify(_("This session has no seats: the tag is about the informant."), timeout=3)
        elif who is None:
            self.notify(_("Nobody sits in seat {n}.").format(n=number), severity="warning", timeout=2)
        elif self.runtime.about(number, pressed):
            self.notify(_("About {code} (seat {n}).").format(code=who.code, n=number), timeout=2)

    def action_probe(self, number: int, pressed: float | None = None) -> None:
        if pressed is None:
            pressed = self._pressed()
        _theme, question = self._current()
        if question is None or number > len(question.probes):
            self.notify(_("This question has no probe {n}.").format(n=number), severity="warning", timeout=2)
            return
        probe = question.probes[number - 1]
        open_suggestion = self.view.suggestions.get(probe.id) if self.view is not None else None
        if open_suggestion is not None:   # the guide suggested this probe: the digit confirms it
            self._stored_or_say(self.runtime.answer_suggestion(open_suggestion, "confirmed", pressed, probe.text))
            return
        self._stored_or_say(self.runtime.probe(probe.id, number, pressed))

    def action_returned(self) -> None:
        pressed = self._pressed()
        theme, _q = self._current()
        if theme is not None:
            self._stored_or_say(self.runtime.returned(theme.id, pressed))

    def action_marker(self) -> None:
        self._stored_or_say(self.runtime.marker(self._pressed()))

    def _navigated(self) -> None:
        if self.observer and self.follow_lead:
            self.follow_lead = False
            self.notify(_("Your own place in the guide now; Ctrl+F follows the lead again."), timeout=3)

    def action_question(self, step: int) -> None:
        if self.items:
            self._navigated()
            self.index = max(0, min(len(self.items) - 1, self.index + step))
            self._refresh_guide()

    def action_theme(self, step: int) -> None:
        if not self.items:
            return
        self._navigated()
        themes = [t.id for t, _q in self.items]
        order = list(dict.fromkeys(themes))
        target = order[max(0, min(len(order) - 1, order.index(themes[self.index]) + step))]
        self.index = themes.index(target)
        self._refresh_guide()

    def action_follow(self) -> None:
        self.follow_lead = not self.follow_lead
        self.notify(_("Following the lead's place in the guide.") if self.follow_lead
                    else _("Your own place in the guide."), timeout=2)
        self._refresh_guide()

    def _timebox(self, view: "LiveView") -> None:
        """At 50 % and 75 % of the guide's planned time, a quiet notice names the themes
        not yet touched (once each)."""
        from fieldkit.sessions.live import timebox_due

        if self.guide is None or view.recording not in ("recording", "paused"):
            return
        due = timebox_due(self.guide, view.coverage, view.probes_used, view.position_ms(),
                          self._timebox_done, set(view.suggestions))
        if due is None:
            return
        share, themes = due
        self._timebox_done.update(x for x in (50, 75) if x <= share)
        if themes:
            self.notify(_("{share} of the planned time has gone; not yet touched: {themes}").format(
                share=f"{share} %", themes="; ".join(themes)), timeout=8)

    def _refresh_guide(self) -> None:
        if self.view is not None:
            self._apply(self.view)

    # ------------------------------------------------------------------ notes

    def action_note(self) -> None:
        if self.stopping:
            self._stored_or_say(False)
            return
        pressed = self._pressed()
        if self.note_pos is None:
            self.note_pos, self.note_pressed = self.position_ms(pressed), pressed
        # at once (Widget.focus() waits its turn): letters typed right after n on a busy
        # laptop are already queued behind it, and must reach the note, not the tag keys
        self.set_focus(self.query_one("#note", Input))

    @on(Input.Changed, "#note")
    def _typing(self, event: Input.Changed) -> None:
        if event.value and self.note_pos is None:  # focused by the mouse: time of the first letter
            self.note_pressed = time.monotonic()
            self.note_pos = self.position_ms(self.note_pressed)
        expand_in_input(event.input, self.expansion)    # the team's snippets (,,i ...)

    @on(Input.Submitted, "#note")
    def _note_done(self, event: Input.Submitted) -> None:
        note = self.query_one("#note", Input)
        text = clean_text(finished_input(note, event.value, self.expansion)).strip()
        if text:
            submitted = self.runtime.note(text, self.note_pos, self.note_pressed)
            self._stored_or_say(submitted)
            if submitted:
                self._open_who(time.monotonic())
        note.value = ""
        self.note_pos = self.note_pressed = None
        self.set_focus(None)

    def action_leave_note(self) -> None:
        """Esc in the note line: back to single keys; the note keeps its text and time."""
        self.set_focus(None)

    # ------------------------------------------------------------------ stored

    def on_interview_screen_written(self, message: Written) -> None:
        stored = message.stored
        if stored.error is not None:
            from fieldkit.errors import FieldkitError

            text = stored.error.message if isinstance(stored.error, FieldkitError) else str(stored.error)
            self.notify(_("Not saved ({what}): {text}").format(what=stored.label, text=text), severity="error", timeout=15)
            return
        self.read_view(force=True)

    # ------------------------------------------------------------------ pause / stop

    def action_pause(self) -> None:
        if self.runtime is None or not self.runtime.can_pause:
            self.notify(_("Not recording."), severity="warning", timeout=3)
            return
        self.toggle_pause()

    @work(thread=True, exclusive=True, group="iv-pause", exit_on_error=False)
    def toggle_pause(self) -> None:
        from fieldkit.errors import FieldkitError

        try:
            self.runtime.toggle_pause()
        except FieldkitError as exc:
            self.post_message(self.RecorderNews("failed_pause", exc.message))
        self.app.call_from_thread(self._show_bar)
        self.read_view(force=True)

    def action_toggle_tail(self) -> None:
        self.query_one(TranscriptTail).toggle_class("hidden")

    @property
    def _asking(self) -> bool:
        return self._question is not None and self._question in self.app.screen_stack

    def _ask(self, question, answer) -> None:
        self._question = question
        self.app.push_screen(question, answer)

    def in_progress(self) -> bool:
        """An interview is going on here: leaving the app now must ask first (the lead's
        terminal until it stopped; the observer's seat while the lead records)."""
        if self.runtime is None or self.stopping:
            return False
        if self.observer:
            return self.view is not None and self.view.recording in ("recording", "paused")
        return True

    def ask_to_leave(self) -> None:
        """Ctrl+Q, Ctrl+C or the palette's Quit while the interview runs (from any screen
        above this one): the question ``q`` asks. The lead's yes stops the recording and
        goes on to the debrief, as ``q`` does; the observer's yes leaves the app (the
        interview goes on in the lead's terminal). A note being typed is kept: no keeps it
        in the note line, yes stores it at the moment ``n`` was pressed."""
        if self._asking:
            return
        self.action_stop(quit_app=self.observer)

    def _keep_note(self) -> bool:
        """Store the note being typed (at the moment n was pressed) before the interview
        ends; True when there was one."""
        note = self.query_one("#note", Input)
        text = finished_input(note, note.value, self.expansion).strip()
        if not text or self.runtime is None:
            return False
        if self.runtime.note(text, self.note_pos, self.note_pressed):
            note.value = ""
            self.note_pos = self.note_pressed = None
            return True
        return False

    def hang_up(self, transcript_timeout: float = 120) -> None:
        """The terminal is gone (SIGHUP when it is closed, SIGTERM): nobody can answer a
        question, so everything is made safe at once, before the app ends: the note being
        typed is stored, every queued key is written, the recording is stopped cleanly
        (every captured second finished to FLAC) and the live transcript finishes its tail."""
        from fieldkit.errors import FieldkitError

        rt = self.runtime
        if rt is None:
            return
        self._keep_note()
        if rt.writer is not None:
            rt.writer.close()
        if not self.observer and rt.recorder is not None and rt.recorder.state in ("recording", "paused"):
            try:
                rt.stop()
            except FieldkitError:
                pass   # recovery finds what could not be finished
        rt.stopping = True
        if rt.transcriber is not None:
            rt.finish_transcript(timeout=transcript_timeout)
        rt.close()

    def action_stop(self, quit_app: bool = False) -> None:
        from fieldkit.tui.screens.confirm import ConfirmScreen

        if self._asking:
            return
        if self.observer:
            self._leave_observer_seat(quit_app)
            return
        untouched = self._untouched()
        recording = self.runtime is not None and self.runtime.can_pause
        lines = [_("Stop the recording and end the interview?") if recording else _("End the interview?")]
        if untouched:
            lines.append("\n" + _("These themes were not touched:") + "\n" + "\n".join(f"  • {t}" for t in untouched))
        pending = self.runtime.pending() if self.runtime is not None else 0
        if pending:
            lines.append("\n" + ngettext("{n} note or tag is still being saved.", "{n} notes and tags are still being saved.", pending).format(n=pending))

        def answer(ok: bool | None) -> None:
            if ok and not self.stopping:
                self._keep_note()           # a half-typed note is stored, at its own time
                self.runtime.stopping = True
                self._pop_above()
                self.stop_interview()

        self._ask(ConfirmScreen("\n".join(lines), yes=_("Stop"), no=_("Go on"), other_key=self._tag_while_asked),
                  answer)

    def _tag_while_asked(self, key: str) -> bool:
        """A tag key pressed while the stop question is open: the interview still runs,
        so the moment is tagged (the question stays for its answer)."""
        if self.runtime is None or self.stopping:
            return False
        tag = next((t for t in self.tags.values() if self.tag_key(t) == key), None)
        if tag is None:
            return False
        self.press_tag(tag, time.monotonic())
        self.notify(_("Tagged: {label}").format(label=tag.label), timeout=3)
        return True

    def _pop_above(self) -> None:
        """Screens opened above this one (the help, a dialog) go, so that the debrief
        replaces this screen."""
        from textual.app import ScreenError

        try:
            if self.app.screen is not self:
                self.pop_until_active()
        except ScreenError:
            pass

    def _untouched(self) -> list[str]:
        if self.guide is None or self.view is None:
            return []
        return [t.title for t in self.guide.themes
                if all(self.view.coverage.get(q.id, "not_yet") == "not_yet" for q in t.questions)]

    @work(thread=True, exclusive=True, group="iv-stop", exit_on_error=False)
    def stop_interview(self) -> None:
        from fieldkit.errors import FieldkitError

        try:
            message = self.runtime.stop()
        except FieldkitError as exc:
            self.post_message(self.RecorderNews("stop_failed", exc.message + (f" {exc.hint}" if exc.hint else "")))
        else:
            self.app.call_from_thread(self.notify, message, timeout=8)
        self.app.call_from_thread(self._to_debrief)

    def _leave_observer_seat(self, quit_app: bool = False) -> None:
        """The observer leaves (the interview goes on in the lead's terminal): asked first,
        as one stray q must not close the seat in the middle of an interview. With
        ``quit_app`` (Ctrl+Q) yes leaves the app as well."""
        from fieldkit.tui.screens.confirm import ConfirmScreen

        ended = self.view is not None and self.view.recording == "stopped"
        if ended and not quit_app:
            self._to_debrief()
            return

        def answer(ok: bool | None) -> None:
            if ok:
                self._keep_note()
                if quit_app:
                    self.runtime.stopping = True
                    self.runtime.close()     # every key stored before the app ends
                    self.app.exit()
                else:
                    self.dismiss(None)

        self._ask(ConfirmScreen(
            _("Leave the observer's seat?\n\nThe interview goes on in the lead's terminal; "
              "what you stored is kept."), yes=_("Leave"), no=_("Stay"), other_key=self._tag_while_asked), answer)

    def _to_debrief(self, reason: str = "") -> None:
        from fieldkit.tui.screens.debrief import DebriefScreen

        if self.runtime is not None:
            self.runtime.stopping = True
            transcriber = self.runtime.take_transcriber()
        else:
            transcriber = None
        self._pop_above()
        self.app.switch_screen(DebriefScreen(self.slug, self.session_id, author_id=self.author_id,
                                             transcriber=transcriber, reason=reason))

    def on_unmount(self) -> None:
        if self.runtime is not None:
            # leaving the screen never drops audio: a recording still running stops cleanly
            self.runtime.close()
        # (ProjectScreen.on_unmount closes the project handle: Textual calls it as well)
