"""Nothing dropped (fieldkit/transcription/gaps.py), on real speech: three clips joined with
pauses, transcribed by real faster-whisper (tiny.en); the words of the middle clip are then
taken out of the stored result, as a Whisper run that skips an utterance leaves it. The
detector must find speech without transcript where that clip is, the second pass must bring
its words back, and a loop of one phrase is found as a repetition."""

from __future__ import annotations

from types import SimpleNamespace

import pytest

from fieldkit.transcription import gaps
from fieldkit.transcription.engine import load_model, transcribe_array
from fieldkit.transcription.settings import resolve_settings
from tests.support.real_speech import clip, joined, needs_speech
from tests.support.speech import wer

CLIPS = ["en_jfk", "en_libri61_left", "en_librivox_sense"]


@needs_speech
@pytest.mark.slow
def test_a_dropped_utterance_is_found_and_transcribed_again():
    audio, _ref = joined(CLIPS, gap_s=1.5)
    lengths = [len(clip(n)[0]) * 1000 // 16000 for n in CLIPS]
    mid_start = lengths[0] + 1500
    mid_end = mid_start + lengths[1]
    settings = resolve_settings(model="tiny.en", language="en")
    model = load_model(settings)
    segs = list(transcribe_array(settings, audio, model=model))
    speech = gaps.speech_spans(audio)
    assert speech and sum(e - s for s, e in speech) > 0.6 * sum(lengths)
    whole = gaps.uncovered_share(speech, gaps.word_times(segs))
    assert whole < 0.1, f"the full transcript leaves {whole:.0%} of speech without words"
    assert gaps.uncovered(speech, gaps.word_times(segs)) == []

    # the middle utterance dropped, as a skipping run leaves it
    kept = [s for s in segs if s.end_ms <= mid_start + 300 or s.start_ms >= mid_end - 300]
    assert len(kept) < len(segs)
    found = gaps.uncovered(speech, gaps.word_times(kept))
    assert len(found) == 1, found
    (gs, ge), = found
    assert abs(gs - mid_start) < 1200 and abs(ge - mid_end) < 1200, (found, mid_start, mid_end)
    dropped = gaps.uncovered_share(speech, gaps.word_times(kept))
    assert dropped > 0.7 * lengths[1] / sum(lengths), (dropped, lengths)

    # the second pass on that span alone brings its words back
    again = gaps.retranscribe(settings, audio, found, model=model)
    text = " ".join(s.text for s in again)
    assert wer(clip(CLIPS[1])[1], text) < 0.35, text
    after = gaps.uncovered_share(speech, gaps.word_times(kept + again))
    assert after < 0.1 and after < dropped / 3
    assert all(mid_start - 1500 <= w["s"] and w["e"] <= mid_end + 1500 for s in again for w in s.words)


def _seg(start_ms: int, end_ms: int, text: str) -> SimpleNamespace:
    return SimpleNamespace(start_ms=start_ms, end_ms=end_ms, text=text, words=[])


def test_repeated_phrases_are_whisper_loops_not_people():
    loop = [_seg(0, 3000, "Og da sa hun at det går bra."),
            _seg(3000, 6000, "Takk for meg. Takk for meg."),
            _seg(6000, 9000, "Takk for meg. Takk for meg.")]
    (rep,) = gaps.repeated_phrases(loop)
    assert (rep.phrase, rep.times, rep.start_ms, rep.end_ms) == ("takk for meg", 4, 3000, 9000)
    # a person repeating a word, or saying a phrase twice, is not a loop
    speech = [_seg(0, 4000, "nei nei nei det var ikke sånn"), _seg(4000, 8000, "ja det var det ja det var det")]
    assert gaps.repeated_phrases(speech) == []
    # one word said ten times running is
    (rep,) = gaps.repeated_phrases([_seg(0, 5000, " ".join(["ja"] * 10))])
    assert (rep.phrase, rep.times) == ("ja", 10)


def test_uncovered_spans_on_stored_times():
    speech = [(0, 4000), (5000, 9000)]
    words = [(100, 400), (500, 900), (5200, 5600)]
    assert gaps.uncovered(speech, words) == [(1150, 4000), (5850, 9000)]
    assert gaps.uncovered(speech, words, min_ms=3000) == [(5850, 9000)]
    assert gaps.uncovered_share(speech, words) == pytest.approx((2850 + 3150) / 8000)
    assert gaps.uncovered_share([], words) == 0.0
