"""The live worker transcribes each utterance once it has ended, while the recording is
still running (issue 21: the live transcript ran 40-60 s behind; how far behind is a figure
of tests/bench/live_lag_bench.py, never a timing here)."""

from __future__ import annotations

import numpy as np
import pytest
from sqlmodel import select

from fieldkit.store.models import RecordingState, Recording, RunStatus, Session, TranscriptionRun, TranscriptSegment
from fieldkit.transcription.live import Follower, LiveTranscriber, has_speech, replay_cuts
from fieldkit.transcription.settings import TranscriptionSettings, resolve_settings
from tests.support.live_feed import FileFeed
from tests.support.real_speech import clip, needs_speech
from tests.support.speech import wer
from tests.support.wait import until_sync

SR = 16000


@needs_speech
def test_an_utterance_is_cut_at_its_end_however_short_and_silence_is_passed_over():
    a, _ = clip("en_libri61_left")                    # 5 s of speech
    audio = np.concatenate([a, np.zeros(int(1.5 * SR), np.float32)])
    cuts = replay_cuts(audio)
    # cut in the pause after it (the worker used to wait for 8 s of audio and a pause after)
    assert any(len(a) * 1000 // SR < c < len(audio) * 1000 // SR for c in cuts[:-1]), cuts
    # nothing is cut inside a word: every cut lies outside the speech Silero hears
    from fieldkit.recording.windows import speech_spans

    spans = speech_spans(audio)
    assert all(not (s < c * SR // 1000 < e) for c in cuts for s, e in spans)
    follow = Follower()
    assert follow.poll(a[: SR]) is None                # too short to have ended
    assert not has_speech(np.zeros(2 * SR, np.float32)) and has_speech(a)


def test_the_live_model_keeps_up_on_two_cores():
    """A heavy final model is not used live unless asked for (live_model)."""
    assert TranscriptionSettings(model="nb-whisper-small").live_name() == "base"
    assert TranscriptionSettings(model="/models/nb-whisper-large").live_name() == "base"
    assert TranscriptionSettings(model="nb-whisper-base").live_name() == "nb-whisper-base"
    assert TranscriptionSettings(model="base").live_name() == "base"
    assert TranscriptionSettings(model="nb-whisper-small", live_model="nb-whisper-small").for_live().model \
        == "nb-whisper-small"


@pytest.mark.slow
@needs_speech
def test_live_worker_stores_each_utterance_while_the_recording_runs(project):
    """The real worker process follows a recording fed from real speech: each utterance
    is stored while the recording is still running and no more audio has come after its
    pause (the old worker waited for 8 s of audio, so a short answer stayed untranscribed
    until the next one or the stop)."""
    with project.db.transaction() as s:
        sess = Session(project_id=project.project_id, title="Live follow")
        s.add(sess)
    feed = FileFeed(project, sess.id)
    live = LiveTranscriber(project, sess.id, resolve_settings(model="tiny.en", language="en"), quiet=True).start()
    said = []
    try:
        for name in ("en_libri61_left", "en_jfk"):
            audio, ref = clip(name)
            feed.write(np.concatenate([audio, np.zeros(int(1.2 * SR), np.float32)]), speed=4)
            end_ms = feed.position_ms - 1200
            said.append(ref)

            def stored() -> bool:
                with project.db.session() as s:
                    return s.exec(select(TranscriptSegment).where(TranscriptSegment.session_id == sess.id,
                                                                  TranscriptSegment.end_ms >= end_ms - 1500)
                                  ).first() is not None

            until_sync(stored, what=f"{name} stored while recording", deadline_s=180)
            with project.db.session() as s:     # ... and the recording is still running
                assert s.get(Recording, feed.recording_id).state == RecordingState.recording
    finally:
        feed.finish()
        assert live.stop(timeout=120)
    with project.db.session() as s:
        run = s.exec(select(TranscriptionRun)).one()
        segs = s.exec(select(TranscriptSegment).order_by(TranscriptSegment.start_ms)).all()
    assert run.mode == "live" and run.status == RunStatus.done and run.model == "tiny.en"
    assert wer(" ".join(said), " ".join(g.verbatim for g in segs)) <= 0.3
