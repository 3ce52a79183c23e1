"""Debrief right after the interview: each researcher's first impressions, then a joint
note, kept with the session as debrief events. Saved on Ctrl+S and whenever the screen
is left; nothing typed here is thrown away.

Two terminals (lead and observer) often have this screen open at once. Each box
remembers the text it started from; saving merges any change the other terminal saved
meanwhile (fieldkit.sessions.debrief), and the box then shows the merged text. While a box has
not been touched here, a change saved in the other terminal simply appears in it; when
it has, the status line says so and Ctrl+S merges.

First impressions are written independently: each terminal shows only its own
researcher's box until both researchers have saved theirs; then both are shown, read-only,
side by side for comparing (the joint note stays shared and editable in both).

Round 2 (``round=2``, after the transcript is reviewed) shows round 1 read-only above new
boxes for the second impressions and joint note. An observation guide's header fields
(participants present, duration ...) can be filled in here after the meeting."""

from __future__ import annotations

import uuid

from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import VerticalScroll
from textual.message import Message
from textual.widgets import Footer, Label, Static, TextArea

from fieldkit.i18n import N_, _, ngettext
from fieldkit.tui.widgets.inputs import Input
from fieldkit.tui.commands import SHELL_KEYS
from fieldkit.tui.screens.base import ProjectScreen
from fieldkit.tui.widgets.snippets import expand_in_area, finish_area

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

        def __init__(self, texts: dict) -> None:
            super().__init__()
            self.texts = texts

    def __init__(self, slug: str, session_id: uuid.UUID | str, *, author_id: uuid.UUID | None = None,
                 transcriber=None, round: int = 1, reason: str = "") -> None:
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
        self.revealed = False              # both researchers saved: impressions shown, read-only
        self.watched = 0                   # how often the other terminal's saves were read
        self.expansion = None              # sessions.snippets.Expansion: typed snippets expand

    def compose(self) -> ComposeResult:
        # Read synchronously (two small queries): the boxes exist, and the first has the
        # focus, the moment the screen shows, so nothing typed right away is lost.
        from fieldkit.sessions.debrief import debrief_people, header_form, load_debrief, part_code
        from fieldkit.sessions.snippets import session_expansion

        title, people = debrief_people(self.handle, self.session_id)
        self.expansion = session_expansion(self.handle, self.session_id)   # the team's snippets
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
            from fieldkit.sessions.debrief import impressions_saved_by_all

            self.revealed = not self._independent() or impressions_saved_by_all(saved, list(people), self.round)
            for n, rid in enumerate(order):
                wid = f"impressions-{n}"
                self.boxes[wid] = (imp, rid)
                self.bases[wid] = saved.get((imp, rid), "")
                label = (_("Second impressions — {who}") if self.round == 2
                         else _("First impressions — {who}")).format(who=people[rid])
                yield Label(label, classes="debrief-label")
                if rid != self.author_id and self._independent():
                    # the other researcher's: hidden until both have saved, never edited here
                    yield Static(_("Hidden until you have both saved your impressions (Ctrl+S): "
                                   "write yours on your own, compare them after."),
                                 id=f"{wid}-hidden", classes="debrief-hidden muted")
                    yield TextArea(self.bases[wid] if self.revealed else "", id=wid, read_only=True,
                                   classes="debrief-box" + ("" if self.revealed else " hidden"))
                else:
                    yield TextArea(self.bases[wid], id=wid, classes="debrief-box",
                                   read_only=self.revealed and self._independent())
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

    def _independent(self) -> bool:
        """Two researchers, and this terminal's is one of them: impressions are written apart."""
        return self.author_id in self.people and len([r for r in self.people if r is not None]) > 1

    def _other_boxes(self) -> list[str]:
        return [wid for wid, (part, rid) in self.boxes.items()
                if part.startswith("impressions") and rid != self.author_id]

    def _own_box(self) -> str | None:
        return next((wid for wid, (part, rid) in self.boxes.items()
                     if part.startswith("impressions") and rid == self.author_id), None)

    def _reveal(self, texts: dict) -> None:
        """Both have saved: the other's impressions appear, and both boxes are read-only
        (this terminal's own box only once what it holds is saved)."""
        self.revealed = True
        for wid in self._other_boxes():
            part, rid = self.boxes[wid]
            self.bases[wid] = texts.get((part, rid), "")
            box = self.query_one(f"#{wid}", TextArea)
            box.load_text(self.bases[wid])
            box.remove_class("hidden")
            self.query_one(f"#{wid}-hidden").add_class("hidden")
        self._freeze_own()
        self.notify(_("You have both saved your impressions: both are shown now, read-only."), timeout=5)

    def _freeze_own(self) -> None:
        own = self._own_box()
        if own is not None:
            box = self.query_one(f"#{own}", TextArea)
            if box.text.strip() == self.bases[own].strip():
                box.read_only = True

    def on_mount(self) -> None:
        if self.revealed and self._independent():
            for wid in self._other_boxes():
                self.query_one(f"#{wid}-hidden").add_class("hidden")
            self.query_one("#joint", TextArea).focus()
        else:
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

    @on(TextArea.Changed, ".debrief-box")
    def _typed(self, event: TextArea.Changed) -> None:
        if event.text_area.has_focus:    # typed here (not text loaded from the other terminal)
            expand_in_area(event.text_area, self.expansion)

    # ------------------------------------------------------------------ the other terminal

    @work(thread=True, exclusive=True, group="debrief-watch", exit_on_error=False)
    def watch_other(self) -> None:
        from fieldkit.sessions.debrief import load_debrief

        self.post_message(self.Stored(load_debrief(self.handle, self.session_id)))

    def on_debrief_screen_stored(self, message: Stored) -> None:
        self.watched += 1
        if self._independent() and not self.revealed:
            from fieldkit.sessions.debrief import impressions_saved_by_all

            if impressions_saved_by_all(message.texts, list(self.people), self.round):
                self._reveal(message.texts)
        elif self._independent():
            self._freeze_own()
        pending = []
        for wid, (part, rid) in self.boxes.items():
            if wid in self._other_boxes() and self._independent():
                if self.revealed:   # read-only here: show what the other terminal stored
                    stored = message.texts.get((part, rid), "")
                    if stored.strip() != self.bases[wid].strip():
                        self.bases[wid] = stored
                        self.query_one(f"#{wid}", TextArea).load_text(stored)
                continue
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
            if box is self.focused:
                finish_area(box, self.expansion)   # a snippet typed last, right before saving
            if box.text.strip() == self.bases[wid].strip() or (wid in self._other_boxes() and self._independent()):
                continue   # (the other researcher's impressions are saved in their terminal)
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

    def unsaved_work(self) -> bool:
        """Whether a box holds text typed here and not saved (the app asks before quitting)."""
        for wid in self.boxes:
            if wid in self._other_boxes() and self._independent():
                continue
            if self.query_one(f"#{wid}", TextArea).text.strip() != self.bases[wid].strip():
                return True
        if self.header_fields:
            for k, name in enumerate(self.header_fields):
                if self.query_one(f"#debrief-header-{k}", Input).value.strip() != \
                        self.header_saved.get(name, "").strip():
                    return True
        return False

    def save_unsaved_work(self) -> None:
        """Store what is typed (quitting with text typed: the app asked, the user said save)."""
        self.saved_count = self._store()

    def action_save(self) -> None:
        from fieldkit.errors import FieldkitError

        try:
            self.saved_count = self._store()
        except FieldkitError as exc:
            self.notify(exc.message, severity="error", timeout=8)
            return
        self.notify(ngettext("Debrief saved ({n} part changed).", "Debrief saved ({n} parts changed).",
                             self.saved_count).format(n=self.saved_count), timeout=2)
        self.watch_other()   # the other may have saved already: both are then shown

    def action_done(self) -> None:
        from fieldkit.errors import FieldkitError

        try:
            self._store()
        except FieldkitError as exc:
            self.notify(exc.message, severity="error", timeout=8)
            return
        self.dismiss(None)
