"""The review screen through Textual's Pilot: edits, speakers, find and replace, quotes,
jumps and the reviewed status, checked in the database."""

from __future__ import annotations

from pathlib import Path

import pytest
from sqlmodel import select
from textual.widgets import Input, OptionList

from fieldkit.store.models import Event, EventKind, Session, SessionStatus, TranscriptSegment
from fieldkit.tui.app import FieldkitApp
from fieldkit.tui.screens.review import ReviewScreen
from tests.support.wait import settle as _settle
from tests.support.wait import still, until


def _segs(project, sid):
    with project.db.session() as s:
        return list(s.exec(select(TranscriptSegment).where(TranscriptSegment.session_id == sid)
                           .order_by(TranscriptSegment.start_ms)))


async def _open(app, pilot, slug, sid) -> ReviewScreen:
    await _settle(app, pilot)
    app.push_screen(ReviewScreen(slug, sid))
    await _settle(app, pilot)
    return app.screen


def _cursor_text(screen: ReviewScreen) -> str:
    i = screen.query_one("#review-list", OptionList).highlighted
    kind, obj = screen.rows[i]
    return obj.text if kind == "segment" else obj.label


async def test_review_edit_speakers_find_replace_quote_and_reviewed(transcript, workspace):
    project, sid, lead, _ = transcript
    slug = project.project().slug
    app = FieldkitApp(data_dir=workspace.root, project=slug)
    async with app.run_test(size=(100, 30)) as pilot:
        screen = await _open(app, pilot, slug, sid)
        assert _cursor_text(screen) == "So what do you do at work?"   # the first segment
        await pilot.press("2")                                       # AL asked
        await pilot.press("down")                                    # segment 2 (its note follows it)
        assert _cursor_text(screen).startswith("I work at the NAV office")
        await pilot.press("1")                                       # I01 answered
        await pilot.press("enter")                                   # edit it
        await pilot.pause()
        inp = screen.query_one("#review-input", Input)
        assert inp.has_focus and inp.value.startswith("I work at")
        inp.value = "I work at the NAV office, mostly with young people."
        await pilot.press("enter")
        await _settle(app, pilot)
        segs = _segs(project, sid)
        assert segs[0].speaker_label == "AL" and segs[0].speaker_researcher_id == lead
        assert segs[1].speaker_label == "I01"
        assert segs[1].edited == "I work at the NAV office, mostly with young people."
        assert segs[1].verbatim == "I work at the NAV office, mostly with youth."
        # find
        await pilot.press("slash", *"doctor", "enter")
        await until(pilot, lambda: "doctor" in _cursor_text(screen), "'doctor' in _cursor_text(screen)")
        # replace
        await pilot.press("R")
        await pilot.pause()
        await pilot.press(*"nav office", "enter", *"NAV office", "enter")
        # a preview first (issue 21), then Enter again replaces
        await until(pilot, lambda: "2 matches" in str(app.screen.query_one("#replace-preview").render()), "the preview")
        await pilot.press("enter")
        await _settle(app, pilot)
        assert _segs(project, sid)[3].edited == "Usually the NAV office or the GP, eh, the doctor."
        # quote the segment under the cursor
        await pilot.press("q")
        await _settle(app, pilot)
        # jump to the note, then to a theme
        await pilot.press("home", "n")
        assert _cursor_text(screen) == "Youth team story"
        await pilot.press("j")
        await pilot.pause()
        await pilot.press("enter")
        await until(pilot, lambda: _cursor_text(screen).startswith("And who do you call"), "_cursor_text(screen).startswith('And who do you call')")  # the talk turned there at 0:11
        # verbatim view shows what was heard
        await pilot.press("v")
        await _settle(app, pilot)
        assert "showing verbatim" in str(screen.query_one("#review-title").render())
        await pilot.press("space")                                   # no audio: a message, no crash
        await until(pilot, lambda: any("no audio" in n.message for n in app._notifications), "any('no audio' in n.message for n in app._notifications)")
        await pilot.press("ctrl+r")
        await _settle(app, pilot)
    with project.db.session() as s:
        quote = s.exec(select(Event).where(Event.session_id == sid, Event.kind == EventKind.quote)).one()
        assert quote.position_ms == 15_000 and quote.code.endswith("@00:00:15") and quote.created_by == lead
        assert s.get(Session, sid).status == SessionStatus.reviewed


async def test_review_from_home_and_escape_cancels_an_edit(transcript, workspace):
    project, sid, *_ = transcript
    slug = project.project().slug
    app = FieldkitApp(data_dir=workspace.root, project=slug)
    async with app.run_test(size=(100, 30)) as pilot:
        await _settle(app, pilot)
        await pilot.press("v")
        await _settle(app, pilot)
        screen = app.screen
        assert isinstance(screen, ReviewScreen)
        await pilot.press("e", "x", "y", "escape")
        await _settle(app, pilot)
        assert all(s.edited is None for s in _segs(project, sid))
        await pilot.press("escape")
        await _settle(app, pilot)
        assert type(app.screen).__name__ == "HomeScreen"


