"""The guide listens: question-level precision and recall on interviews with known truth.

    PYTHONPATH=. python tests/bench/guide_listens.py

The interviews are tests/data/guide_listens/*.json (README there): the threshold is
chosen on the tuning set (highest recall at precision >= 0.90, then the highest F1), and
the figures that count are those on the held-out set at that threshold. Variants with a
part of the method taken away are measured in the same run. A suggestion is right when
its item was asked within 60 s of its time. Also times suggestions for a 60-minute
transcript (the tuning interviews repeated) and a live turn's matching cost.
"""

from __future__ import annotations

import json
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))

from fieldkit.instruments.guides.parser import parse_guide  # noqa: E402
from fieldkit.sessions.listening import Listener, Segment, lead_turns, suggest  # noqa: E402

DATA = ROOT / "tests" / "data" / "guide_listens"
WINDOW_MS = 60_000


def load(which: str) -> list[dict]:
    out = []
    for f in sorted(DATA.glob("*.json")):
        d = json.loads(f.read_text(encoding="utf-8"))
        if d["set"] == which:
            d["name"] = f.stem
            d["segs"] = [Segment(s["speaker"], s["start"], s["end"], s["text"]) for s in d["segments"]]
            out.append(d)
    return out


def evaluate(interviews: list[dict], guide, threshold: float, *, all_speakers: bool = False, **opts) -> dict:  # noqa: ANN001
    tp = fp = found = total = 0
    for d in interviews:
        lead = {s.speaker for s in d["segs"]} if all_speakers else d["lead"]
        sugg = suggest(guide, d["segs"], lead, threshold=threshold, **opts)
        truth = d["truth"]
        total += len(truth)
        for s in sugg:
            ok = any(t["question"] == s.question and abs(t["at_ms"] - s.at_ms) <= WINDOW_MS for t in truth)
            tp += ok
            fp += not ok
        for t in truth:
            found += any(t["question"] == s.question and abs(t["at_ms"] - s.at_ms) <= WINDOW_MS for s in sugg)
    p = tp / (tp + fp) if tp + fp else 1.0
    r = found / total if total else 0.0
    f1 = 2 * p * r / (p + r) if p + r else 0.0
    return {"precision": p, "recall": r, "f1": f1, "suggested": tp + fp, "truth": total}


def choose(interviews: list[dict], guide, **opts) -> tuple[float, dict]:  # noqa: ANN001
    grid = [x / 100 for x in range(5, 96, 5)]
    scored = [(t, evaluate(interviews, guide, t, **opts)) for t in grid]
    ok = [(t, e) for t, e in scored if e["precision"] >= 0.90]
    pool = ok or scored
    return max(pool, key=lambda te: (te[1]["recall"], te[1]["f1"], te[0]))


def line(name: str, t: float, tune: dict, held: dict) -> str:
    return (f"{name:<34} thr {t:.2f}  tuning P {tune['precision']:.2f} R {tune['recall']:.2f}"
            f"   held-out P {held['precision']:.2f} R {held['recall']:.2f} "
            f"({held['suggested']} suggested, {held['truth']} asked)")


