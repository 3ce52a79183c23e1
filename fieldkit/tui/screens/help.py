"""Help: every binding of the screen underneath, and what the screens are for."""

from __future__ import annotations

from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import VerticalScroll
from textual.screen import ModalScreen
from textual.widgets import Markdown

INTRO = """\
# fieldkit help

**Home** lists your projects (left) and the sessions of the chosen project (right).
Press **Enter** on a session to open it. **Ctrl+P** opens the command palette,
where every command can be found by typing part of its name.

## Keys on this screen
"""


class HelpScreen(ModalScreen[None]):
    BINDINGS = [Binding("escape,q,question_mark", "dismiss", "Close")]

    def compose(self) -> ComposeResult:
        below = self.app.screen_stack[-1] if self.app.screen_stack else None
        rows = []
        if below is not None:
            for binding in below.BINDINGS + self.app.BINDINGS:
                if isinstance(binding, Binding):
                    key = binding.key_display or binding.key
                    rows.append(f"| `{key}` | {binding.description} |")
        table = "| Key | Does |\n|---|---|\n" + "\n".join(rows)
        with VerticalScroll(id="help-body"):
            yield Markdown(INTRO + table)
