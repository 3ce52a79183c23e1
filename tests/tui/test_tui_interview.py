"""Session setup, the interview screen, the observer's second terminal and the debrief,
driven through Textual's Pilot against a real project database (and, where marked, the
virtual microphone)."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import pytest
from sqlmodel import select
from textual.widgets import Checkbox, Input, SelectionList, TextArea

from fieldkit.sessions.plan import guide_of
from fieldkit.store.models import (
    Event, EventKind, Informant, Recording, RecordingFile, RecordingState, Researcher, Session,
    SessionParticipant, SessionStatus,
)
from fieldkit.tui.app import FieldkitApp
from fieldkit.tui.screens.interview import InterviewScreen
from tests.support import audio_env
from tests.support.screens import GUIDE, REPO, SLUG  # noqa: F401 - REPO, GUIDE: for the reader
from tests.support.screens import interview_project as _project
from tests.support.screens import planned_session as _planned
from tests.support.screens import recorded_session as _recorded_session
from tests.support.wait import settle as _settle
from tests.support.wait import still
from tests.support.wait import until as _until
from tests.support.screens import _events




# ---------------------------------------------------------------------------- setup


async def test_start_with_the_recording_box_unticked_then_back_stores_no_refusal(tmp_path: Path):
    """Ctrl+R before "May we record?" is ticked, then Back to tick it: the timeline kept a
    "recording no" from the informant who had not been asked, before their "yes" (and the
    event table showed both). Only the answer the interview starts with is stored."""
    ws = _project(tmp_path / "data")
    app = FieldkitApp(data_dir=tmp_path / "data", project=SLUG)
    async with app.run_test(size=(110, 50)) as pilot:
        await _settle(app, pilot)
        await pilot.press("n")
        await _until(pilot, lambda: type(app.screen).__name__ == "SetupScreen" and app.screen.choices, "the setup")
        screen = app.screen
        screen.query_one("#informants", SelectionList).select("I01")
        await _until(pilot, lambda: "I01" in screen.consent_rows, "the consent row")
        await pilot.press("ctrl+r")
        await _until(pilot, lambda: type(app.screen).__name__ == "ConfirmScreen", "the question")
        await pilot.press("n")                      # Back: tick the box first
        await _until(pilot, lambda: app.screen is screen, "back in the setup")
        with ws.open(SLUG) as h, h.db.session() as s:
            assert s.exec(select(Event).where(Event.kind == EventKind.consent)).all() == []
        screen.consent_rows["I01"].query_one(".c-recording", Checkbox).value = True
        await pilot.press("ctrl+s")                 # kept for later, the answer with it
        await _until(pilot, lambda: type(app.screen).__name__ == "HomeScreen", "home")
    with ws.open(SLUG) as h, h.db.session() as s:
        assert [e.code for e in s.exec(select(Event).where(Event.kind == EventKind.consent))] == ["recording_yes"]


async def test_setup_new_session_notes_only_when_recording_consent_is_missing(tmp_path: Path):
    ws = _project(tmp_path / "data")
    app = FieldkitApp(data_dir=tmp_path / "data", project=SLUG)
    async with app.run_test(size=(110, 50)) as pilot:
        await _settle(app, pilot)
        await pilot.press("n")
        await _settle(app, pilot)
        screen = app.screen
        assert type(screen).__name__ == "SetupScreen"
        screen.query_one("#title", Input).value = "Interview with I02"
        screen.query_one("#place", Input).value = "Meeting room"
        screen.query_one("#informants", SelectionList).select("I02")
        await _settle(app, pilot)
        row = screen.consent_rows["I02"]
        assert row.query_one(".c-letter", Checkbox).value is False  # no letter on record yet
        row.query_one(".c-letter", Checkbox).value = True
        row.query_one(".c-written", Checkbox).value = True
        # "May we record?" left unchecked: recording must not start
        headers = screen.header_inputs
        assert "Years in role" in headers
        headers["Years in role"].value = "12"
        await pilot.press("ctrl+r")
        await _settle(app, pilot)
        assert type(app.screen).__name__ == "ConfirmScreen"
        assert "I02 has not consented to recording" in str(app.screen.text)
        await pilot.press("y")  # hold it with notes only
        await _settle(app, pilot)
        interview = app.screen
        assert isinstance(interview, InterviewScreen) and interview.recorder is None
        await pilot.press("k", "n", *"Talks about the NAV office", "enter")
        await _until(pilot, lambda: len(interview.latencies) == 2)
        await pilot.press("q")
        await _settle(app, pilot)
        assert "End the interview?" in str(app.screen.text)
        assert "Working with other services" in str(app.screen.text)  # untouched themes listed
        await pilot.press("y")
        await _settle(app, pilot, 0.2)
        assert type(app.screen).__name__ == "DebriefScreen"
    with ws.open(SLUG) as h, h.db.session() as s:
        sess = s.exec(select(Session).where(Session.title == "Interview with I02")).one()
        assert sess.place == "Meeting room" and sess.header["Years in role"] == "12"
        # the rest of the guide's header comes from the setup (issue 21)
        assert sess.header["Interviewer"] == "Ada Lead" and sess.header["Informant (code)"] == "I02"
        assert sess.status == SessionStatus.recorded and sess.starts_at is not None
        assert s.exec(select(Recording).where(Recording.session_id == sess.id)).first() is None
        part = s.exec(select(SessionParticipant).where(SessionParticipant.session_id == sess.id)).one()
        assert part.recording_consent is False and part.speaker_label == "I02"
        inf = s.exec(select(Informant).where(Informant.code == "I02")).one()
        assert inf.info_letter_sent_on == date.today() and inf.written_consent_on == date.today()
        lead = s.exec(select(Researcher).where(Researcher.initials == "AL")).one()
        events = s.exec(select(Event).where(Event.session_id == sess.id, Event.kind.in_(
            [EventKind.tag, EventKind.note])).order_by(Event.wall_time)).all()
        assert [(e.kind, e.code, e.text) for e in events] == [
            (EventKind.tag, "key_quote", ""), (EventKind.note, "", "Talks about the NAV office")]
        assert all(e.created_by == lead.id and e.position_ms is not None for e in events)


async def test_setup_saves_a_plan_and_refuses_one_person_in_two_roles(tmp_path: Path):
    ws = _project(tmp_path / "data")
    sid, lead, _ = _planned(ws)
    app = FieldkitApp(data_dir=tmp_path / "data", project=SLUG)
    async with app.run_test(size=(110, 50)) as pilot:
        await _settle(app, pilot)
        await pilot.press("enter", "enter")  # project, then its planned session: setup
        await _settle(app, pilot)
        screen = app.screen
        assert type(screen).__name__ == "SetupScreen"
        assert screen.query_one("#title", Input).value == "Interview A"
        assert list(screen.query_one("#informants", SelectionList).selected) == ["I01"]
        from textual.widgets import Select

        screen.query_one("#observer", Select).value = lead
        await pilot.press("ctrl+s")
        await _settle(app, pilot)
        assert "two people" in str(screen.query_one("#setup-problems").render())
        assert app.screen is screen
        screen.query_one("#place", Input).value = "Town hall"
        screen.query_one("#observer", Select).value = screen.choices.researchers[1].id
        await pilot.press("ctrl+s")
        await _settle(app, pilot)
        assert type(app.screen).__name__ == "HomeScreen"
    with ws.open(SLUG) as h, h.db.session() as s:
        assert s.get(Session, sid).place == "Town hall"


# ---------------------------------------------------------------------------- interview


async def test_interview_keys_coverage_probes_state_tags_and_note_time(tmp_path: Path):
    ws = _project(tmp_path / "data")
    sid, lead, _ = _planned(ws)
    app = FieldkitApp(data_dir=tmp_path / "data", project=SLUG)
    async with app.run_test(size=(80, 24)) as pilot:
        await _settle(app, pilot)
        app.push_screen(InterviewScreen(SLUG, sid, record=False))
        await _settle(app, pilot)
        iv = app.screen
        with ws.open(SLUG) as h:
            guide = guide_of(h, sid)
        q1, q2 = guide.themes[0].questions[0], guide.themes[1].questions[0]
        await pilot.press("2")              # probe 2 of the first question
        await pilot.press("x")              # partly covered: stays on the question
        await pilot.press("c")              # covered: moves on (to the next theme's first question)
        await pilot.press("right", "left")  # a theme on and back again
        await pilot.press("s")              # its first question skipped
        await pilot.press("d")              # digression starts ...
        await pilot.press("n", *"started", "escape")   # a note begun, left ...
        await pilot.pause(0.3)
        await pilot.press("d")              # ... digression ends
        await pilot.press("n", *" late", "enter")      # ... and finished later
        await _until(pilot, lambda: len(iv.latencies) == 7)
        await _settle(app, pilot)
        assert "Digression" in str(iv.query_one("#event-log").render())
    probe = [e for e in _events(ws, sid, EventKind.probe)]
    assert [e.question_id for e in probe] == [q1.probes[1].id]
    cov = _events(ws, sid, EventKind.coverage)
    assert [(e.question_id, e.code) for e in cov] == [(q1.id, "partly"), (q1.id, "covered"), (q2.id, "skipped")]
    tags = _events(ws, sid, EventKind.tag)
    assert len(tags) == 1 and tags[0].code == "digression"
    assert tags[0].end_ms is not None and tags[0].end_ms - tags[0].position_ms >= 300
    note = _events(ws, sid, EventKind.note)[0]
    assert note.text == "started late"
    # the note's time is when n was first pressed, before the digression ended
    assert note.position_ms < tags[0].end_ms
    assert all(e.created_by == lead for e in cov + tags + [note])


async def test_snippets_expand_in_the_notes_of_both_seats_and_the_debrief(tmp_path: Path):
    """The team's snippets (issue 24) expand in every note, as in the transcript edit: the
    lead's note line, the observer's, and the debrief; checked in the stored events."""
    from fieldkit.sessions.snippets import set_snippet
    from fieldkit.tui.screens.debrief import DebriefScreen

    ws = _project(tmp_path / "data")
    sid, lead, observer = _planned(ws)
    with ws.open(SLUG) as h:
        set_snippet(h, ",,i", "{informant}")
        set_snippet(h, ",,l", "{lead}")
        set_snippet(h, ",,o", "{observer}")
    app = FieldkitApp(data_dir=tmp_path / "data", project=SLUG)
    async with app.run_test(size=(100, 30)) as pilot:
        await _settle(app, pilot)
        iv = InterviewScreen(SLUG, sid, record=False)
        app.push_screen(iv)
        await _until(pilot, lambda: iv.expansion is not None, "the session's snippets")
        # typed: expands at the space or the comma; the last one expands as Enter saves it
        await pilot.press("n", *",,i talks, ,,l asks,,l, and ,,o")
        assert iv.query_one("#note", Input).value == "I01 talks, AL asks,,l, and ,,o"
        await pilot.press("enter")
        await _until(pilot, lambda: len(iv.latencies) == 1, "the lead's note stored")
        app.pop_screen()
        await _settle(app, pilot)
        seat = InterviewScreen(SLUG, sid, observer=True)
        app.push_screen(seat)
        await _until(pilot, lambda: seat.expansion is not None, "the observer's snippets")
        await pilot.press("n", *",,o: ,,i nods.", "enter")
        await _until(pilot, lambda: len(seat.latencies) == 1, "the observer's note stored")
        app.pop_screen()
        await _settle(app, pilot)
        app.push_screen(DebriefScreen(SLUG, sid, author_id=lead))
        await _until(pilot, lambda: isinstance(app.screen, DebriefScreen) and app.screen.query(TextArea),
                     "the debrief")
        await _settle(app, pilot)
        await pilot.press(*"Open; ,,i trusted ,,l")
        await pilot.press("ctrl+s")
        await _until(pilot, lambda: _events(ws, sid, EventKind.debrief), "the debrief stored")
    notes = {e.created_by: e.text for e in _events(ws, sid, EventKind.note)}
    assert notes == {lead: "I01 talks, AL asks,,l, and OO", observer: "OO: I01 nods."}
    assert [e.text for e in _events(ws, sid, EventKind.debrief)] == ["Open; I01 trusted AL"]


async def test_observer_terminal_sees_the_lead_and_the_lead_sees_the_observer(tmp_path: Path):
    """Two app instances on one database: the lead's and the observer's (``fieldkit observe``)."""
    ws = _project(tmp_path / "data")
    sid, lead, observer = _planned(ws)
    lead_app = FieldkitApp(data_dir=tmp_path / "data", project=SLUG)
    obs_app = FieldkitApp(data_dir=tmp_path / "data", project=SLUG)
    async with lead_app.run_test(size=(80, 24)) as lp, obs_app.run_test(size=(80, 24)) as op:
        await _settle(lead_app, lp)
        await _settle(obs_app, op)
        lead_app.push_screen(InterviewScreen(SLUG, sid, record=False))
        obs_app.push_screen(InterviewScreen(SLUG, sid, observer=True))
        await _settle(lead_app, lp)
        await _settle(obs_app, op)
        lead_iv, obs_iv = lead_app.screen, obs_app.screen
        assert obs_iv.author_id == observer and lead_iv.author_id == lead
        footer = lambda app: [k.description for k in app.screen.query("FooterKey")]
        assert "Pause" not in footer(obs_app) and "Follow lead" in footer(obs_app)  # nothing refused
        assert "Follow lead" not in footer(lead_app)
        await lp.press("k")
        await op.press("f", "n", *"from the observer", "enter")
        log = lambda iv: str(iv.query_one("#event-log").render())
        # each terminal shows the other's events (how soon: tests/bench/observer_bench.py)
        await _until(op, lambda: "Key quote" in log(obs_iv), timeout=30)
        await _until(lp, lambda: "from the observer" in log(lead_iv) and "Follow up" in log(lead_iv),
                     timeout=30)
        # the observer's guide follows the lead: the lead covers question 1 and moves on
        items = list(lead_iv.guide.iter_questions())
        q1, q2 = items[0][1], items[1][1]
        panel = lambda iv: str(iv.query_one("#guide-panel").render())
        assert q1.text[:30] in panel(obs_iv)
        await lp.press("c")
        await _until(op, lambda: q2.text[:30] in panel(obs_iv), timeout=30)
        await op.press("down", "down")  # the observer looks ahead on their own ...
        assert not obs_iv.follow_lead and "following the lead" not in str(obs_iv.query_one("#rec-bar").render())
        await op.press("ctrl+f")        # ... and follows the lead again
        await _until(op, lambda: q2.text[:30] in panel(obs_iv), timeout=30)
        # q in the observer's seat asks first; "Stay" keeps the seat
        await op.press("q")
        await _until(op, lambda: type(obs_app.screen).__name__ == "ConfirmScreen")
        assert "Leave the observer's seat?" in str(obs_app.screen.text)
        await op.press("n")
        await _until(op, lambda: obs_app.screen is obs_iv)
        await lp.press("q")
        await _settle(lead_app, lp)
        await lp.press("y")
        await _until(lp, lambda: type(lead_app.screen).__name__ == "DebriefScreen", timeout=30)
        await op.press("q")  # the observer leaves; the interview goes on without them
        await _until(op, lambda: type(obs_app.screen).__name__ == "ConfirmScreen")
        await op.press("y")
        await _until(op, lambda: type(obs_app.screen).__name__ in ("HomeScreen", "DebriefScreen"))
    authors = {e.code or e.kind.value: e.created_by for e in _events(ws, sid)}
    assert authors["key_quote"] == lead and authors["follow_up"] == observer and authors["note"] == observer


async def test_debrief_keeps_each_researchers_impressions_and_the_joint_note(tmp_path: Path):
    from fieldkit.tui.screens.debrief import DebriefScreen

    ws = _project(tmp_path / "data")
    sid, lead, observer = _planned(ws)
    app = FieldkitApp(data_dir=tmp_path / "data", project=SLUG)
    async with app.run_test(size=(100, 40)) as pilot:
        await _settle(app, pilot)
        app.push_screen(DebriefScreen(SLUG, sid, author_id=lead))
        await _settle(app, pilot)
        screen = app.screen
        areas = list(screen.query(TextArea))
        assert len(areas) == 3 and areas[0].has_focus
        await pilot.press(*"Open, talkative")
        # the observer's impressions are written in the observer's terminal (issue 21):
        # hidden and read-only here until both have saved
        assert areas[1].read_only and not areas[1].display
        areas[2].text = "Ask the NAV office next"
        await pilot.press("ctrl+s")
        await _settle(app, pilot)
        await pilot.press(*"; tired at the end")
        await pilot.press("escape")  # leaving saves too
        await _settle(app, pilot)
        assert type(app.screen).__name__ == "HomeScreen"
    debrief = {(e.code, e.created_by): e.text for e in _events(ws, sid, EventKind.debrief)}
    assert debrief == {("impressions", lead): "Open, talkative; tired at the end",
                       ("joint", lead): "Ask the NAV office next"}


# ---------------------------------------------------------------------------- with audio


@pytest.mark.audio
@pytest.mark.slow
async def test_setup_to_recorded_interview_with_pause_stop_and_debrief(tmp_path: Path):
    problem = audio_env.start()
    if problem:
        pytest.skip(f"virtual microphone unavailable: {problem}")
    ws = _project(tmp_path / "data")
    sid, lead, _ = _planned(ws)
    app = FieldkitApp(data_dir=tmp_path / "data", project=SLUG)
    async with app.run_test(size=(110, 50)) as pilot:
        await _settle(app, pilot)
        await pilot.press("enter", "enter")
        await _settle(app, pilot)
        setup = app.screen
        from textual.widgets import Select

        # the microphones are listed in the background: wait for them, not for a tick
        await _until(pilot, lambda: any("pulse" in str(label) for label, _v in setup.query_one("#device", Select)._options),
                     "the virtual microphone in the list")
        setup.query_one("#device", Select).value = next(
            v for label, v in setup.query_one("#device", Select)._options if "pulse" in str(label))
        setup.query_one("#live", Checkbox).value = False
        await pilot.press("ctrl+t")  # microphone test through the virtual microphone
        await _settle(app, pilot)
        assert "peak" in str(setup.query_one("#mic-level").render())
        setup.consent_rows["I01"].query_one(".c-recording", Checkbox).value = True
        await pilot.press("ctrl+r")
        await _settle(app, pilot)
        iv = app.screen
        assert isinstance(iv, InterviewScreen)
        await _until(pilot, lambda: iv.recorder is not None and iv.recorder.state == "recording")
        await pilot.pause(1.5)
        await pilot.press("k")
        await pilot.press("p")
        await _until(pilot, lambda: iv.recorder.state == "paused")
        await pilot.pause(1.0)  # paused: the clock stands still
        await pilot.press("f")
        await pilot.press("p")
        await _until(pilot, lambda: iv.recorder.state == "recording")
        await pilot.pause(1.0)
        await pilot.press("c")
        await _until(pilot, lambda: len(iv.latencies) == 3)
        await pilot.press("q")
        await _settle(app, pilot)
        assert "Stop the recording" in str(app.screen.text)
        await pilot.press("y")
        await _until(pilot, lambda: type(app.screen).__name__ == "DebriefScreen", timeout=30)
        await _settle(app, pilot)
    with ws.open(SLUG) as h, h.db.session() as s:
        sess = s.get(Session, sid)
        assert sess.status == SessionStatus.recorded
        rec = s.exec(select(Recording).where(Recording.session_id == sid)).one()
        assert rec.state == RecordingState.complete
        files = s.exec(select(RecordingFile).where(RecordingFile.recording_id == rec.id)).all()
        total = sum(f.duration_ms for f in files)
        assert 2500 <= total <= 6000, total
    tags = {e.code: e.position_ms for e in _events(ws, sid, EventKind.tag)}
    markers = {e.code: e.position_ms for e in _events(ws, sid, EventKind.recording)}
    assert markers["start"] == 0 and markers["pause"] <= markers["resume"] + 60
    # the tag pressed while paused sits at the pause position; the others inside the audio
    assert 1000 <= tags["key_quote"] <= markers["pause"]
    assert abs(tags["follow_up"] - markers["pause"]) <= 100
    cov = _events(ws, sid, EventKind.coverage)[0]
    assert markers["resume"] + 800 <= cov.position_ms <= markers["stop"] <= total + 100


# ---------------------------------------------------------------------------- snapshots


def test_interview_screen_snapshot(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, snap_compare):
    monkeypatch.setenv("HOME", str(tmp_path))
    ws = _project(tmp_path / "data")
    sid = _recorded_session(ws)

    async def open_interview(pilot) -> None:
        await _settle(pilot.app, pilot)
        pilot.app.push_screen(InterviewScreen(SLUG, sid, observer=True))
        await _settle(pilot.app, pilot)
        await still(pilot)

    assert snap_compare(FieldkitApp(data_dir=tmp_path / "data", project=SLUG), terminal_size=(80, 24),
                        run_before=open_interview)


def test_setup_screen_snapshot(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, snap_compare):
    monkeypatch.setenv("HOME", str(tmp_path))
    ws = _project(tmp_path / "data")
    sid, _lead, _obs = _planned(ws, informants=("I01", "I02"))

    async def open_setup(pilot) -> None:
        from fieldkit.tui.screens.setup import SetupScreen

        await _settle(pilot.app, pilot)
        pilot.app.push_screen(SetupScreen(SLUG, sid))
        await _settle(pilot.app, pilot)
        pilot.app.screen.query_one("#live", Checkbox).value = False  # not depending on installed models
        pilot.app.screen.query_one("#live", Checkbox).label = "Live transcript while recording"
        await pilot.press("end")
        await still(pilot)

    assert snap_compare(FieldkitApp(data_dir=tmp_path / "data", project=SLUG), terminal_size=(100, 40),
                        run_before=open_setup)


def test_debrief_screen_snapshot(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, snap_compare):
    from fieldkit.sessions.debrief import save_debrief
    from fieldkit.tui.screens.debrief import DebriefScreen

    monkeypatch.setenv("HOME", str(tmp_path))
    ws = _project(tmp_path / "data")
    sid, lead, observer = _planned(ws)
    with ws.open(SLUG) as h:
        save_debrief(h, sid, "impressions", "Nervous at first, then very open.", observer)

    async def open_debrief(pilot) -> None:
        await _settle(pilot.app, pilot)
        pilot.app.push_screen(DebriefScreen(SLUG, sid, author_id=lead))
        await _settle(pilot.app, pilot)
        await still(pilot)

    assert snap_compare(FieldkitApp(data_dir=tmp_path / "data", project=SLUG), terminal_size=(80, 30),
                        run_before=open_debrief)


# ---------------------------------------------------------------------------- keys and the observer's seat


async def test_tag_keys_are_bindings_remapped_by_the_keymap(tmp_path: Path, monkeypatch: pytest.MonkeyPatch):
    """Tag keys are real bindings (id tag.<code>): listed by the help screen and the
    command palette, and moved by the researcher's keymap.toml."""
    from fieldkit.tui.commands import FieldkitCommands

    keymap = tmp_path / "keymap.toml"
    keymap.write_text('"interview.stop" = "ctrl+e"\n[tag]\nkey_quote = "K"\n', encoding="utf-8")
    monkeypatch.setenv("FIELDKIT_KEYMAP", str(keymap))
    ws = _project(tmp_path / "data")
    sid, lead, _ = _planned(ws)
    app = FieldkitApp(data_dir=tmp_path / "data", project=SLUG)
    async with app.run_test(size=(100, 30)) as pilot:
        await _settle(app, pilot)
        app.push_screen(InterviewScreen(SLUG, sid, record=False))
        await _settle(app, pilot)
        iv = app.screen
        bindings = {b.id: b for b in iv.BINDINGS}  # what the help screen and the palette list
        assert bindings["tag.key_quote"].description == "Key quote"
        assert bindings["tag.follow_up"].action == "tag('follow_up')"
        await pilot.press("k")       # moved away by the keymap: stores nothing
        await pilot.press("K", "f")  # key quote on K now; follow up where it was
        await _until(pilot, lambda: len(iv.latencies) == 2)
        assert " K " in str(iv.query_one("#tag-legend").render())
        await pilot.press("q")       # q no longer stops ...
        await _settle(app, pilot)   # then the state must not have changed
        assert app.screen is iv
        await pilot.press("ctrl+e")  # ... ctrl+e does
        await _until(pilot, lambda: type(app.screen).__name__ == "ConfirmScreen")
        await pilot.press("n")
        await _until(pilot, lambda: app.screen is iv)
        names = [name for name, _cb, _help in FieldkitCommands(app.screen)._commands()]
        assert "Key quote" in names and "Digression" in names
    assert [e.code for e in _events(ws, sid, EventKind.tag)] == ["key_quote", "follow_up"]


