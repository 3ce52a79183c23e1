"""Issue 21, "blocked or confusing": the guide's header filled from the session, one
meaning per digit key in the interview, j for yes in Norwegian, driven through Pilot and
checked in the database and the exports."""

from __future__ import annotations

from pathlib import Path

import pytest
from sqlmodel import select
from textual.widgets import Input, Select

from fieldkit.store.models import Event, EventKind, Session
from fieldkit.tui.app import FieldkitApp
from fieldkit.tui.screens.interview import InterviewScreen
from tests.support.cli import fk
from tests.support.screens import SLUG, interview_project, planned_session
from tests.support.wait import settle, until


def _events(ws, sid, kind):
    with ws.open(SLUG) as h, h.db.session() as s:
        return list(s.exec(select(Event).where(Event.session_id == sid, Event.kind == kind)))


async def test_guide_header_is_filled_from_the_session_and_stays_editable(tmp_path: Path):
    ws = interview_project(tmp_path / "data")
    sid, lead, observer = planned_session(ws)
    app = FieldkitApp(data_dir=tmp_path / "data", project=SLUG)
    async with app.run_test(size=(110, 50)) as pilot:
        await settle(app, pilot)
        await pilot.press("enter", "enter")  # the project, then its planned session: setup
        await until(pilot, lambda: type(app.screen).__name__ == "SetupScreen", "setup")
        screen = app.screen
        await until(pilot, lambda: "Interviewer" in screen.header_inputs, "the header fields")
        await settle(app, pilot)
        h = screen.header_inputs   # (built again when the guide's choice arrives: read it settled)
        assert h["Interviewer"].value == "Ada Lead" and h["Observer"].value == "Ola Observer"
        assert h["Informant (code)"].value == "I01"
        assert h["Role"].value == "nurse" and h["Organisation"].value == "DPS"
        screen.query_one("#place", Input).value = "Town hall"
        screen.query_one("#when", Input).value = "2026-03-04 10:00"
        await until(pilot, lambda: h["Place and date"].value.startswith("Town hall, "), "place and date")
        h["Role"].value = "ward nurse"           # the researcher's own word wins ...
        screen.query_one("#observer", Select).value = lead   # ... and a derived one follows the form
        screen.query_one("#lead", Select).value = observer
        await until(pilot, lambda: h["Interviewer"].value == "Ola Observer", "the interviewer follows the lead")
        await pilot.press("ctrl+s")
        await until(pilot, lambda: type(app.screen).__name__ == "HomeScreen", "saved")
    with ws.open(SLUG) as hd, hd.db.session() as s:
        header = s.get(Session, sid).header
    assert header["Interviewer"] == "Ola Observer" and header["Observer"] == "Ada Lead"
    assert header["Role"] == "ward nurse" and header["Informant (code)"] == "I01"
    assert header["Place and date"].startswith("Town hall, ") and "2026" in header["Place and date"]
    out = tmp_path / "out"
    fk(tmp_path / "data", "export", "-p", SLUG, "--session", str(sid), "-f", "md", "--pseudonymise", "off",
       "--out", str(out))
    text = "\n".join(p.read_text() for p in out.rglob("*.md"))
    assert "ward nurse" in text and "Ola Observer" in text and "Town hall, " in text


def test_header_of_a_session_planned_without_setup_is_derived_in_the_export(tmp_path: Path):
    """A session planned from the command line has no stored header: the export shows
    what the session knows, and a stored value wins over it."""
    ws = interview_project(tmp_path / "data")
    sid, _lead, _observer = planned_session(ws)
    from fieldkit.sessions.debrief import save_header

    with ws.open(SLUG) as h:
        save_header(h, sid, {"Organisation": "Bydel Nord"})
    out = tmp_path / "out"
    fk(tmp_path / "data", "export", "-p", SLUG, "--session", str(sid), "-f", "md", "--pseudonymise", "off",
       "--out", str(out))
    text = "\n".join(p.read_text() for p in out.rglob("*.md"))
    assert "**Interviewer:** Ada Lead" in text and "**Organisation:** Bydel Nord" in text
    assert "**Role:** nurse" in text and "**Informant (code):** I01" in text


async def _seat(app, pilot, sid, **kw) -> InterviewScreen:
    await settle(app, pilot)
    screen = InterviewScreen(SLUG, sid, record=False, **kw)
    app.push_screen(screen)
    await until(pilot, lambda: bool(screen.tags) and screen.view is not None, "the interview screen")
    return screen


