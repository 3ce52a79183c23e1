"""Long recordings (issue 27): transcription in windows cut at pauses, resumable per window;
audio read only for the span asked (playback, windows); speaker attribution in windows.
Real speech (tests/data/speech), the real tiny.en model, the real command line."""

from __future__ import annotations

import os
import signal
import sqlite3
import subprocess
import sys
import time
import tracemalloc
from pathlib import Path

import numpy as np
import pytest
import soundfile as sf
from sqlmodel import select

from fieldkit.recording.importer import import_recording
from fieldkit.store.models import RunStatus, Session, TranscriptionRun, TranscriptSegment
from tests.support.real_speech import clip, joined, needs_speech
from tests.support.speech import wer

pytestmark = needs_speech

SR = 16000
CLIPS = ["en_jfk", "en_librivox_sense", "en_libri61_left", "en_libri260_right"]


def _session(project, path: Path, title: str) -> Session:
    with project.db.transaction() as s:
        sess = Session(project_id=project.project_id, title=title)
        s.add(sess)
    import_recording(project, sess.id, path)
    return sess


def _segs(project, sid) -> list[TranscriptSegment]:
    with project.db.session() as s:
        return list(s.exec(select(TranscriptSegment).where(TranscriptSegment.session_id == sid)
                           .order_by(TranscriptSegment.start_ms)))


