"""Every session ends right (issue 21, "data lost or silently incomplete"): journeys
through the real entry points, asserting on what is stored.

- Ctrl+Q / Ctrl+C / the help screen's way out while recording ask the stop question;
  no keeps recording, yes stops cleanly and keeps the half-typed note; the observer's
  seat asks too, and says why it moves on to the debrief.
- A killed ``fieldkit record --live``: the live run is closed as interrupted, the
  session queued, and the final pass (in its own process) completes the transcript
  to the end of the audio; the review screen says where a short transcript ends and F
  transcribes the rest.
- An import from the command line while the app is open shows on the home screen and
  is transcribed by the background pass; T on the home screen queues a session.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
import soundfile as sf
from sqlmodel import select

from fieldkit.projects import Workspace
from fieldkit.store.models import (
    Event, EventKind, Recording, RecordingFile, RecordingState, RunStatus, Session, TranscriptionRun,
    TranscriptSegment,
)
from fieldkit.transcription import final
from tests.support import audio_env
from tests.support.cli import fk
from tests.support.wait import until
from tests.support.real_speech import joined, needs_speech

SLUG = "field-study"


def _runs(ws: Workspace, slug: str, sid) -> list[TranscriptionRun]:
    with ws.open(slug) as h, h.db.session() as s:
        return list(s.exec(select(TranscriptionRun).where(TranscriptionRun.session_id == sid)
                           .order_by(TranscriptionRun.created_at)))


def _segments(ws: Workspace, slug: str, sid) -> list[TranscriptSegment]:
    with ws.open(slug) as h, h.db.session() as s:
        return list(s.exec(select(TranscriptSegment).where(TranscriptSegment.session_id == sid)
                           .order_by(TranscriptSegment.start_ms)))


def _audio_ms(ws: Workspace, slug: str, sid) -> int:
    with ws.open(slug) as h, h.db.session() as s:
        files = s.exec(select(RecordingFile).join(Recording).where(Recording.session_id == sid)).all()
        return max(f.offset_ms + f.duration_ms for f in files)


def _english(root: Path, name: str = "Eng") -> tuple[Workspace, str]:
    from fieldkit.transcription.service import set_project_model

    ws = Workspace(root).ensure()
    with ws.create(name, language="en") as h:
        set_project_model(h, "tiny.en")
        set_project_model(h, "tiny.en", live=True)
        return ws, h.project().slug


def _speech_wav(path: Path, clips=("en_jfk", "en_libri61_left", "en_librivox_sense")) -> Path:
    audio, _ref = joined(list(clips), gap_s=1.5)
    sf.write(path, audio, 16000, subtype="PCM_16")
    return path


# ---------------------------------------------------------------------------- Ctrl+Q while recording


@pytest.mark.audio
@pytest.mark.slow
async def test_every_way_out_while_recording_asks_first_and_keeps_the_half_typed_note(tmp_path: Path):
    from fieldkit.sessions.consent import ConsentTicks, store_consent_ticks
    from fieldkit.tui.app import FieldkitApp
    from fieldkit.tui.screens.interview import InterviewScreen
    from tests.support.screens import interview_project as _project
    from tests.support.screens import planned_session as _planned

    problem = audio_env.start()
    if problem:
        pytest.skip(f"virtual microphone unavailable: {problem}")
    data = tmp_path / "data"
    ws = _project(data)
    sid, lead, _observer = _planned(ws)
    with ws.open(SLUG) as h:
        store_consent_ticks(h, sid, {"I01": ConsentTicks(True, True, True)}, author_id=lead, asked=True)
    lead_app = FieldkitApp(data_dir=data, project=SLUG)
    obs_app = FieldkitApp(data_dir=data, project=SLUG)
    name = lambda app: type(app.screen).__name__
    async with lead_app.run_test(size=(110, 40)) as lp, obs_app.run_test(size=(110, 40)) as op:
        await until(lp, lambda: name(lead_app) == "HomeScreen", "the lead's home screen")
        lead_app.push_screen(InterviewScreen(SLUG, sid, device=audio_env.DEVICE))
        await until(lp, lambda: name(lead_app) == "InterviewScreen", "the interview screen")
        iv = lead_app.screen
        await until(lp, lambda: iv.recorder is not None and iv.recorder.state == "recording", "recording")
        await until(op, lambda: name(obs_app) == "HomeScreen", "the observer's home screen")
        obs_app.push_screen(InterviewScreen(SLUG, sid, observer=True))
        await until(op, lambda: name(obs_app) == "InterviewScreen" and obs_app.screen.in_progress(),
                    "the observer's seat following the recording")
        obs_iv = obs_app.screen

        # the observer's Ctrl+Q asks the seat's question; no keeps the seat
        await op.press("ctrl+q")
        await until(op, lambda: name(obs_app) == "ConfirmScreen", "the observer's question")
        assert "Leave the observer's seat?" in str(obs_app.screen.text)
        await op.press("n")
        await until(op, lambda: obs_app.screen is obs_iv, "back in the seat")
        assert obs_app.is_running

        # the lead begins a note and presses Ctrl+Q in the middle of it
        await lp.press("n")
        note_pos = iv.note_pos
        await lp.press(*"half typed")
        await lp.press("ctrl+q")
        await until(lp, lambda: name(lead_app) == "ConfirmScreen", "the stop question")
        question = str(lead_app.screen.text)
        assert "Stop the recording and end the interview?" in question
        assert "These themes were not touched:" in question    # the same question q asks
        await lp.press("n")
        await until(lp, lambda: lead_app.screen is iv, "back in the interview")
        assert iv.recorder.state == "recording" and lead_app.is_running
        assert iv.query_one("#note").value == "half typed", "no keeps the note in its line"

        # Ctrl+C (a worried user) asks the same, never Textual's English toast
        await lp.press("escape", "ctrl+c")
        await until(lp, lambda: name(lead_app) == "ConfirmScreen", "the stop question after Ctrl+C")
        await lp.press("n")
        await until(lp, lambda: lead_app.screen is iv, "back in the interview")
        assert not any("to quit the app" in str(n.message) for n in lead_app._notifications)

        # the command palette's Quit goes through the same question
        quit_cmd = next(c for c in lead_app.get_system_commands(iv) if c.title == "Quit")
        lead_app.call_later(quit_cmd.callback)     # run by the lead's app, as the palette does
        await until(lp, lambda: name(lead_app) == "ConfirmScreen", "the stop question after the palette's Quit")
        await lp.press("n")
        await until(lp, lambda: lead_app.screen is iv, "back in the interview")
        assert iv.recorder.state == "recording"

        # from a screen above the interview (the key list): yes stops and the debrief follows
        await lp.press("question_mark")
        await until(lp, lambda: name(lead_app) == "HelpScreen", "the key list")
        await lp.press("ctrl+q")
        await until(lp, lambda: name(lead_app) == "ConfirmScreen", "the stop question over the key list")
        await lp.press("y")
        await until(lp, lambda: name(lead_app) == "DebriefScreen", "the lead's debrief", 60)
        assert [type(s).__name__ for s in lead_app.screen_stack][-2:] == ["HomeScreen", "DebriefScreen"]

        # the observer's terminal follows, and says why
        await until(op, lambda: name(obs_app) == "DebriefScreen", "the observer's debrief", 30)
        reason = str(obs_app.screen.query_one("#debrief-reason").render())
        assert "The lead stopped the recording in the other terminal" in reason
    with ws.open(SLUG) as h, h.db.session() as s:
        rec = s.exec(select(Recording).where(Recording.session_id == sid)).one()
        assert rec.state == RecordingState.complete
        files = s.exec(select(RecordingFile).where(RecordingFile.recording_id == rec.id)).all()
        assert files and all(f.path.endswith(".flac") and f.complete for f in files)
        assert all((h.folder / f.path).is_file() for f in files)
        notes = s.exec(select(Event).where(Event.session_id == sid, Event.kind == EventKind.note)).all()
        stop = s.exec(select(Event).where(Event.session_id == sid, Event.kind == EventKind.recording,
                                          Event.code == "stop")).one()
    assert [n.text for n in notes] == ["half typed"]
    assert notes[0].position_ms == note_pos <= stop.position_ms, "stored at the moment n was pressed"


# ---------------------------------------------------------------------------- a killed recording


@needs_speech
@pytest.mark.audio
@pytest.mark.slow
def test_killed_live_recording_is_closed_queued_and_completed_by_the_final_pass(tmp_path: Path):
    problem = audio_env.start()
    if problem:
        pytest.skip(f"virtual microphone unavailable: {problem}")
    root = tmp_path / "data"
    ws, slug = _english(root)
    wav = _speech_wav(tmp_path / "speech.wav")
    env = {**os.environ, "FIELDKIT_HOME": str(root), "FIELDKIT_LANG": "en", "HF_HUB_OFFLINE": "1"}
    player = audio_env.play(wav)
    proc = subprocess.Popen([sys.executable, "-m", "fieldkit", "record", "-p", slug, "--title", "Killed",
                             "--device", audio_env.DEVICE, "--live"],
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, env=env)
    try:
        deadline = time.monotonic() + 120
        sid = None
        while time.monotonic() < deadline:   # until the live transcript has begun
            with ws.open(slug) as h, h.db.session() as s:
                sess = s.exec(select(Session).where(Session.title == "Killed")).first()
                sid = sess.id if sess else None
                live = s.exec(select(TranscriptSegment).where(TranscriptSegment.session_id == sid)).first() \
                    if sid else None
            if live is not None:
                break
            time.sleep(0.3)
        assert live is not None, "the live transcript began"
        # killed well before the live transcriber's next cut (it waits for 8 s of speech)
        time.sleep(5)
        proc.send_signal(signal.SIGKILL)
        proc.wait()
    finally:
        player.kill()
        if proc.poll() is None:
            proc.kill()
    # reopening: `fieldkit recover` (the app's home screen runs the same recovery)
    out = fk(root, "recover", "-p", slug).stdout
    assert "Recovered" in out
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline and any(r.status == RunStatus.running for r in _runs(ws, slug, sid)):
        time.sleep(0.3)   # the live worker notices its parent is gone (or recovery closed it)
    runs = _runs(ws, slug, sid)
    live_run = next(r for r in runs if r.mode == "live")
    assert live_run.status == RunStatus.cancelled and live_run.error == "interrupted"
    assert [r.status for r in runs if r.mode == "batch"] == [RunStatus.queued], "queued for the final pass"
    audio_ms = _audio_ms(ws, slug, sid)
    with ws.open(slug) as h:
        from fieldkit.sessions.review import load_review

        data = load_review(h, sid)
    assert data.transcript_short and data.transcript_to_ms == live_run.done_ms < audio_ms
    # the final pass in its own process, as the app starts it (after a restart just the same:
    # the queue is stored)
    assert final.quick_pending(root / "projects" / slug / "project.db") == 1
    bg = final.start_background(root, slug)
    assert bg is not None and bg.wait(timeout=600) == 0
    runs = _runs(ws, slug, sid)
    batch = next(r for r in runs if r.mode == "batch")
    assert batch.status == RunStatus.done and abs(batch.total_ms - audio_ms) <= 50
    segs = _segments(ws, slug, sid)
    assert segs and all(g.run_id == batch.id for g in segs)
    assert segs[-1].end_ms > live_run.done_ms + 1000, "the transcript goes on after the live one stopped"
    with ws.open(slug) as h:
        assert not load_review(h, sid).transcript_short


@needs_speech
@pytest.mark.slow
async def test_review_says_where_a_short_transcript_ends_and_F_transcribes_the_rest(tmp_path: Path):
    from fieldkit.recording.importer import import_recording
    from fieldkit.tui.app import FieldkitApp
    from fieldkit.tui.screens.review import ReviewScreen

    root = tmp_path / "data"
    ws, slug = _english(root)
    wav = _speech_wav(tmp_path / "speech.wav")
    with ws.open(slug) as h:
        with h.db.transaction() as s:
            sess = Session(project_id=h.project_id, title="Cut off")
            s.add(sess)
        import_recording(h, sess.id, wav)
        with h.db.transaction() as s:   # what a live transcription killed at 0:09 leaves
            run = TranscriptionRun(session_id=sess.id, mode="live", status=RunStatus.cancelled,
                                   error="interrupted", model="tiny.en", done_ms=9000)
            s.add(run)
            s.flush()
            s.add(TranscriptSegment(session_id=sess.id, run_id=run.id, start_ms=0, end_ms=8500,
                                    verbatim="rough live words"))
    audio_ms = _audio_ms(ws, slug, sess.id)
    app = FieldkitApp(data_dir=root, project=slug)
    async with app.run_test(size=(120, 40)) as pilot:
        await until(pilot, lambda: type(app.screen).__name__ == "HomeScreen", "home")
        app.push_screen(ReviewScreen(slug, sess.id))
        await until(pilot, lambda: isinstance(app.screen, ReviewScreen) and app.screen.data is not None, "review")
        screen = app.screen
        reach = screen.query_one("#review-reach")
        await until(pilot, lambda: reach.display, "the line saying the transcript is short")
        assert f"Transcript ends at 00:00:09 of {_hms(audio_ms)}" in str(reach.render())
        await pilot.press("F")
        await until(pilot, lambda: screen.data is not None and not screen.data.transcript_short,
                    "the rest transcribed", 300)
        await until(pilot, lambda: not reach.display, "the line gone once the transcript is whole")
    segs = _segments(ws, slug, sess.id)
    assert segs[0].verbatim == "rough live words", "what was there stays"
    assert segs[-1].end_ms > 20_000 and all(g.start_ms >= 8500 for g in segs[1:])
    ranges = [r for r in _runs(ws, slug, sess.id) if r.mode == "range"]
    assert [r.status for r in ranges] == [RunStatus.done] and ranges[0].settings["range_ms"][0] == 9000


def _hms(ms: int) -> str:
    from fieldkit.recording.clock import hms

    return hms(ms)


# ---------------------------------------------------------------------------- imports


@needs_speech
@pytest.mark.slow
async def test_cli_import_while_the_app_is_open_shows_and_is_transcribed_by_itself(tmp_path: Path):
    from textual.widgets import DataTable

    from fieldkit.tui.app import FieldkitApp

    root = tmp_path / "data"
    ws, slug = _english(root)
    wav = _speech_wav(tmp_path / "phone.wav", clips=("en_jfk",))
    app = FieldkitApp(data_dir=root, project=slug)
    async with app.run_test(size=(120, 40)) as pilot:
        await until(pilot, lambda: type(app.screen).__name__ == "HomeScreen" and app.screen.summaries, "home")
        home = app.screen
        table = home.query_one("#sessions", DataTable)
        rows = lambda: [str(table.get_row_at(i)[0]) for i in range(table.row_count)]
        assert "Phone call" not in rows()
        loop = __import__("asyncio").get_running_loop()
        done = await loop.run_in_executor(None, lambda: fk(root, "import", str(wav), "-p", slug,
                                                           "--title", "Phone call"))
        assert "Queued for transcription" in done.stdout
        await until(pilot, lambda: "Phone call" in rows(), "the import on the home screen", 30)
        with ws.open(slug) as h, h.db.session() as s:
            sid = s.exec(select(Session).where(Session.title == "Phone call")).one().id
        await until(pilot, lambda: any(r.mode == "batch" and r.status == RunStatus.done
                                       for r in _runs(ws, slug, sid)), "the background pass", 300)
        # (then it names the voices; the process ends by itself)
        await until(pilot, lambda: not final.is_running(root / "projects" / slug), "the pass to end", 120)
    segs = _segments(ws, slug, sid)
    assert segs and "country" in " ".join(g.verbatim for g in segs).lower()


@needs_speech
@pytest.mark.slow
async def test_home_T_queues_a_session_and_transcribe_all_takes_queued_ones(tmp_path: Path):
    from textual.widgets import DataTable

    from fieldkit.recording.importer import import_recording
    from fieldkit.tui.app import FieldkitApp

    root = tmp_path / "data"
    ws, slug = _english(root)
    wav = _speech_wav(tmp_path / "a.wav", clips=("en_jfk",))
    with ws.open(slug) as h:
        with h.db.transaction() as s:
            sess = Session(project_id=h.project_id, title="Old import")
            s.add(sess)
        import_recording(h, sess.id, wav)   # (the core import queues nothing by itself)
    assert _runs(ws, slug, sess.id) == []
    app = FieldkitApp(data_dir=root, project=slug)
    async with app.run_test(size=(120, 40)) as pilot:
        await until(pilot, lambda: type(app.screen).__name__ == "HomeScreen" and app.screen.summaries, "home")
        app.screen.query_one("#sessions", DataTable).focus()
        await pilot.press("T")
        await until(pilot, lambda: any(r.mode == "batch" for r in _runs(ws, slug, sess.id)), "queued")
        await until(pilot, lambda: any(r.mode == "batch" and r.status == RunStatus.done
                                       for r in _runs(ws, slug, sess.id)), "the background pass", 300)
        await until(pilot, lambda: not final.is_running(root / "projects" / slug), "the pass to end", 120)
    # the command line: a queued session is taken by `transcribe --all`
    out = fk(root, "import", str(wav), "-p", slug, "--title", "Second").stdout
    assert "Queued for transcription" in out
    done = fk(root, "transcribe", "--all", "-p", slug).stdout
    assert "Second" in done and "Old import" not in done
    with ws.open(slug) as h, h.db.session() as s:
        sid = s.exec(select(Session).where(Session.title == "Second")).one().id
    assert [(r.mode, r.status) for r in _runs(ws, slug, sid)] == [("batch", RunStatus.done)], \
        "the queued run itself did the work"


# ---------------------------------------------------------------------------- a closed terminal


@needs_speech
@pytest.mark.audio
@pytest.mark.slow
def test_closing_the_terminal_stops_the_recording_cleanly_and_keeps_the_note(tmp_path: Path):
    """The app in tmux, recording with live transcription; the tmux session is killed (the
    terminal closes: SIGHUP to the app and everything it started)."""
    import shutil
    from datetime import date

    from fieldkit.people.informants import add_informant

    from fieldkit.sessions.consent import record_session_consent
    from fieldkit.instruments.guides.store import import_guide
    from fieldkit.sessions.plan import SessionPlan, save_session, setup_choices
    from fieldkit.store.models import Researcher
    from tests.support.screens import REPO
    from tests.support.tmux import Tmux

    if shutil.which("tmux") is None:
        pytest.skip("tmux missing (scripts/test installs it)")
    problem = audio_env.start()
    if problem:
        pytest.skip(f"virtual microphone unavailable: {problem}")
    root = tmp_path / "data"
    ws, slug = _english(root, "Hangup study")
    with ws.open(slug) as h:
        with h.db.transaction() as s:
            s.add(Researcher(project_id=h.project_id, name="Ada Lead", initials="AL"))
            s.add(Researcher(project_id=h.project_id, name="Ola Observer", initials="OO"))
        import_guide(h.db, h.project_id, REPO / "guides" / "en-frontline-professionals.md")
        add_informant(h, "I01", role="nurse", info_letter_sent_on=date(2026, 1, 5),
                      written_consent_on=date(2026, 1, 9))
        c = setup_choices(h)
        sid = save_session(h, SessionPlan("Hangup interview", guide_version_id=c.guides[0].version_id,
                                          lead_id=c.researchers[0].id, observer_id=c.researchers[1].id,
                                          informants=["I01"]))
        record_session_consent(h, sid, "I01", True)
    wav = _speech_wav(tmp_path / "speech.wav")
    env = {"FIELDKIT_HOME": str(root), "FIELDKIT_DEVICE": audio_env.DEVICE, "TERM": "xterm-256color",
           "FIELDKIT_LANG": "en", "HF_HUB_OFFLINE": "1", "PYTHONPATH": os.environ.get("PYTHONPATH", ""),
           "PULSE_SERVER": os.environ.get("PULSE_SERVER", ""), "HOME": os.environ.get("HOME", "/root")}
    tmux = Tmux(f"fieldkit-hangup-{os.getpid()}", {k: v for k, v in env.items() if v})
    player = None
    try:
        tmux.start("lead", f"{sys.executable} -m fieldkit --project {slug}")
        pid = int(tmux.run("display-message", "-p", "-t", "fk:lead", "#{pane_pid}").strip())
        tmux.wait_for("lead", "Hangup interview")
        tmux.wait_for("lead", "data folder")  # the project list is read and has the focus
        time.sleep(1)
        tmux.keys("lead", "Enter")
        time.sleep(0.5)
        tmux.keys("lead", "Enter")            # the planned session opens in setup
        tmux.wait_for("lead", "Start interview")
        tmux.wait_for("lead", "I01  nurse")
        tmux.keys("lead", "C-r")              # recording starts, with live transcription
        tmux.wait_for("lead", "● REC", timeout=30)
        player = audio_env.play(wav)
        time.sleep(12)
        tmux.keys("lead", "n")
        tmux.keys("lead", "said the GP twice", literal=True)   # never saved with Enter
        tmux.wait_for("lead", "said the GP twice")
        time.sleep(2)
        # the terminal is closed: the app ends by itself once the recording is stopped and
        # the live transcript's tail is finished (a generous limit on a loaded machine)
        ended = tmux.close(hangup_s=240)
        assert ended.get(pid) == "hangup", f"the app did not end after its terminal closed: {ended}"
    finally:
        tmux.kill()
        if player is not None:
            player.kill()
    with ws.open(slug) as h, h.db.session() as s:
        rec = s.exec(select(Recording).where(Recording.session_id == sid)).one()
        assert rec.state == RecordingState.complete, "stopped cleanly, not left to recovery"
        files = s.exec(select(RecordingFile).where(RecordingFile.recording_id == rec.id)).all()
        assert files and all(f.path.endswith(".flac") for f in files) and rec.duration_ms >= 12_000
        notes = s.exec(select(Event).where(Event.session_id == sid, Event.kind == EventKind.note)).all()
        assert [n.text for n in notes] == ["said the GP twice"]
        assert 12_000 <= notes[0].position_ms <= rec.duration_ms
        live = s.exec(select(TranscriptionRun).where(TranscriptionRun.session_id == sid,
                                                     TranscriptionRun.mode == "live")).one()
    assert live.status == RunStatus.done and live.done_ms == pytest.approx(rec.duration_ms, abs=1500)
