"""The guide listens: question-level precision and recall on interviews with known truth.

    PYTHONPATH=. python tests/bench/guide_listens.py

    PYTHONPATH=. python tests/bench/guide_listens.py --fresh2   # once, at the end of a round
    PYTHONPATH=. python tests/bench/guide_listens.py --fresh3   # once, at the final evaluation

The interviews are tests/data/guide_listens/*.json (README there): the threshold is
chosen on the tuning set (tune*, the former held-out held* and the first fresh set
fresh/fresh*, all looked at while the method was made: highest recall at precision >=
0.90, then the highest F1). Variants
with a part of the method taken away are measured in the same run. A suggestion is right
when its item was asked within 60 s of its time. Also times suggestions for a 60-minute
transcript (a segment every 4 s) and a live turn's matching cost. `--fresh2` reports the
second fresh held-out set (tests/data/guide_listens/fresh2, never tuned on) per language at the
chosen threshold, and nothing else; `--fresh3` the same for the third (fresh3, written blind by
another developer, for the final evaluation).
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


_GUIDES: dict[Path, object] = {}


def _guide(folder: Path, name: str):
    for path in (folder / "guides" / name, folder / name, ROOT / "guides" / name):
        if path.exists():
            if path not in _GUIDES:
                _GUIDES[path] = parse_guide(path.read_text(encoding="utf-8"), path.name)
            return _GUIDES[path]
    raise SystemExit(f"guide {name} of an interview in {folder} not found")


def load(which: str, folder: Path = DATA) -> list[dict]:
    out = []
    for f in sorted(folder.glob("*.json")):
        d = json.loads(f.read_text(encoding="utf-8"))
        if d["set"] == which:
            d["name"] = f.stem
            d["segs"] = [Segment(s["speaker"], s["start"], s["end"], s["text"]) for s in d["segments"]]
            d["parsed_guide"] = _guide(folder, d.get("guide", "guide.md"))
            out.append(d)
    return out


def evaluate(interviews: list[dict], guide, threshold: float, *, all_speakers: bool = False, **opts) -> dict:
    tp = fp = found = total = 0
    for d in interviews:
        lead = {s.speaker for s in d["segs"]} if all_speakers else d["lead"]
        sugg = suggest(d["parsed_guide"], d["segs"], lead, threshold=threshold,
                       informant_type=d.get("informant_type"), **opts)
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


def choose(interviews: list[dict], guide, **opts) -> tuple[float, dict]:
    grid = [x / 100 for x in range(5, 96, 5)]
    scored = [(t, evaluate(interviews, guide, t, **opts)) for t in grid]
    ok = [(t, e) for t, e in scored if e["precision"] >= 0.90]
    pool = ok or scored
    return max(pool, key=lambda te: (te[1]["recall"], te[1]["f1"], te[0]))


def line(name: str, t: float, tune: dict) -> str:
    return (f"{name:<34} thr {t:.2f}  tuning P {tune['precision']:.2f} R {tune['recall']:.2f} "
            f"({tune['suggested']} suggested, {tune['truth']} asked)")


def fresh_report(t: float, which: str = "fresh2") -> None:
    """A fresh held-out set (tests/data/guide_listens/fresh2, or fresh3 for the final
    evaluation): reported once at the end of the round, never tuned on."""
    fresh = load(f"{which}-held-out", DATA / which)
    print(f"{which.upper()} held-out set ({len(fresh)} interviews, never tuned on) at threshold {t:.2f}:")
    for lang in ["nb", "nn", "en", None]:
        part = [d for d in fresh if lang is None or d["language"] == lang]
        e = evaluate(part, None, t)
        print(f"  {lang or 'all':<4} precision {e['precision']:.2f} recall {e['recall']:.2f} "
              f"({e['suggested']} suggested, {e['truth']} asked, {len(part)} interviews)")


def main() -> None:
    # the first held-out set and the first fresh set were looked at while the method was
    # made, so they are tuning now; fresh2 is the untouched one
    tune = load("tuning") + load("held-out") + load("fresh-held-out", DATA / "fresh")
    print(f"interviews: {len(tune)} for tuning (tune*, the former held*, fresh*); a suggestion is "
          f"right within {WINDOW_MS // 1000} s of the question")
    variants = [
        ("method (lead only, cue, stems)", {}),
        ("all speakers' turns", {"all_speakers": True}),
        ("no question-shape cue", {"require_question": False}),
        ("no partial (compound) matches", {"partial": 0.0}),
        ("no synonym groups", {"synonym": 0.0}),
        ("no fuzzy spelling matches", {"fuzzy": 0.0}),
        ("no closing-question form", {"closing": 0.0}),
        ("no guide-order boost", {"order_boost": 1.0}),
        ("all speakers and no cue", {"all_speakers": True, "require_question": False}),
    ]
    chosen = None
    for name, opts in variants:
        t, e = choose(tune, None, **opts)
        print(line(name, t, e))
        if chosen is None:
            chosen = (t, e)
    t, e = chosen
    for lang in ["nb", "nn", "en"]:
        part = [d for d in tune if d["language"] == lang]
        if part:
            el = evaluate(part, None, t)
            print(f"  tuning {lang}: precision {el['precision']:.2f} recall {el['recall']:.2f} "
                  f"({el['truth']} asked, {len(part)} interviews)")
    for name, part in [("tune*/held*", load("tuning") + load("held-out")),
                       ("fresh* (first fresh set)", load("fresh-held-out", DATA / "fresh"))]:
        ep = evaluate(part, None, t)
        print(f"  {name}: precision {ep['precision']:.2f} recall {ep['recall']:.2f} ({ep['truth']} asked)")
    if "--fresh2" in sys.argv:
        fresh_report(t)
        return
    if "--fresh3" in sys.argv:
        fresh_report(t, "fresh3")
        return
    guide = tune[0]["parsed_guide"]

    # after the fact: a 60-minute transcript, as dense as a real one (a segment every 4 s)
    segs = dense_hour(tune)
    n_turns = len(lead_turns(segs, "AL"))
    t0 = time.perf_counter()
    suggest(guide, segs, "AL")
    took = time.perf_counter() - t0
    print(f"60-minute transcript ({len(segs)} segments, {n_turns} interviewer turns): suggestions in "
          f"{took:.2f} s (target < 30 s)")
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


def dense_hour(tune: list[dict]) -> list[Segment]:
    """60 minutes of transcript, a segment every 4 s: the tuning interviews' sentences one
    after another (their long informant turns cut to 4 s), the lead as AL, the informant S2."""
    segs: list[Segment] = []
    while True:
        for d in tune:
            for x in d["segs"]:
                t = len(segs) * 4000
                if t >= 3_600_000:
                    return segs
                segs.append(Segment("AL" if x.speaker == d["lead"] else "S2", t, t + 3800, x.text))


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
                for seg in dense_hour(tune):
                    s.add(TranscriptSegment(session_id=long_.id, start_ms=seg.start_ms, end_ms=seg.end_ms,
                                            verbatim=seg.text, speaker_label=seg.speaker))
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
