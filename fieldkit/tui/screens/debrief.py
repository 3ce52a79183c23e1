"""Debrief right after the interview: each researcher's first impressions, then a joint
note, kept with the session as debrief events. Saved on Ctrl+S and whenever the screen
is left; nothing typed here is thrown away.

Two terminals (lead and observer) often have this screen open at once. Each box
remembers the text it started from; saving merges any change the other terminal saved
meanwhile (fieldkit.sessions.debrief), and the box then shows the merged text. While a box has
not been touched here, a change saved in the other terminal simply appears in it; when
it has, the status line says so and Ctrl+S merges.

Round 2 (``round=2``, after the transcript is reviewed) shows round 1 read-only above new
boxes for the second impressions and joint note. An observation guide's header fields
(participants present, duration ...) can be filled in here after the meeting."""

from __future__ import annotations

import uuid

from textual import work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import VerticalScroll
from textual.message import Message
from textual.widgets import Footer, Label, Static, TextArea

from fieldkit.i18n import N_, _
from fieldkit.tui.widgets.inputs import Input
from fieldkit.tui.commands import SHELL_KEYS
from fieldkit.tui.screens.base import ProjectScreen

#: how often the screen looks for the other terminal's saved changes (a UI refresh, not a wait)
WATCH_SECONDS = 1.5


class DebriefScreen(ProjectScreen[None]):
    BINDINGS = [
        *SHELL_KEYS,
        Binding("ctrl+s", "save", N_("Save"), id="debrief.save", tooltip=N_("save your impressions and the joint note")),
        Binding("escape", "done", N_("Done"), id="debrief.done", tooltip=N_("save and finish the debrief")),
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
                 transcriber=None, round: int = 1, reason: str = "") -> None:  # noqa: ANN001, A002
        """``reason``: why this terminal came here by itself (the observer's, when the lead
        stopped), shown above the boxes."""
        super().__init__(slug, session_id)
        self.reason = reason
        self.round = 2 if round == 2 else 1
        self.header_fields: list[str] = []     # the guide's header fields shown here
        self.header_saved: dict[str, str] = {}
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
        from fieldkit.sessions.debrief import debrief_people, header_form, load_debrief, part_code

        title, people = debrief_people(self.handle, self.session_id)
        saved = load_debrief(self.handle, self.session_id)
        self.header_fields, self.header_saved = header_form(self.handle, self.session_id)
        if self.round == 2:
            yield Label(_("Second debrief — {title}").format(title=title), id="debrief-title",
                        classes="pane-title")
        else:
            yield Label(_("Debrief — {title}").format(title=title), id="debrief-title", classes="pane-title")
        if self.reason:
            yield Static(self.reason, id="debrief-reason")
        yield Static("", id="debrief-status")
        people = dict(people) or {None: _("Your")}
        self.people = people
        order = sorted(people, key=lambda rid: rid != self.author_id)  # this terminal's researcher first
        imp, joint = part_code("impressions", self.round), part_code("joint", self.round)
        with VerticalScroll(id="debrief-body"):
            if self.round == 2:
                yield Label(_("Round 1 (right after the interview), read only"), classes="debrief-label")
                first = [(people[rid], saved.get(("impressions", rid), "")) for rid in order]
                first.append((_("Joint note"), saved.get(("joint", None), "")))
                for who, text in first:
                    yield Label(_("First impressions — {who}").format(who=who)
                                if who != _("Joint note") else who, classes="debrief-label")
                    yield TextArea(text, read_only=True, classes="debrief-box debrief-round1")
                yield Label(_("Round 2 (after the transcript)"), classes="debrief-label")
            for n, rid in enumerate(order):
                wid = f"impressions-{n}"
                self.boxes[wid] = (imp, rid)
                self.bases[wid] = saved.get((imp, rid), "")
                label = (_("Second impressions — {who}") if self.round == 2
                         else _("First impressions — {who}")).format(who=people[rid])
                yield Label(label, classes="debrief-label")
                yield TextArea(self.bases[wid], id=wid, classes="debrief-box")
            self.boxes["joint"] = (joint, self.author_id)
            self.bases["joint"] = saved.get((joint, None), "")
            yield Label(_("Joint note (both terminals may write: nothing is overwritten)"),
                        classes="debrief-label")
            yield TextArea(self.bases["joint"], id="joint", classes="debrief-box")
            if self.header_fields:
                yield Label(_("Header fields of the guide (fill in after the meeting)"),
                            classes="debrief-label")
                for n, name in enumerate(self.header_fields):
                    yield Label(name, classes="debrief-label")
                    yield Input(self.header_saved.get(name, ""), id=f"debrief-header-{n}",
                                classes="debrief-header")
        yield Footer()

    def on_mount(self) -> None:
        self.query_one("#impressions-0", TextArea).focus()
        if self.transcriber is not None:
            self.query_one("#debrief-status", Static).update(_("Live transcript: finishing the last minutes…"))
            self.finish_transcript()
        self.set_interval(WATCH_SECONDS, self.watch_other)

    @work(thread=True, exit_on_error=False)
    def finish_transcript(self) -> None:
        ok = self.transcriber.stop()
        self.post_message(self.TranscriptNews(_("Live transcript: complete.") if ok else
                                              _("Live transcript: unfinished; run `fieldkit transcribe` later.")))

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
            stored = message.texts.get((part, rid if part.startswith("impressions") else None), "")
            if stored.strip() == self.bases[wid].strip():
                continue
            box = self.query_one(f"#{wid}", TextArea)
            if box.text.strip() == self.bases[wid].strip():
                # untouched here: show the other terminal's change at once
                self.bases[wid] = stored
                box.load_text(stored)
                self.notify(_("{what}: changed in the other terminal.").format(what=self._label(wid)), timeout=3)
            else:
                pending.append(self._label(wid))
        if pending:
            self.query_one("#debrief-status", Static).update(
                _("Changed in the other terminal too: {parts}. Ctrl+S merges both "
                  "(nothing is overwritten).").format(parts=", ".join(pending)))

    def _label(self, wid: str) -> str:
        part, rid = self.boxes[wid]
        if part.startswith("joint"):
            return _("Joint note")
        return _("Impressions of {who}").format(who=self.people.get(rid, _("you")))

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
            status.update(_("Both terminals changed the same lines of: {parts}. Both versions are kept, "
                            "the other's first: tidy them up together.").format(parts=", ".join(conflicts)))
        elif merged:
            status.update(_("Merged with the other terminal's change: {parts}.").format(parts=", ".join(merged)))
        else:
            status.update("")
        if self.header_fields:
            from fieldkit.sessions.debrief import save_header

            values = {name: self.query_one(f"#debrief-header-{k}", Input).value
                      for k, name in enumerate(self.header_fields)}
            if any(values.get(k, "").strip() != self.header_saved.get(k, "").strip() for k in values):
                self.header_saved = save_header(self.handle, self.session_id, values)
                n += 1
        return n

    def action_save(self) -> None:
        from fieldkit.errors import FieldkitError

        try:
            self.saved_count = self._store()
        except FieldkitError as exc:
            self.notify(exc.message, severity="error", timeout=8)
            return
        self.notify(_("Debrief saved ({n} part(s) changed).").format(n=self.saved_count), timeout=2)

    def action_done(self) -> None:
        from fieldkit.errors import FieldkitError

        try:
            self._store()
        except FieldkitError as exc:
            self.notify(exc.message, severity="error", timeout=8)
            return
        self.dismiss(None)