async def test_a_digit_after_a_tag_never_ticks_a_probe(tmp_path: Path):
    """The observer's `h 1` in an individual interview tagged, and ticked probe 1 in the
    lead's guide. Now: in the observer's terminal a digit never ticks a probe; in the
    lead's a digit ticks one, except right after a tag or note, where it says who."""
    ws = interview_project(tmp_path / "data")
    sid, lead, observer = planned_session(ws)
    obs = FieldkitApp(data_dir=tmp_path / "data", project=SLUG)
    async with obs.run_test(size=(80, 24)) as pilot:
        iv = await _seat(obs, pilot, sid, observer=True, author_id=observer)
        await pilot.press("h", "1")
        await until(pilot, lambda: len(iv.latencies) >= 1, "the tag stored")
        await pilot.press("2")          # a digit on its own in the observer's seat: no probe either
        await settle(obs, pilot)
        assert "1-9" in [k for k, _d in _footer(obs)]
        assert dict(_footer(obs))["1-9"] == "Who"
    assert [e.code for e in _events(ws, sid, EventKind.tag)] == ["hesitation"]
    assert _events(ws, sid, EventKind.probe) == []
    lead_app = FieldkitApp(data_dir=tmp_path / "data", project=SLUG)
    async with lead_app.run_test(size=(80, 24)) as pilot:
        iv = await _seat(lead_app, pilot, sid, author_id=lead)
        await pilot.press("k", "1")      # a tag, then at once a digit: not a probe
        await until(pilot, lambda: len(iv.latencies) >= 1, "the tag stored")
        await pilot.press("space", "2")  # another key first: now the digit is probe 2
        await until(pilot, lambda: len(_events(ws, sid, EventKind.probe)) == 1, "the probe stored")
        assert dict(_footer(lead_app))["1-9"] == "Probe"
        q1 = iv.items[0][1]
    assert [e.question_id for e in _events(ws, sid, EventKind.probe)] == [q1.probes[1].id]


def _footer(app):
    from textual.widgets import Footer

    from fieldkit.tui import compat

    return [(k, d) for _r, k, d in compat.footer_keys(app.screen.query_one(Footer))]


@pytest.mark.parametrize(("lang", "yes"), [("nb", "j"), ("en", "y")])
async def test_confirmation_answers_yes_in_the_users_language(tmp_path: Path, monkeypatch, lang, yes):
    """The stop question in Norwegian takes j (ja); the session is then stored as ended."""
    from fieldkit.i18n import set_language

    from fieldkit.store.models import SessionStatus

    monkeypatch.setenv("FIELDKIT_LANG", lang)
    set_language(lang)
    try:
        ws = interview_project(tmp_path / "data")
        sid, lead, _observer = planned_session(ws)
        app = FieldkitApp(data_dir=tmp_path / "data", project=SLUG)
        async with app.run_test(size=(100, 30)) as pilot:
            iv = await _seat(app, pilot, sid, author_id=lead)
            await pilot.press("q")
            await until(pilot, lambda: type(app.screen).__name__ == "ConfirmScreen", "the stop question")
            assert f"({yes})" in str(app.screen.query_one("#yes").label)
            await pilot.press(yes)
            await until(pilot, lambda: type(app.screen).__name__ == "DebriefScreen", "the debrief")
            assert iv.stopping
        with ws.open(SLUG) as h, h.db.session() as s:
            assert s.get(Session, sid).status != SessionStatus.planned
    finally:
        set_language(None)