async def test_keymap_that_cannot_be_read_is_reported_not_fatal(tmp_path: Path, monkeypatch: pytest.MonkeyPatch):
    keymap = tmp_path / "keymap.toml"
    keymap.write_text('"interview.stop" = \n', encoding="utf-8")
    monkeypatch.setenv("FIELDKIT_KEYMAP", str(keymap))
    _project(tmp_path / "data")
    app = FieldkitApp(data_dir=tmp_path / "data", project=SLUG)
    async with app.run_test(size=(100, 30)) as pilot:
        await _settle(app, pilot)
        assert any("cannot be read" in str(n.message) and str(keymap) in str(n.message)
                   for n in app._notifications)
        assert type(app.screen).__name__ == "HomeScreen"


async def test_every_tag_key_shows_at_80x24_and_the_observer_sees_the_leads_live_transcript(tmp_path: Path):
    from fieldkit.store.models import RunStatus, TranscriptionRun, TranscriptSegment

    ws = _project(tmp_path / "data")
    sid, lead, observer = _planned(ws)
    import fcntl
    import os

    from fieldkit.transcription.live import lock_path

    with ws.open(SLUG) as h, h.db.transaction() as s:
        # what the lead's live transcriber writes when it starts (fieldkit.transcription.live),
        # and the lock it holds while it lives (recovery closes a run nobody holds)
        s.add(TranscriptionRun(session_id=sid, mode="live", status=RunStatus.running, model="base"))
        lock = lock_path(h.folder, sid)
        lock.parent.mkdir(parents=True, exist_ok=True)
    held = os.open(lock, os.O_RDWR | os.O_CREAT, 0o600)
    fcntl.flock(held, fcntl.LOCK_EX)
    app = FieldkitApp(data_dir=tmp_path / "data", project=SLUG)
    async with app.run_test(size=(80, 24)) as pilot:
        await _settle(app, pilot)
        app.push_screen(InterviewScreen(SLUG, sid, observer=True))
        await _settle(app, pilot)
        iv = app.screen
        legend = str(iv.query_one("#tag-legend").render())
        assert len(iv.tags) >= 8
        for tag in iv.tags.values():
            assert f" {tag.key} " in legend, (tag.key, legend)
        tail = lambda: str(iv.query_one("#tail").render())
        assert "Live transcript (the lead's): waiting" in tail()
        with ws.open(SLUG) as h, h.db.transaction() as s:
            s.add(TranscriptSegment(session_id=sid, start_ms=4000, end_ms=7000, verbatim="we meet every Monday"))
        await _until(pilot, lambda: "we meet every Monday" in tail(), timeout=30)
    os.close(held)


