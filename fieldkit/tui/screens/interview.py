"""The interview screen, for the lead's terminal (which records) and the observer's
(``fieldkit observe``, which attaches to the recording of another terminal).

One keypress, no dialog: tag keys from the project's tag scheme, ``c``/``x``/``s`` for
coverage, ``1``-``9`` for probes, space for a plain mark, ``n`` for a note whose time is
the moment ``n`` was pressed. Every keypress takes its audio position at once (from the
Key event's own timestamp) and is stored by an :class:`~fieldkit.interview.EventWriter`
thread; the screen reads the shared database every half second, so each terminal shows
the other's events within a second.
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
from textual.widgets import Footer, Input, Label

from fieldkit.tui.screens.base import ProjectScreen
from fieldkit.tui.widgets.live import (
    CoverageList, EventLog, GuidePanel, RecordingBar, TagLegend, TranscriptTail,
)

if TYPE_CHECKING:
    from fieldkit.interview import LiveView, Stored, TagKey

POLL_S = 0.5


class InterviewScreen(ProjectScreen[None]):
    AUTO_FOCUS = ""  # nothing focused: single keys first; n goes to the note line
    BINDINGS = [
        Binding("up", "question(-1)", "Prev Q", show=False),
        Binding("down", "question(1)", "Next Q", show=False),
        Binding("left", "theme(-1)", "Prev theme", show=False),
        Binding("right", "theme(1)", "Next theme", show=False),
        Binding("c", "cover('covered')", "Covered"),
        Binding("x", "cover('partly')", "Partly"),
        Binding("s", "cover('skipped')", "Skipped"),
        Binding("w", "returned", "Went back", show=False),
        Binding("n", "note", "Note"),
        Binding("space", "marker", "Mark", show=False),
        Binding("p", "pause", "Pause"),
        Binding("q", "stop", "Stop"),
        Binding("ctrl+t", "toggle_tail", "Transcript", show=False),
        Binding("escape", "leave_note", "Keys", show=False),
    ] + [Binding(str(d), f"probe({d})", f"Probe {d}", show=False) for d in range(1, 10)]

    class Loaded(Message):
        def __init__(self, guide, tags, people, view) -> None:  # noqa: ANN001
            super().__init__()
            self.guide, self.tags, self.people, self.view = guide, tags, people, view

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
        self.author_id = author_id
        self.guide = None
        self.tags: dict[str, TagKey] = {}          # key -> tag
        self.view: LiveView | None = None
        self.items: list[tuple] = []               # (theme, question) in guide order
        self.index = 0
        self.recorder = None
        self.transcriber = None
        self.writer = None
        self.note_pos: int | None = None
        self.note_pressed: float | None = None
        self.latencies: list[float] = []           # keypress-to-stored, ms (bench)
        self.warning = ""
        self.stopping = False
        self._stamp: tuple | None = None
        self._key_time: float | None = None
        self._key_wall: float | None = None

    # ------------------------------------------------------------------ layout

    def compose(self) -> ComposeResult:
        yield RecordingBar(id="rec-bar")
        with Horizontal(id="iv-main"):
            with Vertical(id="iv-left"):
                yield GuidePanel(id="guide-panel")
                yield TranscriptTail(id="tail")
            with Vertical(id="iv-right"):
                yield Label("Coverage", classes="pane-title")
                yield CoverageList(id="coverage")
                yield Label("Notes and tags", classes="pane-title")
                yield EventLog(id="event-log")
        yield TagLegend(id="tag-legend")
        yield Input(placeholder="n: write a note (Enter saves, Esc leaves it)", id="note", select_on_focus=False)
        yield Footer()

    def on_mount(self) -> None:
        from fieldkit.interview import EventWriter

        self.query_one("#note", Input).can_focus = True
        self.writer = EventWriter(lambda stored: self.post_message(self.Written(stored)))
        self._show_bar()
        self.load()

    @work(thread=True, group="iv-load", exit_on_error=False)
    def load(self) -> None:
        from fieldkit.interview import begin_session, guide_of, load_live, session_people, tag_keys

        if not self.observer:
            begin_session(self.handle, self.session_id)
        sess, people = session_people(self.handle, self.session_id)
        guide = guide_of(self.handle, self.session_id)
        tags = tag_keys(self.handle, self.session_id)
        view = load_live(self.handle, self.session_id)
        self.post_message(self.Loaded(guide, tags, (sess, people), view))

    def on_interview_screen_loaded(self, message: Loaded) -> None:
        sess, people = message.people
        self.guide = message.guide
        self.tags = {t.key: t for t in message.tags}
        self.session = sess
        if self.author_id is None:
            self.author_id = sess.observer_id if self.observer else sess.lead_id
        self.people = people
        self.items = list(message.guide.iter_questions()) if message.guide else []
        self.index = self._first_open_question(message.view)
        self._apply(message.view)
        if self.record:
            self.start_recording()
        self.set_interval(POLL_S, self.poll)
        self.set_interval(0.25, self._show_bar)

    def _first_open_question(self, view: "LiveView") -> int:
        for i, (_t, q) in enumerate(self.items):
            if view.coverage.get(q.id, "not_yet") == "not_yet":
                return i
        return 0

    # ------------------------------------------------------------------ recording

    @work(thread=True, group="iv-recorder", exit_on_error=False)
    def start_recording(self) -> None:
        from fieldkit.errors import FieldkitError
        from fieldkit.recording.recorder import Recorder

        def warn(w) -> None:  # noqa: ANN001
            self.post_message(self.RecorderNews(w.kind, w.message))

        rec = Recorder(self.handle, self.session_id, device=self.device, author_id=self.author_id,
                       on_warning=warn)
        try:
            rec.start()
        except FieldkitError as exc:
            self.post_message(self.RecorderNews("failed", exc.message + (f" {exc.hint}" if exc.hint else "")))
            return
        self.recorder = rec
        if self.live:
            try:
                from fieldkit.transcription.live import LiveTranscriber
                from fieldkit.transcription.service import session_settings

                self.transcriber = LiveTranscriber(
                    self.handle, self.session_id, session_settings(self.handle, self.session_id), quiet=True).start()
            except FieldkitError as exc:
                self.post_message(self.RecorderNews("live", f"No live transcript: {exc.message}"))
            except Exception as exc:  # noqa: BLE001 - the recording goes on without it
                self.post_message(self.RecorderNews("live", f"No live transcript: {exc}"))
        self.post_message(self.RecorderNews("started", "Recording."))

    def on_interview_screen_recorder_news(self, message: RecorderNews) -> None:
        if message.kind == "started":
            self.notify("Recording started.", timeout=2)
        elif message.kind == "failed":
            self.record = False
            self.warning = "not recording"
            self.notify(message.text, title="Recording did not start", severity="error", timeout=15)
        else:
            if message.kind in ("device_lost", "disk_full", "disk_low", "silence", "clipping"):
                self.warning = message.text.split(":")[0]
            elif message.kind == "device_back":
                self.warning = ""
            severity = "error" if message.kind in ("device_lost", "disk_full") else "warning"
            self.notify(message.text, severity=severity, timeout=10)
        self._show_bar()

    def _state(self) -> str:
        if self.recorder is not None:
            return {"recording": "recording", "paused": "paused", "stopping": "stopping", "stopped": "stopped"}.get(
                self.recorder.state, "starting")
        if self.record and not self.stopping:
            return "starting"
        return self.view.recording if self.view is not None else "none"

    def _show_bar(self) -> None:
        rec = self.recorder
        level = rec.peak_db if rec is not None and rec.state == "recording" else None
        disk = rec.disk_left_s() if rec is not None else None
        role = "observer" if self.observer else ("lead" if self.record else "notes")
        initials = self.people.get(self.author_id, "") if getattr(self, "people", None) else ""
        if initials:
            role += f" · {initials.split(' ')[0]}"
        title = self.view.title if self.view else ""
        self.query_one(RecordingBar).show(state=self._state(), position_ms=self.position_ms(),
                                          level_db=level, disk_s=disk, title=title, role=role,
                                          warning=self.warning)

    def position_ms(self, at_monotonic: float | None = None) -> int | None:
        """The session clock at a keypress (monotonic time of the Key event)."""
        wall = time.time() - (time.monotonic() - at_monotonic) if at_monotonic is not None else None
        if self.recorder is not None and self.recorder.state in ("recording", "paused"):
            return self.recorder.clock_ms(wall)
        if self.view is None:
            return None
        from datetime import datetime, timezone

        now = datetime.fromtimestamp(wall, tz=timezone.utc) if wall is not None else None
        return self.view.position_ms(now)

    # ------------------------------------------------------------------ reading

    def poll(self) -> None:
        self.read_view()

    @work(thread=True, exclusive=True, group="iv-poll", exit_on_error=False)
    def read_view(self, force: bool = False) -> None:
        from fieldkit.interview import live_stamp, load_live

        stamp = live_stamp(self.handle.db, self.session_id)
        if stamp == self._stamp and not force:
            return
        self.post_message(self.ViewRead(load_live(self.handle, self.session_id)))

    def on_interview_screen_view_read(self, message: ViewRead) -> None:
        previous = self.view
        self._apply(message.view)
        if (self.observer and previous is not None and previous.recording in ("recording", "paused")
                and message.view.recording == "stopped" and not self.stopping):
            self.notify("The recording was stopped in the other terminal.", timeout=5)
            self._to_debrief()

    def _apply(self, view: "LiveView") -> None:
        self.view = view
        self._stamp = view.stamp
        theme, question = self._current()
        self.query_one(GuidePanel).show(self.guide, theme, question, view.coverage, view.probes_used)
        self.query_one(CoverageList).show(self.guide, view.coverage, question.id if question else None)
        by_code = {t.code: t for t in self.tags.values()}
        self.query_one(EventLog).show(view.events, by_code, self.guide)
        self.query_one(TagLegend).show(list(self.tags.values()), set(view.open_states))
        self.query_one(TranscriptTail).show(view.transcript_tail, self.live or bool(view.transcript_tail))
        self._show_bar()

    def _current(self):  # noqa: ANN202
        if not self.items:
            return None, None
        return self.items[self.index]

    # ------------------------------------------------------------------ keys

    def on_key(self, event: events.Key) -> None:
        """Tag keys (from the scheme, so not bindings) and the keypress time for actions."""
        self._key_time = event.time
        if self.focused is not None and isinstance(self.focused, Input):
            return
        tag = self.tags.get(event.character or "")
        if tag is not None and event.key == event.character:
            event.stop()
            event.prevent_default()
            self.press_tag(tag, event.time)

    def _pressed(self) -> float:
        """When the key behind the running action was pressed (monotonic)."""
        t = self._key_time
        self._key_time = None
        return t if t is not None else time.monotonic()

    def _ended(self) -> bool:
        if self.stopping:
            self.notify("The interview is ending: this key was not stored.", severity="warning", timeout=3)
        return self.stopping

    def press_tag(self, tag: "TagKey", pressed: float | None = None) -> None:
        from fieldkit.interview import toggle_tag
        if self._ended():
            return

        pressed = pressed if pressed is not None else time.monotonic()
        pos = self.position_ms(pressed)
        db, sid, author = self.handle.db, self.session_id, self.author_id
        self.writer.submit(f"tag {tag.label}", lambda: toggle_tag(db, sid, tag, pos, author), pressed)

    def action_cover(self, status: str) -> None:
        from fieldkit.guides.coverage import set_coverage
        if self._ended():
            return

        pressed = self._pressed()
        _theme, question = self._current()
        if question is None:
            self.notify("This session has no guide.", severity="warning")
            return
        pos = self.position_ms(pressed)
        db, sid, author, qid = self.handle.db, self.session_id, self.author_id, question.id
        self.writer.submit(f"{status}: {question.text[:40]}",
                           lambda: set_coverage(db, sid, qid, status, position_ms=pos, author_id=author), pressed)
        if status in ("covered", "skipped") and self.index < len(self.items) - 1:
            self.index += 1  # on to the next question
            self._refresh_guide()

    def action_probe(self, number: int) -> None:
        from fieldkit.guides.coverage import probe_used
        if self._ended():
            return

        pressed = self._pressed()
        _theme, question = self._current()
        if question is None or number > len(question.probes):
            self.notify(f"This question has no probe {number}.", severity="warning", timeout=2)
            return
        probe = question.probes[number - 1]
        pos = self.position_ms(pressed)
        db, sid, author = self.handle.db, self.session_id, self.author_id
        self.writer.submit(f"probe {number}",
                           lambda: probe_used(db, sid, probe.id, position_ms=pos, author_id=author), pressed)

    def action_returned(self) -> None:
        from fieldkit.guides.coverage import returned_to
        if self._ended():
            return

        pressed = self._pressed()
        theme, _q = self._current()
        if theme is None:
            return
        pos = self.position_ms(pressed)
        db, sid, author = self.handle.db, self.session_id, self.author_id
        self.writer.submit("went back", lambda: returned_to(db, sid, theme.id, position_ms=pos,
                                                            author_id=author), pressed)

    def action_marker(self) -> None:
        from fieldkit.events import add_event
        if self._ended():
            return

        pressed = self._pressed()
        pos = self.position_ms(pressed)
        db, sid, author = self.handle.db, self.session_id, self.author_id
        self.writer.submit("mark", lambda: add_event(db, sid, "marker", position_ms=pos, author_id=author), pressed)

    def action_question(self, step: int) -> None:
        if self.items:
            self.index = max(0, min(len(self.items) - 1, self.index + step))
            self._refresh_guide()

    def action_theme(self, step: int) -> None:
        if not self.items:
            return
        themes = [t.id for t, _q in self.items]
        order = list(dict.fromkeys(themes))
        target = order[max(0, min(len(order) - 1, order.index(themes[self.index]) + step))]
        self.index = themes.index(target)
        self._refresh_guide()

    def _refresh_guide(self) -> None:
        if self.view is not None:
            self._apply(self.view)

    # ------------------------------------------------------------------ notes

    def action_note(self) -> None:
        if self._ended():
            return
        pressed = self._pressed()
        if self.note_pos is None:
            self.note_pos, self.note_pressed = self.position_ms(pressed), pressed
        self.query_one("#note", Input).focus()

    @on(Input.Changed, "#note")
    def _typing(self, event: Input.Changed) -> None:
        if event.value and self.note_pos is None:  # focused by the mouse: time of the first letter
            self.note_pressed = time.monotonic()
            self.note_pos = self.position_ms(self.note_pressed)

    @on(Input.Submitted, "#note")
    def _note_done(self, event: Input.Submitted) -> None:
        from fieldkit.events import add_event

        text = event.value.strip()
        note = self.query_one("#note", Input)
        if text:
            pos = self.note_pos if self.note_pos is not None else self.position_ms()
            db, sid, author = self.handle.db, self.session_id, self.author_id
            self.writer.submit("note", lambda: add_event(db, sid, "note", position_ms=pos, author_id=author,
                                                         text=text), self.note_pressed)
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
            self.notify(f"Not saved ({stored.label}): {text}", severity="error", timeout=15)
            return
        self.latencies.append(stored.latency_ms)
        self.read_view(force=True)

    # ------------------------------------------------------------------ pause / stop

    def action_pause(self) -> None:
        if self.recorder is None:
            self.notify("Only the terminal that records can pause." if self.observer
                        else "Not recording.", severity="warning", timeout=3)
            return
        self.toggle_pause()

    @work(thread=True, exclusive=True, group="iv-pause", exit_on_error=False)
    def toggle_pause(self) -> None:
        if self.recorder.state == "recording":
            self.recorder.pause()
        elif self.recorder.state == "paused":
            self.recorder.resume()
        self.app.call_from_thread(self._show_bar)
        self.read_view(force=True)

    def action_toggle_tail(self) -> None:
        self.query_one(TranscriptTail).toggle_class("hidden")

    def action_stop(self) -> None:
        from fieldkit.tui.screens.confirm import ConfirmScreen

        if self.observer:
            self._leave_or_debrief()
            return
        untouched = self._untouched()
        lines = ["Stop the recording and end the interview?" if self.recorder is not None
                 else "End the interview?"]
        if untouched:
            lines.append("\nThese themes were not touched:\n" + "\n".join(f"  • {t}" for t in untouched))
        if self.writer is not None and self.writer.pending():
            lines.append(f"\n{self.writer.pending()} note(s)/tag(s) are still being saved.")

        def answer(ok: bool | None) -> None:
            if ok:
                self.stopping = True
                self.stop_interview()

        self.app.push_screen(ConfirmScreen("\n".join(lines), yes="Stop", no="Go on"), answer)

    def _untouched(self) -> list[str]:
        if self.guide is None or self.view is None:
            return []
        return [t.title for t in self.guide.themes
                if all(self.view.coverage.get(q.id, "not_yet") == "not_yet" for q in t.questions)]

    @work(thread=True, exclusive=True, group="iv-stop", exit_on_error=False)
    def stop_interview(self) -> None:
        self.stopping = True
        if self.recorder is not None and self.recorder.state in ("recording", "paused"):
            summary = self.recorder.stop()
            self.post_message(self.RecorderNews(
                "stopped", f"Stopped: {summary.duration_ms / 1000:.0f} s recorded, {summary.overflows} overflows."))
        elif self.recorder is None:
            from fieldkit.interview import end_notes_only

            end_notes_only(self.handle, self.session_id)
        self.app.call_from_thread(self._to_debrief)

    def _leave_or_debrief(self) -> None:
        if self.view is not None and self.view.recording == "stopped":
            self._to_debrief()
        else:
            self.dismiss(None)

    def _to_debrief(self) -> None:
        from fieldkit.tui.screens.debrief import DebriefScreen

        self.stopping = True
        transcriber, self.transcriber = self.transcriber, None
        self.app.switch_screen(DebriefScreen(self.slug, self.session_id, author_id=self.author_id,
                                             transcriber=transcriber))

    def on_unmount(self) -> None:
        if self.writer is not None:
            self.writer.close()
        if self.recorder is not None and self.recorder.state in ("recording", "paused"):
            # leaving the screen never drops audio: stop cleanly (the app is closing)
            try:
                self.recorder.stop()
            except Exception:  # noqa: BLE001 - recovery will find it on the next start
                pass
        if self.transcriber is not None:
            self.transcriber.stop(timeout=5)
