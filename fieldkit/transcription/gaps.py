"""Nothing dropped: speech the voice-activity detector found that no transcript word
covers, a second pass over each such span on its own, and hallucinated repetitions.

Whisper can leave out whole utterances (a long window decoded as one, a prompt that
steers it past speech, a loop of one phrase). :func:`speech_spans` finds speech with
the Silero model bundled with faster-whisper; :func:`uncovered` gives the stretches of
it that no word of the transcript covers; :func:`retranscribe` decodes each of them
alone (no prompt, no previous text, no hotwords) so what was said comes back;
:func:`repeated_phrases` finds a phrase said over and over (a Whisper loop, not a
person). :func:`uncovered_share` is the figure the bench reports: the share of speech
time without a transcript word. The core reports spans in milliseconds; the interface
words them ("speech without transcript 0:30-0:34")."""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, replace

import numpy as np

SR = 16000
#: a stretch shorter than this is a breath or a word's edge, not a dropped utterance
MIN_GAP_MS = 800
#: a word covers this much around its own time stamps (they are not exact)
WORD_PAD_MS = 250


def speech_spans(audio: np.ndarray, min_silence_ms: int = 500, act=None) -> list[tuple[int, int]]:
    """Speech in 16 kHz mono ``audio`` as (start_ms, end_ms), by the Silero VAD. ``act``:
    the audio's voice activity (fieldkit.recording.vad.activity) when the caller has it."""
    from faster_whisper.vad import VadOptions

    from fieldkit.recording.vad import activity

    act = act if act is not None else activity(audio)
    opts = VadOptions(min_silence_duration_ms=min_silence_ms, speech_pad_ms=100, min_speech_duration_ms=250)
    return [(t["start"] * 1000 // SR, t["end"] * 1000 // SR) for t in act.timestamps(opts)]


def _covered(words: Iterable[tuple[int, int]], pad_ms: int) -> list[tuple[int, int]]:
    out: list[list[int]] = []
    for s, e in sorted((s - pad_ms, e + pad_ms) for s, e in words):
        if out and s <= out[-1][1]:
            out[-1][1] = max(out[-1][1], e)
        else:
            out.append([s, e])
    return [(s, e) for s, e in out]


def word_times(segments: Iterable[object]) -> list[tuple[int, int]]:
    """(start_ms, end_ms) of every word of stored segments or engine results (``words``
    as [{"s": ms, "e": ms, ...}]); a segment without word times counts as a whole."""
    out = []
    for seg in segments:
        words = getattr(seg, "words", None) or []
        text = getattr(seg, "text", None) or getattr(seg, "verbatim", "") or ""
        if words:
            out += [(int(w["s"]), int(w["e"])) for w in words if str(w.get("w", "")).strip()]
        elif text.strip():
            out.append((int(seg.start_ms), int(seg.end_ms)))
    return out


def uncovered(speech: Sequence[tuple[int, int]], words: Iterable[tuple[int, int]],
              min_ms: int = MIN_GAP_MS, pad_ms: int = WORD_PAD_MS) -> list[tuple[int, int]]:
    """The parts of ``speech`` that no word covers, each at least ``min_ms`` long."""
    cover = _covered(words, pad_ms)
    gaps = []
    for s, e in speech:
        cur = s
        for cs, ce in cover:
            if ce <= cur or cs >= e:
                continue
            if cs > cur:
                gaps.append((cur, cs))
            cur = max(cur, ce)
        if cur < e:
            gaps.append((cur, e))
    return [(s, e) for s, e in gaps if e - s >= min_ms]


def uncovered_share(speech: Sequence[tuple[int, int]], words: Iterable[tuple[int, int]]) -> float:
    """Share of speech time that no transcript word covers (gaps of any length, words padded
    as in :func:`uncovered`)."""
    total = sum(e - s for s, e in speech)
    if not total:
        return 0.0
    return sum(e - s for s, e in uncovered(speech, words, min_ms=1)) / total


@dataclass(frozen=True)
class Repetition:
    phrase: str
    times: int
    start_ms: int
    end_ms: int


_WORD = re.compile(r"\w+", re.UNICODE)


def repeated_phrases(segments: Sequence[object], min_times: int = 3, max_len: int = 8) -> list[Repetition]:
    """A phrase (1 to ``max_len`` words; one-word phrases only when said 5+ times) said
    ``min_times`` or more times in a row, across segment boundaries: Whisper's loops
    ("takk for meg. takk for meg. takk for meg."). People repeat themselves, but not the
    same sentence three times running."""
    toks: list[tuple[str, int, int]] = []
    for seg in segments:
        text = getattr(seg, "text", None) or getattr(seg, "verbatim", "") or ""
        words = _WORD.findall(text.lower())
        if not words:
            continue
        s, e = int(seg.start_ms), int(seg.end_ms)
        step = (e - s) / len(words)
        toks += [(w, round(s + i * step), round(s + (i + 1) * step)) for i, w in enumerate(words)]
    found: list[Repetition] = []
    i = 0
    while i < len(toks):
        best = None
        for n in range(1, max_len + 1):   # the shortest period wins a tie ("ja" x10, not "ja ja" x5)
            phrase = [t[0] for t in toks[i:i + n]]
            if len(phrase) < n:
                continue
            times = 1
            while [t[0] for t in toks[i + times * n:i + (times + 1) * n]] == phrase:
                times += 1
            need = min_times if n > 1 else max(min_times, 5)
            if times >= need and (best is None or times * n > best[0] * best[1]):
                best = (times, n)
        if best:
            times, n = best
            found.append(Repetition(" ".join(t[0] for t in toks[i:i + n]), times,
                                    toks[i][1], toks[i + times * n - 1][2]))
            i += times * n
        else:
            i += 1
    return found


def retranscribe(settings, audio: np.ndarray, gaps: Sequence[tuple[int, int]], model=None,
                 pad_ms: int = 200) -> list:
    """Decode each gap on its own, padded a little, with nothing to steer the decoder (no
    prompt, no previous text, no hotwords, no VAD: the VAD already said it is speech).
    Returns engine SegmentResults with words inside the gap (+ pad)."""
    from fieldkit.transcription.engine import transcribe_array

    alone = replace(settings, condition_on_previous_text=False, vocabulary=[], vad=False)
    out = []
    for s, e in gaps:
        a = max(0, s - pad_ms)
        b = min(len(audio) * 1000 // SR, e + pad_ms)
        clip = audio[a * SR // 1000:b * SR // 1000]
        for seg in transcribe_array(alone, clip, offset_ms=a, model=model):
            words = [w for w in seg.words if w["e"] > s - pad_ms and w["s"] < e + pad_ms]
            if seg.text.strip() and (words or not seg.words):
                out.append(seg)
    return out