@pytest.mark.parametrize("size, least, most", [((120, 40), 9, 16), ((80, 24), 3, 5)])
async def test_live_transcript_pane_grows_with_the_room_and_shows_the_newest_line(tmp_path: Path, size, least,
                                                                                  most):
    """Issue 21: the pane was 3-4 lines at any size and clipped at its bottom, so the newest
    utterance was the one not shown. It takes a share of the column (more at 120x40) and
    keeps the newest line at its bottom; at 80x24 the guide keeps most of the room."""
    import fcntl
    import os

    from fieldkit.store.models import RunStatus, TranscriptionRun, TranscriptSegment
    from fieldkit.transcription.live import lock_path

    ws = _project(tmp_path / "data")
    sid, lead, observer = _planned(ws)
    with ws.open(SLUG) as h, h.db.transaction() as s:
        s.add(TranscriptionRun(session_id=sid, mode="live", status=RunStatus.running, model="base"))
        for i in range(20):
            s.add(TranscriptSegment(session_id=sid, start_ms=i * 5000, end_ms=i * 5000 + 4000,
                                    verbatim=f"utterance {i} says what the informant said then"))
        lock = lock_path(h.folder, sid)
        lock.parent.mkdir(parents=True, exist_ok=True)
    held = os.open(lock, os.O_RDWR | os.O_CREAT, 0o600)
    fcntl.flock(held, fcntl.LOCK_EX)
    try:
        app = FieldkitApp(data_dir=tmp_path / "data", project=SLUG)
        async with app.run_test(size=size) as pilot:
            await _settle(app, pilot)
            app.push_screen(InterviewScreen(SLUG, sid, observer=True))
            iv = app.screen
            tail = lambda: str(iv.query_one("#tail").render()).splitlines()
            await _until(pilot, lambda: any("utterance 19 " in line for line in tail()), timeout=30)
            with ws.open(SLUG) as h, h.db.transaction() as s:   # a new utterance is stored
                s.add(TranscriptSegment(session_id=sid, start_ms=100_000, end_ms=103_000, verbatim="the newest one"))
            await _until(pilot, lambda: tail() and "the newest one" in tail()[-1], timeout=30)
            assert least <= len(tail()) <= most, tail()
            # exactly as many lines as the pane holds: none clipped (the newest was, before)
            await _until(pilot, lambda: iv.query_one("#tail").size.height == len(tail()),
                         what="the pane's height to be its lines")
            assert iv.query_one("#guide-panel").size.height >= 2 * len(tail())   # the guide keeps most
    finally:
        os.close(held)


