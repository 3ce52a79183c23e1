"""The CPU cost of sealing an encrypted project's records for its team server (and opening
them again), against computing their content hashes (which every sync does), in one run.

    .venv/bin/python tests/bench/sealing_bench.py [--sessions 25]
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
    ap.add_argument("--sessions", type=int, default=25)
    args = ap.parse_args()

    from fieldkit.privacy import crypto
    from fieldkit.projects import Workspace
    from fieldkit.team.records import all_records, content_hash
    from fieldkit.team.sealing import open_record, seal_record
    from tests.support.builders import build_project

    with tempfile.TemporaryDirectory() as tmp:
        h = Workspace(Path(tmp) / "a").ensure().create("bench", passphrase="bench passphrase")
        build_project(h, extra_sessions=args.sessions, segs=150, events=40)
        with h.db.engine.connect() as conn:
            recs = list(all_records(conn).values())
        cipher = crypto.TeamCipher(h.key)
        for _ in range(2):
            t0 = time.perf_counter()
            for _t, d in recs:
                content_hash(d)
            base = time.perf_counter() - t0
            t0 = time.perf_counter()
            sealed = [(t, seal_record(cipher, t, d)) for t, d in recs]
            ts = time.perf_counter() - t0
            t0 = time.perf_counter()
            for t, d in sealed:
                open_record(cipher, t, dict(d))
            to = time.perf_counter() - t0
            print(f"{len(recs)} records: content hashes (baseline) {base:.2f} s; seal {ts:.2f} s "
                  f"[{ts / base:.1f}x]; open {to:.2f} s [{to / base:.1f}x]")
        h.close()


if __name__ == "__main__":
    main()
