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

**Home** lists your projects (left) and their sessions (right): **Enter** on a project
goes to its sessions, **Enter** on a session opens it (a planned one in setup, a running
one as the observer, a finished one in review). **n** plans a new session, **t** the
project's team (researchers), deletion deadline and Sikt reference.

**Setup** asks for the session's guide, informants (**Ctrl+A** adds one, the search
finds them by code, role, organisation or site), lead and observer (**Ctrl+N** adds a
researcher), date and time, and checks consent with each participant: recording cannot
start without recording consent. **Ctrl+S** keeps it all as a plan.

**Interview**: one key each, no dialog. Tag keys come from the project's tag scheme
(shown above the note line); **c** covered, **x** partly, **s** skipped, **w** went
back to this theme, **1-9** probes, **space** a plain mark, **n** a note whose time is
the moment you pressed n, **p** pause, **q** stop (it asks first). A second terminal
joins with `fieldkit observe --project NAME`: both see each other's notes within a second.

**Debrief** keeps each researcher's first impressions and a joint note; both terminals
may write the joint note at once: nothing is overwritten.

**Review** shows the transcript with the notes and tags in place: edit the readable
layer (the verbatim one is kept), number the speakers, find and replace, mark quotes.

**Esc** goes back or closes, on every screen. **Ctrl+P** opens the command palette:
every command can be found by name.
""")

#: longer explanations, by action name, where the footer's word is too short
MORE = {
    # review
    "edit": N_("edit this segment's readable (edited) text; the verbatim text is kept"),
    "play": N_("play the recording from this segment (again: stop)"),
    "find": N_("find text in the transcript"),
    "find_next": N_("the next match of the last search"),
    "replace": N_("replace text in the edited layer (for example a name by NN)"),
    "quote": N_("mark this segment as a quote; its reference is session@time"),
    "theme": N_("jump to where a guide theme was covered"),
    "layer": N_("show the verbatim or the edited layer"),
    "reviewed": N_("mark the session as reviewed"),
    "jump('note', 1)": N_("next note"), "jump('note', -1)": N_("previous note"),
    "jump('tag', 1)": N_("next tag"), "jump('tag', -1)": N_("previous tag"),
    # interview
    "cover('covered')": N_("this question is covered (moves on)"),
    "cover('partly')": N_("partly covered"),
    "cover('skipped')": N_("skipped (moves on)"),
    "returned": N_("the informant went back to this theme"),
    "note": N_("a note; its time is when the key was pressed (Enter saves)"),
    "marker": N_("a plain mark on the timeline"),
    "pause": N_("pause or resume the recording"),
    "stop": N_("stop the interview (lists untouched themes and asks first)"),
    # setup, project screens
    "add_informant": N_("a new informant on the spot; they are chosen at once"),
    "add_researcher": N_("a new researcher on the spot; they take the empty lead or observer seat"),
    "save": N_("keep what is on screen (in setup: the plan for later, consent ticks and date included)"),
    "start": N_("start the interview (recording needs everyone's recording consent)"),
    "test_microphone": N_("a 3-second level test of the chosen microphone"),
    "names": N_("show or hide real names (hidden by default: others may see the screen)"),
    "withdraw": N_("record that the informant withdrew (then `fieldkit purge`)"),
    "next_guide": N_("the next guide of the project"),
    "save_project": N_("save the deletion deadline and Sikt reference"),
}

#: the screens' names in the help's heading
SCREEN_NAMES = {"Home": N_("Home"), "Setup": N_("Setup"), "Interview": N_("Interview"),
                "Debrief": N_("Debrief"), "Review": N_("Review"), "Informants": N_("Informants"),
                "Coverage": N_("Coverage"), "Export": N_("Export"), "Team": N_("Team"),
                "Conflicts": N_("Conflicts"), "Unlock": N_("Unlock"), "Confirm": N_("Question"),
                "Tags": N_("Tag schemes"), "TagForm": N_("Tag"),
                "InformantForm": N_("New informant"), "ResearcherForm": N_("Researcher")}

_RANGE = re.compile(r"^(\w+)\((\d)\)$")


def _rows(bindings: list[Binding]) -> list[tuple[str, str]]:
    rows: list[tuple[str, str]] = []
    seen: set[str] = set()
    ranges: dict[str, list[str]] = {}
    for b in bindings:
        action = b.action.removeprefix("app.") if isinstance(b, Binding) else ""
        if not isinstance(b, Binding) or action in seen or b.key in ("tab", "shift+tab"):
            continue
        seen.add(action)
        m = _RANGE.match(b.action)
        if m and b.key.isdigit():
            ranges.setdefault(m.group(1), []).append(b.key)
            if len(ranges[m.group(1)]) > 1:
                continue
        keys = [b.key_display or _key(k) for k in b.key.split(",")]
        keys += [_key(o.key) for o in bindings if isinstance(o, Binding) and o is not b
                 and o.action.removeprefix("app.") == action and not _RANGE.match(action)]
        key = ", ".join(dict.fromkeys(keys))
        text = _(b.description) if b.description else b.description
        more = _(MORE[b.action]) if b.action in MORE else None
        rows.append((key, f"{text}: {more}" if more and more.lower() != text.lower() else text))
    out = []
    for key, text in rows:
        digits = next((v for name, v in ranges.items() if len(v) > 1 and key == v[0]), None)
        if digits:
            key, text = f"{digits[0]}-{digits[-1]}", _("{what} by number").format(what=re.sub(r"\s*\d+$", "", text))
        out.append((key, text))
    return out


def _key(key: str) -> str:
    names = {"question_mark": "?", "slash": "/", "space": _("Space"), "escape": "Esc", "enter": "Enter",
             "f1": "F1", "up": "↑", "down": "↓", "left": "←", "right": "→", "delete": "Del",
             "left_square_bracket": "[", "right_square_bracket": "]"}
    if key in names:
        return names[key]
    if key.startswith("ctrl+"):
        return "Ctrl+" + key[5:].upper()
    if key.startswith("shift+"):
        return "Shift+" + _key(key[6:])
    return key


class HelpScreen(ModalScreen[None]):
    BINDINGS = [Binding("escape,question_mark,f1", "dismiss", N_("Close"))]

    def __init__(self, below: Screen | None = None) -> None:
        super().__init__()
        self.below = below

    def compose(self) -> ComposeResult:
        below = self.below
        if below is None:
            stack = [s for s in self.app.screen_stack if s is not self]
            below = stack[-1] if stack else None
        rows = _rows(list(getattr(below, "BINDINGS", [])) + list(self.app.BINDINGS)) if below else []
        name = re.sub(r"Screen$", "", type(below).__name__) if below else ""
        name = _(SCREEN_NAMES[name]) if name in SCREEN_NAMES else name
        table = (_("## Keys on this screen ({name})").format(name=name) + "\n\n"
                 + "\n".join(f"- **`{k}`** {t}" for k, t in rows))
        with VerticalScroll(id="help-body"):
            yield Markdown(table + "\n\n" + _(INTRO))
