"""Unlock an encrypted project: the passphrase is turned into the key in a worker and
only the key is kept (in memory, for this run)."""

from __future__ import annotations

from pathlib import Path

from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical
from textual.screen import ModalScreen
from textual.widgets import Label

from fieldkit.i18n import N_, _
from fieldkit.tui.commands import HELP_KEYS
from fieldkit.tui.widgets.inputs import Input


class UnlockScreen(ModalScreen[bool]):
    BINDINGS = [*HELP_KEYS, Binding("escape", "cancel", N_("Cancel"), id="unlock.cancel", tooltip=N_("close without changing anything"))]

    def __init__(self, folder: Path) -> None:
        super().__init__()
        self.folder = folder

    def compose(self) -> ComposeResult:
        with Vertical(id="unlock-box"):
            yield Label(_("Passphrase for {project}").format(project=self.folder.name))
            yield Input(password=True, id="passphrase")
            yield Label("", id="unlock-error")

    @on(Input.Submitted, "#passphrase")
    def _submitted(self, event: Input.Submitted) -> None:
        self.try_unlock(event.value)

    @work(thread=True, exclusive=True)
    def try_unlock(self, passphrase: str) -> None:
        from fieldkit.errors import FieldkitError
        from fieldkit.privacy.crypto import unlock

        try:
            key = unlock(self.folder, passphrase)
        except FieldkitError as exc:
            self.app.call_from_thread(self._failed, exc.message)
            return
        self.app.workspace.keys[self.folder] = key
        self.app.call_from_thread(self.dismiss, True)

    def _failed(self, message: str) -> None:
        self.query_one("#unlock-error", Label).update(message)
        self.query_one("#passphrase", Input).value = ""

    def action_cancel(self) -> None:
        self.dismiss(False)
