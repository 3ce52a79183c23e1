"""Live transcription beside a real recording through the virtual microphone."""

from __future__ import annotations

import time

import numpy as np
import pytest
import soundfile as sf
from sqlmodel import select

from fieldkit.recording.recorder import Recorder
from fieldkit.store.models import RunStatus, Session, TranscriptionRun, TranscriptSegment
from fieldkit.transcription.live import LiveTranscriber, find_cut, speech_spans
from fieldkit.transcription.settings import resolve_settings
from tests.support import audio_env
from tests.support.real_speech import clip, needs_speech
from tests.support.speech import EN_SENTENCES, needs_tts, speak, wer

pytestmark = [pytest.mark.audio, pytest.mark.slow]


@needs_speech
def test_find_cut_in_the_last_pause_between_words():
    """Silero VAD finds the pause between two speakers' sentences; a steady hum as loud
    as speech (which an energy threshold takes for a pause or for speech alike) is not
    speech, and a cut never falls inside a word."""
    sr = 16000
    a, _ = clip("en_libri61_left")      # speech to its last 0.1 s
    b, _ = clip("en_librivox_sense")
    b = b[: 3 * sr]                       # another speaker, cut off mid-sentence
    audio = np.concatenate([a, np.zeros(sr, dtype=np.float32), b])
    cut = find_cut(audio)
    assert cut is not None and len(a) < cut < len(a) + sr
    assert find_cut(audio, min_at=len(audio)) is None
    # room noise at speech level during the pause: the pause is still found
    rng = np.random.default_rng(1)
    noisy = audio.copy()
    noisy[len(a):len(a) + sr] = rng.normal(0, float(np.std(a)) * 0.3, sr).astype(np.float32)
    cut = find_cut(noisy)
    assert cut is not None and len(a) < cut < len(a) + sr
    # every cut point the VAD offers lies outside the speech it found
    spans = speech_spans(audio)
    assert spans and all(not (s < cut < e) for s, e in spans)


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
