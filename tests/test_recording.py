"""Recording through a real-time virtual microphone (PulseAudio null sink)."""

from __future__ import annotations

import os
import random
import signal
import sqlite3
import subprocess
import sys
import time
from datetime import datetime, timezone
from pathlib import Path

import numpy as np
import pytest
import soundfile as sf
from sqlmodel import select

from fieldkit.events import add_event
from fieldkit.recording.audio import load_audio
from fieldkit.recording.clock import position_ms
from fieldkit.recording.recorder import Recorder, RecorderError
from fieldkit.recording.recovery import recover_all
from fieldkit.store.models import (
    Event,
    Informant,
    Recording,
    RecordingPause,
    RecordingState,
    Session,
    SessionParticipant,
)
from tests import audio_env

pytestmark = pytest.mark.audio
SR = 16000


@pytest.fixture(scope="module")
def mic():
    problem = audio_env.start()
    if problem:
        pytest.skip(f"virtual microphone unavailable: {problem}")
    return audio_env.DEVICE


def _session(project, title="S") -> Session:
    with project.db.transaction() as s:
        sess = Session(project_id=project.project_id, title=title)
        s.add(sess)
    return sess


def _signal(path: Path, seconds: float = 3.0) -> np.ndarray:
    """A pattern that cannot be mistaken: random tone bursts with gaps."""
    rng = np.random.default_rng(3)
    parts = []
    for _ in range(int(seconds / 0.25)):
        f = rng.uniform(300, 3000)
        t = np.arange(int(0.2 * SR)) / SR
        parts += [0.5 * np.sin(2 * np.pi * f * t), np.zeros(int(0.05 * SR))]
    x = np.concatenate(parts).astype(np.float32)
    sf.write(path, x, SR, subtype="PCM_16")
    return x


def _best_offset(recorded: np.ndarray, played: np.ndarray) -> tuple[int, float]:
    n = len(recorded) + len(played)
    size = 1 << (n - 1).bit_length()
    corr = np.fft.irfft(np.fft.rfft(recorded, size) * np.conj(np.fft.rfft(played, size)), size)
    lag = int(np.argmax(corr[: len(recorded)]))
    seg = recorded[lag: lag + len(played)]
    m = min(len(seg), len(played))
    return lag, float(np.corrcoef(seg[:m], played[:m])[0, 1])


@pytest.mark.slow
def test_capture_matches_what_was_played(project, tmp_path, mic):
    played = _signal(tmp_path / "sig.wav")
    sess = _session(project)
    rec = Recorder(project, sess.id, device=mic)
    rec.start()
    time.sleep(0.5)
    audio_env.play(tmp_path / "sig.wav").wait()
    time.sleep(0.5)
    wall = 0.0
    summary = rec.stop()
    assert summary.overflows == 0
    stored = load_audio(project, sess.id)
    assert abs(len(stored) / SR * 1000 - summary.duration_ms) < 50
    assert len(stored) / SR >= len(played) / SR + 0.5  # all of it, and the silence around
    lag, r = _best_offset(stored, played)
    assert r > 0.95, f"stored audio does not match what was played (r={r:.3f})"
    assert lag + len(played) <= len(stored)
    with project.db.session() as s:
        row = s.get(Recording, summary.recording_id)
        assert row.state == RecordingState.complete and row.files[0].path.endswith(".flac")
    assert wall == 0.0


@pytest.mark.slow
def test_pause_resume_clock_and_second_process(project, tmp_path, mic):
    sess = _session(project)
    rec = Recorder(project, sess.id, device=mic)
    t_start = time.time()
    rec.start()
    time.sleep(1.5)
    t_pause = time.time()
    rec.pause()
    paused_at = rec.position_ms
    assert position_ms(project.db, sess.id) == paused_at
    time.sleep(1.5)  # the clock must not move while paused
    assert position_ms(project.db, sess.id) == paused_at
    t_resume = time.time()
    rec.resume()
    time.sleep(1.0)
    # another process, sharing only the database, reads the same position
    code = ("import sys, uuid; from fieldkit.projects import Workspace;"
            "from fieldkit.recording.clock import position_ms;"
            "h = Workspace(sys.argv[1]).open(sys.argv[2]);"
            "import time; print(position_ms(h.db, uuid.UUID(sys.argv[3])), time.time())")
    r = subprocess.run([sys.executable, "-c", code, str(project.folder.parent.parent),
                        project.folder.name, str(sess.id)], capture_output=True, text=True)
    mine, now = rec.position_ms, time.time()
    other_s, t_other = r.stdout.split()
    expected = mine - (now - float(t_other)) * 1000  # where the recorder was at that moment
    assert abs(int(other_s) - expected) < 300, (other_s, expected)
    t_stop = time.time()
    summary = rec.stop()
    recorded_wall = (t_pause - t_start) + (t_stop - t_resume)
    assert abs(summary.duration_ms / 1000 - recorded_wall) < 0.4, (summary.duration_ms, recorded_wall)
    with project.db.session() as s:
        p = s.exec(select(RecordingPause)).one()
        assert p.at_ms == paused_at and p.resumed_at is not None
        codes = [e.code for e in s.exec(select(Event).order_by(Event.wall_time))]
    assert codes == ["start", "pause", "resume", "stop"]


