"""What the review screen's pedal and flags cost on this laptop (issue 24).

    PYTHONPATH=. .venv/bin/python tests/bench/review_pedal_bench.py [--minutes 10]

Prints, each against its baseline in the same run:

- stretch: the time to make a 60-second piece of playback (fieldkit.recording.playback.
  PIECE_MS) at 0.75x and 1.25x without changing the pitch (PyAV's atempo), against 1.0x
  (no stretching): the wait between a speed key and the sound;
- flags: the time the voice-activity detector (fieldkit.sessions.review.session_speech's
  gaps.speech_spans) takes per minute of real speech (the shipped clips joined with
  pauses and repeated to ``--minutes``), against reading the same audio: how long after
  opening review the "speech without transcript" flags appear;
- redraw: the time to find the playhead's rows at 2,000 segments (the signatures the
  list compares), against one row's."""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))


def main() -> None:
    import numpy as np

    from fieldkit.recording.playback import PIECE_MS, stretch
    from fieldkit.transcription import gaps
    from tests.support.real_speech import joined

    ap = argparse.ArgumentParser()
    ap.add_argument("--minutes", type=float, default=10.0)
    args = ap.parse_args()
    sr = 16000
    audio, _ref = joined(["en_jfk", "en_libri61_left", "en_librivox_sense"], gap_s=1.5)
    reps = max(1, int(args.minutes * 60 * sr / len(audio)))
    long = np.tile(audio, reps)
    piece = long[: PIECE_MS * sr // 1000]
    print(f"piece: {len(piece) / sr:.0f} s")
    stretch(piece[:sr], 0.75, sr)          # PyAV imported and its filters loaded before timing
    for rate in (1.0, 0.75, 1.25):
        t0 = time.perf_counter()
        out = stretch(piece, rate, sr)
        print(f"  stretch {rate:>4}x: {time.perf_counter() - t0:6.3f} s -> {len(out) / sr:6.1f} s of sound")
    minutes = len(long) / sr / 60
    t0 = time.perf_counter()
    _copy = long.copy()
    read = time.perf_counter() - t0
    t0 = time.perf_counter()
    speech = gaps.speech_spans(long)
    vad = time.perf_counter() - t0
    print(f"flags: {minutes:.1f} min of audio: VAD {vad:.2f} s ({vad / minutes:.2f} s per minute; "
          f"copying the samples {read:.3f} s); {len(speech)} stretches of speech")

    # review searches only where the transcript has no words: a transcript that covers the
    # speech found above except every tenth stretch (a dropped utterance each minute or so)
    from fieldkit.sessions.review import HOLE_MARGIN_MS

    words = [sp for k, sp in enumerate(speech) if k % 10 != 5]
    total_ms = len(long) * 1000 // sr
    holes, cur = [], 0
    for s_, e_ in gaps._covered(words, gaps.WORD_PAD_MS) + [(total_ms, total_ms)]:
        if s_ - cur >= gaps.MIN_GAP_MS:
            holes.append((max(0, cur - HOLE_MARGIN_MS), min(total_ms, s_ + HOLE_MARGIN_MS)))
        cur = max(cur, e_)
    t0 = time.perf_counter()
    found = []
    for a, b in holes:
        found += [(x + a, y + a) for x, y in gaps.speech_spans(long[a * sr // 1000: b * sr // 1000])]
    only = time.perf_counter() - t0
    flagged = gaps.uncovered(found, words)
    searched = sum(b - a for a, b in holes) / 60000
    print(f"flags, only where no word is: {searched:.1f} of {minutes:.1f} min searched in {only:.2f} s "
          f"(whole audio: {vad:.2f} s); {len(flagged)} flags for {len(speech) - len(words)} dropped stretches")

    from types import SimpleNamespace
    rows = [SimpleNamespace(id=i, start_ms=i * 3000, end_ms=i * 3000 + 2800, speaker="S1",
                            text=f"segment {i}", verbatim=f"segment {i}", edited=None,
                            words=[{"s": i * 3000 + k * 200, "e": i * 3000 + k * 200 + 150} for k in range(12)])
            for i in range(2000)]
    playing = (1000, 3)
    t0 = time.perf_counter()
    for _ in range(20):
        sigs = [(g.start_ms, g.end_ms, g.speaker, g.text, False, len(g.words), None,
                 playing[1] if playing[0] == g.id else None) for g in rows]
    every = (time.perf_counter() - t0) / 20
    t0 = time.perf_counter()
    for _ in range(20):
        _one = [(rows[1000].start_ms, rows[1000].text)]
    one = (time.perf_counter() - t0) / 20
    print(f"redraw: signatures of 2,000 rows {every * 1000:.2f} ms (one row {one * 1000:.4f} ms); "
          f"{len(sigs)} rows compared per playhead move")


if __name__ == "__main__":
    main()