def test_windows_are_cut_in_pauses_and_never_longer_than_30_s():
    from fieldkit.recording.windows import MAX_WINDOW_MS, next_window

    audio, _ref = joined(CLIPS * 2, gap_s=1.0)
    total = len(audio) * 1000 // SR
    reads: list[tuple[int, int]] = []

    def read(a: int, b: int) -> np.ndarray:
        reads.append((a, b))
        return audio[a * SR // 1000: b * SR // 1000]

    pos, wins = 0, []
    while pos < total:
        w = next_window(read, pos, total)
        wins.append(w)
        pos = w.end_ms
    assert len(wins) >= 3 and wins[-1].end_ms == total
    assert all(b - a <= MAX_WINDOW_MS for a, b in reads), "never more than a window read at once"
    assert all(w.end_ms - w.start_ms <= MAX_WINDOW_MS for w in wins)
    for w in wins[:-1]:   # each cut lies in a pause: quiet 100 ms either side of it
        around = audio[(w.end_ms - 100) * SR // 1000: (w.end_ms + 100) * SR // 1000]
        assert np.sqrt(np.mean(np.square(around))) < 0.01, f"cut at {w.end_ms} ms is inside speech"


def test_the_voice_activity_of_a_window_is_computed_once_and_read_as_faster_whisper_reads_it(monkeypatch):
    """Cutting a window, Whisper's speech, the dropped-speech pass and the speaker regions
    each read speech stretches with their own options; the Silero model runs once per
    window read (fieldkit.recording.vad) and every reading equals faster-whisper's own."""
    from faster_whisper import vad as fw_vad
    from faster_whisper.vad import VadOptions, get_speech_timestamps

    from fieldkit.recording.vad import activity
    from fieldkit.recording.windows import next_window
    from fieldkit.speakers.diarize import speech_regions
    from fieldkit.transcription import gaps

    audio, _ref = joined(CLIPS, gap_s=0.7)
    act = activity(audio)
    for opts in (VadOptions(), VadOptions(min_silence_duration_ms=500, speech_pad_ms=0, min_speech_duration_ms=120),
                 VadOptions(min_silence_duration_ms=150, speech_pad_ms=0, min_speech_duration_ms=120),
                 VadOptions(min_silence_duration_ms=500, speech_pad_ms=100, min_speech_duration_ms=250),
                 VadOptions(min_speech_duration_ms=200, min_silence_duration_ms=250, speech_pad_ms=30),
                 VadOptions(max_speech_duration_s=4)):
        assert act.timestamps(opts) == get_speech_timestamps(audio, opts)
    model, calls = fw_vad.get_vad_model(), []

    def counted(x):
        calls.append(len(x))
        return model(x)
    monkeypatch.setattr(fw_vad, "get_vad_model", lambda: counted)
    total, heard = len(audio) * 1000 // SR, {}
    w = next_window(lambda a, b: audio[a * SR // 1000: b * SR // 1000], 0, total, heard)
    assert len(calls) == 1 and 0 < w.end_ms < total and w.context is not None
    speech_regions(w.audio, act=w.act)
    gaps.speech_spans(w.audio, act=w.act)
    assert len(calls) == 1, "the window's speech is read again, not heard again"
    again = next_window(lambda a, b: audio[a * SR // 1000: b * SR // 1000], 0, total, heard)
    assert len(calls) == 1 and again.end_ms == w.end_ms, "the speakers' pass reuses what transcription heard"
    assert speech_regions(w.audio, act=w.act) == speech_regions(w.audio)


@pytest.mark.slow
def test_a_window_decoded_with_what_follows_stops_once_its_words_are_in(monkeypatch):
    """A window cut at a pause is decoded with the audio after the cut, and only its words
    before the cut are kept; faster-whisper decodes lazily and decodes a cut-off last phrase
    again from its start, so decoding stops once a segment reaches the window's last speech
    (service.STOP_AT_CUT): the same words, fewer encoder passes (tiny.en, real speech)."""
    from faster_whisper import WhisperModel

    from fieldkit.recording.windows import next_window
    from fieldkit.transcription import service
    from fieldkit.transcription.engine import load_model
    from fieldkit.transcription.settings import resolve_settings

    audio, ref = joined(CLIPS, gap_s=0.7)
    total = len(audio) * 1000 // SR
    st = resolve_settings(model="tiny.en", language="en", batch=1)
    model = load_model(st)
    passes, encode = [], WhisperModel.encode

    def counted(self, *a, **k):
        passes.append(1)
        return encode(self, *a, **k)
    monkeypatch.setattr(WhisperModel, "encode", counted)
    wins, pos = [], 0
    while pos < total:
        wins.append(next_window(lambda a, b: audio[a * SR // 1000: b * SR // 1000], pos, total))
        pos = wins[-1].end_ms
    assert any(w.context is not None for w in wins)
    got = {}
    for stop in (False, True):
        monkeypatch.setattr(service, "STOP_AT_CUT", stop)
        passes.clear()
        segs = [seg for w in wins if w.speech for seg in service._window_segments(st, model, w)]
        got[stop] = (len(passes), [x["w"] for seg in segs for x in seg.words])
    assert got[True][1] == got[False][1], "the same words"
    assert got[True][0] < got[False][0], got
    assert wer(ref, " ".join(got[True][1])) < 0.1


@pytest.mark.slow
def test_transcription_resumes_window_by_window_after_a_kill(project, tmp_path):
    audio, ref = joined(CLIPS * 3, gap_s=1.0)          # 2.6 minutes of real speech
    flac = tmp_path / "long.flac"
    sf.write(flac, audio, SR)
    sess = _session(project, flac, "Long")
    env = {**os.environ, "FIELDKIT_HOME": str(project.folder.parent.parent)}
    cmd = [sys.executable, "-m", "fieldkit", "transcribe", "Long", "-p", project.folder.name,
           "--model", "tiny.en", "--language", "en", "--threads", "1"]
    log = open(tmp_path / "first-run.log", "w+")
    proc = subprocess.Popen(cmd, env=env, stdout=log, stderr=log)
    db = project.folder / "project.db"
    deadline = time.time() + 180
    done = 0
    while time.time() < deadline and proc.poll() is None:
        con = sqlite3.connect(db)
        row = con.execute("SELECT done_ms FROM transcriptionrun").fetchone()
        con.close()
        done = row[0] if row and row[0] else 0
        if done > 0:
            break
        time.sleep(0.05)
    proc.send_signal(signal.SIGKILL)
    proc.wait()
    log.seek(0)
    assert done > 0, f"no window was stored before the kill: {log.read()[-2000:]}"
    with project.db.session() as s:
        run = s.exec(select(TranscriptionRun)).one()
        assert run.status == RunStatus.running and 0 < run.done_ms < run.total_ms
        stopped_at = run.done_ms
        kept = {g.id: (g.start_ms, g.verbatim) for g in s.exec(select(TranscriptSegment))}
    assert kept and all(start < stopped_at for start, _t in kept.values()), \
        "only finished windows are stored"
    r = subprocess.run(cmd, env=env, capture_output=True, text=True, timeout=600)
    assert r.returncode == 0, r.stderr
    with project.db.session() as s:
        runs = s.exec(select(TranscriptionRun)).all()
    segs = _segs(project, sess.id)
    assert len(runs) == 1 and runs[0].status == RunStatus.done and runs[0].done_ms == runs[0].total_ms
    # the windows finished before the kill are kept as they were, not transcribed again
    assert {g.id: (g.start_ms, g.verbatim) for g in segs if g.id in kept} == kept
    assert all(g.start_ms >= stopped_at - 1 for g in segs if g.id not in kept), \
        "the second run began at the first window not finished"
    assert all(a.end_ms <= b.start_ms + 50 for a, b in zip(segs, segs[1:])), "no duplicated stretch"
    assert segs[-1].end_ms > len(audio) * 1000 // SR - 8000, "the transcript reaches the end"
    assert wer(ref, " ".join(g.verbatim for g in segs)) <= 0.25


def test_a_span_of_a_long_recording_is_read_without_reading_the_rest(project, tmp_path):
    """What review's playback (fieldkit.recording.playback.Player) reads: a few seconds at
    19:00 of a 20-minute FLAC, and of a
    44.1 kHz WAV (resampled), equal to the same samples of the whole file."""
    from fieldkit.recording.audio import load_audio, resample

    speech, _ = clip("en_jfk")
    long = np.zeros(20 * 60 * SR, dtype=np.float32)
    at = 19 * 60 * SR
    long[at: at + len(speech)] = speech
    flac = tmp_path / "long.flac"
    sf.write(flac, long, SR, subtype="PCM_16")
    sess = _session(project, flac, "Twenty minutes")
    tracemalloc.start()
    part = load_audio(project, sess.id, 19 * 60_000, 19 * 60_000 + 5000)
    _now, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    assert len(part) == 5 * SR
    assert np.max(np.abs(part - speech[: 5 * SR])) < 1e-3
    assert peak < 8 * 2**20, f"reading 5 s took {peak / 2**20:.0f} MB (the file holds 77 MB of samples)"
    # a recording at another rate: the span is resampled alone and lines up with the whole
    wav = tmp_path / "cd.wav"
    cd = resample(long[at - 10 * SR: at + 20 * SR], SR, 44100)
    sf.write(wav, cd, 44100, subtype="FLOAT")
    from fieldkit.recording.audio import FileSpan, read_range

    whole = resample(cd, 44100, SR)
    span = FileSpan(wav, 0, 44100, 1, True)
    from fieldkit.recording import audio as audio_mod

    got = audio_mod.load_audio(project, sess.id, 10_000, 15_000, spans=[span])
    assert np.max(np.abs(got - whole[10 * SR: 15 * SR])) < 0.02
    assert len(read_range(span, 44100 * 29, 44100 * 5)) == 44100   # only what is there


@pytest.mark.slow
def test_speakers_in_windows_match_the_whole_recording_path():
    from fieldkit.speakers.diarize import diarize, diarize_stream
    from tests.support.conversations import conversation, diarization_error

    voices = ["en_jfk", "en_librivox_sense", "en_libri61_left"]
    conv = conversation(voices, seed=3)
    reads = []

    def read(a: int, b: int) -> np.ndarray:
        reads.append(b - a)
        out = conv.audio[a * SR // 1000: b * SR // 1000]
        return np.pad(out, (0, max(0, (b - a) * SR // 1000 - len(out))))

    total = len(conv.audio) * 1000 // SR
    seen = []
    d = diarize_stream(read, total, len(voices), on_progress=lambda done, tot: seen.append(done))
    whole = diarize(conv.audio, len(voices))
    ref = conv.reference()
    der, der_whole = diarization_error(ref, d.labels), diarization_error(ref, whole.labels)
    assert der <= 0.05 and der <= der_whole + 0.02, f"windows {der:.1%}, whole {der_whole:.1%}"
    assert max(reads) <= 35_000, "never more than a window (and the look past its end) at once"
    assert seen[0] == 0 and len(seen) >= 2, "progress from the first window"


def test_audio_for_elan_and_refi_is_written_a_block_at_a_time(project, tmp_path):
    """The WAV an ELAN or REFI-QDA export carries: a 20-minute recording, then a pause,
    then a second file (imported from 44.1 kHz), written without decoding either file whole; read back
    with soundfile, the speech sits where the session clock says."""
    from fieldkit.export.audio import write_wav
    from fieldkit.recording.audio import resample

    speech, _ = clip("en_jfk")
    long = np.zeros(20 * 60 * SR, dtype=np.float32)
    long[10 * 60 * SR: 10 * 60 * SR + len(speech)] = speech
    sess = _session(project, _flac(tmp_path / "a.flac", long), "Two files")
    second = tmp_path / "b.wav"
    sf.write(second, resample(speech, SR, 44100), 44100, subtype="FLOAT")
    import_recording(project, sess.id, second)       # laid after the first file on the clock
    out = tmp_path / "session.wav"
    tracemalloc.start()
    with open(out, "wb") as f:
        length = write_wav(project, sess.id, f)
    _now, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    assert peak < 24 * 2**20, f"writing took {peak / 2**20:.0f} MB (the recording holds 77 MB of samples)"
    back, rate = sf.read(out, dtype="float32")
    assert rate == SR and abs(len(back) - (len(long) + len(speech))) <= SR // 100
    assert length == pytest.approx(len(back) * 1000 / SR, abs=10)
    at = 10 * 60 * SR
    assert np.max(np.abs(back[at: at + len(speech)] - speech)) < 1e-3
    tail = back[len(long): len(long) + len(speech)]
    assert np.corrcoef(tail[SR: 5 * SR], speech[SR: 5 * SR])[0, 1] > 0.99


def _flac(path: Path, audio: np.ndarray) -> Path:
    sf.write(path, audio, SR, subtype="PCM_16")
    return path


def test_a_span_of_an_encrypted_recording(workspace, tmp_path):
    """In an encrypted project the imported FLAC is stored encrypted; a span read from it
    (a window, a playback) is the same samples as in the file."""
    speech, _ = clip("en_jfk")
    long = np.zeros(3 * 60 * SR, dtype=np.float32)
    long[2 * 60 * SR: 2 * 60 * SR + len(speech)] = speech
    h = workspace.create("Secret long", passphrase="riktig hest batteri")
    from fieldkit.privacy.crypto import is_encrypted_file
    from fieldkit.recording.audio import _spans, load_audio

    sess = _session(h, _flac(tmp_path / "a.flac", long), "Encrypted")
    assert all(is_encrypted_file(sp.path) for sp in _spans(h, sess.id))
    for start in (2 * 60_000, 2 * 60_000 + 4000):      # two windows of the same file
        part = load_audio(h, sess.id, start, start + 3000)
        off = (start - 2 * 60_000) * SR // 1000
        assert np.max(np.abs(part - speech[off: off + 3 * SR])) < 1e-3
    h.close()


@pytest.mark.slow
def test_transcription_says_what_it_does_from_the_start(project, tmp_path):
    """The progress a job reports (what `fieldkit transcribe` shows): the model loading
    before anything else, then the voice detection and each window done, then the end."""
    from fieldkit.transcription.service import transcribe_session
    from fieldkit.transcription.settings import resolve_settings

    audio, _ref = joined(CLIPS * 2, gap_s=1.0)
    sess = _session(project, _flac(tmp_path / "p.flac", audio), "Progress")
    seen = []
    transcribe_session(project, sess.id, resolve_settings(model="tiny.en", language="en"),
                       on_progress=lambda p: seen.append((p.phase, p.windows, p.done_ms)))
    assert seen[0] == ("model", 0, 0)
    windows = [w for phase, w, _d in seen if phase == "window"]
    assert windows == list(range(1, len(windows) + 1)) and len(windows) >= 3
    assert [ph for ph, _w, _d in seen].count("voice") == len(windows)
    assert seen[-1][0] == "done" and seen[-1][2] == len(audio) * 1000 // SR
