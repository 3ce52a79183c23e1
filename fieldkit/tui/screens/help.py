"""Help: the keys of the screen it was opened from (not its own), explained, and what
the screens are for."""

from __future__ import annotations

import re

from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import VerticalScroll
from textual.screen import ModalScreen, Screen
from textual.widgets import Markdown

from fieldkit.i18n import N_, _

INTRO = N_("""\
# fieldkit help

**Home** lists your projects (left) and their sessions (right): a planned session opens
in setup, a running one as the observer, a finished one in review.

**Setup** asks for the session's guide, informants, lead and observer, date and time, and
checks consent with each participant: recording cannot start without recording consent.

**Interview**: one key each, no dialog. Tag keys come from the project's tag scheme (shown
above the note line); a note's time is the moment its key was pressed. A second terminal
joins with `fieldkit observe --project NAME`: both see each other's notes within a second.

**Debrief** keeps each researcher's first impressions and a joint note; both terminals
may write the joint note at once: nothing is overwritten.

**Review** shows the transcript with the notes and tags in place: edit the readable
layer (the verbatim one is kept), number the speakers, find and replace, mark quotes.

Every key above can be moved in `keymap.toml` by its id; the command palette finds every
command by name.
""")

#: the screens' names in the help's heading
SCREEN_NAMES = {"Home": N_("Home"), "Setup": N_("Setup"), "Interview": N_("Interview"),
                "Debrief": N_("Debrief"), "Review": N_("Review"), "Informants": N_("Informants"),
                "Coverage": N_("Coverage"), "Export": N_("Export"), "Team": N_("Team"),
                "Conflicts": N_("Conflicts"), "Unlock": N_("Unlock"), "Confirm": N_("Question"),
                "Tags": N_("Tag schemes"), "TagForm": N_("Tag"),
                "InformantForm": N_("New informant"), "ResearcherForm": N_("Researcher"),
                # the review's dialogs: named as their keys are in the review's footer
                "Agreement": N_("Agreement"), "Suggestions": N_("Asked?"), "Replace": N_("Replace"),
                "ThemeJump": N_("Theme"), "Voice": N_("Who is this voice")}

def _rows(*nodes) -> list[tuple[str, str]]:
    from fieldkit.tui.keymap import key_rows

    out = []
    for row in key_rows(*nodes):
        text = row.description
        if row.tooltip and row.tooltip.lower() != (text or "").lower():
            text = f"{text}: {row.tooltip}" if text else row.tooltip
        out.append((row.key_text, text))
    return out


class HelpScreen(ModalScreen[None]):
    BINDINGS = [Binding("escape,question_mark,f1", "dismiss", N_("Close"), id="help.dismiss", tooltip=N_("close the help"))]

    def __init__(self, below: Screen | None = None) -> None:
        super().__init__()
        self.below = below

    def compose(self) -> ComposeResult:
        below = self.below
        if below is None:
            stack = [s for s in self.app.screen_stack if s is not self]
            below = stack[-1] if stack else None
        rows = _rows(below, self.app) if below else []
        name = re.sub(r"Screen$", "", type(below).__name__) if below else ""
        name = _(SCREEN_NAMES[name]) if name in SCREEN_NAMES else name
        table = (_("## Keys on this screen ({name})").format(name=name) + "\n\n"
                 + "\n".join(f"- **`{k}`** {t}" for k, t in rows))
        with VerticalScroll(id="help-body"):
            yield Markdown(table + "\n\n" + _(INTRO))
