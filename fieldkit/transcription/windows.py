"""Windows cut at pauses: the one path long recordings, imports and the final pass take.

A recording is read window by window (at most ``MAX_WINDOW_MS`` of audio at a time,
read from the files with seeks, never the whole recording), each window is cut at the
last pause between words that the Silero voice-activity model (the one the live worker
uses) finds in it, and each window is transcribed once. So memory is bounded by a
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
    from fieldkit.transcription.live import find_cut, speech_spans

    spans = speech_spans(audio, MIN_PAUSE_MS) if len(audio) >= SR // 4 else []
    if not spans:
        return len(audio), False
    if at_end:
        return len(audio), True
    min_at = MIN_WINDOW_MS * SR // 1000
    cut = find_cut(audio, MIN_PAUSE_MS, min_at) or find_cut(audio, SHORT_PAUSE_MS, min_at)
    if cut is None or cut <= 0:
        cut = len(audio)   # one long stretch of speech without a breath: cut at the limit
    return cut, any(a < cut for a, _b in spans)


def next_window(read, start_ms: int, end_ms: int) -> Window:  # noqa: ANN001
    """The window beginning at ``start_ms``; ``read(a_ms, b_ms)`` gives 16 kHz audio."""
    stop = min(end_ms, start_ms + MAX_WINDOW_MS)
    audio = read(start_ms, stop)
    cut, speech = cut_window(audio, at_end=stop >= end_ms)
    # a cut falls on a 10 ms frame (speaker embeddings count frames from window starts)
    end = (start_ms + cut * 1000 // SR) // 10 * 10 if cut < len(audio) else stop
    end = max(end, min(stop, start_ms + 10))
    return Window(start_ms, end, speech, audio[: (end - start_ms) * SR // 1000])
