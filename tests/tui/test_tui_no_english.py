"""Norwegian throughout, on the screens (issue 22): the app on the Norwegian demo project with
FIELDKIT_LANG=nb, every main screen and the key dialogs drawn (Pilot), and the text drawn
checked against the interface's English word list (tests/support/english.py). The demo's own
words (its transcript, guide, tag scheme, people) are the team's, not the interface's."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from fieldkit import i18n
from fieldkit.projects import Workspace
from fieldkit.tui.app import FieldkitApp
from tests.support.cli import fk
from tests.support.english import english_in
from tests.support.wait import settle, until

REPO = Path(__file__).resolve().parents[2]


@pytest.fixture
def norwegian(monkeypatch: pytest.MonkeyPatch):
    monkeypatch.setenv("FIELDKIT_LANG", "nb")
    i18n.set_language()
    yield
    i18n.set_language("en")


def _demo_data() -> str:
    files = [REPO / "data" / "demo" / "transcript.json", REPO / "data" / "demo" / "demo.json",
             REPO / "data" / "tagschemes" / "interview.nb.toml", REPO / "guides" / "no-leder-samhandling.md"]
    return "\n".join(f.read_text(encoding="utf-8") for f in files) + "\nDemo University Ada Lund Ola Berg"


def _drawn(app) -> str:
    """The text on the screen, as the terminal shows it (from Textual's own screenshot)."""
    svg = app.export_screenshot()
    text = "\n".join(re.findall(r">([^<]*)</text>", svg))
    text = text.replace("&#160;", " ").replace("&amp;", "&").replace("&lt;", "<").replace("&gt;", ">")
    text = re.sub(r"\S*/\S*", " ", text)         # paths (the test's own folder names)
    # a word cut short to fit a column; the footer's key names are the user's language's
    # (FieldkitApp.get_key_display: "mellomrom"), so they are checked like any word
    return re.sub(r"\w+…", " ", text)


@pytest.mark.slow
async def test_screens_in_norwegian_have_no_english_from_the_interface(tmp_path: Path, norwegian):
    from fieldkit.tui.screens.coverage import CoverageScreen
    from fieldkit.tui.screens.export import ExportScreen
    from fieldkit.tui.screens.informants import InformantsScreen
    from fieldkit.tui.screens.interview import InterviewScreen
    from fieldkit.tui.screens.review import ReviewScreen
    from fieldkit.tui.screens.setup import SetupScreen
    from fieldkit.tui.screens.tags import TagsScreen

    root = tmp_path / "data"
    fk(root, "project", "demo", lang="nb")
    with Workspace(root).open("demo") as h:
        from fieldkit.export import session_choices

        sid = session_choices(h)[0].id
    data = _demo_data()
    found: dict[str, list[str]] = {}
    app = FieldkitApp(data_dir=root, project="demo")
    async with app.run_test(size=(140, 45)) as pilot:
        await settle(app, pilot)
        found["home"] = english_in(_drawn(app), data)
        screens = {
            "setup": lambda: SetupScreen("demo", sid), "interview": lambda: InterviewScreen("demo", sid, observer=True),
            "review": lambda: ReviewScreen("demo", sid), "export": lambda: ExportScreen("demo", sid),
            "informants": lambda: InformantsScreen("demo"), "coverage": lambda: CoverageScreen("demo"),
            "tags": lambda: TagsScreen("demo"),
        }
        for name, make in screens.items():
            app.push_screen(make())
            await until(pilot, lambda: app.screen.is_current and type(app.screen).__name__ != "HomeScreen",
                        f"the {name} screen")
            await settle(app, pilot)
            found[name] = english_in(_drawn(app), data)
            await pilot.press("question_mark")   # the help for this screen
            await settle(app, pilot)
            found[f"{name} help"] = english_in(_drawn(app), data)
            while len(app.screen_stack) > 1:
                app.pop_screen()
                await settle(app, pilot)
    assert {k: v for k, v in found.items() if v} == {}
