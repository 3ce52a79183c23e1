"""Export speed: a generated project of 500 sessions (150 segments and 40 events each)
exported whole to DOCX and to REFI-QDA (.qdpx), pseudonymised. Goal: at most 60 s each.
Prints figures, and each as a ratio to the plain-text export of the same project in the
same run (collect + pseudonymise + the cheapest writer), which tells a slower format from
a busy machine.

    .venv/bin/python tests/bench/export_bench.py [--sessions 500] [--segments 150] [--events 40]
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--sessions", type=int, default=500)
    ap.add_argument("--segments", type=int, default=150)
    ap.add_argument("--events", type=int, default=40)
    ap.add_argument("--formats", default="docx,qdpx")
    ap.add_argument("--baseline", default="txt", help="format the others are compared with ('' for none)")
    args = ap.parse_args()

    from fieldkit.export import run_export
    from fieldkit.export.collect import ExportOptions, collect
    from fieldkit.projects import Workspace
    from tests.support.builders import build_project

    with tempfile.TemporaryDirectory() as tmp:
        ws = Workspace(Path(tmp) / "data").ensure()
        handle = ws.create("Export bench")
        t0 = time.perf_counter()
        b = build_project(handle, extra_sessions=args.sessions - 3, segs=args.segments, events=args.events)
        print(f"generated {len(b.sessions)} sessions ({args.segments} segments, {args.events} events each) "
              f"in {time.perf_counter() - t0:.1f} s")
        t0 = time.perf_counter()
        bundle = collect(handle, None, ExportOptions())
        n_segs = sum(len(s.segments) for s in bundle.sessions)
        n_ev = sum(len(s.events) for s in bundle.sessions)
        print(f"collect + pseudonymise: {time.perf_counter() - t0:.1f} s "
              f"({n_segs} segments, {n_ev} events, {sum(bundle.report.values())} replacements)")
        base = None
        formats = ([args.baseline] if args.baseline else []) + args.formats.split(",")
        for fmt in formats:
            out = Path(tmp) / f"out-{fmt}"
            t0 = time.perf_counter()
            res = run_export(handle, fmt, None, ExportOptions(), out)
            dt = time.perf_counter() - t0
            size = sum(f.stat().st_size for f in res.files)
            if base is None and args.baseline:
                base = dt
                print(f"baseline: export to {fmt}: {dt:.1f} s ({len(res.files)} files, {size / 1e6:.1f} MB)")
                continue
            verdict = "OK" if dt <= 60 else "OVER the 60 s goal"
            ratio = f", {dt / base:.2f}x the {args.baseline} export" if base else ""
            print(f"export to {fmt}: {dt:.1f} s for {len(res.bundle.sessions)} sessions, "
                  f"{len(res.files)} file(s), {size / 1e6:.1f} MB{ratio}  [{verdict}]")
        handle.close()


if __name__ == "__main__":
    main()
