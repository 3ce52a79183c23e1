"""Conflicts: records changed on two laptops (or here and by the team). Each row shows the
kept version (the later change) and the one set aside; k keeps it as it is, o puts the
other version back. All database work is in fieldkit.team.ops."""

from __future__ import annotations

from textual import work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.message import Message
from textual.widgets import DataTable, Footer, Label, Static

from fieldkit.i18n import N_, _, format_datetime
from fieldkit.tui.screens.base import ProjectScreen


def _when(value) -> str:
    from datetime import datetime

    if isinstance(value, str):
        try:
            value = datetime.fromisoformat(value)
        except ValueError:
            return value[:16]
    return format_datetime(value, "short") if isinstance(value, datetime) else ""


class ConflictsScreen(ProjectScreen[None]):
    BINDINGS = [
        Binding("k", "keep('kept')", N_("Keep as it is"), id="conflicts.keep_kept", tooltip=N_("keep this version as it is")),
        Binding("o", "keep('other')", N_("Take the other version"), id="conflicts.keep_other", tooltip=N_("take the other version instead")),
        Binding("escape", "back", N_("Back"), id="conflicts.back", tooltip=N_("back to the previous screen")),
    ]

    class Loaded(Message):
        def __init__(self, rows: list[dict]) -> None:
            super().__init__()
            self.rows = rows

    def __init__(self, slug: str) -> None:
        super().__init__(slug)
        self.rows: list[dict] = []

    def compose(self) -> ComposeResult:
        yield Label(_("Conflicts to settle"), classes="pane-title", id="conflicts-title")
        yield DataTable(id="conflict-table", cursor_type="row", zebra_stripes=True)
        yield Static("", id="conflict-detail")
        yield Footer()

    def on_mount(self) -> None:
        table = self.query_one("#conflict-table", DataTable)
        table.add_columns(_("What"), _("Kept"), _("Changed"), _("Differences"))
        self.load()

    @work(thread=True, exclusive=True, exit_on_error=False)
    def load(self) -> None:
        from fieldkit.team.ops import list_conflicts

        self.post_message(self.Loaded(list_conflicts(self.handle)))

    def on_conflicts_screen_loaded(self, message: Loaded) -> None:
        from fieldkit.team.ops import RECORD_KINDS, describe_conflict

        self.rows = message.rows
        table = self.query_one("#conflict-table", DataTable)
        table.clear()
        for c in self.rows:
            kept = {"remote": _("incoming"), "local": _("this laptop's"),
                    "merged": _("the same on every copy"),
                    "deleted": _("the deletion"), "carried": _("carried over")}.get(c["kept_side"], c["kept_side"])
            what = c["tbl"]
            table.add_row(_(RECORD_KINDS[what]) if what in RECORD_KINDS else what, kept, _when(c["kept"].get("updated_at")),
                          str(len(describe_conflict(c))), key=str(c["id"]))
        if not self.rows:
            self.query_one("#conflict-detail", Static).update(_("No conflicts to settle."))
        else:
            table.focus()
            self._detail(0)

    def on_data_table_row_highlighted(self, event: DataTable.RowHighlighted) -> None:
        self._detail(event.cursor_row)

    def _detail(self, index: int) -> None:
        from fieldkit.team.ops import describe_conflict

        if 0 <= index < len(self.rows):
            self.query_one("#conflict-detail", Static).update("\n".join(describe_conflict(self.rows[index])))

    def action_keep(self, which: str) -> None:
        table = self.query_one("#conflict-table", DataTable)
        if not self.rows or table.cursor_row is None or table.cursor_row >= len(self.rows):
            return
        self._settle(str(self.rows[table.cursor_row]["id"]), which)

    @work(thread=True, exclusive=True, exit_on_error=False)
    def _settle(self, conflict_id: str, which: str) -> None:
        from fieldkit.errors import FieldkitError
        from fieldkit.team.ops import list_conflicts, settle

        try:
            settle(self.handle, conflict_id, which)
        except FieldkitError as exc:
            self.app.call_from_thread(self.notify, exc.message, severity="error")
        self.post_message(self.Loaded(list_conflicts(self.handle)))

    def action_back(self) -> None:
        self.app.pop_screen()