async def test_every_binding_has_an_id_and_the_keymap_moves_any_screens_key(tmp_path: Path,
                                                                            monkeypatch: pytest.MonkeyPatch):
    """Screens that declare no ids get ``<screen>.<action>``: the home screen's "new
    session" key moves like the interview screen's keys do."""
    from fieldkit.tui.keymap import binding_id, screen_name

    home_new = next(b for b in __import__("fieldkit.tui.screens.home", fromlist=["HomeScreen"]).HomeScreen.BINDINGS
                    if b.key == "n")
    keymap = tmp_path / "keymap.toml"
    keymap.write_text(f'"home.{home_new.action.partition("(")[0]}" = "ctrl+n"\n', encoding="utf-8")
    monkeypatch.setenv("FIELDKIT_KEYMAP", str(keymap))
    _project(tmp_path / "data")
    app = FieldkitApp(data_dir=tmp_path / "data", project=SLUG)
    async with app.run_test(size=(110, 50)) as pilot:
        await _settle(app, pilot)
        home = app.screen
        assert screen_name(home) == "home"
        ids = [b.id for bs in home._bindings.key_to_bindings.values() for b in bs]
        assert ids and all(ids), ids
        assert binding_id("interview", "cover('covered')") == "interview.cover_covered"
        await pilot.press("n")       # moved away
        await _settle(app, pilot)
        assert app.screen is home
        await pilot.press("ctrl+n")  # here now
        await _until(pilot, lambda: type(app.screen).__name__ == "SetupScreen")


