"""Windows cut at pauses: the one path long recordings, imports and the final pass take.

A recording is read window by window (at most ``MAX_WINDOW_MS`` of audio at a time,
read from the files with seeks, never the whole recording), each window is cut at the
last pause between words that the Silero voice-activity model (the one the live worker
uses: :func:`speech_spans`, :func:`find_cut`) finds in it, and each window is transcribed once. So memory is bounded by a
window whatever the length of the recording, and a job that is stopped keeps every
finished window.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

SR = 16000
MAX_WINDOW_MS = 30000       # Whisper's own context; never read more than this at once
MIN_WINDOW_MS = 12000       # a pause before this is not used: short windows lose context
MIN_PAUSE_MS = 500          # a pause between words (as the live worker)
SHORT_PAUSE_MS = 150        # any breath will do when no longer pause is found


def speech_spans(audio: np.ndarray, min_pause_ms: int = MIN_PAUSE_MS) -> list[tuple[int, int]]:
    """(start, end) samples of speech found by the Silero VAD that faster-whisper bundles."""
    from faster_whisper.vad import VadOptions, get_speech_timestamps

    opts = VadOptions(min_silence_duration_ms=min_pause_ms, speech_pad_ms=0, min_speech_duration_ms=120)
    return [(t["start"], t["end"]) for t in get_speech_timestamps(audio, opts, sampling_rate=SR)]


def find_cut(audio: np.ndarray, min_pause_ms: int = MIN_PAUSE_MS, min_at: int = 0,
             spans: list[tuple[int, int]] | None = None) -> int | None:
    """Sample index in the middle of the last pause between words (at least
    ``min_pause_ms`` without speech, found by Silero VAD) that lies at or after
    ``min_at``; None when the audio has no such pause yet. A pause still going on at the
    end counts once it is long enough: the speaker may resume any moment, so the cut is
    put ``min_pause_ms / 2`` into it. ``spans``: :func:`speech_spans` of ``audio`` with
    the same ``min_pause_ms``, when the caller has them already."""
    pause = SR * min_pause_ms // 1000
    if len(audio) < pause * 2:
        return None
    if spans is None:
        spans = speech_spans(audio, min_pause_ms)
    if not spans:
        # no speech at all: let the silence go (all but a pause's worth at the end)
        cut = len(audio) - pause
        return cut if cut >= min_at else None
    gaps = [(a_end, b_start) for (_, a_end), (b_start, _) in zip(spans, spans[1:])]
    if len(audio) - spans[-1][1] >= pause:
        gaps.append((spans[-1][1], spans[-1][1] + pause))
    for lo, hi in reversed(gaps):
        cut = (lo + hi) // 2
        if cut >= min_at:
            return cut
    return None


@dataclass
class Window:
    start_ms: int
    end_ms: int
    speech: bool            # whether the voice detector heard speech in it
    audio: np.ndarray       # its 16 kHz samples


def cut_window(audio: np.ndarray, at_end: bool) -> tuple[int, bool]:
    """Where to end the window that starts with ``audio`` (samples; at most a window's
    worth), and whether it holds speech. ``at_end``: ``audio`` reaches the end of what
    is to be transcribed, so it is taken whole."""
    spans = speech_spans(audio, MIN_PAUSE_MS) if len(audio) >= SR // 4 else []
    if not spans:
        return len(audio), False
    if at_end:
        return len(audio), True
    min_at = MIN_WINDOW_MS * SR // 1000
    cut = find_cut(audio, MIN_PAUSE_MS, min_at, spans) or find_cut(audio, SHORT_PAUSE_MS, min_at)
    if cut is None or cut <= 0:
        cut = len(audio)   # one long stretch of speech without a breath: cut at the limit
    return cut, any(a < cut for a, _b in spans)


def next_window(read, start_ms: int, end_ms: int) -> Window:
    """The window beginning at ``start_ms``; ``read(a_ms, b_ms)`` gives 16 kHz audio."""
    stop = min(end_ms, start_ms + MAX_WINDOW_MS)
    audio = read(start_ms, stop)
    cut, speech = cut_window(audio, at_end=stop >= end_ms)
    # a cut falls on a 10 ms frame (speaker embeddings count frames from window starts)
    end = (start_ms + cut * 1000 // SR) // 10 * 10 if cut < len(audio) else stop
    end = max(end, min(stop, start_ms + 10))
    return Window(start_ms, end, speech, audio[: (end - start_ms) * SR // 1000])
