"""Snapshots of the main screens in Norwegian bokmål (issue 17: "Snapshots of the main
screens in Norwegian"), at 120x40: home, setup, interview (the observer's seat over a
recorded session), review, informants, export and help. The language is chosen the way a
user chooses it (``FIELDKIT_LANG=nb``) and set for this process with ``set_language``."""

from __future__ import annotations

import time
from pathlib import Path

import pytest
from textual.widgets import Checkbox

from fieldkit import i18n
from fieldkit.tui.app import FieldkitApp
from tests.support.screens import SLUG
from tests.support.screens import interview_project as _project
from tests.support.screens import planned_session as _planned
from tests.support.screens import recorded_session as _recorded_session
from tests.support.wait import settle as _settle
from tests.support.wait import still
from tests.support.wait import until as _until

SCREENS = ["home", "setup", "interview", "review", "informants", "export", "help"]


@pytest.fixture
def norwegian(monkeypatch: pytest.MonkeyPatch):
    monkeypatch.setenv("FIELDKIT_LANG", "nb")
    i18n.set_language()           # from FIELDKIT_LANG, as the app would at start
    assert i18n.language() == "nb"
    yield
    monkeypatch.delenv("FIELDKIT_LANG")
    i18n.set_language("en")


@pytest.mark.parametrize("name", SCREENS)
def test_main_screens_in_norwegian(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, snap_compare, norwegian,
                                   name: str):
    monkeypatch.setenv("HOME", str(tmp_path))
    monkeypatch.setenv("TZ", "UTC")
    time.tzset()   # times are shown in local time
    ws = _project(tmp_path / "data")
    recorded = _recorded_session(ws)
    planned, _lead, _obs = _planned(ws, informants=("I01", "I02"))

    async def open_screen(pilot) -> None:
        from fieldkit.tui.screens.export import ExportScreen
        from fieldkit.tui.screens.interview import InterviewScreen
        from fieldkit.tui.screens.review import ReviewScreen
        from fieldkit.tui.screens.setup import SetupScreen

        app = pilot.app
        await _settle(app, pilot)
        if name == "setup":
            app.push_screen(SetupScreen(SLUG, planned))
            await _settle(app, pilot)
            live = app.screen.query_one("#live", Checkbox)
            live.value = False     # not depending on the models installed here
            live.label = i18n._("Live transcript while recording")
            await pilot.press("end")
        elif name == "interview":
            app.push_screen(InterviewScreen(SLUG, recorded, observer=True))
        elif name == "review":
            app.push_screen(ReviewScreen(SLUG, recorded))
        elif name == "export":
            app.push_screen(ExportScreen(SLUG, recorded))
            await _settle(app, pilot)
            # the folder is under pytest's tmp_path, another every run: drawn as a fixed one
            app.screen.query_one("#export-folder").value = "/home/forsker/fieldkit/exports"
        elif name in ("informants", "help"):
            await pilot.press("i")
            await _until(pilot, lambda: type(app.screen).__name__ == "InformantsScreen")
            await _until(pilot, lambda: app.screen.query_one("#informant-table").row_count == 2, "the informants")
            if name == "help":
                await still(pilot)   # the table below has its final column widths before the help covers it
                await pilot.press("question_mark")
        await still(pilot)

    assert snap_compare(FieldkitApp(data_dir=tmp_path / "data", project=SLUG), terminal_size=(120, 40),
                        run_before=open_screen)
