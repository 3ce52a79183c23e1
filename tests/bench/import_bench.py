"""Peak memory of `fieldkit import` on a long recording (issue 27: import decoded the whole
file into memory). Builds a recording of N minutes from the real-speech clips (cycled with
pauses, written as 44.1 kHz stereo FLAC, as a recorder's file), then imports it in a child
process and prints its peak resident size (``ru_maxrss``) and time, for this checkout and,
with ``--baseline DIR`` (a checkout of the code before, e.g. ``git archive`` of an older
commit), for that one too in the same run.

    PYTHONPATH=. .venv/bin/python tests/bench/import_bench.py [--minutes 60] [--baseline /tmp/old]
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
SR = 16000
CLIPS = ["en_jfk", "en_librivox_sense", "en_libri61_left", "en_libri260_right", "no_npsc_medium"]


def build(path: Path, minutes: int) -> None:
    import numpy as np
    import soundfile as sf

    sys.path.insert(0, str(ROOT))
    from fieldkit.recording.audio import resample
    from tests.support.real_speech import clip

    clips = [resample(clip(c)[0], SR, 44100) for c in CLIPS]
    rng = np.random.default_rng(minutes)
    total, written, i = minutes * 60 * 44100, 0, 0
    with sf.SoundFile(path, "w", 44100, 2, "PCM_16", format="FLAC") as f:
        while written < total:
            piece = np.concatenate([clips[i % len(clips)], np.zeros(int(44100 * rng.uniform(0.3, 1.5)), np.float32)])
            piece = piece[: total - written]
            f.write(np.stack([piece, piece * 0.8], axis=1))
            written += len(piece)
            i += 1


def child(data: str, source: str) -> None:
    from fieldkit.projects import Workspace
    from fieldkit.recording.importer import import_recording
    from fieldkit.store.models import Session

    ws = Workspace(Path(data)).ensure()
    handle = ws.create(f"Import {time.time_ns()}", language="en")
    with handle.db.transaction() as s:
        sess = Session(project_id=handle.project_id, title="long")
        s.add(sess)
    t0 = time.perf_counter()
    rec = import_recording(handle, sess.id, source)
    out = {"seconds": round(time.perf_counter() - t0, 1), "minutes": rec.duration_ms / 60000,
           "peak_mb": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024)}
    handle.close()
    print("RESULT " + json.dumps(out), flush=True)


def main() -> None:
    if len(sys.argv) > 1 and sys.argv[1] == "--child":
        child(sys.argv[2], sys.argv[3])
        return
    ap = argparse.ArgumentParser()
    ap.add_argument("--minutes", type=int, default=60)
    ap.add_argument("--baseline", default="", help="a checkout of the code to compare with")
    args = ap.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        src = Path(tmp) / "recorder.flac"
        t0 = time.perf_counter()
        build(src, args.minutes)
        print(f"{args.minutes} min, 44.1 kHz stereo FLAC, {src.stat().st_size / 2**20:.0f} MB "
              f"(built in {time.perf_counter() - t0:.0f} s); load average {os.getloadavg()}", flush=True)
        for label, code in (("baseline", args.baseline), ("this checkout", str(ROOT))):
            if not code:
                continue
            r = subprocess.run([sys.executable, str(ROOT / "tests/bench/import_bench.py"), "--child",
                                str(Path(tmp) / "data"), str(src)], capture_output=True, text=True,
                               env={**os.environ, "PYTHONPATH": code})
            res = next((json.loads(x[7:]) for x in r.stdout.splitlines() if x.startswith("RESULT ")),
                       {"error": r.stderr[-500:]})
            print(f"import ({label}): {res}; load average {os.getloadavg()}", flush=True)


if __name__ == "__main__":
    main()
