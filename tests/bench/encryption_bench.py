"""Encryption at rest: recording and transcription cost, on vs off, in one run.

    .venv/bin/python tests/bench/encryption_bench.py [--seconds 60]

For a plaintext and an encrypted project in turn: `fieldkit record` captures --seconds
of speech from the virtual microphone as its own process (CPU share of one core after
start-up), then the same speech file is imported and transcribed with tiny.en (wall time,
model already loaded). Prints both and the ratios.
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import psutil

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))
from tests.support import audio_env  # noqa: E402

PASS = "bench passphrase"


def record_cpu(data: Path, seconds: int, encrypted: bool) -> float:
    env = {**os.environ, "FIELDKIT_PASSPHRASE": PASS} if encrypted else dict(os.environ)
    name = "enc" if encrypted else "plain"
    args = [sys.executable, "-m", "fieldkit", "--data-dir", str(data)]
    subprocess.run([*args, "project", "new", name, *(["--encrypt"] if encrypted else [])],
                   check=True, capture_output=True, env=env, stdin=subprocess.DEVNULL)
    rec = subprocess.Popen([*args, "record", "-p", name, "--title", "bench", "--device", audio_env.DEVICE,
                            "--seconds", str(seconds)], env=env, stdout=subprocess.DEVNULL,
                           stderr=subprocess.DEVNULL, stdin=subprocess.DEVNULL)
    proc = psutil.Process(rec.pid)
    time.sleep(5)
    cpu0, t0 = sum(proc.cpu_times()[:2]), time.monotonic()
    cpu1, t1 = cpu0, t0
    while rec.poll() is None:
        try:
            cpu1, t1 = sum(proc.cpu_times()[:2]), time.monotonic()
        except psutil.NoSuchProcess:
            break
        time.sleep(1)
    return 100 * (cpu1 - cpu0) / (t1 - t0)


def transcribe_time(data: Path, speech: Path, encrypted: bool) -> float:
    from fieldkit.projects import Workspace
    from fieldkit.recording.importer import import_recording
    from fieldkit.store.models import Session
    from fieldkit.transcription.service import transcribe_session
    from fieldkit.transcription.settings import resolve_settings

    ws = Workspace(data)
    name = "enc" if encrypted else "plain"
    with ws.open(name, passphrase=PASS if encrypted else None) as h:
        with h.db.transaction() as s:
            sess = Session(project_id=h.project_id, title="speech")
            s.add(sess)
        import_recording(h, sess.id, speech)
        t = time.perf_counter()
        transcribe_session(h, sess.id, resolve_settings(model="tiny.en", language="en"))
        return time.perf_counter() - t


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--seconds", type=int, default=60)
    args = ap.parse_args()
    problem = audio_env.start()
    if problem:
        sys.exit(problem)
    from fieldkit.tools.bench import make_speech
    from fieldkit.transcription.engine import load_model
    from fieldkit.transcription.settings import resolve_settings

    with tempfile.TemporaryDirectory() as tmp:
        tmp = Path(tmp)
        speech = make_speech(args.seconds, "en", tmp)
        player = subprocess.Popen(["bash", "-c", f"while true; do paplay --device={audio_env.SINK} {speech}; done"],
                                  start_new_session=True)
        try:
            cpu = {enc: record_cpu(tmp / "data", args.seconds, enc) for enc in (False, True)}
        finally:
            os.killpg(player.pid, 15)
        load_model(resolve_settings(model="tiny.en", language="en"))
        tr = {enc: transcribe_time(tmp / "data", speech, enc) for enc in (False, True)}
    print(f"recording {args.seconds} s (process CPU, % of one core): plain {cpu[False]:.2f} %, "
          f"encrypted {cpu[True]:.2f} % (ratio {cpu[True] / cpu[False]:.2f})")
    print(f"transcribing {args.seconds} s with tiny.en: plain {tr[False]:.2f} s, encrypted {tr[True]:.2f} s "
          f"(ratio {tr[True] / tr[False]:.3f})")


if __name__ == "__main__":
    main()
