"""The project's team and particulars: its researchers (name, initials, institution:
add and edit), and the Sikt reference and deletion deadline, which often change after
the project was made ("one month after grading")."""

from __future__ import annotations

import uuid
from typing import TYPE_CHECKING

from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical
from textual.message import Message
from textual.screen import ModalScreen
from textual.widgets import Button, DataTable, Footer, Label, Static

from fieldkit.i18n import N_, _, format_date, format_number
from fieldkit.tui.commands import HELP_KEYS, SHELL_KEYS
from fieldkit.tui.widgets.inputs import Input
from fieldkit.tui.screens.base import ProjectScreen

if TYPE_CHECKING:
    from fieldkit.projects import ProjectHandle
    from fieldkit.people.researchers import ResearcherInfo

FIELDS = [("name", N_("Name")), ("initials", N_("Initials")), ("institution", N_("Institution"))]


class ResearcherForm(ModalScreen["uuid.UUID | None"]):
    """Add a researcher, or edit one (``researcher`` given). Returns their id."""

    BINDINGS = [*HELP_KEYS, Binding("escape", "cancel", N_("Cancel"), id="researcher_form.cancel",
                        tooltip=N_("close without changing anything")),
                Binding("ctrl+s", "save", N_("Save"), id="researcher_form.save", tooltip=N_("save the researcher"))]

    def __init__(self, handle: "ProjectHandle", researcher: "ResearcherInfo | None" = None) -> None:
        super().__init__()
        self.handle = handle
        self.researcher = researcher

    def compose(self) -> ComposeResult:
        with Vertical(id="researcher-box"):
            yield Label(_("Edit researcher") if self.researcher else
                        _("New researcher (initials label their notes and speech: unique in the project)"),
                        classes="pane-title")
            for key, label in FIELDS:
                with Horizontal(classes="field"):
                    yield Label(_(label), classes="field-label")
                    value = getattr(self.researcher, key) if self.researcher else ""
                    yield Input(value, id=f"res-{key}",
                                placeholder={"initials": _("e.g. IB"), "institution": _("optional")}.get(key, ""))
            yield Static("", id="res-error")
            with Horizontal(id="res-buttons"):
                yield Button(_("Save (Ctrl+S)"), id="res-save", variant="primary")
                yield Button(_("Cancel (Esc)"), id="res-cancel")

    def on_mount(self) -> None:
        self.query_one("#res-name", Input).focus()

    @on(Input.Changed, "#res-name")
    def _suggest_initials(self, event: Input.Changed) -> None:
        if self.researcher is None:
            initials = self.query_one("#res-initials", Input)
            words = [w for w in event.value.split() if w[:1].isalpha()]
            suggestion = "".join(w[0] for w in words[:1] + words[-1:] if w).upper() if len(words) > 1 else ""
            if not initials.has_focus:
                initials.value = suggestion

    @on(Input.Submitted)
    def _next_field(self, event: Input.Submitted) -> None:
        if event.input.id == "res-institution":
            self.action_save()
        else:
            self.focus_next()

    @on(Button.Pressed, "#res-save")
    def action_save(self) -> None:
        from fieldkit.errors import FieldkitError
        from fieldkit.people.researchers import add_researcher, edit_researcher

        values = {key: self.query_one(f"#res-{key}", Input).value for key, _l in FIELDS}
        try:
            if self.researcher is None:
                info = add_researcher(self.handle, values["name"], values["initials"], values["institution"])
            else:
                info = edit_researcher(self.handle, self.researcher.id, **values)
        except FieldkitError as exc:
            self.query_one("#res-error", Static).update(exc.message)
            return
        self.dismiss(info.id)

    @on(Button.Pressed, "#res-cancel")
    def action_cancel(self) -> None:
        self.dismiss(None)