def main() -> None:
    guide = parse_guide((DATA / "guide.md").read_text(encoding="utf-8"), "guide.md")
    tune, held = load("tuning"), load("held-out")
    print(f"interviews: {len(tune)} tuning, {len(held)} held-out; a suggestion is right within "
          f"{WINDOW_MS // 1000} s of the question")
    variants = [
        ("method (lead only, cue, stems)", {}),
        ("all speakers' turns", {"all_speakers": True}),
        ("no question-shape cue", {"require_question": False}),
        ("no partial (compound) matches", {"partial": 0.0}),
        ("all speakers and no cue", {"all_speakers": True, "require_question": False}),
    ]
    chosen = None
    for name, opts in variants:
        t, e = choose(tune, guide, **opts)
        h = evaluate(held, guide, t, **opts)
        print(line(name, t, e, h))
        if chosen is None:
            chosen = (t, h)
    t, h = chosen
    target = h["recall"] >= 0.80 and h["precision"] >= 0.90
    print(f"held-out at the chosen threshold {t:.2f}: precision {h['precision']:.2f}, "
          f"recall {h['recall']:.2f} (target P >= 0.90, R >= 0.80: {'met' if target else 'NOT met'})")

    # after the fact: a 60-minute transcript
    segs, offset = [], 0
    while offset < 3_600_000:
        for d in tune:
            for s in d["segs"]:
                segs.append(Segment(s.speaker, s.start_ms + offset, s.end_ms + offset, s.text))
            offset += d["segs"][-1].end_ms
            if offset >= 3_600_000:
                break
    lead = tune[0]["lead"]
    t0 = time.perf_counter()
    suggest(guide, segs, {lead})
    took = time.perf_counter() - t0
    print(f"60-minute transcript ({len(segs)} segments): suggestions in {took:.3f} s (target < 30 s)")
    # while recording: the cost of matching one finished turn
    listener = Listener(guide)
    turns = lead_turns(tune[0]["segs"], tune[0]["lead"])
    t0 = time.perf_counter()
    for turn in turns * 20:
        listener.done.clear()
        listener.feed(turn)
    per = (time.perf_counter() - t0) / (len(turns) * 20) * 1000
    print(f"one live turn matched in {per:.2f} ms on average ({len(turns) * 20} turns)")
    stored_paths(tune)


def stored_paths(tune: list[dict]) -> None:
    """The stored paths: a 60-minute transcript in a project database through
    suggest_for_session, and the live path (a segment written, then the lead's terminal
    polls, matches and stores), timed per segment."""
    import statistics
    import tempfile

    from fieldkit.instruments.guides.store import import_guide
    from fieldkit.projects import Workspace
    from fieldkit.sessions.suggestions import LiveListener, suggest_for_session
    from fieldkit.store.models import Researcher, Session, TranscriptSegment

    with tempfile.TemporaryDirectory() as tmp:
        ws = Workspace(Path(tmp)).ensure()
        with ws.create("Bench", language="no") as h:
            version, _ = import_guide(h.db, h.project_id, DATA / "guide.md")
            with h.db.transaction() as s:
                al = Researcher(project_id=h.project_id, name="A L", initials="AL")
                s.add(al)
                s.flush()
                long_ = Session(project_id=h.project_id, title="60 min", guide_version_id=version.id, lead_id=al.id)
                live = Session(project_id=h.project_id, title="live", guide_version_id=version.id, lead_id=al.id)
                s.add(long_)
                s.add(live)
                s.flush()
                offset = 0
                while offset < 3_600_000:
                    for d in tune:
                        for seg in d["segs"]:
                            s.add(TranscriptSegment(session_id=long_.id, start_ms=seg.start_ms + offset,
                                                    end_ms=seg.end_ms + offset, verbatim=seg.text,
                                                    speaker_label="AL" if seg.speaker == d["lead"] else "S2"))
                        offset += d["segs"][-1].end_ms
                long_id, live_id = long_.id, live.id
            t0 = time.perf_counter()
            made = suggest_for_session(h.db, long_id)
            print(f"60-minute transcript in a project (stored): {len(made)} suggestions in "
                  f"{time.perf_counter() - t0:.2f} s (target < 30 s)")
            listener = LiveListener(h.db, live_id)
            costs = []
            for seg in tune[1]["segs"]:
                with h.db.transaction() as s:
                    s.add(TranscriptSegment(session_id=live_id, start_ms=seg.start_ms, end_ms=seg.end_ms,
                                            verbatim=seg.text))
                t0 = time.perf_counter()
                listener.poll(seg.end_ms)
                costs.append((time.perf_counter() - t0) * 1000)
            print(f"live path: a new segment read, matched and stored in median "
                  f"{statistics.median(costs):.1f} ms, max {max(costs):.1f} ms ({len(costs)} segments); "
                  f"the screen polls every 0.5 s, so a suggestion follows the segment's arrival in "
                  f"the transcript within about 0.5 s")


if __name__ == "__main__":
    main()
