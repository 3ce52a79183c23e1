"""Export: sessions to Word, text, subtitles, spreadsheets, JSON, REFI-QDA and ELAN,
pseudonymised unless the researcher explicitly says otherwise. The same service as
``fieldkit export``; files are written atomically and never overwritten without asking."""

from __future__ import annotations

import uuid
from pathlib import Path

from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, VerticalScroll
from textual.message import Message
from textual.widgets import Button, Checkbox, Footer, Label, Select, SelectionList, Static

from fieldkit.i18n import N_, _, ngettext
from fieldkit.tui.widgets.inputs import Input
from fieldkit.tui.screens.base import ProjectScreen

FORMAT_LABELS = {"docx": N_("Word (.docx)"), "md": "Markdown", "txt": N_("Plain text (QualCoder)"),
                 "srt": N_("Subtitles (.srt)"), "vtt": N_("Subtitles with speakers (.vtt)"),
                 "csv": N_("Segments, events and coverage (.csv)"), "xlsx": N_("Segments, events and coverage (.xlsx)"),
                 "json": N_("Everything, for scripts (.json)"), "qdpx": "REFI-QDA: NVivo, ATLAS.ti, MAXQDA, QualCoder",
                 "eaf": "ELAN (.eaf)"}
MODES = [(N_("Pseudonym codes (I01 …)"), "code"), (N_("Role labels (nurse, leader …)"), "role"),
         ("NN", "nn"), (N_("By organisation (NN, kommune A)"), "organisation"),
         (N_("By case network (NN, nettverk 3)"), "network"), (N_("Off: real names (stays inside the team!)"), "off")]


