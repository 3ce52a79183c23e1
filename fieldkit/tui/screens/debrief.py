"""Debrief right after the interview: each researcher's first impressions, then a joint
note, kept with the session as debrief events. Saved on Ctrl+S and whenever the screen
is left; nothing typed here is thrown away.

Two terminals (lead and observer) often have this screen open at once. Each box
remembers the text it started from; saving merges any change the other terminal saved
meanwhile (fieldkit.sessions.debrief), and the box then shows the merged text. While a box has
not been touched here, a change saved in the other terminal simply appears in it; when
it has, the status line says so and Ctrl+S merges."""

from __future__ import annotations

import uuid

from textual import work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import VerticalScroll
from textual.message import Message
from textual.widgets import Footer, Label, Static, TextArea

from fieldkit.tui.commands import SHELL_KEYS
from fieldkit.tui.screens.base import ProjectScreen

#: how often the screen looks for the other terminal's saved changes (a UI refresh, not a wait)
WATCH_SECONDS = 1.5


class DebriefScreen(ProjectScreen[None]):
    BINDINGS = [
        *SHELL_KEYS,
        Binding("ctrl+s", "save", "Save"),
        Binding("escape", "done", "Done"),
    ]

    class TranscriptNews(Message):
        def __init__(self, text: str) -> None:
            super().__init__()
            self.text = text

    class Stored(Message):
        """What is stored now, read in a worker: {(part, author): text}."""

        def __init__(self, texts: dict) -> None:  # noqa: ANN001
            super().__init__()
            self.texts = texts

    def __init__(self, slug: str, session_id: uuid.UUID | str, *, author_id: uuid.UUID | None = None,
                 transcriber=None) -> None:  # noqa: ANN001
        super().__init__(slug, session_id)
        self.author_id = author_id
        self.transcriber = transcriber
        self.boxes: dict[str, tuple[str, uuid.UUID | None]] = {}   # widget id -> (part, author)
        self.bases: dict[str, str] = {}   # widget id -> the stored text this box started from
        self.people: dict[uuid.UUID | None, str] = {}
        self.saved_count = 0
        self.merges = 0                    # saves that took in the other terminal's change

    def compose(self) -> ComposeResult:
        # Read synchronously (two small queries): the boxes exist, and the first has the
        # focus, the moment the screen shows, so nothing typed right away is lost.
        from fieldkit.sessions.debrief import debrief_people, load_debrief

        title, people = debrief_people(self.handle, self.session_id)
        saved = load_debrief(self.handle, self.session_id)
        yield Label(f"Debrief — {title}", id="debrief-title", classes="pane-title")
        yield Static("", id="debrief-status")
        people = dict(people) or {None: "Your"}
        self.people = people
        order = sorted(people, key=lambda rid: rid != self.author_id)  # this terminal's researcher first
        with VerticalScroll(id="debrief-body"):
            for n, rid in enumerate(order):
                wid = f"impressions-{n}"
                self.boxes[wid] = ("impressions", rid)
                self.bases[wid] = saved.get(("impressions", rid), "")
                yield Label(f"First impressions — {people[rid]}", classes="debrief-label")
                yield TextArea(self.bases[wid], id=wid, classes="debrief-box")
            self.boxes["joint"] = ("joint", self.author_id)
            self.bases["joint"] = saved.get(("joint", None), "")
            yield Label("Joint note (both terminals may write: nothing is overwritten)",
                        classes="debrief-label")
            yield TextArea(self.bases["joint"], id="joint", classes="debrief-box")
        yield Footer()

    def on_mount(self) -> None:
        self.query_one("#impressions-0", TextArea).focus()
        if self.transcriber is not None:
            self.query_one("#debrief-status", Static).update("Live transcript: finishing the last minutes…")
            self.finish_transcript()
        self.set_interval(WATCH_SECONDS, self.watch_other)

    @work(thread=True, exit_on_error=False)
    def finish_transcript(self) -> None:
        ok = self.transcriber.stop()
        self.post_message(self.TranscriptNews("Live transcript: complete." if ok else
                                              "Live transcript: unfinished; run `fieldkit transcribe` later."))

    def on_debrief_screen_transcript_news(self, message: TranscriptNews) -> None:
        self.query_one("#debrief-status", Static).update(message.text)

    # ------------------------------------------------------------------ the other terminal

    @work(thread=True, exclusive=True, group="debrief-watch", exit_on_error=False)
    def watch_other(self) -> None:
        from fieldkit.sessions.debrief import load_debrief

        self.post_message(self.Stored(load_debrief(self.handle, self.session_id)))

    def on_debrief_screen_stored(self, message: Stored) -> None:
        pending = []
        for wid, (part, rid) in self.boxes.items():
            stored = message.texts.get((part, rid if part == "impressions" else None), "")
            if stored.strip() == self.bases[wid].strip():
                continue
            box = self.query_one(f"#{wid}", TextArea)
            if box.text.strip() == self.bases[wid].strip():
                # untouched here: show the other terminal's change at once
                self.bases[wid] = stored
                box.load_text(stored)
                self.notify(f"{self._label(wid)}: changed in the other terminal.", timeout=3)
            else:
                pending.append(self._label(wid))
        if pending:
            self.query_one("#debrief-status", Static).update(
                "Changed in the other terminal too: " + ", ".join(pending)
                + ". Ctrl+S merges both (nothing is overwritten).")

    def _label(self, wid: str) -> str:
        part, rid = self.boxes[wid]
        return "Joint note" if part == "joint" else f"Impressions of {self.people.get(rid, 'you')}"

    # ------------------------------------------------------------------ saving

    def _store(self) -> int:
        """Save every box changed since it was loaded, merged with the other terminal's
        changes; the boxes then show what is stored."""
        from fieldkit.sessions.debrief import save_part

        n = 0
        merged, conflicts = [], []
        for wid, (part, rid) in self.boxes.items():
            box = self.query_one(f"#{wid}", TextArea)
            if box.text.strip() == self.bases[wid].strip():
                continue
            result = save_part(self.handle, self.session_id, part, box.text, self.bases[wid], rid)
            self.bases[wid] = result.text
            n += 1
            if result.merged:
                self.merges += 1
                merged.append(self._label(wid))
                if result.conflict:
                    conflicts.append(self._label(wid))
                if box.text.strip() != result.text:
                    box.load_text(result.text)
        status = self.query_one("#debrief-status", Static)
        if conflicts:
            status.update("Both terminals changed the same lines of: " + ", ".join(conflicts)
                          + ". Both versions are kept, the other's first: tidy them up together.")
        elif merged:
            status.update("Merged with the other terminal's change: " + ", ".join(merged) + ".")
        else:
            status.update("")
        return n

    def action_save(self) -> None:
        from fieldkit.errors import FieldkitError

        try:
            self.saved_count = self._store()
        except FieldkitError as exc:
            self.notify(exc.message, severity="error", timeout=8)
            return
        self.notify(f"Debrief saved ({self.saved_count} part(s) changed).", timeout=2)

    def action_done(self) -> None:
        from fieldkit.errors import FieldkitError

        try:
            self._store()
        except FieldkitError as exc:
            self.notify(exc.message, severity="error", timeout=8)
            return
        self.dismiss(None)
