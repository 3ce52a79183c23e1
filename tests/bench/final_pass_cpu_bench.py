"""How much of the machine the final pass uses (issue 27: "transcription used only about
130 % of the 2 cores"): CPU utilisation (user+system CPU seconds of the process / wall
seconds) of fieldkit's transcription of a recording of ``--minutes`` built from the
real-speech clips (English, cycled with pauses of 0.3-1.5 s), with the thread settings in
use and the alternatives, each in its own process (model loaded before the clock starts),
in one run, with the load average before and after each (on a shared machine the
utilisation cannot pass the cores left free by others) and the word error rate. Also the
CPU seconds of the busiest thread: the run cannot take less wall time than that, so
CPU / busiest is the most the utilisation can be on a machine nobody else uses, a figure
that does not depend on the load.

    PYTHONPATH=. .venv/bin/python tests/bench/final_pass_cpu_bench.py [--minutes 10] [--model base]
        [--configs default,t1,t4,batch8,workers2]

- default: fieldkit's settings (threads = the machine's physical cores, batch as measured
  here, else 1: the sequential decoder, one window at a time)
- t1 / t4: cpu_threads 1 / 4, one window at a time
- batch8: faster-whisper's batched pipeline, 8 windows decoded together
- workers2: two windows decoded at once (WhisperModel(num_workers=2, cpu_threads=1), two
  threads taking windows in turn; what the sequential loop could become)
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
import uuid
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))
SR = 16000
CLIPS = ["en_jfk", "en_librivox_sense", "en_libri61_left", "en_libri260_right"]


def build(folder: Path, minutes: float) -> tuple[Path, str, str, str]:
    """A project with one session whose recording is ``minutes`` long; (data dir, slug,
    session id, reference text)."""
    import numpy as np
    import soundfile as sf

    from fieldkit.projects import Workspace
    from fieldkit.store.models import Recording, RecordingFile, RecordingState, Session, SessionStatus
    from tests.support.real_speech import clip

    ws = Workspace(folder / "data").ensure()
    handle = ws.create("cpu bench", language="en")
    with handle.db.transaction() as s:
        sess = Session(project_id=handle.project_id, title="long", status=SessionStatus.recorded)
        s.add(sess)
    rec_id = uuid.uuid4()
    rel = Path("audio") / str(sess.id) / str(rec_id)
    (handle.folder / rel).mkdir(parents=True)
    refs = {c: (ROOT / "tests" / "data" / "speech" / f"{c}.txt").read_text(encoding="utf-8").strip() for c in CLIPS}
    clips = [clip(c)[0] for c in CLIPS]
    rng = np.random.default_rng(7)
    total = int(minutes * 60 * SR)
    written = i = 0
    said = []
    with sf.SoundFile(handle.folder / rel / "0000.flac", "w", SR, 1, "PCM_16", format="FLAC") as f:
        while written < total:
            piece = clips[i % len(clips)]
            if written + len(piece) > total:
                break          # whole clips only: the reference stays exact
            part = np.concatenate([piece * rng.uniform(0.6, 1.0), np.zeros(int(SR * rng.uniform(0.3, 1.5)),
                                                                            np.float32)])
            f.write(part)
            written += len(part)
            said.append(refs[CLIPS[i % len(CLIPS)]])
            i += 1
    ms = written * 1000 // SR
    with handle.db.transaction() as s:
        s.add(Recording(id=rec_id, session_id=sess.id, state=RecordingState.imported, folder=str(rel),
                        duration_ms=ms))
        s.add(RecordingFile(recording_id=rec_id, seq=0, path=str(rel / "0000.flac"), offset_ms=0,
                            duration_ms=ms, complete=True))
    slug = handle.folder.name
    handle.close()
    return folder / "data", slug, str(sess.id), " ".join(said)


def _cpu() -> float:
    r = resource.getrusage(resource.RUSAGE_SELF)
    return r.ru_utime + r.ru_stime


def _threads_cpu() -> dict[int, float]:
    """CPU seconds of each thread of this process so far (Linux /proc)."""
    out, tick = {}, os.sysconf("SC_CLK_TCK")
    for task in Path("/proc/self/task").iterdir():
        try:
            fields = (task / "stat").read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        out[int(task.name)] = (int(fields[11]) + int(fields[12])) / tick
    return out


def _two_at_once(handle, sid, st, model) -> str:
    """Windows cut as the final pass cuts them, two decoded at a time by two threads on a
    model with two workers; the transcript's text in time order (not stored)."""
    from concurrent.futures import ThreadPoolExecutor

    from fieldkit.recording.audio import _spans, available_ms, load_audio
    from fieldkit.recording.windows import next_window
    from fieldkit.transcription.service import _dropped_in_window, _window_segments

    spans = _spans(handle, sid)
    total = available_ms(handle, sid)

    def read(a, b):
        return load_audio(handle, sid, a, b, sr=SR, spans=spans)

    def work(win):
        if not win.speech:
            return []
        segs = _window_segments(st, model, win)
        return segs + _dropped_in_window(st, model, win.audio, win.start_ms, segs, act=win.act)

    out, pending, pos = [], [], 0
    with ThreadPoolExecutor(2) as pool:
        while pos < total:
            win = next_window(read, pos, total, {})
            pending.append(pool.submit(work, win))
            pos = win.end_ms
            while len(pending) > 2:           # at most a window waiting: memory stays a few windows
                out += pending.pop(0).result()
        for f in pending:
            out += f.result()
    return " ".join(s.text for s in sorted(out, key=lambda s: s.start_ms))


