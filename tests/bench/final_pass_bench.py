"""The final pass of a long interview, speakers included: real-time factor with the sequential
decoder and with faster-whisper's batched pipeline, the same recording, the same run. Prints
figures (and the load average: the machine may be shared).

The recording is the real-speech clips (tests/data/speech, English) cycled with pauses of
0.3-1.5 s up to ``--minutes``; each clip is another speaker, so attribution has work to do.

    PYTHONPATH=. .venv/bin/python tests/bench/final_pass_bench.py --minutes 10 --model base
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
import time
import uuid
from dataclasses import replace
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))

import numpy as np  # noqa: E402
import soundfile as sf  # noqa: E402

from fieldkit.projects import Workspace  # noqa: E402
from fieldkit.store.models import Recording, RecordingFile, RecordingState, Session, SessionStatus  # noqa: E402
from tests.support.real_speech import clip  # noqa: E402

SR = 16000
CLIPS = ["en_jfk", "en_librivox_sense", "en_libri61_left", "en_libri260_right"]


def build(handle, minutes: float, title: str):
    with handle.db.transaction() as s:
        sess = Session(project_id=handle.project_id, title=title, status=SessionStatus.recorded)
        s.add(sess)
    rec_id = uuid.uuid4()
    rel = Path("audio") / str(sess.id) / str(rec_id)
    (handle.folder / rel).mkdir(parents=True)
    clips = [clip(c)[0] for c in CLIPS]
    rng = np.random.default_rng(7)
    total = int(minutes * 60 * SR)
    written = i = 0
    with sf.SoundFile(handle.folder / rel / "0000.flac", "w", SR, 1, "PCM_16", format="FLAC") as f:
        while written < total:
            part = np.concatenate([clips[i % len(clips)] * rng.uniform(0.6, 1.0),
                                   np.zeros(int(SR * rng.uniform(0.3, 1.5)), np.float32)])[: total - written]
            f.write(part)
            written += len(part)
            i += 1
    ms = int(minutes * 60_000)
    with handle.db.transaction() as s:
        s.add(Recording(id=rec_id, session_id=sess.id, state=RecordingState.imported, folder=str(rel),
                        duration_ms=ms))
        s.add(RecordingFile(recording_id=rec_id, seq=0, path=str(rel / "0000.flac"), offset_ms=0,
                            duration_ms=ms, complete=True))
    return sess.id


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--minutes", type=float, default=10)
    ap.add_argument("--model", default="base")
    ap.add_argument("--batches", default="1,8")
    args = ap.parse_args()
    from fieldkit.speakers.attribute import attribute
    from fieldkit.transcription.service import session_settings, transcribe_session

    audio_s = args.minutes * 60
    print(f"model {args.model}, {args.minutes:g} min, {os.cpu_count()} cores; load average "
          f"{' '.join(f'{x:.2f}' for x in os.getloadavg())}", flush=True)
    with tempfile.TemporaryDirectory() as tmp:
        ws = Workspace(Path(tmp) / "data").ensure()
        with ws.create("bench", language="en") as handle:
            for batch in (int(b) for b in args.batches.split(",")):
                sid = build(handle, args.minutes, f"batch {batch}")
                st = replace(session_settings(handle, sid, model=args.model), batch=batch)
                t = time.perf_counter()
                transcribe_session(handle, sid, st, speakers=False)
                tr = time.perf_counter() - t
                t = time.perf_counter()
                res = attribute(handle, sid)
                sp = time.perf_counter() - t
                voices = res.count if res is not None else 0
                print(f"batch {batch}: transcription {tr:7.1f} s (RTF {tr / audio_s:.3f})  speakers {sp:6.1f} s "
                      f"(RTF {sp / audio_s:.3f})  final pass {tr + sp:7.1f} s (RTF {(tr + sp) / audio_s:.3f}; "
                      f"60 min -> {(tr + sp) / audio_s * 60:.0f} min)  voices {voices}  "
                      f"load {os.getloadavg()[0]:.2f}", flush=True)


if __name__ == "__main__":
    main()