class TeamScreen(ProjectScreen[None]):
    """Researchers of the project, and its Sikt reference and deletion deadline."""

    BINDINGS = [
        *SHELL_KEYS,
        Binding("a", "add", N_("Add researcher"), id="team.add", tooltip=N_("a new researcher in the team")),
        Binding("e", "edit", N_("Edit researcher"), id="team.edit", tooltip=N_("change the chosen researcher")),
        Binding("ctrl+s", "save_project", N_("Save deadline/Sikt"), id="team.save_project", tooltip=N_("save the deletion deadline and Sikt reference")),
        Binding("escape", "back", N_("Back"), id="team.back", tooltip=N_("back to the previous screen")),
    ]

    class Loaded(Message):
        def __init__(self, researchers, project) -> None:  # noqa: ANN001
            super().__init__()
            self.researchers, self.project = researchers, project

    def __init__(self, slug: str) -> None:
        super().__init__(slug)
        self.researchers: list = []

    def compose(self) -> ComposeResult:
        yield Label(_("Team and project"), classes="pane-title", id="team-title")
        with Horizontal(classes="field"):
            yield Label(_("Delete by"), classes="field-label")
            yield Input(id="team-deadline", placeholder=_("YYYY-MM-DD (deletion deadline; empty: none)"))
        with Horizontal(classes="field"):
            yield Label(_("Sikt ref."), classes="field-label")
            yield Input(id="team-sikt", placeholder=_("Sikt (NSD) reference number"))
        yield Static("", id="team-status")
        yield Label(_("Researchers (a adds, e edits)"), classes="section-title", id="team-researchers-title")
        yield DataTable(id="team-table", cursor_type="row", zebra_stripes=True)
        yield Footer()

    def on_mount(self) -> None:
        self.query_one("#team-table", DataTable).add_columns(_("Initials"), _("Name"), _("Institution"), _("Sessions"))
        self.load()

    @work(thread=True, exclusive=True, group="team-load", exit_on_error=False)
    def load(self) -> None:
        from fieldkit.people.researchers import list_researchers

        self.post_message(self.Loaded(list_researchers(self.handle), self.handle.project()))

    def on_team_screen_loaded(self, message: Loaded) -> None:
        self.researchers = message.researchers
        p = message.project
        self.query_one("#team-title", Label).update(_("Team and project — {name}").format(name=p.name))
        self.query_one("#team-deadline", Input).value = str(p.deletion_deadline or "")
        self.query_one("#team-sikt", Input).value = p.sikt_reference or ""
        table = self.query_one("#team-table", DataTable)
        table.clear()
        for r in self.researchers:
            table.add_row(r.initials, r.name, r.institution, format_number(r.sessions), key=str(r.id))
        status = self.query_one("#team-status", Static)
        if not self.researchers:
            status.update(_("No researchers yet: press a to add the pair (they lead and observe sessions)."))
            status.add_class("no-researchers")
        elif status.has_class("no-researchers"):
            status.remove_class("no-researchers")
            status.update("")
        table.focus()

    def action_add(self) -> None:
        def added(rid: uuid.UUID | None) -> None:
            if rid:
                self.notify(_("Researcher added."), timeout=3)
                self.load()

        self.app.push_screen(ResearcherForm(self.handle), added)

    def action_edit(self) -> None:
        table = self.query_one("#team-table", DataTable)
        if not self.researchers or table.row_count == 0:
            self.notify(_("No researcher to edit: press a to add one."), severity="warning")
            return
        current = self.researchers[table.cursor_row]

        def edited(rid: uuid.UUID | None) -> None:
            if rid:
                self.load()

        self.app.push_screen(ResearcherForm(self.handle, current), edited)

    @on(Input.Submitted, "#team-deadline, #team-sikt")
    def action_save_project(self) -> None:
        from datetime import datetime

        from fieldkit.errors import FieldkitError

        status = self.query_one("#team-status", Static)
        text = self.query_one("#team-deadline", Input).value.strip()
        try:
            deadline = datetime.strptime(text, "%Y-%m-%d").date() if text else None
        except ValueError:
            status.update(_("{text!r} is not a date like 2026-06-30.").format(text=text))
            status.add_class("problem")
            return
        try:
            p = self.app.workspace.set_details(self.handle.folder, deletion_deadline=deadline,
                                               sikt_reference=self.query_one("#team-sikt", Input).value)
        except FieldkitError as exc:
            status.update(exc.message)
            status.add_class("problem")
            return
        status.remove_class("problem")
        status.update(_("Saved: delete by {deadline}; Sikt {sikt}.").format(
            deadline=format_date(p.deletion_deadline) if p.deletion_deadline else _("(no deadline)"),
            sikt=p.sikt_reference or "-"))
        self.notify(_("Project saved."), timeout=3)

    def action_back(self) -> None:
        self.dismiss(None)
