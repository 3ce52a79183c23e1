"""Debrief right after the interview: each researcher's first impressions, then a joint
note, kept with the session as debrief events. Saved on Ctrl+S and whenever the screen
is left; nothing typed here is thrown away."""

from __future__ import annotations

import uuid

from textual import work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import VerticalScroll
from textual.message import Message
from textual.widgets import Footer, Label, Static, TextArea

from fieldkit.tui.screens.base import ProjectScreen


class DebriefScreen(ProjectScreen[None]):
    BINDINGS = [
        Binding("ctrl+s", "save", "Save"),
        Binding("escape", "done", "Done"),
    ]

    class TranscriptNews(Message):
        def __init__(self, text: str) -> None:
            super().__init__()
            self.text = text

    def __init__(self, slug: str, session_id: uuid.UUID | str, *, author_id: uuid.UUID | None = None,
                 transcriber=None) -> None:  # noqa: ANN001
        super().__init__(slug, session_id)
        self.author_id = author_id
        self.transcriber = transcriber
        self.boxes: dict[str, tuple[str, uuid.UUID | None]] = {}   # widget id -> (part, author)
        self.saved_count = 0

    def compose(self) -> ComposeResult:
        # Read synchronously (two small queries): the boxes exist, and the first has the
        # focus, the moment the screen shows, so nothing typed right away is lost.
        from fieldkit.sessions.debrief import load_debrief, session_people

        sess, people = session_people(self.handle, self.session_id)
        saved = load_debrief(self.handle, self.session_id)
        yield Label(f"Debrief — {sess.title}", id="debrief-title", classes="pane-title")
        yield Static("", id="debrief-status")
        people = dict(people) or {None: "Your"}
        order = sorted(people, key=lambda rid: rid != self.author_id)  # this terminal's researcher first
        with VerticalScroll(id="debrief-body"):
            for n, rid in enumerate(order):
                wid = f"impressions-{n}"
                self.boxes[wid] = ("impressions", rid)
                yield Label(f"First impressions — {people[rid]}", classes="debrief-label")
                yield TextArea(saved.get(("impressions", rid), ""), id=wid, classes="debrief-box")
            self.boxes["joint"] = ("joint", self.author_id)
            yield Label("Joint note (write it together after your own impressions)", classes="debrief-label")
            yield TextArea(saved.get(("joint", None), ""), id="joint", classes="debrief-box")
        yield Footer()

    def on_mount(self) -> None:
        self.query_one("#impressions-0", TextArea).focus()
        if self.transcriber is not None:
            self.query_one("#debrief-status", Static).update("Live transcript: finishing the last minutes…")
            self.finish_transcript()

    @work(thread=True, exit_on_error=False)
    def finish_transcript(self) -> None:
        ok = self.transcriber.stop()
        self.post_message(self.TranscriptNews("Live transcript: complete." if ok else
                                              "Live transcript: unfinished; run `fieldkit transcribe` later."))

    def on_debrief_screen_transcript_news(self, message: TranscriptNews) -> None:
        self.query_one("#debrief-status", Static).update(message.text)

    def _texts(self) -> list[tuple[str, str, uuid.UUID | None]]:
        return [(part, self.query_one(f"#{wid}", TextArea).text, rid) for wid, (part, rid) in self.boxes.items()]

    def _store(self, texts) -> int:  # noqa: ANN001
        from fieldkit.sessions.debrief import save_debrief

        n = 0
        for part, text, rid in texts:
            if text.strip():
                save_debrief(self.handle, self.session_id, part, text, rid)
                n += 1
        return n

    def action_save(self) -> None:
        self.saved_count = self._store(self._texts())
        self.notify(f"Debrief saved ({self.saved_count} part(s)).", timeout=2)

    def action_done(self) -> None:
        self._store(self._texts())
        self.dismiss(None)
