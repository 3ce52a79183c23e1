"""`?` and F1 open the key list on every screen (issue 21: they did nothing in review), and
the list is built from the screen's bindings: each command's footer word and tooltip, with
its key as the keymap left it."""

from __future__ import annotations

from pathlib import Path

import pytest
from textual.widgets import Markdown

from fieldkit.tui.app import FieldkitApp
from tests.support.screens import SLUG, every_screen, reviewable_project
from tests.support.wait import until







async def _settled(app, pilot) -> None:
    """Wait until the screen's loading workers are done (a worker replaced by a newer one
    of its group ends cancelled, which is not a failure)."""
    from textual.worker import WorkerState

    await until(pilot, lambda: all(w.state not in (WorkerState.PENDING, WorkerState.RUNNING)
                                   or w.group.startswith(("iv-", "poll", "home-")) for w in app.workers),
                "the screen's workers")


def _help_text(app) -> str:
    return "\n".join(m.source for m in app.screen.query(Markdown))


@pytest.mark.slow
async def test_question_mark_and_f1_open_the_key_list_on_every_screen(tmp_path: Path):
    from fieldkit.tui.keymap import key_rows
    from fieldkit.tui.screens.help import HelpScreen

    ws, sid, lead = reviewable_project(tmp_path / "data")
    app = FieldkitApp(data_dir=tmp_path / "data", project=SLUG)
    async with app.run_test(size=(120, 40)) as pilot:
        await until(pilot, lambda: type(app.screen).__name__ == "HomeScreen", "the home screen")
        targets = [("home", None), *every_screen(sid, lead)]
        for name, make in targets:
            if make is not None:
                screen = make()
                app.push_screen(screen)
                await until(pilot, lambda: app.screen is screen, f"the {name} screen")
                await _settled(app, pilot)
                if name in ("interview", "observer"):   # the tag keys are bound once the session is read
                    await until(pilot, lambda: bool(screen.tags), "the tag keys")
            screen = app.screen
            rows = key_rows(screen, app)
            assert rows, name
            # the screen's first focus has landed (keys go to the focused widget)
            await until(pilot, lambda: app.focused is not None or screen.AUTO_FOCUS == ""
                        or not any(w.focusable for w in screen.query("*")), f"focus on {name}")
            for key in ("f1", "question_mark"):
                if key == "question_mark" and app.focused is not None and app.focused.check_consume_key("?", "?"):
                    # in a text box ? is a character (a note may ask a question): F1 above works
                    # there; ? works once the focus is out of the box
                    app.set_focus(None)
                    await until(pilot, lambda: app.focused is None, "no focus")
                await pilot.press(key)
                await until(pilot, lambda: isinstance(app.screen, HelpScreen),
                            f"the key list after {key} on the {name} screen")
                await until(pilot, lambda: "Keys on this screen" in _help_text(app), "the key list's text")
                text = _help_text(app)
                for row in key_rows(screen, app):   # every command of the screen, with its key and its tooltip
                    assert f"**`{row.key_text}`** {row.description}" in text, (name, row, [ln for ln in text.splitlines() if "`q`" in ln])
                    assert row.tooltip in text, (name, row)
                await pilot.press("escape")
                await until(pilot, lambda: app.screen is screen, f"back on {name} after Esc")
            if make is not None:
                if name == "confirm":
                    screen.dismiss(False)
                else:
                    app.pop_screen()
                await until(pilot, lambda: app.screen is not screen, f"leaving {name}")
