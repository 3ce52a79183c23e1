"""The tag scheme screen (issue 22): found by name in the command palette, in Norwegian for
a Norwegian project; edit a label and a key, add a tag, remove it; what is stored is checked."""

from __future__ import annotations

from pathlib import Path

import pytest
from sqlmodel import select
from textual.widgets import Checkbox, DataTable, Input

from fieldkit import i18n
from fieldkit.projects import Workspace
from fieldkit.store.models import TagCode, TagScheme
from fieldkit.tui.app import FieldkitApp
from tests.support.wait import settle, until


@pytest.fixture
def norwegian(monkeypatch: pytest.MonkeyPatch):
    monkeypatch.setenv("FIELDKIT_LANG", "nb")
    i18n.set_language()
    yield
    i18n.set_language("en")


def _stored(root: Path) -> dict[str, tuple[str, str, str]]:
    with Workspace(root).open("studie") as h, h.db.session() as s:
        interview = s.exec(select(TagScheme).where(TagScheme.name == "Intervju")).one()
        return {c.code: (c.label, c.key, c.mode.value)
                for c in s.exec(select(TagCode).where(TagCode.scheme_id == interview.id))}


def _rows(table: DataTable) -> list[list[str]]:
    return [[str(c) for c in table.get_row_at(i)] for i in range(table.row_count)]


async def test_tag_scheme_screen_from_the_palette(tmp_path: Path, norwegian):
    root = tmp_path / "data"
    Workspace(root).ensure().create("Studie", language="no").close()
    app = FieldkitApp(data_dir=root, project="studie")
    async with app.run_test(size=(120, 36)) as pilot:
        await settle(app, pilot)
        await pilot.press("ctrl+p")
        await until(pilot, lambda: type(app.screen).__name__ == "CommandPalette", "the palette")
        for ch in "Merkeordn":
            await pilot.press(ch)
        await until(pilot, lambda: "Merkeordninger" in str(app.screen.query_one("CommandList").get_option_at_index(0).prompt),
                    "the palette to offer Merkeordninger")
        await pilot.press("enter")
        await until(pilot, lambda: type(app.screen).__name__ == "TagsScreen", "the tag scheme screen")
        screen = app.screen
        table = screen.query_one("#tag-table", DataTable)
        await until(pilot, lambda: table.row_count == 17, "both bokmål schemes listed")
        # Textual's own words: the focused table's keys (keys panel, footer) and the quit hint
        await until(pilot, lambda: app.focused is table, "the table focused")
        words = {b.description for bs in table._bindings.key_to_bindings.values() for b in bs}
        assert {"Markør opp", "Markør ned", "Velg"} <= words and not {"Cursor up", "Select"} & words
        await pilot.press("ctrl+c")
        await until(pilot, lambda: any("for å avslutte fieldkit" in n.message and n.title == "Avslutte?"
                                       for n in app._notifications), "the quit hint in Norwegian")
        rows = _rows(table)
        assert rows[0][:3] == ["Intervju", "k", "Godt sitat"] and rows[0][3] == "punkt"
        assert any(r[2] == "Brukeren snakker" and r[3] == "av/på" for r in rows)
        assert not any("Key quote" in c for r in rows for c in r)

        # edit the first tag: label and key
        await pilot.press("e")
        await until(pilot, lambda: type(app.screen).__name__ == "TagForm", "the tag form")
        form = app.screen
        form.query_one("#tag-label", Input).value = "Sitat til rapporten"
        form.query_one("#tag-key", Input).value = "g"
        await pilot.press("enter")
        await until(pilot, lambda: _stored(root)["key_quote"] == ("Sitat til rapporten", "g", "point"),
                    "the new label and key stored")
        await until(pilot, lambda: _rows(table)[0][1:3] == ["g", "Sitat til rapporten"], "the table to show it")

        # a key the screen uses itself is refused, nothing stored
        await pilot.press("e")
        await until(pilot, lambda: type(app.screen).__name__ == "TagForm", "the tag form")
        app.screen.query_one("#tag-key", Input).value = "n"
        await pilot.press("enter")
        await until(pilot, lambda: type(app.screen).__name__ == "TagsScreen", "back on the list")
        assert _stored(root)["key_quote"] == ("Sitat til rapporten", "g", "point")

        # add an on/off tag to the interview scheme
        await pilot.press("a")
        await until(pilot, lambda: type(app.screen).__name__ == "TagForm", "the new-tag form")
        form = app.screen
        form.query_one("#tag-label", Input).value = "Stillhet"
        form.query_one("#tag-key", Input).value = "y"
        form.query_one("#tag-state", Checkbox).value = True
        form.query_one("#tag-label", Input).focus()
        await pilot.press("enter")
        await until(pilot, lambda: _stored(root).get("stillhet") == ("Stillhet", "y", "state"), "the new tag stored")
        await until(pilot, lambda: any(r[2] == "Stillhet" for r in _rows(table)), "the new tag listed")

        # and remove it again (after a question)
        table.move_cursor(row=next(i for i, r in enumerate(_rows(table)) if r[2] == "Stillhet"))
        await pilot.press("delete")
        await until(pilot, lambda: type(app.screen).__name__ == "ConfirmScreen", "the question")
        assert "Fjerne merket Stillhet (tast y) fra Intervju?" in str(app.screen.query_one("#confirm-text").render())
        await pilot.press("y")
        await until(pilot, lambda: "stillhet" not in _stored(root), "the tag removed")
