"""A researcher's keymap.toml moves a tag key and a screen key (pressed through Pilot, the
events checked in the database), an old generated id still works with a warning naming
the new one, and the tag keys made at run time carry their id and tooltip."""

from __future__ import annotations

from pathlib import Path

import pytest
from sqlmodel import select

from fieldkit.store.models import Event, EventKind, Session
from fieldkit.tui.app import FieldkitApp
from fieldkit.tui.screens.interview import InterviewScreen
from tests.support.screens import SLUG, reviewable_project
from tests.support.wait import until


def _events(ws, sid, kind):  # noqa: ANN001, ANN202
    with ws.open(SLUG) as h, h.db.session() as s:
        return list(s.exec(select(Event).where(Event.session_id == sid, Event.kind == kind)
                           .order_by(Event.wall_time, Event.created_at)))


def _status(ws, sid):  # noqa: ANN001, ANN202
    with ws.open(SLUG) as h, h.db.session() as s:
        return s.get(Session, sid).status


async def test_keymap_moves_a_tag_key_and_a_screen_key_and_old_ids_still_work(tmp_path: Path,
                                                                             monkeypatch: pytest.MonkeyPatch):
    from fieldkit.tui import compat
    from fieldkit.tui.keymap import key_rows

    keymap = tmp_path / "keymap.toml"
    keymap.write_text('"interview.covered" = "ctrl+k"\n'
                      '"confirm.answer_True" = "j"\n'      # an id generated before ids were declared
                      '[tag]\nkey_quote = "K"\n', encoding="utf-8")
    monkeypatch.setenv("FIELDKIT_KEYMAP", str(keymap))
    ws, sid, _lead = reviewable_project(tmp_path / "data")
    status_before = _status(ws, sid)
    app = FieldkitApp(data_dir=tmp_path / "data", project=SLUG)
    async with app.run_test(size=(120, 40)) as pilot:
        await until(pilot, lambda: type(app.screen).__name__ == "HomeScreen", "the home screen")
        assert any("'confirm.answer_True' is an old name" in str(n.message) and "'confirm.yes'" in str(n.message)
                   for n in app._notifications), [n.message for n in app._notifications]
        iv = InterviewScreen(SLUG, sid, record=False)
        app.push_screen(iv)
        await until(pilot, lambda: bool(iv.tags), "the tag keys")

        # the tag keys made at run time: id tag.<code> and a tooltip, like every declared key
        tags = [b for b in compat.node_bindings(iv) if b.action.startswith("tag(")]
        assert tags and all(b.id == f"tag.{b.action[5:-2]}" and b.tooltip for b in tags), tags
        # the help and the palette show the keys where the keymap put them
        rows = {r.id: r.key_text for r in key_rows(iv, app)}
        assert rows["tag.key_quote"] == "K" and rows["interview.covered"] == "Ctrl+K", rows

        await pilot.press("k", "c")          # moved away: nothing stored
        await pilot.press("K")               # the key quote tag on its new key
        await until(pilot, lambda: len(_events(ws, sid, EventKind.tag)) == 1, "the tag on K")
        await pilot.press("ctrl+k")          # covered on its new key
        await until(pilot, lambda: len(_events(ws, sid, EventKind.coverage)) == 1, "coverage on Ctrl+K")
        assert [e.code for e in _events(ws, sid, EventKind.tag)] == ["key_quote"]
        assert [e.code for e in _events(ws, sid, EventKind.coverage)] == ["covered"]

        await pilot.press("q")               # stop asks; the old id's key answers yes
        await until(pilot, lambda: type(app.screen).__name__ == "ConfirmScreen", "the stop question")
        await pilot.press("j")
        await until(pilot, lambda: _status(ws, sid) != status_before, "the session stopped")
