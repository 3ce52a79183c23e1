"""Recording through a real-time virtual microphone (PulseAudio null sink)."""

from __future__ import annotations

import os
import random
import shutil
import signal
import subprocess
import sys
import time
from datetime import datetime, timezone
from pathlib import Path

import numpy as np
import pytest
import soundfile as sf
from sqlmodel import select

from fieldkit.instruments.events import add_event
from fieldkit.recording.audio import load_audio
from fieldkit.recording.clock import position_ms
from fieldkit.recording.recorder import ANCHOR_TOLERANCE_MS, Recorder, RecorderError
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
from tests.support import audio_env
from tests.support.cli import fk_process

pytestmark = pytest.mark.audio
SR = 16000


@pytest.fixture(scope="module")
def mic(virtual_mic):   # the run's private PulseAudio (tests/conftest.py)
    return virtual_mic


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


def _until(check, timeout: float = 30.0, what: str = "a condition") -> None:
    """Wait for an event (never for a fixed time) with a generous deadline."""
    deadline = time.monotonic() + timeout
    while not check():
        assert time.monotonic() < deadline, f"timed out waiting for {what}"
        time.sleep(0.02)


def _recorded_ms(rec: Recorder) -> int:
    """Audio the recorder has captured so far (its sample count)."""
    return rec.position_ms


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
    _until(lambda: _recorded_ms(rec) >= 500, what="half a second of audio")
    audio_env.play(tmp_path / "sig.wav").wait()
    end_of_play = _recorded_ms(rec)
    _until(lambda: _recorded_ms(rec) >= end_of_play + 500, what="half a second after the signal")
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
        flac = project.folder / row.files[0].path
        folder = project.folder / row.folder
    # the FLAC file itself (read by libsndfile) holds exactly the stored duration, and the
    # raw file, the conversion's temporary file and the recorder's lock are gone
    assert sf.info(str(flac)).frames * 1000 // SR == summary.duration_ms
    assert sorted(p.name for p in folder.iterdir()) == [flac.name]


@pytest.mark.slow
def test_pause_resume_clock_and_second_process(project, tmp_path, mic):
    sess = _session(project)
    rec = Recorder(project, sess.id, device=mic)
    code = ("import sys, uuid; from fieldkit.projects import Workspace;"
            "from fieldkit.recording.clock import position_ms;"
            "h = Workspace(sys.argv[1]).open(sys.argv[2]);"
            "print(position_ms(h.db, uuid.UUID(sys.argv[3])))")

    def other_process() -> int:
        """The clock as another process (sharing only the database) reads it."""
        r = subprocess.run([sys.executable, "-c", code, str(project.folder.parent.parent),
                            project.folder.name, str(sess.id)], capture_output=True, text=True, check=True)
        return int(r.stdout)

    rec.start()
    _until(lambda: _recorded_ms(rec) >= 1500, what="1.5 s of audio")
    rec.pause()
    paused_at = rec.position_ms
    with project.db.session() as s:
        pcm = project.folder / s.exec(select(Recording)).one().files[0].path
    # pausing put every captured block on disk first: the file holds exactly the clock
    assert pcm.stat().st_size // 2 * 1000 // SR == paused_at
    # while paused the clock stands still, also for another process started meanwhile
    assert position_ms(project.db, sess.id) == paused_at
    assert other_process() == paused_at
    rec.resume()
    _until(lambda: _recorded_ms(rec) >= paused_at + 1000, what="1 s of audio after resuming")
    # another process reads the clock the recorder has at that moment (same anchor; the
    # anchor follows the real sample count to within ANCHOR_TOLERANCE_MS plus one block)
    before = rec.clock_ms()
    other = other_process()
    after = rec.clock_ms()
    slack = ANCHOR_TOLERANCE_MS + 60
    assert before - slack <= other <= after + slack, (before, other, after)
    summary = rec.stop()
    with project.db.session() as s:
        p = s.exec(select(RecordingPause)).one()
        assert p.at_ms == paused_at and p.resumed_at is not None
        codes = [e.code for e in s.exec(select(Event).order_by(Event.wall_time))]
        stop_at = s.exec(select(Event).where(Event.code == "stop")).one().position_ms
    assert codes == ["start", "pause", "resume", "stop"]
    # the stored audio is what the clock says was recorded: no gap, nothing extra
    assert stop_at == summary.duration_ms and summary.duration_ms >= paused_at + 1000
    assert len(load_audio(project, sess.id)) * 1000 // SR == pytest.approx(summary.duration_ms, abs=2)


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
    """The audio server going away (the private pulseaudio killed) stands in for an unplugged
    microphone: PortAudio's stream stops delivering; when the server is back, so is
    the device."""
    sess = _session(project)
    warnings = []
    rec = Recorder(project, sess.id, device=mic, on_warning=warnings.append)
    rec.start()
    time.sleep(1.5)
    audio_env.kill_server()  # the test run's private server, never the machine's
    try:
        deadline = time.time() + 10
        while not any(w.kind == "device_lost" for w in warnings) and time.time() < deadline:
            time.sleep(0.1)
        assert any(w.kind == "device_lost" for w in warnings), "the lost device was not noticed"
    finally:
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


