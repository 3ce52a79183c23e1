"""The final pass replacing a live transcript (in its background process, and never over
edits), selective transcription of ranges, and the review screen's range key. Real
speech (tests/data/speech) and the real tiny.en model."""

from __future__ import annotations

import os
import subprocess
import threading
import time
from pathlib import Path

import jiwer
import pytest
import soundfile as sf
from sqlmodel import select

from fieldkit.recording.importer import import_recording
from fieldkit.store.models import RunStatus, Session, TranscriptionRun, TranscriptSegment
from fieldkit.transcription import final
from fieldkit.transcription.service import (
    TranscriptionError, set_project_model, transcribe_session,
)
from tests.support.real_speech import joined, needs_speech
from tests.support.speech import normalise
from tests.support.cli import fk as run_cli

pytestmark = [needs_speech, pytest.mark.slow]

CLIPS = ["en_jfk", "en_libri61_left", "en_librivox_sense"]


@pytest.fixture
def english(workspace):
    h = workspace.create("Eng", language="en")
    set_project_model(h, "tiny.en")
    yield h
    h.close()


def _recorded(project, tmp_path: Path, clips=CLIPS, title: str = "Interview") -> tuple[Session, str]:
    audio, ref = joined(clips, gap_s=1.5)
    wav = tmp_path / f"{title}.wav"
    sf.write(wav, audio, 16000, subtype="PCM_16")
    with project.db.transaction() as s:
        sess = Session(project_id=project.project_id, title=title)
        s.add(sess)
    import_recording(project, sess.id, wav)
    return sess, ref


def _rough_live(project, sid, texts=("rough live words", "more rough words")) -> list:
    """What the live transcriber leaves: a completed live run with its segments."""
    with project.db.transaction() as s:
        run = TranscriptionRun(session_id=sid, mode="live", status=RunStatus.done, model="tiny.en",
                               language="en", done_ms=10_000, total_ms=10_000)
        s.add(run)
        s.flush()
        for i, t in enumerate(texts):
            s.add(TranscriptSegment(session_id=sid, run_id=run.id, start_ms=i * 5000, end_ms=i * 5000 + 4000,
                                    verbatim=t))
    return _segs(project, sid)


def _segs(project, sid) -> list[TranscriptSegment]:
    with project.db.session() as s:
        return list(s.exec(select(TranscriptSegment).where(TranscriptSegment.session_id == sid)
                           .order_by(TranscriptSegment.start_ms)))


def _wait(cond, timeout: float = 240, what: str = "") -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if cond():
            return
        time.sleep(0.2)
    raise AssertionError(f"timed out waiting for {what}")


def test_background_final_pass_replaces_the_live_transcript(english, workspace, tmp_path):
    sess, ref = _recorded(english, tmp_path)
    live = _rough_live(english, sess.id)
    db = english.folder / "project.db"
    assert final.quick_pending(db) == 1
    proc = final.start_background(workspace.root, english.folder.name)
    assert proc is not None
    # the home screen's view of it while it runs (or once it is over)
    seen = final.quick_progress(workspace.projects_dir)
    assert [r.session for r in seen] in (["Interview"], [])
    assert proc.wait(timeout=300) == 0, (english.folder / "logs" / final.LOG_NAME).read_text()
    segs = _segs(english, sess.id)
    assert not {s.id for s in live} & {s.id for s in segs}, "the rough live segments are gone"
    hyp = " ".join(s.verbatim for s in segs)
    assert jiwer.wer(normalise(ref), normalise(hyp)) < 0.25, hyp
    with english.db.session() as s:
        runs = {r.mode: r for r in s.exec(select(TranscriptionRun).where(TranscriptionRun.session_id == sess.id))}
    assert runs["batch"].status == RunStatus.done and runs["batch"].model == "tiny.en"
    assert final.quick_pending(db) == 0 and final.quick_progress(workspace.projects_dir) == []
    assert final.start_background(workspace.root, english.folder.name) is None, "nothing left to do"


