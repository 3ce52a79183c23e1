"""A worker that fails on any project screen is shown by the screen base (one handler for
setup, export, debrief, coverage, informants ...): its message, a FieldkitError's hint,
and the screen stays open."""

from __future__ import annotations

import asyncio
from pathlib import Path

from textual import work

from fieldkit.projects import Workspace
from fieldkit.tui.app import FieldkitApp
from fieldkit.tui.screens.base import ProjectScreen
from fieldkit.tui.screens.coverage import CoverageScreen
from tests.support.wait import until as _until


def _errors(app: FieldkitApp) -> list:
    return [n for n in app._notifications if n.severity == "error"]


def _app(tmp_path: Path) -> FieldkitApp:
    ws = Workspace(tmp_path / "data").ensure()
    ws.create("Real study").close()
    return FieldkitApp(data_dir=tmp_path / "data")


async def test_a_failed_worker_shows_its_message_and_hint(tmp_path: Path):
    """The coverage screen's loader cannot open a project that is not there: the
    FieldkitError's message and hint are shown, once, and the screen stays."""
    app = _app(tmp_path)
    async with app.run_test(size=(100, 30)) as pilot:
        await pilot.pause()
        await app.workers.wait_for_complete()
        screen = CoverageScreen("no-such-study")
        app.push_screen(screen)
        await _until(pilot, lambda: _errors(app), "an error notification")
        await app.workers.wait_for_complete()
        await pilot.pause()
        errors = _errors(app)
        assert len(errors) == 1
        assert "No project called 'no-such-study'" in errors[0].message
        assert "Projects here: 'Real study' (folder real-study)" in errors[0].message   # the hint
        assert errors[0].title == "Could not load"
        assert app.screen is screen


class _Failing(ProjectScreen[None]):
    """A project screen whose background job hits a programming error."""

    def on_mount(self) -> None:
        self.crunch()

    @work(thread=True, exit_on_error=False)
    def crunch(self) -> None:
        _ = self.handle.project_id
        raise ZeroDivisionError("division by zero in the tally")


async def test_an_unexpected_error_names_the_task_and_the_exception(tmp_path: Path):
    app = _app(tmp_path)
    async with app.run_test(size=(100, 30)) as pilot:
        await pilot.pause()
        await app.workers.wait_for_complete()
        screen = _Failing("real-study")
        app.push_screen(screen)
        await _until(pilot, lambda: _errors(app), "an error notification")
        (error,) = _errors(app)
        assert error.title == "Could not crunch"
        assert error.message == "ZeroDivisionError: division by zero in the tally"
        assert app.screen is screen and app.is_running