@pytest.mark.audio
@pytest.mark.slow
async def test_interview_screen_on_a_full_disk_stops_cleanly_and_says_so(small_disk: Path):
    """The interview screen drives the same runtime as `fieldkit record`: on a nearly full
    disk the recording stops by itself, the screen says so and the interview ends as usual."""
    problem = audio_env.start()
    if problem:
        pytest.skip(f"virtual microphone unavailable: {problem}")
    data = small_disk / "data"
    ws = _project(data)
    sid, lead, _ = _planned(ws)
    with ws.open(SLUG) as h:
        from fieldkit.sessions.consent import ConsentTicks, store_consent_ticks

        store_consent_ticks(h, sid, {"I01": ConsentTicks(True, True, True)}, author_id=lead, asked=True)
    app = FieldkitApp(data_dir=data, project=SLUG)
    async with app.run_test(size=(100, 30)) as pilot:
        await _settle(app, pilot)
        app.push_screen(InterviewScreen(SLUG, sid, device=audio_env.DEVICE))
        await _settle(app, pilot)
        iv = app.screen
        await _until(pilot, lambda: iv.recorder is not None and iv.recorder.state == "recording", timeout=30)
        await pilot.press("k")
        bar = lambda: str(iv.query_one("#rec-bar").render())
        await _until(pilot, lambda: "STOPPED" in bar(), timeout=120)
        assert iv.recorder.state == "stopped" and "disk is almost full" in bar().lower(), bar()
        assert any("stopped at" in str(n.message) for n in app._notifications)
        await pilot.press("q")
        await _until(pilot, lambda: type(app.screen).__name__ == "ConfirmScreen")
        assert "End the interview?" in str(app.screen.text)
        await pilot.press("y")
        await _until(pilot, lambda: type(app.screen).__name__ == "DebriefScreen", timeout=60)
    with ws.open(SLUG) as h, h.db.session() as s:
        rec = s.exec(select(Recording).where(Recording.session_id == sid)).one()
        assert rec.state == RecordingState.complete and rec.info["stopped_by"] == "disk_full"
        assert s.get(Session, sid).status == SessionStatus.recorded
        assert [e.code for e in _events(ws, sid, EventKind.tag)] == ["key_quote"]


