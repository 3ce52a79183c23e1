"""A yes/no question in a modal: ``push_screen(ConfirmScreen(text), callback)``.

Yes is y in English and j in Norwegian (y still answers yes there), no is n or Esc, and
Enter presses the button that has focus (No at first: a stray Enter must not stop an
interview)."""

from __future__ import annotations

from typing import Callable

from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical
from textual.screen import ModalScreen
from textual.widgets import Button, Static

from fieldkit.i18n import N_, _
from fieldkit.tui.commands import HELP_KEYS


class ConfirmScreen(ModalScreen[bool]):
    BINDINGS = [
        *HELP_KEYS,
        Binding("y", "answer(True)", N_("Yes"), show=False, id="confirm.yes", tooltip=N_("answer yes")),
        Binding("escape,n", "answer(False)", N_("No"), show=False, id="confirm.no", tooltip=N_("answer no")),
    ]

    #: keys that answer or move between the buttons: never handed to ``other_key``
    OWN_KEYS = {"y", "j", "n", "escape", "enter", "tab", "shift+tab", "left", "right", "space",
                "question_mark", "f1", "ctrl+q", "ctrl+c", "ctrl+p"}

    def __init__(self, text: str, yes: str | None = None, no: str | None = None,
                 other_key: "Callable[[str], bool] | None" = None) -> None:
        super().__init__()
        self.text, self.yes, self.no = text, yes or _("Yes"), no or _("No")
        # a key that is not the question's own (a tag key while the stop question is
        # open): handed to whoever asked, who returns whether it used it
        self.other_key = other_key

    def on_key(self, event) -> None:
        if self.other_key is not None and event.key not in self.OWN_KEYS and self.other_key(event.key):
            event.stop()
            event.prevent_default()

    def compose(self) -> ComposeResult:
        with Vertical(id="confirm-box"):
            yield Static(self.text, id="confirm-text")
            with Horizontal(id="confirm-buttons"):
                yield Button(_("{answer} (y)").format(answer=self.yes), id="yes", variant="error")
                yield Button(_("{answer} (n)").format(answer=self.no), id="no", variant="primary")

    def on_mount(self) -> None:
        from fieldkit.i18n import language

        if language() == "nb":  # ja/nei
            from fieldkit.tui import compat

            compat.add_bindings(self, [Binding("j", "answer(True)", _("Yes"), show=False, id="confirm.yes_j",
                                               tooltip=_("answer yes"))])
        self.query_one("#no", Button).focus()

    def on_button_pressed(self, event: Button.Pressed) -> None:
        self.dismiss(event.button.id == "yes")

    def action_answer(self, value: bool) -> None:
        self.dismiss(value)
