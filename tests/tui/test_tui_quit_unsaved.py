"""Ctrl+Q with text typed and not saved (a transcript edit open in review, first impressions
in the debrief) asks first: save and quit stores the text, Stay (n or Esc) keeps the app
open with the text still there. A key pressed by mistake never throws typed text away."""

from __future__ import annotations

from sqlmodel import select
from textual.widgets import Input, TextArea

from fieldkit.store.models import Event, EventKind, TranscriptSegment
from fieldkit.tui.app import FieldkitApp
from fieldkit.tui.screens.confirm import ConfirmScreen
from fieldkit.tui.screens.review import ReviewScreen
from tests.support.wait import settle, until


def _edited(project, sid) -> dict[int, str | None]:
    with project.db.session() as s:
        return {g.start_ms: g.edited for g in s.exec(
            select(TranscriptSegment).where(TranscriptSegment.session_id == sid))}


async def _debrief_typed(app, pilot, slug, sid, lead, text: str) -> None:
    """The debrief open with ``text`` typed as the first impressions."""
    from fieldkit.tui.screens.debrief import DebriefScreen

    await settle(app, pilot)
    app.push_screen(DebriefScreen(slug, sid, author_id=lead))
    await until(pilot, lambda: isinstance(app.screen, DebriefScreen) and bool(app.screen.query(TextArea)),
                "the debrief")
    area = app.screen.query(TextArea).first()
    area.focus()
    await pilot.press(*text)
    await until(pilot, lambda: area.text == text, "the text typed")


def _debrief_stored(project, sid) -> list[tuple[str, str]]:
    with project.db.session() as s:
        return [(e.code, e.text) for e in s.exec(select(Event).where(
            Event.session_id == sid, Event.kind == EventKind.debrief))]


async def _review(app, pilot, slug, sid) -> ReviewScreen:
    await settle(app, pilot)
    screen = ReviewScreen(slug, sid)
    app.push_screen(screen)
    await until(pilot, lambda: screen.data is not None and screen.rows, "the review")
    return screen


async def test_ctrl_q_with_an_open_edit_asks_and_saves_it(transcript, workspace):
    project, sid, _lead, _ = transcript
    slug = project.project().slug
    app = FieldkitApp(data_dir=workspace.root, project=slug)
    async with app.run_test(size=(80, 24)) as pilot:
        screen = await _review(app, pilot, slug, sid)
        screen._goto(next(i for i, (k, o) in enumerate(screen.rows) if k == "segment" and o.start_ms == 5000))
        await pilot.press("e")
        await until(pilot, lambda: screen.mode == "edit", "the edit open")
        await pilot.press("end", *" (laughs)")
        # a stray Ctrl+Q: asked, and Stay (Esc) keeps the edit open with its text
        await pilot.press("ctrl+q")
        await until(pilot, lambda: isinstance(app.screen, ConfirmScreen), "the question")
        await pilot.press("escape")
        await until(pilot, lambda: app.screen is screen, "back in review")
        assert app.is_running and screen.mode == "edit"
        assert screen.query_one("#review-input", Input).value.endswith("youth. (laughs)")
        assert _edited(project, sid)[5000] is None
        # asked again: save and quit
        await pilot.press("ctrl+q")
        await until(pilot, lambda: isinstance(app.screen, ConfirmScreen), "the question again")
        await pilot.press("y")
        await until(pilot, lambda: not app.is_running, "the app quit")
    assert _edited(project, sid)[5000] == "I work at the NAV office, mostly with youth. (laughs)"


async def test_ctrl_q_in_the_debrief_saves_the_first_impressions_when_asked_to(transcript, workspace):
    project, sid, lead, _ = transcript
    slug = project.project().slug
    app = FieldkitApp(data_dir=workspace.root, project=slug)
    async with app.run_test(size=(100, 40)) as pilot:
        await _debrief_typed(app, pilot, slug, sid, lead, "Open, talkative")
        await pilot.press("ctrl+q")
        await until(pilot, lambda: isinstance(app.screen, ConfirmScreen), "the question")
        await pilot.press("y")
        await until(pilot, lambda: not app.is_running, "the app quit")
    stored = _debrief_stored(project, sid)
    assert ("impressions", "Open, talkative") in stored


async def test_ctrl_q_with_nothing_typed_quits_at_once(transcript, workspace):
    project, sid, _lead, _ = transcript
    slug = project.project().slug
    app = FieldkitApp(data_dir=workspace.root, project=slug)
    async with app.run_test(size=(80, 24)) as pilot:
        screen = await _review(app, pilot, slug, sid)
        await pilot.press("e")
        await until(pilot, lambda: screen.mode == "edit", "the edit open")
        await pilot.press("ctrl+q")          # opened, nothing changed: nothing to lose
        await until(pilot, lambda: not app.is_running, "the app quit")


async def test_a_closed_terminal_stores_the_typed_impressions_and_ends_the_app(transcript, workspace):
    """SIGHUP (the terminal closed) with first impressions typed in the debrief: nobody can
    answer a question, so the text is stored and the app ends (a real signal to this
    process; the app's handler takes it)."""
    import os
    import signal

    project, sid, lead, _ = transcript
    slug = project.project().slug
    app = FieldkitApp(data_dir=workspace.root, project=slug)
    async with app.run_test(size=(100, 40)) as pilot:
        await _debrief_typed(app, pilot, slug, sid, lead, "Tired, but open")
        assert signal.getsignal(signal.SIGHUP) == app._on_signal   # never the default (it would end pytest)
        os.kill(os.getpid(), signal.SIGHUP)
        await until(pilot, lambda: not app.is_running, "the app ended")
    assert signal.getsignal(signal.SIGHUP) != app._on_signal, "the app's handler outlived the app"
    stored = _debrief_stored(project, sid)
    assert ("impressions", "Tired, but open") in stored
