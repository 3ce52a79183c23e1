"""Live transcription beside a real recording through the virtual microphone."""

from __future__ import annotations

import time

import numpy as np
import pytest
import soundfile as sf
from sqlmodel import select

from fieldkit.recording.recorder import Recorder
from fieldkit.store.models import RunStatus, Session, TranscriptionRun, TranscriptSegment
from fieldkit.transcription.live import LiveTranscriber, find_cut
from fieldkit.transcription.settings import resolve_settings
from tests import audio_env
from tests.speech import EN_SENTENCES, needs_tts, speak, wer

pytestmark = [pytest.mark.audio, pytest.mark.slow]


def test_find_cut_in_the_last_pause():
    sr = 16000
    tone = 0.3 * np.sin(np.arange(sr * 2) / 3).astype(np.float32)
    audio = np.concatenate([tone, np.zeros(sr), tone, np.zeros(sr // 10)]).astype(np.float32)
    cut = find_cut(audio)
    assert cut is not None and 2 * sr < cut < 3 * sr
    assert find_cut(tone) is None


@needs_tts
def test_live_transcript_ready_soon_after_stop(project, tmp_path):
    problem = audio_env.start()
    if problem:
        pytest.skip(problem)
    parts = [speak(t, tmp_path / f"p{i}.wav", "en", pad_s=0.6) for i, t in enumerate(EN_SENTENCES[:5])]
    speech = tmp_path / "speech.wav"
    sf.write(speech, np.concatenate([sf.read(p, dtype="int16")[0] for p in parts]), 16000)
    with project.db.transaction() as s:
        sess = Session(project_id=project.project_id, title="Live")
        s.add(sess)
    rec = Recorder(project, sess.id, device=audio_env.DEVICE)
    live = LiveTranscriber(project, sess.id, resolve_settings(model="tiny.en", language="en")).start()
    rec.start()
    audio_env.play(speech).wait()

    def segments() -> int:
        with project.db.session() as s:
            return len(s.exec(select(TranscriptSegment)).all())

    # segments appear while recording, not only at stop: wait for the first one (the
    # recorder keeps going meanwhile); how soon is a figure of tests/bench/live_bench.py
    deadline = time.monotonic() + 120
    while segments() == 0 and time.monotonic() < deadline:
        time.sleep(0.1)
    before_stop = segments()
    rec.stop()
    t = time.perf_counter()
    assert live.stop(timeout=120)
    after_stop = time.perf_counter() - t
    with project.db.session() as s:
        run = s.exec(select(TranscriptionRun)).one()
        segs = s.exec(select(TranscriptSegment).order_by(TranscriptSegment.start_ms)).all()
    assert run.mode == "live" and run.status == RunStatus.done
    assert before_stop >= 1, "no segment appeared while recording"
    assert wer(" ".join(EN_SENTENCES[:5]), " ".join(s.verbatim for s in segs)) <= 0.3
    print(f"\nlive: {before_stop} segments before stop, transcript complete {after_stop:.1f} s after stop")