async def test_first_impressions_are_hidden_from_the_other_terminal_until_both_have_saved(tmp_path: Path):
    """Lead and observer debrief at once in two terminals: neither sees (nor can edit) the
    other's first impressions until both have saved; then both are shown read-only. The
    joint note stays shared."""
    from textual.widgets import TextArea

    from fieldkit.sessions.debrief import load_debrief
    from fieldkit.tui.screens.debrief import DebriefScreen

    ws = interview_project(tmp_path / "data")
    sid, lead, observer = planned_session(ws)
    lead_app = FieldkitApp(data_dir=tmp_path / "data", project=SLUG)
    obs_app = FieldkitApp(data_dir=tmp_path / "data", project=SLUG)

    def other(app) -> TextArea:
        return app.screen.query_one("#impressions-1", TextArea)

    def own(app) -> TextArea:
        return app.screen.query_one("#impressions-0", TextArea)

    async with lead_app.run_test(size=(100, 40)) as lp, obs_app.run_test(size=(100, 40)) as op:
        await settle(lead_app, lp)
        await settle(obs_app, op)
        lead_app.push_screen(DebriefScreen(SLUG, sid, author_id=lead))
        obs_app.push_screen(DebriefScreen(SLUG, sid, author_id=observer))
        await until(lp, lambda: type(lead_app.screen).__name__ == "DebriefScreen", "the lead's debrief")
        await until(op, lambda: type(obs_app.screen).__name__ == "DebriefScreen", "the observer's debrief")
        await until(lp, lambda: lead_app.focused is own(lead_app), "the lead's own box focused")
        await until(op, lambda: obs_app.focused is own(obs_app), "the observer's own box focused")
        await lp.press(*"Open, talkative")
        await lp.press("ctrl+s")
        with ws.open(SLUG) as h:
            await until(lp, lambda: load_debrief(h, sid).get(("impressions", lead)) == "Open, talkative",
                        "the lead's impressions stored")
        await op.press(*"Nervous at first")
        # the lead has saved, the observer has not: nothing of the lead's shows in the
        # observer's terminal (several of its watch rounds) and the reverse
        await until(op, lambda: obs_app.screen.watched >= 2, "the observer's terminal to read the store twice")
        assert not other(obs_app).display and other(obs_app).text == "" and other(obs_app).read_only
        assert not other(lead_app).display and other(lead_app).text == ""
        assert not own(obs_app).read_only
        await op.press("ctrl+s")
        await until(op, lambda: other(obs_app).display and other(obs_app).text == "Open, talkative",
                    "the lead's impressions in the observer's terminal")
        await until(lp, lambda: other(lead_app).display and other(lead_app).text == "Nervous at first",
                    "the observer's impressions in the lead's terminal")
        assert own(lead_app).read_only and own(obs_app).read_only
        assert other(lead_app).read_only and other(obs_app).read_only
        # read-only means it: typing into the other's box changes nothing stored
        other(lead_app).focus()
        await lp.press(*"xyz")
        joint = lead_app.screen.query_one("#joint", TextArea)
        joint.focus()
        await lp.press(*"Ask about the budget")
        await lp.press("escape")
        await until(lp, lambda: type(lead_app.screen).__name__ == "HomeScreen", "the lead done")
    with ws.open(SLUG) as h:
        texts = load_debrief(h, sid)
    assert texts[("impressions", lead)] == "Open, talkative"
    assert texts[("impressions", observer)] == "Nervous at first"
    assert texts[("joint", None)] == "Ask about the budget"


def _review_project(root: Path):
    """The reviewable project with two more segments, both of voice S2."""
    from fieldkit.store.models import TranscriptSegment
    from tests.support.screens import reviewable_project

    ws, sid, lead = reviewable_project(root)
    with ws.open(SLUG) as h, h.db.transaction() as s:
        for seg in s.exec(select(TranscriptSegment).where(TranscriptSegment.session_id == sid)):
            seg.speaker_auto = "S2" if "NAV" in seg.verbatim else "S1"
            s.add(seg)
        s.add(TranscriptSegment(session_id=sid, start_ms=10_000, end_ms=14_000, speaker_auto="S2",
                                verbatim="The nav office calls me, then the nav office calls again."))
    return ws, sid, lead


def _segments(ws, sid):
    from fieldkit.store.models import TranscriptSegment

    with ws.open(SLUG) as h, h.db.session() as s:
        return [(g.verbatim, g.edited, g.speaker_label) for g in s.exec(
            select(TranscriptSegment).where(TranscriptSegment.session_id == sid).order_by(TranscriptSegment.start_ms))]


async def _review(app, pilot, sid):
    from fieldkit.tui.screens.review import ReviewScreen

    await settle(app, pilot)
    screen = ReviewScreen(SLUG, sid)
    app.push_screen(screen)
    await until(pilot, lambda: screen.data is not None and app.focused is not None, "the review")
    return screen


