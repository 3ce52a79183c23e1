"""Adding an informant: pseudonym code, who they are (role, organisation, site, group)
and their consent record. The real name is optional and never leaves the laptop."""

from __future__ import annotations

from datetime import date
from typing import TYPE_CHECKING

from textual import on
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical
from textual.screen import ModalScreen
from textual.widgets import Button, Checkbox, Label, Static

from fieldkit.i18n import N_, _
from fieldkit.tui.commands import HELP_KEYS
from fieldkit.tui.widgets.inputs import Input

if TYPE_CHECKING:
    from fieldkit.projects import ProjectHandle

FIELDS = [("code", N_("Code")), ("name", N_("Name")), ("role", N_("Role")), ("organisation", N_("Organisation")),
          ("site", N_("Site")), ("group_label", N_("Group"))]


class InformantForm(ModalScreen[str | None]):
    BINDINGS = [*HELP_KEYS, Binding("escape", "cancel", N_("Cancel"), id="informant_form.cancel", tooltip=N_("close without changing anything")), Binding("ctrl+s", "save", N_("Save"), id="informant_form.save", tooltip=N_("save the informant"))]

    def __init__(self, handle: "ProjectHandle") -> None:
        super().__init__()
        self.handle = handle

    def compose(self) -> ComposeResult:
        with Vertical(id="informant-box"):
            yield Label(_("New informant (the name stays on this laptop; exports use the code)"),
                        classes="pane-title")
            for key, label in FIELDS:
                with Horizontal(classes="field"):
                    yield Label(_(label), classes="field-label")
                    yield Input(id=f"inf-{key}", placeholder=_("optional") if key != "code" else "")
            yield Checkbox(_("Information letter given (today)"), id="inf-letter")
            yield Checkbox(_("Written consent signed (today)"), id="inf-written")
            yield Static("", id="inf-error")
            with Horizontal(id="inf-buttons"):
                yield Button(_("Save (Ctrl+S)"), id="inf-save", variant="primary")
                yield Button(_("Cancel (Esc)"), id="inf-cancel")

    def on_mount(self) -> None:
        code = self.query_one("#inf-code", Input)
        from fieldkit.people.informants import next_code

        code.value = next_code(self.handle)
        code.focus()

    @on(Input.Submitted)
    def _next_field(self, event: Input.Submitted) -> None:
        self.focus_next()

    @on(Button.Pressed, "#inf-save")
    def action_save(self) -> None:
        from fieldkit.people.informants import add_informant
        from fieldkit.errors import FieldkitError

        values = {key: self.query_one(f"#inf-{key}", Input).value.strip() for key, _l in FIELDS}
        code = values.pop("code")
        if self.query_one("#inf-letter", Checkbox).value:
            values["info_letter_sent_on"] = date.today()
        if self.query_one("#inf-written", Checkbox).value:
            values["written_consent_on"] = date.today()
        try:
            add_informant(self.handle, code, **values)
        except FieldkitError as exc:
            self.query_one("#inf-error", Static).update(exc.message)
            return
        self.dismiss(code)

    @on(Button.Pressed, "#inf-cancel")
    def action_cancel(self) -> None:
        self.dismiss(None)
