"""An 80-column terminal (issue 21): every screen's footer keeps Help and Quit in view
(the observer's seat lost its quit key), the review footer too at 120 columns; the home
list keeps session titles apart at 80x24."""

from __future__ import annotations

from pathlib import Path

import pytest
from textual.widgets import Footer

from fieldkit.tui.app import FieldkitApp
from tests.support.screens import SLUG, every_screen, reviewable_project
from tests.support.wait import until


def footer_keys(app, width: int) -> list[tuple[str, str]]:
    """(key, description) of each footer key drawn wholly inside the terminal's width."""
    from fieldkit.tui import compat

    return [(key, description) for region, key, description in compat.footer_keys(app.screen.query_one(Footer))
            if region.width and region.right <= width]


async def _settled(app, pilot) -> None:
    from textual.worker import WorkerState

    await until(pilot, lambda: all(w.state not in (WorkerState.PENDING, WorkerState.RUNNING)
                                   or w.group.startswith(("iv-", "poll", "home-")) for w in app.workers),
                "the screen's workers")


@pytest.mark.slow
@pytest.mark.parametrize("lang", ["en", "nb"])
async def test_every_footer_keeps_help_and_quit_at_80_columns(tmp_path: Path, monkeypatch, lang):
    from fieldkit.i18n import _, set_language

    monkeypatch.setenv("FIELDKIT_LANG", lang)
    set_language(lang)
    try:
        ws, sid, lead = reviewable_project(tmp_path / "data")
        app = FieldkitApp(data_dir=tmp_path / "data", project=SLUG)
        missing = {}
        async with app.run_test(size=(80, 24)) as pilot:
            await until(pilot, lambda: type(app.screen).__name__ == "HomeScreen", "the home screen")
            for name, make in [("home", None), *[s for s in every_screen(sid, lead) if s[0] != "confirm"]]:
                if make is not None:
                    screen = make()
                    app.push_screen(screen)
                    await until(pilot, lambda: app.screen is screen, f"the {name} screen")
                    await _settled(app, pilot)
                    if name in ("interview", "observer"):
                        await until(pilot, lambda: bool(screen.tags), "the tag keys")
                await until(pilot, lambda: bool(footer_keys(app, 80)), f"the footer of {name}")
                await pilot.pause()
                keys = footer_keys(app, 80)
                words = [d for _k, d in keys]
                if _("Help") not in words or _("Quit") not in words:
                    missing[name] = keys
                stop = {"interview": _("Stop"), "observer": _("Leave")}.get(name)
                if stop and stop not in words:  # the stop key was pushed off the edge
                    missing[name] = keys
                if make is not None:
                    app.pop_screen()
                    await until(pilot, lambda: app.screen is not screen, f"leaving {name}")
        assert not missing, missing
    finally:
        set_language(None)


@pytest.mark.slow
async def test_review_footer_is_whole_at_120_columns(tmp_path: Path):
    from fieldkit.tui.keymap import key_rows
    from fieldkit.tui.screens.review import ReviewScreen

    ws, sid, lead = reviewable_project(tmp_path / "data")
    app = FieldkitApp(data_dir=tmp_path / "data", project=SLUG)
    async with app.run_test(size=(120, 40)) as pilot:
        await until(pilot, lambda: type(app.screen).__name__ == "HomeScreen", "the home screen")
        screen = ReviewScreen(SLUG, sid)
        app.push_screen(screen)
        await until(pilot, lambda: screen.data is not None, "the review")
        await until(pilot, lambda: bool(footer_keys(app, 120)), "the footer")
        from fieldkit.tui import compat

        drawn = compat.footer_keys(screen.query_one(Footer))
        cut = [(k, d) for region, k, d in drawn if region.right > 120 or not region.width]
        assert not cut, cut
        words = [d for _k, d in footer_keys(app, 120)]
        assert words[:2] == ["Help", "Quit"], words
        # the keys left out of the footer are still in the key list
        descriptions = {r.description for r in key_rows(screen, app)}
        assert {"Verbatim/edited", "Reviewed", "Agreement", "Note here", "Transcribe range", "Replace", "Back 5 s",
                "Forward 5 s", "Slower", "Faster", "Next flag", "Snippets", "Rewind 1-3 s"} <= descriptions


async def test_home_keeps_similar_session_titles_apart_at_80x24(tmp_path: Path):
    """Titles that differ only at the end (as a study's usually do) are shown whole:
    they wrap, never cut to a shared prefix."""
    from datetime import datetime, timezone

    from fieldkit.projects import Workspace
    from fieldkit.store.models import Session, SessionStatus

    ws = Workspace(tmp_path / "data").ensure()
    with ws.create("Ward study") as h, h.db.transaction() as s:
        for n, when in enumerate(["morning shift", "evening shift", "night shift"]):
            s.add(Session(project_id=h.project_id, title=f"Interview with the nurse at ward 4, {when}",
                          status=SessionStatus.recorded, starts_at=datetime(2026, 3, 1 + n, 9, tzinfo=timezone.utc)))
    app = FieldkitApp(data_dir=tmp_path / "data")
    async with app.run_test(size=(80, 24)) as pilot:
        await until(pilot, lambda: app.screen.query_one("#sessions").row_count == 3, "the sessions")
        await pilot.pause()
        shot = app.export_screenshot().replace("&#160;", " ")
        for when in ("morning shift", "evening shift", "night shift"):
            assert when in shot, when
        words = [d for _k, d in footer_keys(app, 80)]
        assert words[:2] == ["Help", "Quit"]