async def test_review_names_a_voice_once_and_jumps_between_uncertain_words(transcript, workspace):
    from fieldkit.sessions.review import UNCERTAIN_BELOW, UNCERTAIN_LEAD_MS
    from tests.support.builders import words as _words

    project, sid, lead, _ = transcript
    low = UNCERTAIN_BELOW - 0.3
    with project.db.transaction() as s:
        for g, voice, probs in zip(_segs(project, sid), ["S1", "S2", "S1", "S2"],
                                   ([0.99] * 7, [0.9, low] + [0.9] * 7, [0.9] * 9, [0.95] * 9 + [low])):
            g.speaker_auto = g.speaker_label = voice
            g.words = _words(g.verbatim, g.start_ms, probs)
            s.add(g)
    slug = project.project().slug
    app = FieldkitApp(data_dir=workspace.root, project=slug)
    async with app.run_test(size=(110, 30)) as pilot:
        screen = await _open(app, pilot, slug, sid)
        assert "Voices: S1  S2" in str(screen.query_one("#review-speakers").render())
        # the cursor is on an S1 segment: "S1 is AL" once, for both of S1's segments
        await pilot.press("a")
        await pilot.pause()
        await pilot.press("down", "enter")       # the list: 1 I01, 2 AL, 3 OO
        await _settle(app, pilot)
        segs = _segs(project, sid)
        assert [(g.speaker_label, g.speaker_manual) for g in segs] == [
            ("AL", True), ("S2", False), ("AL", True), ("S2", False)]
        assert segs[2].speaker_researcher_id == lead
        assert "S1=AL" in str(screen.query_one("#review-speakers").render())
        # uncertain words: ] to the next, [ back; space would play from a second before the word
        await pilot.press("]")
        await until(pilot, lambda: _cursor_text(screen).startswith("I work at the NAV office"), "_cursor_text(screen).startswith('I work at the NAV office')")
        assert (screen.word_at.text, screen.play_span()) == ("work", (5400 - UNCERTAIN_LEAD_MS, 5750 + UNCERTAIN_LEAD_MS))
        prompt = screen.query_one("#review-list", OptionList).get_option_at_index(
            screen.query_one("#review-list", OptionList).highlighted).prompt
        assert any("underline" in str(span.style) and prompt.plain[span.start:span.end].strip() == "work"
                   for span in prompt.spans)
        await pilot.press("]")
        await until(pilot, lambda: _cursor_text(screen).startswith("Usually") and screen.word_at.text == "doctor.", "_cursor_text(screen).startswith('Usually') and screen.wor...")
        assert screen.play_span() == (15000 + 9 * 400 - UNCERTAIN_LEAD_MS, 15000 + 9 * 400 + 350 + UNCERTAIN_LEAD_MS)
        await pilot.press("]")                   # none later: it stays
        await _settle(app, pilot)   # then the state must not have changed
        assert screen.word_at.text == "doctor."
        await pilot.press("[")
        await until(pilot, lambda: screen.word_at.text == "work" and _cursor_text(screen).startswith("I work"), "screen.word_at.text == 'work' and _cursor_text(screen).st...")
        await pilot.press("home")                # moving away: space plays the segment again
        await until(pilot, lambda: screen.word_at is None and screen.play_span() is not None, "screen.word_at is None and screen.play_span() is not None")


def test_review_screen_snapshot(transcript, workspace, monkeypatch: pytest.MonkeyPatch, tmp_path: Path,
                                snap_compare):
    project, sid, *_ = transcript
    monkeypatch.setenv("HOME", str(tmp_path))
    slug = project.project().slug
    seg = _segs(project, sid)[1]
    from fieldkit.sessions.review import edit_segment

    edit_segment(project, seg.id, "I work at the NAV office, mostly with young people.")

    async def open_review(pilot) -> None:
        await _open(pilot.app, pilot, slug, sid)
        await still(pilot)

    assert snap_compare(FieldkitApp(data_dir=workspace.root, project=slug), terminal_size=(100, 24),
                        run_before=open_review)