class ExportScreen(ProjectScreen[None]):
    BINDINGS = [
        Binding("ctrl+s", "export", N_("Export"), id="export.export", tooltip=N_("write the chosen sessions in the chosen formats")),
        Binding("escape", "back", N_("Back"), id="export.back", tooltip=N_("back to the previous screen")),
    ]

    class Sessions(Message):
        def __init__(self, rows: list, exports_dir: Path) -> None:  # rows: [SessionChoice]
            super().__init__()
            self.rows, self.exports_dir = rows, exports_dir

    class Done(Message):
        def __init__(self, lines: list[str], warnings: list[str], files: list[Path], error: str | None = None,
                     exists: bool = False) -> None:
            super().__init__()
            self.lines, self.warnings, self.files, self.error, self.exists = lines, warnings, files, error, exists

    def __init__(self, slug: str, session_id: uuid.UUID | str | None = None) -> None:
        super().__init__(slug, session_id)
        self.running = False

    def compose(self) -> ComposeResult:
        yield Label(_("Export"), classes="pane-title")
        with VerticalScroll(id="export-form"):
            yield Label(_("Sessions"), classes="section-title")
            yield SelectionList[str](id="export-sessions")
            yield Label(_("Formats"), classes="section-title")
            yield SelectionList[str](*[(_(label), fmt, fmt == "docx") for fmt, label in FORMAT_LABELS.items()],
                                     id="export-formats")
            with Horizontal(classes="field"):
                yield Label(_("Names"), classes="field-label")
                yield Select([(_(label), mode) for label, mode in MODES], value="code", allow_blank=False, id="export-mode")
            with Horizontal(classes="field"):
                yield Label(_("Text"), classes="field-label")
                yield Select([(_("Edited (readable)"), "edited"), (_("Verbatim (as heard)"), "verbatim")],
                             value="edited", allow_blank=False, id="export-layer")
            with Horizontal(classes="field"):
                yield Label(_("Folder"), classes="field-label")
                yield Input(id="export-folder")
            yield Checkbox(_("Line numbers in Word (line-by-line coding)"), id="export-lines")
            yield Checkbox(_("Time of every segment inside a speaker's turn"), id="export-turn-times")
            yield Checkbox(_("Treat organisations and sites as names too"), id="export-orgs")
            yield Button(_("Export (Ctrl+S)"), id="export-run", variant="success")
            yield Static("", id="export-result")
        yield Footer()

    def on_mount(self) -> None:
        self.load()

    @work(thread=True, exit_on_error=False)
    def load(self) -> None:
        from fieldkit.export import session_choices

        self.post_message(self.Sessions(session_choices(self.handle), self.handle.exports_dir))

    def on_export_screen_sessions(self, message: Sessions) -> None:
        sel = self.query_one("#export-sessions", SelectionList)
        wanted = str(self.session_id) if self.session_id else None
        for row in message.rows:
            sel.add_option((row.label, row.id, wanted is None or row.id == wanted))
        self.query_one("#export-folder", Input).value = str(message.exports_dir)
        sel.focus()

    def _result(self, text: str, problem: bool = False) -> None:
        widget = self.query_one("#export-result", Static)
        widget.update(text)
        widget.set_class(problem, "problem")
        widget.scroll_visible()

    @on(Button.Pressed, "#export-run")
    def action_export(self, force: bool = False, names_ok: bool = False) -> None:
        from fieldkit.tui.screens.confirm import ConfirmScreen

        if self.running:
            return
        sessions = list(self.query_one("#export-sessions", SelectionList).selected)
        formats = list(self.query_one("#export-formats", SelectionList).selected)
        if not sessions or not formats:
            self._result(_("Choose at least one session and one format."), problem=True)
            return
        mode = self.query_one("#export-mode", Select).value
        if mode == "off" and not names_ok:
            def confirmed(ok: bool | None) -> None:
                if ok:
                    self.action_export(force=force, names_ok=True)

            self.app.push_screen(ConfirmScreen(
                _("Export with the real names of informants, researchers and places?\n\n"
                  "ELAN and REFI-QDA exports then carry the sessions' audio too (voices identify).\n"
                  "These files must not leave the project team."), yes=_("Real names"), no=_("Back")), confirmed)
            return
        from fieldkit.export.collect import ExportOptions

        options = ExportOptions(mode=mode, layer=self.query_one("#export-layer", Select).value,
                                line_numbers=self.query_one("#export-lines", Checkbox).value,
                                turn_times=self.query_one("#export-turn-times", Checkbox).value,
                                redact_organisations=self.query_one("#export-orgs", Checkbox).value)
        folder = Path(self.query_one("#export-folder", Input).value.strip() or self.handle.exports_dir)
        self.running = True
        self._result(_("Exporting …"))
        self.run_export(sessions, formats, options, folder, force)

    @work(thread=True, exclusive=True, exit_on_error=False)
    def run_export(self, sessions: list[str], formats: list[str], options, folder: Path,
                   force: bool) -> None:
        from fieldkit.errors import FieldkitError
        from fieldkit.export import ExportExists, run_export

        try:
            result = run_export(self.handle, formats, [uuid.UUID(s) for s in sessions], options, folder, force)
        except ExportExists as exc:
            self.post_message(self.Done([], [], [], exc.message, exists=True))
            return
        except FieldkitError as exc:
            self.post_message(self.Done([], [], [], exc.message + (f" {exc.hint}" if exc.hint else "")))
            return
        except OSError as exc:
            self.post_message(self.Done([], [], [], _("Cannot write to {folder}: {reason}").format(folder=folder, reason=exc.strerror or exc)))
            return
        self.post_message(self.Done(list(result.bundle.report_lines), list(result.bundle.warnings),
                                    result.files))

    def on_export_screen_done(self, message: Done) -> None:
        from fieldkit.tui.screens.confirm import ConfirmScreen

        self.running = False
        if message.exists:
            self._result(message.error, problem=True)

            def overwrite(ok: bool | None) -> None:
                if ok:
                    self.action_export(force=True, names_ok=True)

            self.app.push_screen(ConfirmScreen(message.error + "\n\n" + _("Replace the existing files?"),
                                               yes=_("Replace"), no=_("Keep them")), overwrite)
            return
        if message.error:
            self._result(message.error, problem=True)
            return
        lines = [ngettext("Wrote {n} file:", "Wrote {n} files:", len(message.files)).format(n=len(message.files))] + [f"  {p}" for p in message.files]
        lines += [""] + message.lines
        lines += [f"⚠ {w}" for w in message.warnings]
        self._result("\n".join(lines))
        self.notify(ngettext("Exported {n} file.", "Exported {n} files.", len(message.files)).format(n=len(message.files)), timeout=4)

    def action_back(self) -> None:
        self.dismiss(None)