async def test_replace_all_shows_a_preview_and_can_be_undone(tmp_path: Path):
    ws, sid, _lead = _review_project(tmp_path / "data")
    before = _segments(ws, sid)
    app = FieldkitApp(data_dir=tmp_path / "data", project=SLUG)
    async with app.run_test(size=(80, 24)) as pilot:
        screen = await _review(app, pilot, sid)
        await pilot.press("R")
        await until(pilot, lambda: type(app.screen).__name__ == "ReplaceScreen", "the replace dialog")
        await pilot.press(*"nav office", "enter", *"NN", "enter")
        preview = lambda: str(app.screen.query_one("#replace-preview").render())
        await until(pilot, lambda: "3 matches · 2 segments" in preview(), "the preview's counts")
        assert "I work at the NAV office." in preview() and "I work at the NN." in preview()
        assert _segments(ws, sid) == before          # a preview changes nothing
        await pilot.press("enter")
        await until(pilot, lambda: app.screen is screen, "back in review")
        await until(pilot, lambda: _segments(ws, sid)[2][1] == "The NN calls me, then the NN calls again.",
                    "the replace stored")
        assert _segments(ws, sid)[1][1] == "I work at the NN."
        await pilot.press("ctrl+z")
        await until(pilot, lambda: _segments(ws, sid) == before, "the undo restoring the stored text")
        # Esc in the dialog after a preview leaves everything as it was
        await pilot.press("R")
        await until(pilot, lambda: type(app.screen).__name__ == "ReplaceScreen", "the replace dialog")
        await pilot.press(*"work", "enter", *"job", "enter")
        await until(pilot, lambda: "2 matches" in preview(), "the preview")
        await pilot.press("escape")
        await until(pilot, lambda: app.screen is screen, "back in review")
    assert _segments(ws, sid) == before


async def test_name_voices_dialog_opens_at_once_and_its_digits_choose(tmp_path: Path):
    import time

    ws, sid, _lead = _review_project(tmp_path / "data")
    app = FieldkitApp(data_dir=tmp_path / "data", project=SLUG)
    async with app.run_test(size=(80, 24)) as pilot:
        screen = await _review(app, pilot, sid)
        await pilot.press("down")                     # "I work at the NAV office." (voice S2)
        await until(pilot, lambda: screen._segment_at_cursor().voice == "S2", "the S2 segment")
        keys = {sp.label: sp.key for sp in screen.data.speakers}
        t0 = time.monotonic()
        await pilot.press("a")
        await until(pilot, lambda: type(app.screen).__name__ == "VoiceScreen", "the voice dialog")
        opened_s = time.monotonic() - t0
        # opaque (the review is not re-rendered behind it), so it quotes the segment
        assert "I work at the NAV office." in str(app.screen.query_one("#voice-said").render())
        await pilot.press(keys["I01"])
        await until(pilot, lambda: app.screen is screen, "back in review")
        await until(pilot, lambda: [x[2] for x in _segments(ws, sid)] == [None, "I01", "I01"]
                    or [x[2] for x in _segments(ws, sid)][1:] == ["I01", "I01"], "S2 named I01")
    print(f"voice dialog opened after {opened_s:.3f} s")


async def test_shift_tab_into_the_informant_list_highlights_a_row_that_space_chooses(tmp_path: Path):
    from textual.widgets import SelectionList

    ws = interview_project(tmp_path / "data")
    sid, _lead, _observer = planned_session(ws, informants=())
    app = FieldkitApp(data_dir=tmp_path / "data", project=SLUG)
    async with app.run_test(size=(110, 50)) as pilot:
        await settle(app, pilot)
        await pilot.press("enter", "enter")
        await until(pilot, lambda: type(app.screen).__name__ == "SetupScreen", "setup")
        screen = app.screen
        await settle(app, pilot)
        sel = screen.query_one("#informants", SelectionList)
        # from the field after the list, one shift+tab back into it (each focus change
        # restyles the whole form: walking back from the end of the form cost seconds)
        chain = screen.focus_chain
        after = chain[chain.index(sel) + 1]
        after.focus()
        await until(pilot, lambda: app.focused is after, "the field after the list")
        await pilot.press("shift+tab")
        await until(pilot, lambda: app.focused is sel, "the list has the focus")
        await until(pilot, lambda: sel.highlighted is not None, "a highlighted row")
        await pilot.press("space")
        await until(pilot, lambda: len(sel.selected) == 1, "the row chosen")
        await pilot.press("ctrl+s")
        await until(pilot, lambda: type(app.screen).__name__ == "HomeScreen", "saved")
    from fieldkit.sessions.plan import load_plan

    with ws.open(SLUG) as h:
        assert load_plan(h, sid).informants == ["I01"]
