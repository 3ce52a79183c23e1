"""Help: every binding of the screen underneath, and what the screens are for."""

from __future__ import annotations

from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import VerticalScroll
from textual.screen import ModalScreen
from textual.widgets import Markdown

INTRO = """\
# fieldkit help

**Home** lists your projects (left) and their sessions (right): **Enter** on a project
goes to its sessions, **Enter** on a session opens it (a planned one in setup, a running
one as the observer, a finished one in review). **n** plans a new session.

**Setup** asks for the session's guide, informants, lead and observer, and checks
consent with each participant: recording cannot start without recording consent.

**Interview**: one key each, no dialog. Tag keys come from the project's tag scheme
(shown above the note line); **c** covered, **x** partly, **s** skipped, **w** went
back to this theme, **1-9** probes, **space** a plain mark, **n** a note whose time is
the moment you pressed n, **p** pause, **q** stop. A second terminal joins with
`fieldkit observe --project NAME`: both see each other's notes within a second.

**Debrief** keeps each researcher's first impressions and a joint note.

**Ctrl+P** opens the command palette: every command can be found by name.

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