def test_final_pass_never_replaces_an_edited_transcript(english, tmp_path):
    sess, _ = _recorded(english, tmp_path)
    live = _rough_live(english, sess.id)
    with english.db.transaction() as s:
        s.get(TranscriptSegment, live[0].id).edited = "What the researcher wrote."
    assert final.pending_sessions(english) == []
    assert final.run_final_passes(english) == []
    assert [s.edited for s in _segs(english, sess.id)][0] == "What the researcher wrote."


def test_edit_made_while_the_final_pass_runs_wins(english, tmp_path):
    sess, _ = _recorded(english, tmp_path)
    live = _rough_live(english, sess.id)
    edited = threading.Event()

    def edit_midway(title, progress) -> None:
        if not edited.is_set():
            with english.db.transaction() as s:
                s.get(TranscriptSegment, live[1].id).edited = "Corrected while the pass ran."
            edited.set()

    out = final.run_final_passes(english, on_progress=edit_midway)
    assert edited.is_set() and "edited" in out[0][1]
    segs = _segs(english, sess.id)
    assert [s.id for s in segs] == [s.id for s in live], "the edited live transcript is kept whole"
    assert segs[1].edited == "Corrected while the pass ran."
    with english.db.session() as s:
        batch = s.exec(select(TranscriptionRun).where(TranscriptionRun.mode == "batch")).one()
    assert batch.status == RunStatus.cancelled and "edited" in batch.error and batch.done_ms == 0
    # asked explicitly, a new transcript replaces the edited one, made from the start
    run = transcribe_session(english, sess.id, replace_edited=True)
    segs = _segs(english, sess.id)
    assert run.id == batch.id and run.status == RunStatus.done
    assert segs and all(s.run_id == run.id for s in segs) and segs[0].start_ms < 2000


def test_final_pass_stops_for_a_new_recording_and_resumes(english, tmp_path):
    from fieldkit.store.models import Recording, RecordingState

    sess, ref = _recorded(english, tmp_path)
    _rough_live(english, sess.id)
    with english.db.transaction() as s:
        other = Session(project_id=english.project_id, title="Next interview")
        s.add(other)
    started = []

    def start_recording(title, progress) -> None:
        # the next interview begins after the pass's first window
        if progress.phase == "window" and not started:
            with english.db.transaction() as s:
                started.append(Recording(session_id=other.id, folder="audio/next", state=RecordingState.recording))
                s.add(started[0])

    out = final.run_final_passes(english, on_progress=start_recording)
    assert "paused" in out[0][1]
    rec = started[0]
    # while it records, the pass does not even start
    assert final.run_final_passes(english) == [("Interview", "paused for a new recording; continues later")]
    with english.db.session() as s:
        run = s.exec(select(TranscriptionRun).where(TranscriptionRun.mode == "batch")).one()
    assert run.status == RunStatus.cancelled and 0 < run.done_ms
    kept = {s.id for s in _segs(english, sess.id) if s.run_id == run.id}
    with english.db.transaction() as s:
        s.get(Recording, rec.id).state = RecordingState.complete
    out = final.run_final_passes(english)
    assert out[0][1].startswith("done")
    segs = _segs(english, sess.id)
    assert kept <= {s.id for s in segs} and all(s.run_id == run.id for s in segs), "resumed, same run"
    assert jiwer.wer(normalise(ref), normalise(" ".join(s.verbatim for s in segs))) < 0.25


