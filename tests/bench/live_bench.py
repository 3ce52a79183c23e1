"""Live transcription during a real-time recording: seconds from stop to a complete
transcript, and the recorder's overflows while it runs. Prints figures.

    .venv/bin/python tests/bench/live_bench.py --seconds 600 --model base --language no
"""

from __future__ import annotations

import argparse
import os
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))
from tests.support import audio_env  # noqa: E402


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--seconds", type=int, default=600)
    ap.add_argument("--model", default="base")
    ap.add_argument("--language", default="no")
    args = ap.parse_args()
    problem = audio_env.start()
    if problem:
        sys.exit(problem)
    from sqlmodel import select

    from fieldkit.tools.bench import make_speech
    from fieldkit.projects import Workspace
    from fieldkit.recording.recorder import Recorder
    from fieldkit.store.models import Session, TranscriptionRun, TranscriptSegment
    from fieldkit.transcription.live import LiveTranscriber
    from fieldkit.transcription.settings import resolve_settings

    with tempfile.TemporaryDirectory() as tmp:
        tmp = Path(tmp)
        speech = make_speech(120, args.language, tmp)
        ws = Workspace(tmp / "data").ensure()
        with ws.create("live") as h:
            with h.db.transaction() as s:
                sess = Session(project_id=h.project_id, title="live")
                s.add(sess)
            player = subprocess.Popen(["bash", "-c", f"while true; do paplay --device={audio_env.SINK} {speech}; done"],
                                      start_new_session=True)
            live = LiveTranscriber(h, sess.id, resolve_settings(model=args.model, language=args.language)).start()
            rec = Recorder(h, sess.id, device=audio_env.DEVICE)
            rec.start()
            time.sleep(args.seconds)
            os.killpg(player.pid, signal.SIGTERM)
            summary = rec.stop()
            t = time.perf_counter()
            ok = live.stop(timeout=900)
            after = time.perf_counter() - t
            with h.db.session() as s:
                run = s.exec(select(TranscriptionRun)).one()
                n = len(s.exec(select(TranscriptSegment)).all())
    print(f"live transcription ({args.model}, {args.language}, 1 thread, nice 10) beside a "
          f"{summary.duration_ms / 1000:.0f} s recording")
    print(f"  recorder overflows: {summary.overflows}")
    print(f"  transcript complete {after:.1f} s after stop ({'ok' if ok else 'did not finish'}); "
          f"{n} segments covering {run.done_ms / 1000:.0f} s")


if __name__ == "__main__":
    main()
