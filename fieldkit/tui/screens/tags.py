"""Tag schemes: a team makes the codes its own before the first interview (rename a label,
change a key, add or remove a tag). Opened from the home screen's command palette
("Tag schemes"). Events refer to a tag by its code, so a renamed tag keeps its events."""

from __future__ import annotations

from typing import TYPE_CHECKING

from textual import work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical
from textual.message import Message
from textual.screen import ModalScreen
from textual.widgets import Button, Checkbox, DataTable, Footer, Input, Label, Static

from fieldkit.errors import FieldkitError
from fieldkit.i18n import N_, _, format_number
from fieldkit.tui.commands import SHELL_KEYS
from fieldkit.tui.screens.base import ProjectScreen

if TYPE_CHECKING:
    from fieldkit.instruments.tags import SchemeRow, TagRow


class TagForm(ModalScreen["tuple[str, str, bool] | None"]):
    """Label and key of one tag (a new one when ``tag`` is None)."""

    BINDINGS = [
        Binding("escape", "cancel", N_("Cancel"), id="tag_form.cancel",
                tooltip=N_("Close the form without changing the tag")),
    ]

    def __init__(self, scheme: str, tag: "TagRow | None" = None) -> None:
        super().__init__()
        self.scheme, self.tag = scheme, tag

    def compose(self) -> ComposeResult:
        title = (_("New tag in {scheme}").format(scheme=self.scheme) if self.tag is None
                 else _("Tag {code} in {scheme}").format(code=self.tag.code, scheme=self.scheme))
        with Vertical(id="tag-form"):
            yield Label(title, classes="pane-title")
            yield Label(_("Label (what the team sees, and the code name in NVivo and the exports)"))
            yield Input(self.tag.label if self.tag else "", id="tag-label")
            yield Label(_("Key (one character)"))
            yield Input(self.tag.key if self.tag else "", id="tag-key", max_length=1)
            if self.tag is None:
                yield Checkbox(_("On/off: the key starts and stops a stretch"), id="tag-state")
            with Horizontal(id="tag-form-buttons"):
                yield Button(_("Save"), id="save", variant="primary")
                yield Button(_("Cancel"), id="cancel")

    def on_mount(self) -> None:
        self.query_one("#tag-label", Input).focus()

    def on_input_submitted(self, _event: Input.Submitted) -> None:
        self._save()

    def on_button_pressed(self, event: Button.Pressed) -> None:
        if event.button.id == "save":
            self._save()
        else:
            self.dismiss(None)

    def _save(self) -> None:
        state = self.query_one("#tag-state", Checkbox).value if self.tag is None else False
        self.dismiss((self.query_one("#tag-label", Input).value, self.query_one("#tag-key", Input).value, state))

    def action_cancel(self) -> None:
        self.dismiss(None)