def test_ranges_transcribe_only_their_part_and_add_up(english, tmp_path):
    sess, _ = _recorded(english, tmp_path)   # jfk 0.0-11.0 s, gap, libri61 12.5-17.5 s, gap, librivox 19-46 s
    env = {**os.environ, "FIELDKIT_HOME": str(english.folder.parent.parent)}

    def cli(*args: str) -> subprocess.CompletedProcess:
        return run_cli(None, "transcribe", "Interview", "-p", "Eng", *args, ok=False, env=env)

    r = cli("--from", "0:00:12", "--to", "00:00:18")
    assert r.returncode == 0, r.stderr
    first = _segs(english, sess.id)
    assert first and all(12_000 <= s.start_ms and s.end_ms <= 18_000 for s in first)
    assert "ask not" not in " ".join(s.verbatim for s in first).lower()
    r = cli("--from", "0", "--to", "0:11")
    assert r.returncode == 0, r.stderr
    second = _segs(english, sess.id)
    assert {s.id for s in first} <= {s.id for s in second}, "a later range adds"
    assert "ask not what your country can do for you" in normalise(" ".join(s.verbatim for s in second))
    assert all(s.end_ms <= 18_000 for s in second)
    # bad input: a time that is not one, a range after the end, from after to
    r = cli("--from", "1:75:00")
    assert r.returncode != 0 and "not a time" in r.stderr
    r = cli("--from", "2:00:00")
    assert r.returncode != 0 and "after the end of the recording" in r.stderr and "Traceback" not in r.stderr
    r = cli("--from", "0:20", "--to", "0:10")
    assert r.returncode != 0 and "is empty" in r.stderr
    assert _segs(english, sess.id) == second, "no transcript damaged"


def test_range_resumes_after_a_stop(english, tmp_path):
    sess, _ = _recorded(english, tmp_path)
    cancel = threading.Event()

    def stop_after_first(p) -> None:
        cancel.set()

    # longer than one window (at most 30 s), so the stop comes between windows
    run = transcribe_session(english, sess.id, span=(3_000, 46_000), on_progress=stop_after_first,
                             cancel=cancel)
    assert run.status == RunStatus.cancelled and 3_000 < run.done_ms < 46_000
    kept = {s.id for s in _segs(english, sess.id)}
    run2 = transcribe_session(english, sess.id, span=(3_000, 46_000))
    assert run2.id == run.id and run2.status == RunStatus.done
    segs = _segs(english, sess.id)
    assert kept <= {s.id for s in segs} and all(3_000 <= s.start_ms for s in segs)
    assert all(a.end_ms <= b.start_ms + 50 for a, b in zip(segs, segs[1:])), "no duplicated stretch"
    # an edited segment inside a range is protected
    inside = next(g for g in segs if g.end_ms > 20_000 and g.start_ms < 30_000)
    with english.db.transaction() as s:
        s.get(TranscriptSegment, inside.id).edited = "Edited."
    with pytest.raises(TranscriptionError, match="has edits in that range"):
        transcribe_session(english, sess.id, span=(20_000, 30_000))


async def test_review_screen_marks_a_range_to_transcribe(english, workspace, tmp_path):
    from textual.widgets import OptionList

    from fieldkit.tui.app import FieldkitApp
    from fieldkit.tui.screens.review import ReviewScreen
    from tests.support.wait import settle as _settle

    sess, _ = _recorded(english, tmp_path)
    live = _rough_live(english, sess.id, texts=("rough one", "rough two"))   # 0-4 s and 5-9 s
    slug = english.project().slug
    app = FieldkitApp(data_dir=workspace.root, project=slug)
    async with app.run_test(size=(100, 30)) as pilot:
        await _settle(app, pilot)
        app.push_screen(ReviewScreen(slug, sess.id))
        await _settle(app, pilot)
        screen = app.screen
        lst = screen.query_one("#review-list", OptionList)
        lst.highlighted = next(i for i, (k, o) in enumerate(screen.rows) if k == "segment" and o.id == live[0].id)
        await pilot.press("b")
        lst.highlighted = next(i for i, (k, o) in enumerate(screen.rows) if k == "segment" and o.id == live[1].id)
        await pilot.press("b")
        deadline = time.monotonic() + 240
        while time.monotonic() < deadline:
            segs = _segs(english, sess.id)
            if segs and not {s.id for s in live} & {s.id for s in segs}:
                break
            await pilot.pause(0.2)
        segs = _segs(english, sess.id)
        # the range replaced the live text; the background final pass (a recording is queued
        # for it) may transcribe the rest of the recording meanwhile, which is right too
        in_range = [s for s in segs if s.start_ms < 9_000]
        assert in_range and all(0 <= s.start_ms for s in in_range), [(s.start_ms, s.end_ms, s.verbatim) for s in segs]
        assert "rough" not in " ".join(s.verbatim for s in segs)
        # the screen shows the new text once it has reloaded
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline and not any(
                k == "segment" and o.id == segs[0].id for k, o in screen.rows):
            await pilot.pause(0.2)
        assert any(k == "segment" and o.id == segs[0].id for k, o in screen.rows)