def test_refuses_without_recording_consent(project):
    sess = _session(project)
    with project.db.transaction() as s:
        inf = Informant(project_id=project.project_id, code="L9")
        s.add(inf)
        s.flush()
        s.add(SessionParticipant(session_id=sess.id, informant_id=inf.id, recording_consent=False))
    with pytest.raises(RecorderError, match="not consented to recording"):
        Recorder(project, sess.id).start()
    with project.db.session() as s:
        assert s.exec(select(Recording)).all() == []


def test_missing_device_is_named(project):
    sess = _session(project)
    with pytest.raises(RecorderError, match="The microphone no-such-mic cannot record"):
        Recorder(project, sess.id, device="no-such-mic").start()


@pytest.mark.slow
def test_encrypted_recording_leaves_no_plaintext(workspace, tmp_path, mic):
    handle = workspace.create("Kryptert", passphrase="lang nok passfrase")
    played = _signal(tmp_path / "sig.wav", 2.0)
    sess = _session(handle)
    rec = Recorder(handle, sess.id, device=mic)
    rec.start()
    audio_env.play(tmp_path / "sig.wav").wait()
    rec.stop()
    stored = load_audio(handle, sess.id)
    assert _best_offset(stored, played)[1] > 0.95
    pcm = (np.clip(stored, -1, 1) * 32767).astype("<i2").tobytes()
    loud = int(np.argmax(np.abs(stored))) * 2 // 64 * 64  # 32 samples of tone, not silence
    probe = pcm[loud: loud + 64]
    assert len(set(probe)) > 8
    for p in handle.folder.rglob("*"):
        if p.is_file():
            assert probe not in p.read_bytes(), p
    handle.close()


KILL_SCRIPT = """
import sys, time
from fieldkit.cli import main
main(["--data-dir", sys.argv[1], "record", "-p", sys.argv[2], "--title", sys.argv[3], "--device", "pulse"])
"""


def _kill_and_recover(project, tmp_path, kills: int, env: dict | None = None) -> None:
    """SIGKILL the recorder at random moments: recovery keeps all but < 1 s, no event lost."""
    long = tmp_path / "long.wav"
    _signal(long, 12.0)
    player = audio_env.play(long)
    rng = random.Random(11)
    data_dir = str(project.folder.parent.parent)
    try:
        for i in range(kills):
            title = f"Kill {i}"
            proc = subprocess.Popen([sys.executable, "-c", KILL_SCRIPT, data_dir, project.folder.name, title],
                                    stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                                    env={**os.environ, **(env or {})})
            sess = None
            while sess is None:
                with project.db.session() as s:
                    sess = s.exec(select(Session).where(Session.title == title)).first()
                    started = s.exec(select(Recording).where(Recording.session_id == sess.id)).first() if sess else None
                if started is None:
                    sess = None
                time.sleep(0.02)
            time.sleep(rng.uniform(1.0, 3.0))
            note = add_event(project.db, sess.id, "note", position_ms=position_ms(project.db, sess.id),
                             text=f"note before kill {i}")
            proc.send_signal(signal.SIGKILL)
            killed = datetime.now(timezone.utc)
            proc.wait()
            recovered = recover_all(project)
            assert [r.session_title for r in recovered] == [title]
            with project.db.session() as s:
                rec = s.exec(select(Recording).where(Recording.session_id == sess.id)).one()
                assert rec.state == RecordingState.recovered
                assert s.get(Event, note.id).text == f"note before kill {i}"
            lost = (killed - rec.started_at).total_seconds() - recovered[0].audio_ms / 1000
            assert lost <= 1.0, f"kill {i}: {lost:.2f} s lost"
            assert len(load_audio(project, sess.id)) / SR * 1000 == pytest.approx(recovered[0].audio_ms, abs=5)
    finally:
        player.kill()