def child(argv: list[str]) -> None:
    config, data, slug, sid, model_name = argv[:5]
    from dataclasses import replace

    from sqlmodel import select

    from fieldkit.projects import Workspace
    from fieldkit.store.models import TranscriptSegment
    from fieldkit.transcription import engine
    from fieldkit.transcription.service import session_settings, transcribe_session

    sid_u = uuid.UUID(sid)
    with Workspace(Path(data)).open(slug) as handle:
        st = session_settings(handle, sid_u, model=model_name)
        if config == "t1":
            st = replace(st, threads=1, batch=1)
        elif config == "t4":
            st = replace(st, threads=4, batch=1)
        elif config == "batch8":
            st = replace(st, batch=8)
        elif config == "workers2":
            st = replace(st, threads=1, batch=1)
        model = None
        if config == "workers2":
            from faster_whisper import WhisperModel

            from fieldkit.transcription.models import resolve_model

            model = WhisperModel(str(resolve_model(st.model)), device="cpu", compute_type=st.compute_type,
                                 cpu_threads=1, num_workers=2)
        else:
            model = engine.load_model(st)
        threads, batch = st.cpu_threads(), engine.batch_size(st)
        load0 = os.getloadavg()[0]
        th0 = _threads_cpu()
        c0, t0 = _cpu(), time.perf_counter()
        if config == "workers2":
            text = _two_at_once(handle, sid_u, st, model)
        else:
            transcribe_session(handle, sid_u, st, speakers=False)
            with handle.db.session() as s:
                text = " ".join(x.verbatim for x in s.exec(
                    select(TranscriptSegment).where(TranscriptSegment.session_id == sid_u)
                    .order_by(TranscriptSegment.start_ms)))
        wall, cpu = time.perf_counter() - t0, _cpu() - c0
        th = _threads_cpu()
        # the busiest thread's CPU seconds: the wall time cannot be shorter, so on a machine
        # nobody else uses the utilisation is at most cpu / busiest (whatever the load here)
        busiest = max(th[t] - th0.get(t, 0.0) for t in th)
    print("RESULT " + json.dumps({"wall": wall, "cpu": cpu, "busiest": busiest, "threads": threads, "batch": batch, "text": text,
                                  "load_before": load0, "load_after": os.getloadavg()[0],
                                  "peak_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024}),
          flush=True)


def main() -> None:
    if len(sys.argv) > 1 and sys.argv[1] == "--child":
        child(sys.argv[2:])
        return
    ap = argparse.ArgumentParser()
    ap.add_argument("--minutes", type=float, default=10)
    ap.add_argument("--model", default="base")
    ap.add_argument("--configs", default="default,t1,t4,batch8,workers2")
    args = ap.parse_args()
    from fieldkit.tools.bench import _wer

    print(f"model {args.model}, {args.minutes:g} min, {os.cpu_count()} cores; load average "
          f"{' '.join(f'{x:.2f}' for x in os.getloadavg())}", flush=True)
    with tempfile.TemporaryDirectory() as tmp:
        for config in args.configs.split(","):
            # a fresh project each time: a run must not find the last one's transcript
            data, slug, sid, ref = build(Path(tmp) / config, args.minutes)
            r = subprocess.run([sys.executable, __file__, "--child", config, str(data), slug, sid, args.model],
                               capture_output=True, text=True,
                               env={**os.environ, "HF_HUB_OFFLINE": "1", "PYTHONPATH": str(ROOT)})
            line = next((x for x in r.stdout.splitlines() if x.startswith("RESULT ")), None)
            if line is None:
                print(f"{config}: failed: {(r.stderr or r.stdout)[-800:]}", flush=True)
                continue
            x = json.loads(line[7:])
            print(f"{config:9} threads {x['threads']} batch {x['batch']}: wall {x['wall']:6.1f} s  CPU "
                  f"{x['cpu']:6.1f} s  utilisation {x['cpu'] / x['wall'] * 100:4.0f} %  busiest thread "
                  f"{x['busiest']:6.1f} s (utilisation at most {x['cpu'] / x['busiest'] * 100:4.0f} % on an "
                  f"idle machine)  WER "
                  f"{_wer(ref, x['text']):.3f}  peak {x['peak_mb']:.0f} MB  load {x['load_before']:.2f} -> "
                  f"{x['load_after']:.2f}", flush=True)


if __name__ == "__main__":
    main()