async def test_a_title_typed_while_the_setup_is_still_loading_is_kept(tmp_path: Path, monkeypatch):
    """On a slow laptop the setup form fills itself in a moment after it opens (the
    microphones are asked in the background); the title the researcher typed meanwhile
    was replaced by "Interview <date>" (or had it put in front)."""
    import threading

    import fieldkit.tui.screens.setup as setup

    listed = threading.Event()
    real = setup._input_devices
    monkeypatch.setattr(setup, "_input_devices", lambda: (listed.wait(30), real())[1])
    _project(tmp_path / "data")
    app = FieldkitApp(data_dir=tmp_path / "data", project=SLUG)
    async with app.run_test(size=(110, 50)) as pilot:
        await _settle(app, pilot)
        await pilot.press("n")
        await _until(pilot, lambda: type(app.screen).__name__ == "SetupScreen", "the setup")
        screen = app.screen
        await pilot.press(*"Interview I01 at the DPS")
        listed.set()                                # the microphones answer: the form fills in
        await _until(pilot, lambda: screen.choices is not None and screen._pristine is not None, "loaded")
        assert screen.query_one("#title", Input).value == "Interview I01 at the DPS"
        screen.query_one("#informants", SelectionList).select("I01")
        await pilot.press("ctrl+s")
        await _until(pilot, lambda: type(app.screen).__name__ == "HomeScreen", "saved")
    from fieldkit.projects import Workspace

    with Workspace(tmp_path / "data").open(SLUG) as h, h.db.session() as s:
        assert [x.title for x in s.exec(select(Session))] == ["Interview I01 at the DPS"]


