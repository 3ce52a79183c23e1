"""Turn the hand-written interviews in src/*.txt into transcript segment files (*.json).

Run from anywhere: ``python tests/data/guide_listens/build.py``. Deterministic (a fixed
seed per file). See README.md for the format and how the set was made.
"""

from __future__ import annotations

import json
import random
import re
from pathlib import Path

HERE = Path(__file__).resolve().parent
TAG = re.compile(r"\s*\[((?:[qp]\d+)(?:\s*,\s*[qp]\d+)*)\]\s*$")
SENT = re.compile(r"(?<=[.?!])\s+")


def build(src: Path) -> dict:
    rnd = random.Random(src.stem)
    lines = src.read_text(encoding="utf-8").splitlines()
    meta = dict(re.findall(r"^#\s*(\w[\w-]*):\s*(.+)$", "\n".join(lines), re.M))
    # the lead's label differs between files, so a matcher must use the label it is given
    lead, other = ("S1", "S2") if rnd.random() < 0.5 else ("S2", "S1")
    t = rnd.randint(2000, 9000)
    segments, truth = [], []
    for line in lines:
        if not line.strip() or line.startswith("#"):
            continue
        who, text = line.split(":", 1)
        text = text.strip()
        m = TAG.search(text)
        items = [] if m is None else [x.strip() for x in m.group(1).split(",")]
        text = TAG.sub("", text)
        speaker = lead if who.strip() == "I" else other
        if items:
            truth += [{"question": q, "at_ms": t} for q in items]
        sentences = [s for s in SENT.split(text) if s]
        for i, sent in enumerate(sentences):
            n = len(sent.split())
            dur = int(n / 2.6 * 1000) + 300
            if speaker == other and i == len(sentences) - 1:
                # informants' answers run on (the parts not written out): 15-100 s a turn
                dur += rnd.randint(15000, 100000)
            segments.append({"speaker": speaker, "start": t, "end": t + dur, "text": sent})
            t += dur + rnd.randint(150, 500)
        t += rnd.randint(300, 1500)
    return {"set": meta.get("set", ""), "guide": meta.get("guide", "guide.md"),
            "informant_type": meta.get("informant-type"), "language": meta.get("language", "nb"),
            "lead": lead, "segments": segments, "truth": truth}


def main() -> None:
    for src in sorted([*(HERE / "src").glob("*.txt"), *(HERE / "fresh" / "src").glob("*.txt"),
                       *(HERE / "fresh2" / "src").glob("*.txt"),
                       *(HERE / "fresh3" / "src").glob("*.txt"),
                       *(HERE / "fresh4" / "src").glob("*.txt")]):
        out = src.parent.parent / f"{src.stem}.json"
        out.write_text(json.dumps(build(src), ensure_ascii=False, indent=1) + "\n", encoding="utf-8")
        print(out.name)


if __name__ == "__main__":
    main()