@pytest.mark.slow
def test_kill_and_recover(project, tmp_path, mic):
    _kill_and_recover(project, tmp_path, 3)


@pytest.mark.slow
def test_kill_and_recover_encrypted(workspace, tmp_path, mic):
    handle = workspace.create("Kryptert opptak", passphrase="hemmelig frase")
    try:
        _kill_and_recover(handle, tmp_path, 2, env={"FIELDKIT_PASSPHRASE": "hemmelig frase"})
        assert not any(p.suffix == ".pcm" for p in handle.folder.rglob("*"))
    finally:
        handle.close()


@pytest.mark.slow
def test_playback_of_a_range_reaches_the_speaker(project, tmp_path, mic):
    """Play 1 s of a session into the null sink and record it back from its monitor."""
    from fieldkit.recording.importer import import_recording
    from fieldkit.recording.playback import Player

    played = _signal(tmp_path / "sig.wav", 3.0)
    source = _session(project, "Source")
    import_recording(project, source.id, tmp_path / "sig.wav")
    target = _session(project, "Loopback")
    rec = Recorder(project, target.id, device=mic)
    rec.start()
    time.sleep(0.3)
    player = Player(device=mic)
    assert player.play(project, source.id, 1000, 2000) == pytest.approx(1.0)
    player.wait()
    time.sleep(0.3)
    rec.stop()
    heard = load_audio(project, target.id)
    lag, r = _best_offset(heard, played[SR: 2 * SR])
    assert r > 0.9, r


@pytest.mark.slow
def test_device_that_stops_delivering_is_detected_and_recording_continues(project, mic):
    """The audio server going away (pulseaudio killed) stands in for an unplugged
    microphone: PortAudio's stream stops delivering; when the server is back, so is
    the device."""
    sess = _session(project)
    warnings = []
    rec = Recorder(project, sess.id, device=mic, on_warning=warnings.append)
    rec.start()
    time.sleep(1.5)
    subprocess.run(["pulseaudio", "--kill"], check=True)
    try:
        deadline = time.time() + 10
        while not any(w.kind == "device_lost" for w in warnings) and time.time() < deadline:
            time.sleep(0.1)
        assert any(w.kind == "device_lost" for w in warnings), "the lost device was not noticed"
    finally:
        for _ in range(50):  # wait until the old daemon is gone, then start a new one
            if subprocess.run(["pulseaudio", "--check"]).returncode != 0:
                break
            time.sleep(0.1)
        assert audio_env.start() is None
    deadline = time.time() + 15
    while not any(w.kind == "device_back" for w in warnings) and time.time() < deadline:
        time.sleep(0.1)
    assert any(w.kind == "device_back" for w in warnings), [w.kind for w in warnings]
    time.sleep(1.0)
    summary = rec.stop()
    assert summary.files == 2  # the first segment was closed, a new one opened on return
    with project.db.session() as s:
        files = s.exec(select(Recording).where(Recording.session_id == sess.id)).one().files
        assert [f.complete for f in files] == [True, True]
        assert files[1].offset_ms == files[0].offset_ms + files[0].duration_ms
    assert len(load_audio(project, sess.id)) / SR * 1000 == pytest.approx(summary.duration_ms, abs=60)


def test_microphone_test_reads_the_level_and_names_a_missing_device(tmp_path, mic):
    from fieldkit.errors import FieldkitError
    from fieldkit.recording.mictest import MicTest, test_microphone

    _signal(tmp_path / "sig.wav", seconds=4.0)       # tone bursts at half of full scale
    player = audio_env.play(tmp_path / "sig.wav")
    levels: list[float] = []
    try:
        result = test_microphone(mic, seconds=2.0, on_level=levels.append)
    finally:
        player.wait()
    assert -12 < result.db < -2 and result.verdict == "OK", result   # 0.5 of full scale is -6 dBFS
    assert len(levels) >= 15 and max(levels) > -12
    assert MicTest(0).verdict.startswith("silent") and MicTest(32767).verdict.startswith("clipping")
    assert MicTest(200).verdict.startswith("quiet")
    with pytest.raises(FieldkitError, match="The microphone 'no-such-mic' cannot record"):
        test_microphone("no-such-mic", seconds=0.2)