class TagsScreen(ProjectScreen[None]):
    BINDINGS = [
        *SHELL_KEYS,
        Binding("enter,e", "edit", N_("Edit tag"), id="tags.edit",
                tooltip=N_("Change the label or the key of the chosen tag (its events stay)")),
        Binding("a", "add", N_("Add tag"), id="tags.add",
                tooltip=N_("A new tag at the end of the chosen tag's scheme")),
        Binding("delete", "remove", N_("Remove tag"), id="tags.remove",
                tooltip=N_("Remove the chosen tag; refused once it has been used")),
        Binding("escape", "back", N_("Back"), id="tags.back", tooltip=N_("Back to the project")),
    ]

    class Loaded(Message):
        def __init__(self, schemes: "list[SchemeRow]") -> None:
            super().__init__()
            self.schemes = schemes

    def __init__(self, slug: str) -> None:
        super().__init__(slug)
        self.schemes: "list[SchemeRow]" = []
        self.rows: "list[tuple[SchemeRow, TagRow]]" = []

    def compose(self) -> ComposeResult:
        yield Label(_("Tag schemes"), classes="pane-title", id="tags-title")
        yield DataTable(id="tag-table", cursor_type="row", zebra_stripes=True)
        yield Static(_("Labels become the codes in the exports. Renaming a tag keeps everything "
                       "already tagged."), id="tags-status")
        yield Footer()

    def on_mount(self) -> None:
        self.load()

    @work(thread=True, exclusive=True, exit_on_error=False)
    def load(self) -> None:
        from fieldkit.instruments.tags import list_schemes
        from fieldkit.sessions.plan import ensure_tag_schemes

        ensure_tag_schemes(self.handle)
        self.post_message(self.Loaded(list_schemes(self.handle.db, self.handle.project_id)))

    def on_tags_screen_loaded(self, message: Loaded) -> None:
        self.schemes = message.schemes
        table = self.query_one("#tag-table", DataTable)
        cursor = table.cursor_row
        table.clear(columns=True)
        table.add_columns(_("Scheme"), _("Key"), _("Label"), _("Kind"), _("Used"), _("Code"))
        self.rows = [(sc, t) for sc in self.schemes for t in sc.tags]
        for sc, t in self.rows:
            table.add_row(sc.name, t.key, t.label, _("on/off") if t.mode == "state" else _("point"),
                          format_number(t.events), t.code, key=f"{sc.id}/{t.code}")
        if self.rows:
            table.move_cursor(row=min(cursor, len(self.rows) - 1))
        table.focus()

    def _current(self) -> "tuple[SchemeRow, TagRow] | None":
        table = self.query_one("#tag-table", DataTable)
        if not self.rows or table.row_count == 0:
            return None
        return self.rows[table.cursor_row]

    def _apply(self, change) -> bool:  # noqa: ANN001 - a call to a core function
        try:
            change()
        except FieldkitError as exc:
            self.notify(exc.message + (f"\n{exc.hint}" if exc.hint else ""), severity="error", timeout=10)
            return False
        self.load()
        return True

    def action_edit(self) -> None:
        from fieldkit.instruments.tags import rename_tag, set_tag_key

        cur = self._current()
        if cur is None:
            return
        sc, tag = cur

        def done(answer: "tuple[str, str, bool] | None") -> None:
            if answer is None:
                return
            label, key, _state = answer
            db, pid = self.handle.db, self.handle.project_id

            def change() -> None:
                if key != tag.key:
                    set_tag_key(db, pid, sc.name, tag.code, key)
                if label.strip() != tag.label:
                    rename_tag(db, pid, sc.name, tag.code, label)

            if self._apply(change):
                self.notify(_("Saved: {label} (key {key}).").format(label=" ".join(label.split()), key=key),
                            timeout=3)

        self.app.push_screen(TagForm(sc.name, tag), done)

    def action_add(self) -> None:
        from fieldkit.instruments.tags import add_tag

        cur = self._current()
        if cur is None and not self.schemes:
            return
        sc = cur[0] if cur else self.schemes[0]

        def done(answer: "tuple[str, str, bool] | None") -> None:
            if answer is None:
                return
            label, key, state = answer
            if self._apply(lambda: add_tag(self.handle.db, self.handle.project_id, sc.name, label, key,
                                           mode="state" if state else "point")):
                self.notify(_("Added: {label} (key {key}).").format(label=" ".join(label.split()), key=key),
                            timeout=3)

        self.app.push_screen(TagForm(sc.name), done)

    def action_remove(self) -> None:
        from fieldkit.instruments.tags import remove_tag
        from fieldkit.tui.screens.confirm import ConfirmScreen

        cur = self._current()
        if cur is None:
            return
        sc, tag = cur

        def answer(ok: bool | None) -> None:
            if ok and self._apply(lambda: remove_tag(self.handle.db, self.handle.project_id, sc.name, tag.code)):
                self.notify(_("Removed: {label}.").format(label=tag.label), timeout=3)

        self.app.push_screen(ConfirmScreen(_("Remove the tag {label} (key {key}) from {scheme}?").format(
            label=tag.label, key=tag.key, scheme=sc.name), yes=_("Remove"), no=_("Back")), answer)

    def action_back(self) -> None:
        self.dismiss(None)
