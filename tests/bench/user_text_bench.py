"""What the one rule for user text costs: fieldkit.text.clean_text on typical texts, and
writing transcript segments and notes with the store's cleaning on the flush against the
same writes without it (the listener taken off), in the same run.

    PYTHONPATH=. .venv/bin/python tests/bench/user_text_bench.py [--rows 3000] [--rounds 5]
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
import uuid
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))


def per_call(fn, arg, n: int) -> float:  # noqa: ANN001
    t = time.perf_counter()
    for _ in range(n):
        fn(arg)
    return (time.perf_counter() - t) / n


def write_rows(rows: int) -> float:
    from fieldkit.projects import Workspace
    from fieldkit.store.models import Event, EventKind, Session, TranscriptSegment

    with tempfile.TemporaryDirectory() as d:
        ws = Workspace(Path(d)).ensure()
        with ws.create("Bench " + uuid.uuid4().hex[:6]) as h:
            with h.db.transaction() as s:
                sess = Session(project_id=h.project_id, title="b")
                s.add(sess)
            words = [{"w": f" ord{k}", "s": k * 300, "e": k * 300 + 250, "p": 0.9} for k in range(12)]
            t = time.perf_counter()
            with h.db.transaction() as s:
                for k in range(rows):
                    s.add(TranscriptSegment(session_id=sess.id, start_ms=k * 4000, end_ms=k * 4000 + 3900,
                                            verbatim="Ja, vi samarbeider med NAV-kontoret og fastlegen om de unge.",
                                            words=words))
                    if k % 10 == 0:
                        s.add(Event(session_id=sess.id, kind=EventKind.note, position_ms=k * 4000,
                                    text="Ser bort før hun svarer; nøler."))
            return time.perf_counter() - t


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--rows", type=int, default=3000)
    ap.add_argument("--rounds", type=int, default=5)
    args = ap.parse_args()
    from fieldkit.text import clean_text

    samples = {
        "ascii note (40 chars)": "Talks about the NAV office and the GP ok",
        "Norwegian note (40)": "Snakker om NAV-kontoret og fastlegen, nøler",
        "pasted (Word break, 60)": "Observert kl. 10:12:\x0bL03 ser bort\u2028og nøler.\r\nSa: det vet jeg",
        "100,000 characters": ("Møte med Kari\x0bTirsdag\u2028leder " * 3000)[:100_000],
    }
    print("clean_text per call:")
    for name, text in samples.items():
        n = 20 if len(text) > 10_000 else 20_000
        print(f"  {name:26} {per_call(clean_text, text, n) * 1e6:10.1f} µs")

    from sqlalchemy import event
    from sqlalchemy.orm import Mapper

    import fieldkit.store.models as m

    # the same writes without the rule (the store's flush listeners taken off for a moment),
    # taking turns with the writes with it, so that the load of the machine falls on both
    handlers = [("before_insert", m.clean_on_insert), ("before_update", m.clean_on_update)]
    with_rule, without = [], []
    for _ in range(args.rounds):
        with_rule.append(write_rows(args.rows))
        for name, fn in handlers:
            event.remove(Mapper, name, fn)
        try:
            without.append(write_rows(args.rows))
        finally:
            for name, fn in handlers:
                event.listen(Mapper, name, fn)
    with_rule, without = min(with_rule), min(without)
    n = args.rows + args.rows // 10
    print(f"writing {n} rows (segments with 12 words, notes), best of {args.rounds}, taking turns:")
    print(f"  without the rule (baseline) {without:7.3f} s  ({without / n * 1e6:6.1f} µs a row)")
    print(f"  with the rule               {with_rule:7.3f} s  ({with_rule / n * 1e6:6.1f} µs a row)"
          f"  {100 * (with_rule / without - 1):+.1f} %")


if __name__ == "__main__":
    main()