# ---------------------------------------------------------------------------- a full disk


def _fieldkit(data: Path, *args: str, timeout: float = 300) -> subprocess.CompletedProcess:
    """A real process: on a full disk its exit status and last words are the point."""
    return fk_process(data, *args, ok=False, timeout=timeout)


def _fill(folder: Path, leave: int = 0) -> Path:
    """Fill the disk holding ``folder`` up to ``leave`` bytes free; returns the filler file."""
    filler = folder / "filler.bin"
    with open(filler, "ab") as fh:
        while True:
            free = os.statvfs(folder).f_bavail * os.statvfs(folder).f_frsize
            chunk = min(64 * 1024, free - leave)
            if chunk <= 0:
                break
            try:
                fh.write(b"\0" * chunk)
                fh.flush()
            except OSError:
                break
    return filler


def _no_traceback(r: subprocess.CompletedProcess) -> None:
    assert "Traceback" not in r.stderr + r.stdout, r.stderr


@pytest.mark.slow
def test_full_disk_stops_cleanly_and_keeps_every_captured_second(small_disk, tmp_path, mic):
    from fieldkit.projects import Workspace

    data = small_disk / "data"
    r = _fieldkit(data, "project", "new", "Small")
    assert r.returncode == 0, r.stderr
    ws = Workspace(data)
    tone = tmp_path / "tone.wav"
    _signal(tone, 60.0)
    player = audio_env.play(tone)
    proc = subprocess.Popen([sys.executable, "-m", "fieldkit", "--data-dir", str(data), "record", "-p", "small",
                             "--title", "Full disk", "--device", mic], stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True)
    durable = 0
    try:
        # follow what is durably on disk while it records, until the recorder stops by itself
        while proc.poll() is None:
            for pcm in (data / "projects" / "small" / "audio").rglob("*.pcm"):
                try:
                    durable = max(durable, pcm.stat().st_size // 2 * 1000 // SR)
                except FileNotFoundError:
                    pass
            time.sleep(0.05)
        out, err = proc.communicate(timeout=120)
    finally:
        player.kill()
        if proc.poll() is None:
            proc.kill()
    _no_traceback(subprocess.CompletedProcess([], proc.returncode, out, err))
    assert proc.returncode == 0, err
    assert "disk was nearly full" in out and "stopped by itself" in out, out
    assert "disk is almost full" in err
    assert durable > 5000, "it recorded before the disk filled"
    with ws.open("small") as h:
        with h.db.session() as s:
            sess = s.exec(select(Session).where(Session.title == "Full disk")).one()
            rec = s.exec(select(Recording).where(Recording.session_id == sess.id)).one()
            files = rec.files
            assert sess.status.value == "recorded" and rec.state == RecordingState.complete
            assert rec.info.get("stopped_by") == "disk_full" and rec.info.get("raw_kept") == 0
            assert [f.complete for f in files] == [True] and files[0].path.endswith(".flac")
        # the session is usable at once: every second that reached the disk is in the FLAC
        audio = load_audio(h, sess.id)
        assert len(audio) * 1000 // SR >= durable
        assert len(audio) * 1000 // SR == pytest.approx(rec.duration_ms, abs=2)
        assert not list((h.folder / rec.folder).glob("*.pcm")) and not list(h.folder.rglob("*.tmp"))
    assert shutil.disk_usage(small_disk).free > 0
    r = _fieldkit(data, "recover", "-p", "small")
    assert r.returncode == 0 and "No unfinished recordings." in r.stdout, r.stdout + r.stderr


@pytest.mark.slow
def test_recovery_on_a_full_disk_keeps_the_raw_audio_and_says_what_it_needs(small_disk, tmp_path, mic):
    from fieldkit.projects import Workspace

    data = small_disk / "data"
    assert _fieldkit(data, "project", "new", "Small").returncode == 0
    ws = Workspace(data)
    audio = data / "projects" / "small" / "audio"
    proc = subprocess.Popen([sys.executable, "-m", "fieldkit", "--data-dir", str(data), "record", "-p", "small",
                             "--title", "Crashed", "--device", mic],
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        def pcm_ms() -> int:
            files = list(audio.rglob("*.pcm"))
            return files[0].stat().st_size // 2 * 1000 // SR if files else 0
        _until(lambda: pcm_ms() >= 3000, what="3 s of raw audio")
    finally:
        proc.send_signal(signal.SIGKILL)
        proc.wait()
    captured = pcm_ms()
    pcm = next(audio.rglob("*.pcm"))

    # 1. a disk with no room at all: nothing is lost, and it says so (no traceback)
    filler = _fill(small_disk)
    r = _fieldkit(data, "recover", "-p", "small")
    _no_traceback(r)
    said = r.stdout + r.stderr
    assert "full" in said.lower() and ("Free at least" in said or "kept as raw audio" in said), said
    assert pcm.exists() and pcm.stat().st_size // 2 * 1000 // SR == captured
    r = _fieldkit(data, "record", "-p", "small", "--title", "More", "--device", mic)
    _no_traceback(r)
    assert r.returncode != 0 and "too full to record" in r.stderr, r.stderr
    filler.unlink()

    # 2. room for the database (its share, finalise.DB_ROOM) but not for the FLAC file
    # as well: the raw audio is attached as it is
    from fieldkit.recording.finalise import DB_ROOM, room_to_finish

    assert DB_ROOM < room_to_finish(pcm.stat().st_size)
    filler = _fill(small_disk, leave=DB_ROOM)
    r = _fieldkit(data, "recover", "-p", "small")
    _no_traceback(r)
    assert r.returncode == 0, r.stderr
    assert "kept as raw audio" in r.stdout and "free " in r.stdout and "run `fieldkit recover` again" in r.stdout
    with ws.open("small") as h:
        with h.db.session() as s:
            sess = s.exec(select(Session).where(Session.title == "Crashed")).one()
            rec = s.exec(select(Recording).where(Recording.session_id == sess.id)).one()
            assert rec.state == RecordingState.recovered and sess.status.value == "recorded"
            assert rec.files[0].path.endswith(".pcm") and rec.files[0].duration_ms == captured
        assert len(load_audio(h, sess.id)) * 1000 // SR == captured   # it plays as it is
    filler.unlink()

    # 3. with room again, `fieldkit recover` finishes it
    r = _fieldkit(data, "recover", "-p", "small")
    assert r.returncode == 0 and "Recovered" in r.stdout and "raw" not in r.stdout, r.stdout
    with ws.open("small") as h:
        with h.db.session() as s:
            rec = s.exec(select(Recording).where(Recording.session_id == sess.id)).one()
            assert rec.files[0].path.endswith(".flac") and rec.files[0].complete
        assert len(load_audio(h, sess.id)) * 1000 // SR == captured
    assert not pcm.exists()


@pytest.mark.slow
def test_kill_during_the_flac_conversion_of_a_stop_recovers(project, tmp_path, mic):
    """SIGTERM starts a clean stop; SIGKILL lands while the FLAC file is being written."""
    data_dir = str(project.folder.parent.parent)
    audio = project.folder / "audio"
    for attempt in range(5):
        title = f"Stopped {attempt}"
        proc = subprocess.Popen([sys.executable, "-c", KILL_SCRIPT, data_dir, project.folder.name, title],
                                stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        try:
            def pcm() -> Path | None:
                found = list(audio.rglob("*.pcm"))  # earlier attempts finished theirs
                return found[0] if found else None
            _until(lambda: pcm() is not None and pcm().stat().st_size >= 8 * 2 * SR, what="8 s of raw audio")
            raw = pcm()
            tmp = raw.with_suffix(".flac.tmp")
            proc.send_signal(signal.SIGTERM)
            caught = False
            while proc.poll() is None:  # no sleep: the conversion takes milliseconds
                if tmp.exists():
                    proc.send_signal(signal.SIGKILL)
                    caught = True
                    break
        finally:
            proc.wait()
        captured = raw.stat().st_size // 2 * 1000 // SR if raw.exists() else None
        if not caught:
            continue  # the stop finished before the tmp file was seen: try again
        assert captured is not None, "the raw file is deleted only after the FLAC file is complete"
        recovered = recover_all(project)
        assert [r.session_title for r in recovered] == [title]
        assert recovered[0].audio_ms == captured and not recovered[0].raw_kept
        with project.db.session() as s:
            sess = s.exec(select(Session).where(Session.title == title)).one()
        assert len(load_audio(project, sess.id)) * 1000 // SR == captured
        assert not list(raw.parent.glob("*.tmp")) and not raw.exists()
        return
    pytest.fail("the kill never landed during the FLAC conversion in 5 attempts")


def test_disk_texts_say_1_minute_not_1_minutes():
    from fieldkit.recording.clock import duration_text, hms

    assert [duration_text(s) for s in (1, 59, 60, 119, 120, 3599, 7200)] == [
        "1 second", "59 seconds", "1 minute", "1 minute", "2 minutes", "59 minutes", "2 hours"]
    assert hms(3_725_999) == "01:02:05" and hms(None) == "--:--:--"


@pytest.mark.slow
def test_recovery_trusts_the_recorders_lock_not_its_process_id(project, mic):
    """A recorder in another process holds its lock: recovery leaves it alone. Once it is
    killed, the recording is recovered even though its stored process id now belongs to a
    live process (as after a reboot that reused the id)."""
    data_dir = str(project.folder.parent.parent)
    proc = subprocess.Popen([sys.executable, "-c", KILL_SCRIPT, data_dir, project.folder.name, "Locked"],
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        def started() -> Recording | None:
            with project.db.session() as s:
                return s.exec(select(Recording)).first()
        _until(lambda: started() is not None and (project.folder / started().folder / "recorder.lock").exists(),
               what="the recorder to start")
        assert recover_all(project) == []  # alive: its lock is held
        with project.db.transaction() as s:
            s.exec(select(Recording)).one().recorder_pid = os.getpid()  # a live process, not the recorder
    finally:
        proc.send_signal(signal.SIGKILL)
        proc.wait()
    recovered = recover_all(project)
    assert [r.session_title for r in recovered] == ["Locked"]
    with project.db.session() as s:
        rec = s.exec(select(Recording)).one()
        assert rec.state == RecordingState.recovered
    assert not (project.folder / rec.folder / "recorder.lock").exists()


def test_audio_that_never_arrives_is_noticed_and_stored(project, mic):
    """Audio lost before PortAudio sees it (the audio server stalled, a virtual microphone on a
    loaded machine) is no overflow: the recorder compares the samples it received with the
    time that passed. The private server's sink is suspended twice for under a second (no
    block arrives, too short to count as a lost device): the recorder warns with the missing
    time, stores it with the recording and says it when it stops."""
    sess = _session(project)
    warnings = []
    rec = Recorder(project, sess.id, device=mic, on_warning=warnings.append)
    rec.start()
    try:
        _until(lambda: rec.position_ms >= 1000, 30, "the first second of audio")
        for _ in range(2):
            at = rec.position_ms
            assert audio_env.suspend(True)
            time.sleep(0.9)   # the stall itself: the microphone delivers nothing this long
            assert audio_env.suspend(False)
            _until(lambda: rec.position_ms >= at + 500, 30, "audio again after the stall")
        _until(lambda: any(w.kind == "behind" for w in warnings), 30, "the warning that audio is missing")
    finally:
        summary = rec.stop()
    assert not any(w.kind == "device_lost" for w in warnings), [w.kind for w in warnings]
    [warning] = [w for w in warnings if w.kind == "behind"]
    assert warning.message.kind == "behind" and warning.message.values["missing"].n >= 1
    assert 1000 <= summary.behind_ms <= 4000, summary.behind_ms
    with project.db.session() as s:
        stored = s.exec(select(Recording).where(Recording.session_id == sess.id)).one()
    assert stored.info["behind_ms"] == summary.behind_ms
    assert "never arrived" in summary.message
