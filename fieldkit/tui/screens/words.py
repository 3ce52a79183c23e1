"""The project's word list (names, places, terms the transcript should spell right), one term
per line. Opened from the command palette ("Word list"); `fieldkit words` does the same in the
command line. The list steers the final pass (fieldkit.transcription.wordlist)."""

from __future__ import annotations

from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical
from textual.screen import ModalScreen
from textual.widgets import Button, Label, TextArea

from fieldkit.i18n import N_, _, ngettext
from fieldkit.tui.commands import HELP_KEYS


class WordListScreen(ModalScreen[bool]):
    """Edit the word list of project ``slug``; dismissed with True when it was saved."""

    BINDINGS = [
        *HELP_KEYS,
        Binding("ctrl+s", "save", N_("Save"), id="words.save", tooltip=N_("Save the word list")),
        Binding("escape", "cancel", N_("Cancel"), id="words.cancel",
                tooltip=N_("Close without changing the word list")),
    ]

    def __init__(self, slug: str) -> None:
        super().__init__()
        self.slug = slug

    def compose(self) -> ComposeResult:
        from fieldkit.transcription.service import word_list

        with self.app.workspace.open(self.slug) as handle:
            terms = word_list(handle)
        with Vertical(id="words-box"):
            yield Label(_("Word list"), classes="pane-title")
            yield Label(_("One term per line: names, places, organisations, terms (\"Helse Nord RHF\"). "
                          "Transcription spells them as written here."), id="words-help")
            yield TextArea("\n".join(terms), id="words-text", soft_wrap=False)
            with Horizontal(id="words-buttons"):
                yield Button(_("Save (Ctrl+S)"), id="save", variant="primary")
                yield Button(_("Cancel (Esc)"), id="cancel")

    def on_mount(self) -> None:
        self.query_one("#words-text", TextArea).focus()

    def on_button_pressed(self, event: Button.Pressed) -> None:
        if event.button.id == "save":
            self.action_save()
        else:
            self.action_cancel()

    def action_save(self) -> None:
        from fieldkit.transcription.service import set_word_list

        lines = self.query_one("#words-text", TextArea).text.splitlines()
        with self.app.workspace.open(self.slug) as handle:
            terms = set_word_list(handle, lines)
        self.app.notify(ngettext("Word list saved: {n} term.", "Word list saved: {n} terms.", len(terms)).format(n=len(terms)))
        self.dismiss(True)

    def action_cancel(self) -> None:
        self.dismiss(False)