async def test_a_tag_key_while_the_stop_question_is_open_still_tags_the_moment(tmp_path: Path):
    """The stop question is up (q pressed a little early) and the informant says the key
    sentence: the tag key did nothing, silently. The interview is still running, so the
    key tags the moment and the question stays open for its y or n."""
    ws = _project(tmp_path / "data")
    sid, lead, _ = _planned(ws)
    app = FieldkitApp(data_dir=tmp_path / "data", project=SLUG)
    async with app.run_test(size=(110, 40)) as pilot:
        await _settle(app, pilot)
        app.push_screen(InterviewScreen(SLUG, sid, record=False))
        await _until(pilot, lambda: isinstance(app.screen, InterviewScreen) and app.screen.runtime is not None,
                     "the interview")
        interview = app.screen
        await pilot.press("q")
        await _until(pilot, lambda: type(app.screen).__name__ == "ConfirmScreen", "the stop question")
        question = app.screen
        await pilot.press("k")
        await _until(pilot, lambda: [e.code for e in _events(ws, sid, EventKind.tag)] == ["key_quote"], "the tag stored")
        assert app.screen is question                 # still asking
        await pilot.press("n")                        # go on
        await _until(pilot, lambda: app.screen is interview, "back in the interview")
    assert [e.code for e in _events(ws, sid, EventKind.tag)] == ["key_quote"]
