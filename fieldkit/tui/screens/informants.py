"""Informants: pseudonym codes, who they are, their consent state and sessions. Real
names are hidden unless asked for (N), because others may see the screen."""

from __future__ import annotations

from typing import TYPE_CHECKING

from textual import work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.message import Message
from textual.widgets import DataTable, Footer, Label, Static

from fieldkit.i18n import N_, _, format_number
from fieldkit.tui.commands import SHELL_KEYS
from fieldkit.tui.screens.base import ProjectScreen

if TYPE_CHECKING:
    from fieldkit.people.informants import InformantRow


class InformantsScreen(ProjectScreen[None]):
    BINDINGS = [
        *SHELL_KEYS,
        Binding("a", "add", N_("Add informant"), id="informants.add", tooltip=N_("a new informant")),
        Binding("w", "withdraw", N_("Withdrawal"), id="informants.withdraw", tooltip=N_("record that the informant withdrew (then `fieldkit purge`)")),
        Binding("N", "names", N_("Show/hide names"), id="informants.names", tooltip=N_("show or hide real names (hidden by default: others may see the screen)")),
        Binding("escape", "back", N_("Back"), id="informants.back", tooltip=N_("back to the previous screen")),
    ]

    class Loaded(Message):
        def __init__(self, rows: "list[InformantRow]") -> None:
            super().__init__()
            self.rows = rows

    def __init__(self, slug: str) -> None:
        super().__init__(slug)
        self.rows: "list[InformantRow]" = []
        self.show_names = False

    def compose(self) -> ComposeResult:
        yield Label(_("Informants"), classes="pane-title", id="informants-title")
        yield DataTable(id="informant-table", cursor_type="row", zebra_stripes=True)
        yield Static(_("Names are hidden (N shows them). Exports use the codes."), id="informants-status")
        yield Footer()

    def on_mount(self) -> None:
        self.load()

    @work(thread=True, exclusive=True, exit_on_error=False)
    def load(self) -> None:
        from fieldkit.people.informants import informant_rows

        self.post_message(self.Loaded(informant_rows(self.handle)))

    def on_informants_screen_loaded(self, message: Loaded) -> None:
        self.rows = message.rows
        self._fill()

    def _fill(self) -> None:
        table = self.query_one("#informant-table", DataTable)
        cursor = table.cursor_row
        table.clear(columns=True)
        cols = [_("Code")] + ([_("Name")] if self.show_names else []) + [
            _("Role"), _("Organisation"), _("Site"), _("Group"), _("Attributes"), _("Consent"), _("Sessions")]
        table.add_columns(*cols)
        for r in self.rows:
            cells = [r.code] + ([r.name] if self.show_names else []) + [
                r.role, r.organisation, r.site, r.group, r.attributes, r.consent,
                format_number(r.sessions)]
            table.add_row(*cells, key=r.code)
        if self.rows:
            table.move_cursor(row=min(cursor, len(self.rows) - 1))
        table.focus()
        self.query_one("#informants-title", Label).update(_("Informants — {n}").format(n=format_number(len(self.rows))))

    def _current(self) -> "InformantRow | None":
        table = self.query_one("#informant-table", DataTable)
        if not self.rows or table.row_count == 0:
            return None
        return self.rows[table.cursor_row]

    def action_names(self) -> None:
        self.show_names = not self.show_names
        self.query_one("#informants-status", Static).update(
            _("Names are shown: press N to hide them.") if self.show_names
            else _("Names are hidden (N shows them). Exports use the codes."))
        self._fill()

    def action_add(self) -> None:
        from fieldkit.tui.screens.informant_form import InformantForm

        def added(code: str | None) -> None:
            if code:
                self.notify(_("Informant {code} added.").format(code=code), timeout=3)
                self.load()

        self.app.push_screen(InformantForm(self.handle), added)

    def action_withdraw(self) -> None:
        from fieldkit.tui.screens.confirm import ConfirmScreen

        row = self._current()
        if row is None:
            return
        if row.withdrawn:
            self.notify(_("{code} has already withdrawn ({consent}).").format(code=row.code, consent=row.consent), timeout=4)
            return

        def answer(ok: bool | None) -> None:
            if ok:
                from fieldkit.people.informants import withdraw

                withdraw(self.handle, row.code)
                self.notify(_("{code} withdrew today. `fieldkit purge --informant {code}` removes "
                              "their data.").format(code=row.code), severity="warning", timeout=10)
                self.load()

        self.app.push_screen(ConfirmScreen(
            _("Record that {code} withdrew their consent today?\n\nThey can no longer be recorded. "
              "Their data stays until you purge it.").format(code=row.code), yes=_("Withdrawn"), no=_("Back")), answer)

    def action_back(self) -> None:
        self.dismiss(None)
