"""The project's word list in the app: found by name in the command palette, edited in its
dialog and saved; what is stored is checked (and is what transcription uses)."""

from __future__ import annotations

from pathlib import Path

from textual.widgets import TextArea

from fieldkit.projects import Workspace
from fieldkit.transcription.service import change_word_list, session_settings, word_list
from fieldkit.tui.app import FieldkitApp
from tests.support.wait import settle, until


def _stored(root: Path) -> list[str]:
    with Workspace(root).open("studie") as h:
        return word_list(h)


async def test_word_list_dialog_from_the_palette(tmp_path: Path):
    root = tmp_path / "data"
    with Workspace(root).ensure().create("Studie", language="no") as h:
        change_word_list(h, add=["DPS"])
    app = FieldkitApp(data_dir=root, project="studie")
    async with app.run_test(size=(120, 36)) as pilot:
        await settle(app, pilot)
        await pilot.press("ctrl+p")
        await until(pilot, lambda: type(app.screen).__name__ == "CommandPalette", "the palette")
        for ch in "Word list":
            await pilot.press("space" if ch == " " else ch)
        await until(pilot, lambda: "Word list" in str(app.screen.query_one("CommandList").get_option_at_index(0).prompt),
                    "the palette to offer the word list")
        await pilot.press("enter")
        await until(pilot, lambda: type(app.screen).__name__ == "WordListScreen", "the word list dialog")
        area = app.screen.query_one("#words-text", TextArea)
        assert area.text == "DPS"
        area.text = "DPS\n  Helse Nord RHF \n\nsamhandlingsutvalg\ndps\n"
        await pilot.press("ctrl+s")
        await until(pilot, lambda: type(app.screen).__name__ != "WordListScreen", "the dialog to close")
        await until(pilot, lambda: _stored(root) == ["DPS", "Helse Nord RHF", "samhandlingsutvalg"],
                    "the list stored, blank lines and repeats dropped")
        # Esc leaves the list as it was
        await pilot.press("ctrl+p")
        await until(pilot, lambda: type(app.screen).__name__ == "CommandPalette", "the palette")
        for ch in "Word list":
            await pilot.press("space" if ch == " " else ch)
        await until(pilot, lambda: "Word list" in str(app.screen.query_one("CommandList").get_option_at_index(0).prompt),
                    "the palette to offer the word list")
        await pilot.press("enter")
        await until(pilot, lambda: type(app.screen).__name__ == "WordListScreen", "the word list dialog")
        dialog = app.screen
        dialog.query_one("#words-text", TextArea).text = "nothing"
        # F1 lists the dialog's keys (? is a character in the text box)
        await pilot.press("f1")
        await until(pilot, lambda: type(app.screen).__name__ == "HelpScreen", "the key list")
        await until(pilot, lambda: "Save the word list" in "\n".join(m.source for m in app.screen.query("Markdown")),
                    "the dialog's keys listed")
        await pilot.press("escape")
        await until(pilot, lambda: app.screen is dialog, "back in the dialog")
        await pilot.press("escape")
        await until(pilot, lambda: type(app.screen).__name__ != "WordListScreen", "the dialog to close")
    assert _stored(root) == ["DPS", "Helse Nord RHF", "samhandlingsutvalg"]
    with Workspace(root).open("studie") as h:
        from fieldkit.store.models import Session

        with h.db.transaction() as s:
            sess = Session(project_id=h.project_id, title="x")
            s.add(sess)
        assert session_settings(h, sess.id).vocabulary == ["DPS", "Helse Nord RHF", "samhandlingsutvalg"]
