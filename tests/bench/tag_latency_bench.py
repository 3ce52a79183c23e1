"""Keypress-to-stored latency of a tag on the interview screen while it records through
the virtual microphone and live transcription runs beside it. Prints figures.

The app runs headless (Textual's Pilot) with the real recorder, the real live
transcriber (its own process) and the real database; each Key event's own timestamp is
the start, the commit in the event writer the end. Baseline in the same run: the same
tag written by a direct ``toggle_tag`` call (no UI, no queue) under the same load.

    .venv/bin/python tests/bench/tag_latency_bench.py --presses 200 --model base --language no
"""

from __future__ import annotations

import argparse
import asyncio
import os
import random
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))
from tests.support import audio_env  # noqa: E402


def pct(values: list[float], p: float) -> float:
    v = sorted(values)
    return v[min(len(v) - 1, int(round(p / 100 * (len(v) - 1))))]


async def drive(root: Path, slug: str, sid, presses: int, device: str) -> tuple[list[float], int]:  # noqa: ANN001
    from fieldkit.tui.app import FieldkitApp
    from fieldkit.tui.screens.interview import InterviewScreen

    app = FieldkitApp(data_dir=root, project=slug)
    async with app.run_test(size=(100, 30)) as pilot:
        await pilot.pause(0.5)
        await app.workers.wait_for_complete()
        screen = InterviewScreen(slug, sid, record=True, device=device, live=True)
        app.push_screen(screen)
        while screen.recorder is None or screen.recorder.state != "recording":
            await pilot.pause(0.1)
        await pilot.pause(8)  # the live transcriber has loaded its model and is working
        rng = random.Random(7)
        keys = ["k", "f", "u", "b", "h", "r", "l", "t"]  # point tags of the Interview scheme
        for _ in range(presses):
            await pilot.press(rng.choice(keys))
            await pilot.pause(rng.uniform(0.15, 0.5))
        while len(screen.latencies) < presses:
            await pilot.pause(0.1)
        overflows = screen.recorder.overflows
        latencies = list(screen.latencies)
        runtime = getattr(screen, "runtime", None)
        if hasattr(runtime, "stop"):  # the session runtime (this branch on)
            runtime.stop()
            runtime.finish_transcript(60)
        else:  # before the runtime: the screen owned the recorder and the transcriber
            screen.recorder.stop()
            if screen.transcriber is not None:
                screen.transcriber.stop(timeout=60)
                screen.transcriber = None
        return latencies, overflows


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--presses", type=int, default=200)
    ap.add_argument("--model", default="base")
    ap.add_argument("--language", default="no")
    args = ap.parse_args()
    problem = audio_env.start()
    if problem:
        sys.exit(problem)
    from fieldkit.tools.bench import make_speech
    try:
        from fieldkit.sessions.live import tag_keys, toggle_tag
        from fieldkit.sessions.plan import SessionPlan, save_session, setup_choices
    except ImportError:  # the code before the session runtime (for a before/after figure)
        from fieldkit.interview import SessionPlan, save_session, setup_choices, tag_keys, toggle_tag
    from fieldkit.projects import Workspace
    from fieldkit.store.models import Project

    with tempfile.TemporaryDirectory() as tmp:
        tmp = Path(tmp)
        speech = make_speech(120, args.language, tmp)
        ws = Workspace(tmp / "data").ensure()
        with ws.create("Latency", language=args.language) as h:
            with h.db.transaction() as s:
                s.get(Project, h.project_id).transcription = {"model": args.model}
            c = setup_choices(h)
            sid = save_session(h, SessionPlan("Latency", tag_scheme_id=c.schemes[0][0]))
            slug = h.project().slug
        player = subprocess.Popen(["bash", "-c", f"while true; do paplay --device={audio_env.SINK} {speech}; done"],
                                  start_new_session=True)
        try:
            t0 = time.monotonic()
            latencies, overflows = asyncio.run(drive(tmp / "data", slug, sid, args.presses, audio_env.DEVICE))
            ui_s = time.monotonic() - t0
            # baseline under the same kind of load: a second recording + live transcriber,
            # the tag written directly
            from fieldkit.recording.recorder import Recorder
            from fieldkit.transcription.live import LiveTranscriber
            from fieldkit.transcription.service import session_settings

            with ws.open(slug) as h:
                sid2 = save_session(h, SessionPlan("Baseline", tag_scheme_id=c.schemes[0][0]))
                rec = Recorder(h, sid2, device=audio_env.DEVICE)
                rec.start()
                live = LiveTranscriber(h, sid2, session_settings(h, sid2), quiet=True).start()
                time.sleep(8)
                tags = [t for t in tag_keys(h, sid2) if t.mode == "point"]
                rng = random.Random(7)
                base = []
                for _ in range(args.presses):
                    tag = rng.choice(tags)
                    start = time.monotonic()
                    toggle_tag(h.db, sid2, tag, rec.clock_ms(), None)
                    base.append((time.monotonic() - start) * 1000)
                    time.sleep(rng.uniform(0.15, 0.5))
                rec.stop()
                live.stop(timeout=60)
        finally:
            os.killpg(player.pid, signal.SIGTERM)
    print(f"tag keypress -> stored, interview screen, recording + live transcription ({args.model}, "
          f"{args.language}), {len(latencies)} presses over {ui_s:.0f} s, {os.cpu_count()} CPUs:")
    print(f"  p50 {pct(latencies, 50):6.1f} ms   p95 {pct(latencies, 95):6.1f} ms   "
          f"p99 {pct(latencies, 99):6.1f} ms   max {max(latencies):6.1f} ms   recorder overflows {overflows}")
    print(f"baseline, toggle_tag called directly under the same load, {len(base)} calls:")
    print(f"  p50 {pct(base, 50):6.1f} ms   p95 {pct(base, 95):6.1f} ms   p99 {pct(base, 99):6.1f} ms   "
          f"max {max(base):6.1f} ms")
    print(f"ratio screen/baseline: p50 {pct(latencies, 50) / pct(base, 50):.2f}   "
          f"p99 {pct(latencies, 99) / pct(base, 99):.2f}")


if __name__ == "__main__":
    main()
