"""Speaker attribution on conversations spliced from real speech (tests/support/conversations.py):
diarization error for 2, 3, 4 and 8 speakers with the true count, and seconds of
computing per minute of audio.

    PYTHONPATH=. .venv/bin/python tests/bench/speakers_bench.py [--seeds 3]

Diarization error = (missed + false alarm + confusion) / reference speech, per 10 ms, best
speaker mapping; printed without a collar and with the usual 0.25 s collar around each
reference turn boundary. Speed: wall-clock seconds of `diarize` per minute of audio, next
to the time of a plain numpy baseline (an FFT over the same audio), so a loaded machine
shows as a larger baseline."""

from __future__ import annotations

import argparse
import os
import itertools
import sys
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

from fieldkit.speakers.diarize import diarize  # noqa: E402
from tests.support.conversations import ALL_VOICES, SHARED_VOICES, conversation, diarization_error  # noqa: E402


def cases(seeds: int) -> list[tuple[int, list[str], int]]:
    out = []
    for k in (2, 3, 4):
        combos = list(itertools.combinations(SHARED_VOICES, k))
        rng = np.random.default_rng(k)
        for i in rng.choice(len(combos), size=min(seeds, len(combos)), replace=False):
            out.append((k, list(combos[i]), int(i)))
    for seed in range(seeds):
        out.append((8, ALL_VOICES, seed))
    return out


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--seeds", type=int, default=3, help="conversations per speaker count")
    ap.add_argument("--gap", type=float, nargs=2, default=(0.25, 0.6), metavar=("MIN", "MAX"),
                    help="seconds of silence between turns (0.02 0.1: turns without a pause)")
    ap.add_argument("--step", type=int, default=None, help="frames (10 ms) between embedding windows")
    args = ap.parse_args()
    from fieldkit.speakers.diarize import STEP

    step = args.step or STEP
    diarize(conversation(SHARED_VOICES[:2], seed=99).audio, 2)      # load the model once
    results: dict[int, list[tuple[float, float]]] = {}
    audio_s = compute_s = base_s = cpu_s = 0.0
    print(f"{'n':>2} {'voices':<70} {'min':>5} {'DER':>6} {'DER c.25':>8} {'s/min':>6}")
    for k, voices, seed in cases(args.seeds):
        conv = conversation(voices, seed=seed, gap=tuple(args.gap))
        t0, c0 = time.perf_counter(), time.process_time()
        d = diarize(conv.audio, k, step=step)
        dt = time.perf_counter() - t0
        cpu_s += time.process_time() - c0
        t0 = time.perf_counter()
        for _ in range(20):
            np.abs(np.fft.rfft(conv.audio))
        base_s += time.perf_counter() - t0
        ref = conv.reference()
        der, der_c = diarization_error(ref, d.labels), diarization_error(ref, d.labels, collar_ms=250)
        minutes = len(conv.audio) / 16000 / 60
        audio_s += minutes * 60
        compute_s += dt
        results.setdefault(k, []).append((der, der_c))
        print(f"{k:>2} {','.join(voices):<70.70} {minutes:5.2f} {der:6.1%} {der_c:8.1%} {dt / minutes:6.2f}")
    print()
    for k, rs in results.items():
        a = np.array(rs)
        print(f"{k} speakers: DER mean {a[:, 0].mean():.1%} (max {a[:, 0].max():.1%}); "
              f"with 0.25 s collar mean {a[:, 1].mean():.1%} (max {a[:, 1].max():.1%}); {len(rs)} conversations")
    per_min = audio_s / 60
    print(f"speed (windows every {step * 10} ms): {compute_s / per_min:.2f} s wall-clock per minute of audio "
          f"over {per_min:.1f} min; {cpu_s / per_min:.2f} CPU-seconds per minute, i.e. about "
          f"{cpu_s / per_min / 2:.2f} s per minute on 2 idle cores; baseline (20 FFTs of the same audio) "
          f"{base_s / per_min:.3f} s per minute; load average now {os.getloadavg()[0]:.1f}")


if __name__ == "__main__":
    main()