async def test_changes_at_2000_segments_redraw_only_what_changed(workspace):
    """Issue 27: an edit, a quote and the layer toggle at 2,000 segments draw again only
    the rows they change (the list is not rebuilt), and what they change is stored."""
    from fieldkit.tui.widgets.transcript_list import TranscriptList

    project = workspace.create("Long review", language="en")
    with project.db.transaction() as s:
        sess = Session(project_id=project.project_id, title="Two hours")
        s.add(sess)
    with project.db.transaction() as s:
        for i in range(2000):
            s.add(TranscriptSegment(session_id=sess.id, start_ms=i * 3000, end_ms=i * 3000 + 2800,
                                    verbatim=f"segment number {i} as heard", speaker_label="S1" if i % 3 else "S2",
                                    words=[{"w": f" w{k}", "s": i * 3000, "e": i * 3000 + 100, "p": 0.9}
                                           for k in range(12)]))
    slug = project.project().slug
    app = FieldkitApp(data_dir=workspace.root, project=slug)
    async with app.run_test(size=(100, 30)) as pilot:
        screen = await _open(app, pilot, slug, sess.id)
        lst = screen.query_one("#review-list", TranscriptList)
        await until(pilot, lambda: lst.option_count == 2000, "2,000 rows")
        drawn = []
        original = lst.sync

        def counting(keys, sigs, make):
            n = original(keys, sigs, make)
            drawn.append(n)
            return n

        lst.sync = counting
        screen._goto(1000)
        await pilot.press("enter")
        await until(pilot, lambda: screen.query_one("#review-input", Input).has_focus, "the edit line")
        screen.query_one("#review-input", Input).value = "segment one thousand, edited"
        await pilot.press("enter")
        await until(pilot, lambda: "segment one thousand, edited" in str(lst.get_option_at_index(1000).prompt),
                    "the edited row shows the new text")
        await until(pilot, lambda: _segs(project, sess.id)[1000].edited == "segment one thousand, edited",
                    "the edit is stored")
        await _settle(app, pilot)
        assert drawn and max(drawn) == 1, f"rows drawn per update: {drawn}"
        # a quote: one new row after the segment, nothing else drawn again
        drawn.clear()
        await pilot.press("q")
        await until(pilot, lambda: lst.option_count == 2001, "the quote's row")
        await _settle(app, pilot)
        assert max(drawn) == 1, f"rows drawn per update: {drawn}"
        with project.db.session() as s:
            quotes = s.exec(select(Event).where(Event.session_id == sess.id, Event.kind == EventKind.quote)).all()
        assert len(quotes) == 1 and quotes[0].position_ms == 1000 * 3000
        kind, obj = screen.rows[1000]                 # a mark at a segment's start comes first
        assert kind == "marker" and obj.kind == "quote"
        assert screen.rows[lst.highlighted][1].id == _segs(project, sess.id)[1000].id, "the cursor stays"
        # the layer: only the one edited row differs between verbatim and edited
        drawn.clear()
        await pilot.press("v")
        await until(pilot, lambda: "segment number 1000 as heard" in str(lst.get_option_at_index(1001).prompt),
                    "the verbatim text")
        assert drawn == [1], f"rows drawn per update: {drawn}"
        assert lst.highlighted == 1001


async def test_review_says_which_model_made_each_layer_in_norwegian(transcript, workspace, monkeypatch, tmp_path):
    """The header names the models of the layer shown, read from the runs the stored
    segments came from (as `fieldkit transcribe` prints them); a Norwegian project whose
    transcript no Norwegian model made is told so, with the download offered."""
    from textual.widgets import Button, Label, Static

    from fieldkit import i18n
    from fieldkit.store.models import RunStatus, TranscriptionRun

    project, sid, *_ = transcript          # the project is Norwegian
    monkeypatch.setenv("FIELDKIT_CACHE", str(tmp_path / "cache"))   # no NB-Whisper here
    with project.db.transaction() as s:
        live = TranscriptionRun(session_id=sid, mode="live", model="base", status=RunStatus.done)
        final = TranscriptionRun(session_id=sid, mode="range", model="tiny", status=RunStatus.done)
        s.add(live)
        s.add(final)
        for n, g in enumerate(s.exec(select(TranscriptSegment).where(TranscriptSegment.session_id == sid)
                                     .order_by(TranscriptSegment.start_ms))):
            g.run_id = live.id if n < 2 else final.id
            s.add(g)
    monkeypatch.setenv("FIELDKIT_LANG", "nb")
    i18n.set_language()
    try:
        slug = project.project().slug
        app = FieldkitApp(data_dir=workspace.root, project=slug)
        async with app.run_test(size=(120, 36)) as pilot:
            screen = await _open(app, pilot, slug, sid)
            title = screen.query_one("#review-title", Label)
            await until(pilot, lambda: "viser redigert: base (direkte), tiny, redigert av mennesker"
                        in str(title.render()), "the edited layer's models")
            await pilot.press("v")
            await until(pilot, lambda: "viser ordrett fra base (direkte), tiny" in str(title.render()),
                        "the verbatim layer's models")
            advice = screen.query_one("#review-model-advice")
            await until(pilot, lambda: advice.display, "the advice for a Norwegian project")
            text = str(screen.query_one("#review-model-advice #model-advice-text", Static).render())
            assert "Norsk prosjekt uten norsk modell" in text, text
            button = screen.query_one("#review-model-advice #model-download", Button)
            assert button.display and "nb-whisper-small: 488 MB" in str(button.label), button.label
            # the final pass replaced the live transcript: the header follows what is stored
            with project.db.transaction() as s:
                nb = TranscriptionRun(session_id=sid, mode="batch", model="nb-whisper-small-verbatim",
                                      status=RunStatus.done)
                s.add(nb)
                for g in s.exec(select(TranscriptSegment).where(TranscriptSegment.run_id == live.id)):
                    g.run_id = nb.id
                    s.add(g)
            screen.load()
            await until(pilot, lambda: "viser ordrett fra nb-whisper-small-verbatim, tiny" in str(title.render()),
                        "the models after the final pass")
    finally:
        monkeypatch.setenv("FIELDKIT_LANG", "en")
        i18n.set_language("en")
