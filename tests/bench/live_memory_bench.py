"""The live worker's memory over a long recording (issue 27: it grew from 320 to 400 MB
over 10 minutes). The real worker process (fieldkit.transcription.live) follows a
recording fed from real speech clips faster than real time (tests/support/live_feed.py:
what the recorder leaves for it, a growing .pcm file), so 90 minutes of audio go by in a
fraction of that. Prints the worker's resident memory against the audio it has
transcribed, and the growth per hour after the first 10 minutes.

    PYTHONPATH=$PWD .venv/bin/python tests/bench/live_memory_bench.py --minutes 90 --speed 6
    PYTHONPATH=$PWD .venv/bin/python tests/bench/live_memory_bench.py --minutes 30 --encrypted

fieldkit is imported from PYTHONPATH first (another checkout can be measured).
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
import threading
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
sys.path.append(str(ROOT))
from tests.support.live_feed import FileFeed  # noqa: E402
from tests.support.real_speech import clip  # noqa: E402

SR = 16000
CLIPS = ["en_jfk", "en_librivox_sense", "en_libri61_left", "en_libri260_right"]


def rss_mb(pid: int) -> float:
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
    except OSError:
        pass
    return 0.0


def speech(minutes: float):
    """Real speech clips in a varying order with pauses of 0.4-2.5 s, a minute at a time."""
    import numpy as np

    rng = np.random.default_rng(7)
    clips = [clip(n)[0] for n in CLIPS]
    total = int(minutes * 60 * SR)
    made = 0
    while made < total:
        parts, n = [], 0
        while n < 60 * SR:
            a = clips[int(rng.integers(len(clips)))]
            gap = np.zeros(int(rng.uniform(0.4, 2.5) * SR), np.float32)
            parts += [a, gap]
            n += len(a) + len(gap)
        piece = np.concatenate(parts)[: total - made]
        made += len(piece)
        yield piece


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--minutes", type=float, default=90)
    ap.add_argument("--speed", type=float, default=6, help="times real time the audio arrives")
    ap.add_argument("--model", default="tiny.en")
    ap.add_argument("--encrypted", action="store_true")
    ap.add_argument("--every", type=float, default=10, help="print every this many minutes of audio")
    args = ap.parse_args()
    from sqlmodel import select

    from fieldkit.projects import Workspace
    from fieldkit.store.models import Session, TranscriptionRun
    from fieldkit.transcription.live import LiveTranscriber
    from fieldkit.transcription.settings import resolve_settings

    with tempfile.TemporaryDirectory() as tmp:
        ws = Workspace(Path(tmp) / "data").ensure()
        h = ws.create("Long live", language="en", passphrase="bench passphrase" if args.encrypted else None)
        with h.db.transaction() as s:
            sess = Session(project_id=h.project_id, title="long")
            s.add(sess)
        feed = FileFeed(h, sess.id)
        live = LiveTranscriber(h, sess.id, resolve_settings(model=args.model, language="en"), quiet=True).start()
        pid = live._proc.pid
        stop = threading.Event()

        def feeder() -> None:
            for piece in speech(args.minutes):
                feed.write(piece, speed=args.speed, stop=stop)
                if stop.is_set():
                    return

        t = threading.Thread(target=feeder, daemon=True)
        t0 = time.monotonic()
        t.start()

        def done_ms() -> int:
            with h.db.session() as s:
                run = s.exec(select(TranscriptionRun)).first()
                return run.done_ms if run else 0

        print(f"live worker ({args.model}, {'encrypted' if args.encrypted else 'plain'} project), "
              f"{args.minutes:.0f} min of real speech arriving at {args.speed:g}x real time")
        print(f"{'audio in':>9} {'transcribed':>11} {'worker RSS':>11} {'wall':>6}  load")
        rows, next_at = [], 0.0
        while True:
            d = done_ms() / 60000
            ending = not t.is_alive() and feed.position_ms - done_ms() < 60_000
            if d >= next_at or ending:
                mb = rss_mb(pid)
                rows.append((d, mb))
                print(f"{feed.position_ms / 60000:7.1f} m {d:9.1f} m {mb:8.0f} MB {time.monotonic() - t0:5.0f}s  "
                      f"{os.getloadavg()[0]:.1f}", flush=True)
                next_at = d + args.every
            if ending:
                break
            time.sleep(2)
        feed.finish()
        live.stop(timeout=600)
        h.close()
    after10 = [(d, mb) for d, mb in rows if d >= 10]
    if len(after10) >= 2:
        (d0, m0), (d1, m1) = after10[0], after10[-1]
        print(f"growth after the first 10 minutes: {m1 - m0:+.0f} MB over {d1 - d0:.0f} min "
              f"({(m1 - m0) / max(d1 - d0, 1e-9) * 60:+.0f} MB per hour of audio)")
    print(f"peak {max(mb for _d, mb in rows):.0f} MB")


if __name__ == "__main__":
    main()