async def test_home_screen_starts_the_final_pass_and_shows_it(english, workspace, tmp_path):
    from fieldkit.tui.app import FieldkitApp
    from fieldkit.tui.widgets.final_pass import FinalPassStatus

    sess, _ = _recorded(english, tmp_path)
    live = _rough_live(english, sess.id)
    app = FieldkitApp(data_dir=workspace.root, project=english.project().slug)
    async with app.run_test(size=(100, 30)) as pilot:
        widget = app.screen.query_one(FinalPassStatus)
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline and not widget.display:
            await pilot.pause(0.2)
        assert widget.display and str(widget.render()).startswith("Final transcript:")
        deadline = time.monotonic() + 300
        while time.monotonic() < deadline and widget.display:
            await pilot.pause(0.5)
        assert not widget.display, "hidden once the pass is done"
        # the process names the voices after the transcript is stored, then ends by itself
        deadline = time.monotonic() + 120
        while time.monotonic() < deadline and final.is_running(english.folder):
            await pilot.pause(0.2)
    segs = _segs(english, sess.id)
    assert segs and not {s.id for s in live} & {s.id for s in segs}
    deadline = time.monotonic() + 30          # the process ends moments after its last write
    while time.monotonic() < deadline and final.is_running(english.folder):
        time.sleep(0.2)
    assert final.is_running(english.folder) is False


def test_final_pass_waits_for_a_recorder_in_another_project(english, workspace, tmp_path):
    """A recorder running in another project of the data folder (its lock held, as the
    recorder holds it) keeps the final pass from starting; once it stops, the pass runs."""
    from fieldkit.recording.finalise import hold_lock, release_lock

    sess, _ref = _recorded(english, tmp_path)
    _rough_live(english, sess.id)
    other = workspace.create("Other", language="no")
    folder = other.folder / "audio" / "s1" / "r1"
    folder.mkdir(parents=True)
    lock = hold_lock(folder)
    try:
        assert final.recording_anywhere(workspace.projects_dir)
        out = final.run_final_passes(english)
        assert out == [("Interview", "paused for a new recording; continues later")]
        with english.db.session() as s:
            assert s.exec(select(TranscriptionRun).where(TranscriptionRun.mode == "batch",
                                                         TranscriptionRun.status == RunStatus.done)).first() is None
    finally:
        release_lock(lock, folder)
        other.close()
    assert not final.recording_anywhere(workspace.projects_dir)
    out = final.run_final_passes(english)
    assert out[0][1].startswith("done")


def test_batched_final_pass_cuts_segments_at_the_words(english, tmp_path):
    """Windows decoded together by faster-whisper's batched pipeline (as where the bench
    measured it faster): one stored segment per sentence or pause, not one per 30 s chunk,
    each word inside its segment, the text right; threads are the machine's cores."""
    import os

    from fieldkit.transcription.service import session_settings
    from fieldkit.transcription.settings import machine_threads

    assert 1 <= machine_threads() <= (os.cpu_count() or 1)
    sess, ref = _recorded(english, tmp_path)
    st = session_settings(english, sess.id, batch=8)
    assert st.cpu_threads() == machine_threads()
    run = transcribe_session(english, sess.id, st, speakers=False)
    assert run.status == RunStatus.done and run.settings["batch"] == 8
    segs = _segs(english, sess.id)
    assert len(segs) >= 5 and max(s.end_ms - s.start_ms for s in segs) <= 20_000
    for s in segs:
        assert s.words and s.words[0]["s"] >= s.start_ms - 1 and s.words[-1]["e"] <= s.end_ms + 1
        assert s.verbatim == "".join(w["w"] for w in s.words).strip()
    assert jiwer.wer(normalise(ref), normalise(" ".join(s.verbatim for s in segs))) < 0.25
