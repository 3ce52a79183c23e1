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
from typing import TYPE_CHECKING

import numpy as np

if TYPE_CHECKING:
    from fieldkit.recording.vad import Activity

SR = 16000
MAX_WINDOW_MS = 30000       # Whisper's own context; never read more than this at once
MIN_WINDOW_MS = 12000       # a pause before this is not used: short windows lose context
MIN_PAUSE_MS = 500          # a pause between words (as the live worker)
SHORT_PAUSE_MS = 150        # any breath will do when no longer pause is found
#: how much of the audio read after a cut at a pause is decoded with the window (Whisper
#: hears the window with what follows, as in a whole file; only the words before the cut
#: are kept). None: all that was read (up to MAX_WINDOW_MS from the window's start). A cap
#: of 3-8 s saved less than stopping the decoding at the cut's words does
#: (fieldkit.transcription.service.STOP_AT_CUT; tests/bench/window_context_bench.py)
CONTEXT_AFTER_MS: int | None = None


def speech_spans(audio: np.ndarray, min_pause_ms: int = MIN_PAUSE_MS,
                 act: "Activity | None" = None) -> list[tuple[int, int]]:
    """(start, end) samples of speech found by the Silero VAD that faster-whisper bundles.
    ``act``: the audio's :func:`fieldkit.recording.vad.activity`, when the caller has it."""
    from faster_whisper.vad import VadOptions

    from fieldkit.recording.vad import activity

    act = act if act is not None else activity(audio)
    opts = VadOptions(min_silence_duration_ms=min_pause_ms, speech_pad_ms=0, min_speech_duration_ms=120)
    return [(t["start"], t["end"]) for t in act.timestamps(opts)]


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
    #: the voice activity of ``audio`` (fieldkit.recording.vad), computed once when the
    #: window was cut and reused by everything that needs speech stretches of it
    act: "Activity | None" = None
    #: when the window was cut at a pause between words with more audio read after it:
    #: all that was read (``audio`` and what follows), and its voice activity. Whisper
    #: hears a window with what follows it, as it hears a 30 s stretch of a whole file:
    #: given a window alone, shorter than its 30 s, it heard the first words of a
    #: recording differently ("Can you describe" for "Could you describe")
    context: np.ndarray | None = None
    context_act: "Activity | None" = None


def cut_window(audio: np.ndarray, at_end: bool, act: "Activity | None" = None) -> tuple[int, bool, bool]:
    """Where to end the window that starts with ``audio`` (samples; at most a window's
    worth), whether it holds speech, and whether the cut lies in a pause of at least
    ``MIN_PAUSE_MS``. ``at_end``: ``audio`` reaches the end of what is to be transcribed,
    so it is taken whole. ``act``: the voice activity of ``audio`` when known."""
    if len(audio) < SR // 4:
        return len(audio), False, False
    from fieldkit.recording.vad import activity

    act = act if act is not None else activity(audio)
    spans = speech_spans(audio, MIN_PAUSE_MS, act)
    if not spans:
        return len(audio), False, False
    if at_end:
        return len(audio), True, False
    min_at = MIN_WINDOW_MS * SR // 1000
    cut = find_cut(audio, MIN_PAUSE_MS, min_at, spans)
    long_pause = bool(cut)
    if not cut:
        cut = find_cut(audio, SHORT_PAUSE_MS, min_at, speech_spans(audio, SHORT_PAUSE_MS, act))
    if cut is None or cut <= 0:
        cut = len(audio)   # one long stretch of speech without a breath: cut at the limit
    return cut, any(a < cut for a, _b in spans), long_pause and cut < len(audio)


def next_window(read, start_ms: int, end_ms: int, heard: dict | None = None) -> Window:
    """The window beginning at ``start_ms``; ``read(a_ms, b_ms)`` gives 16 kHz audio. The
    voice activity detector runs once over what was read. ``heard``: a dict kept by the
    caller across passes over the same recording (transcription, then speakers), holding the
    voice activity of each stretch read (a few hundred numbers per window), so a second pass
    that reads the same stretches does not run the detector again."""
    from fieldkit.recording.vad import activity

    stop = min(end_ms, start_ms + MAX_WINDOW_MS)
    audio = read(start_ms, stop)
    act = heard.get((start_ms, stop, len(audio))) if heard is not None else None
    if act is None and len(audio) >= SR // 4:
        act = activity(audio)
        if heard is not None:
            heard[(start_ms, stop, len(audio))] = act
    cut, speech, long_pause = cut_window(audio, at_end=stop >= end_ms, act=act)
    # a cut falls on a 10 ms frame (speaker embeddings count frames from window starts)
    end = (start_ms + cut * 1000 // SR) // 10 * 10 if cut < len(audio) else stop
    end = max(end, min(stop, start_ms + 10))
    n = (end - start_ms) * SR // 1000
    context = context_act = None
    if long_pause:
        m = len(audio) if CONTEXT_AFTER_MS is None else min(len(audio), n + CONTEXT_AFTER_MS * SR // 1000)
        context = audio[:m]
        context_act = act if m == len(audio) or act is None else act.prefix(m)
    return Window(start_ms, end, speech, audio[:n], act.prefix(n) if act is not None else None,
                  context, context_act)
