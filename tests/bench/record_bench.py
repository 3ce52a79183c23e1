"""Recorder benchmark through the real-time virtual microphone. Prints figures.

    .venv/bin/python tests/bench/record_bench.py capture --seconds 600
    .venv/bin/python tests/bench/record_bench.py kills --kills 20

capture: `fieldkit record` runs as its own process for --seconds of real time while
speech plays into the virtual microphone and a faster-whisper transcription loops on
the other core (one thread). Reports input overflows, samples lost (wall time of the
recording minus audio stored), the recorder process's CPU share of one core (after
start-up), and its memory at the start and the end.

kills: starts `fieldkit record`, SIGKILLs it after a random 1-6 s, runs recovery, and
compares the audio recovered with the wall time recorded; a note is stored from
another process just before each kill and must survive. Reports the most audio lost
and the events lost.
"""

from __future__ import annotations

import argparse
import os
import random
import signal
import sqlite3
import subprocess
import sys
import tempfile
import time
from datetime import datetime, timezone
from pathlib import Path

import psutil

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))
from tests.support import audio_env  # noqa: E402

PY = sys.executable
LOAD = """
import sys, time
from faster_whisper import WhisperModel
from fieldkit.transcription.models import resolve_model
m = WhisperModel(str(resolve_model("tiny.en")), device="cpu", compute_type="int8", cpu_threads=1)
n = 0
while True:
    segs, _ = m.transcribe(sys.argv[1], language="en", vad_filter=True)
    n += sum(1 for _ in segs)
"""


def _speech(folder: Path, seconds: int) -> Path:
    from fieldkit.tools.bench import make_speech

    return make_speech(seconds, "en", folder)


def capture(seconds: int) -> None:
    problem = audio_env.start()
    if problem:
        sys.exit(problem)
    with tempfile.TemporaryDirectory() as tmp:
        tmp = Path(tmp)
        speech = _speech(tmp, 60)
        data = tmp / "data"
        subprocess.run([PY, "-m", "fieldkit", "--data-dir", str(data), "project", "new", "Bench"], check=True,
                       capture_output=True)
        load = subprocess.Popen([PY, "-c", LOAD, str(speech)], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        player = subprocess.Popen(["bash", "-c", f"while true; do paplay --device={audio_env.SINK} {speech}; done"],
                                  start_new_session=True)
        rec = subprocess.Popen([PY, "-m", "fieldkit", "--data-dir", str(data), "record", "-p", "bench",
                                "--title", "Bench", "--device", audio_env.DEVICE, "--seconds", str(seconds)],
                               stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True)
        proc = psutil.Process(rec.pid)
        time.sleep(5)  # past Python start-up and imports
        cpu0 = sum(proc.cpu_times()[:2])
        t0 = time.monotonic()
        rss = [proc.memory_info().rss]
        while rec.poll() is None:
            try:
                rss.append(proc.memory_info().rss)
                cpu1, t1 = sum(proc.cpu_times()[:2]), time.monotonic()
            except psutil.NoSuchProcess:
                break
            time.sleep(5)
        out = rec.communicate()[0]
        os.killpg(player.pid, signal.SIGTERM)
        load.kill()
        con = sqlite3.connect(data / "projects" / "bench" / "project.db")
        started, ended, duration, info = con.execute(
            "SELECT started_at, ended_at, duration_ms, info FROM recording").fetchone()
        con.close()
        wall_ms = (datetime.fromisoformat(ended) - datetime.fromisoformat(started)).total_seconds() * 1000
        import json

        print(f"capture: {seconds} s real time, transcription (tiny.en, 1 thread) looping beside it")
        print(f"  {out.strip()}")
        print(f"  input overflows: {json.loads(info).get('overflows')}")
        print(f"  audio stored {duration} ms; recording wall time {wall_ms:.0f} ms "
              f"(difference {wall_ms - duration:.0f} ms = stream start-up + stop, and any loss)")
        print(f"  recorder CPU share: {100 * (cpu1 - cpu0) / (t1 - t0):.2f} % of one core "
              f"(process total, after start-up, {t1 - t0:.0f} s)")
        print(f"  recorder memory: {rss[0] / 2**20:.1f} MiB at 5 s, {rss[-1] / 2**20:.1f} MiB at the end, "
              f"max {max(rss) / 2**20:.1f} MiB")


KILL = """
import sys
from fieldkit.cli import main
main(["--data-dir", sys.argv[1], "record", "-p", "bench", "--title", sys.argv[2], "--device", "pulse"])
"""


def kills(n: int) -> None:
    from sqlmodel import select

    from fieldkit.instruments.events import add_event
    from fieldkit.projects import Workspace
    from fieldkit.recording.clock import position_ms
    from fieldkit.recording.recovery import recover_all
    from fieldkit.store.models import Event, Session

    problem = audio_env.start()
    if problem:
        sys.exit(problem)
    rng = random.Random(2026)
    worst, events_lost = 0.0, 0
    with tempfile.TemporaryDirectory() as tmp:
        tmp = Path(tmp)
        speech = _speech(tmp, 30)
        player = subprocess.Popen(["bash", "-c", f"while true; do paplay --device={audio_env.SINK} {speech}; done"],
                                  start_new_session=True)
        ws = Workspace(tmp / "data").ensure()
        ws.create("bench").close()
        handle = ws.open("bench")
        losses = []
        try:
            for i in range(n):
                title = f"kill {i}"
                proc = subprocess.Popen([PY, "-c", KILL, str(ws.root), title],
                                        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
                sess = None
                while sess is None:
                    with handle.db.session() as s:
                        sess = s.exec(select(Session).where(Session.title == title)).first()
                    time.sleep(0.02)
                while position_ms(handle.db, sess.id) is None:
                    time.sleep(0.02)
                time.sleep(rng.uniform(1.0, 6.0))
                note = add_event(handle.db, sess.id, "note", position_ms=position_ms(handle.db, sess.id),
                                 text=f"note {i}")
                proc.send_signal(signal.SIGKILL)
                killed = datetime.now(timezone.utc)
                proc.wait()
                rec = recover_all(handle)[0]
                from fieldkit.store.models import Recording

                with handle.db.session() as s:
                    r = s.exec(select(Recording).where(Recording.session_id == sess.id)).one()
                    events_lost += s.get(Event, note.id) is None
                lost = (killed - r.started_at).total_seconds() - rec.audio_ms / 1000
                losses.append(lost)
                worst = max(worst, lost)
        finally:
            os.killpg(player.pid, signal.SIGTERM)
            handle.close()
    print(f"kill test: {n} SIGKILLs at random moments (1-6 s into a recording)")
    print(f"  audio lost per kill (wall time since the recording row was made minus audio recovered, "
          f"so it includes the stream's start-up): max {worst:.3f} s, mean {sum(losses) / len(losses):.3f} s")
    print(f"  events lost: {events_lost}")


if __name__ == "__main__":
    ap = argparse.ArgumentParser()
    sub = ap.add_subparsers(dest="cmd", required=True)
    c = sub.add_parser("capture")
    c.add_argument("--seconds", type=int, default=600)
    k = sub.add_parser("kills")
    k.add_argument("--kills", type=int, default=20)
    args = ap.parse_args()
    capture(args.seconds) if args.cmd == "capture" else kills(args.kills)
