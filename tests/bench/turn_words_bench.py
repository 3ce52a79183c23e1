"""Issue 24: "speaker turns decided per word at boundaries, so a turn's first words do not
land on the previous speaker; measure on quick turn-taking (gaps under 0.3 s)".

Conversations spliced from the English real-speech voices (tests/support/conversations.py)
with gaps between turns drawn from ``--gap`` (default 0.05-0.3 s), imported into a
throwaway project, transcribed with the real pipeline (windows, ``--model``, default
tiny.en) and given speakers by ``fieldkit.speakers.attribute`` with the true count. Each
stored word is scored by its midpoint against the reference turns (best mapping of voices):

- words on the right voice (share of words and of word time);
- turn starts: for each reference turn after the first, its first word, and its first
  three words: on the right voice, or on the previous turn's voice (the defect named);
- the same with ``--gap 0.6 1.2`` for comparison with unhurried turn-taking.

    PYTHONPATH=. .venv/bin/python tests/bench/turn_words_bench.py [--seeds 2] [--gap 0.05 0.3]
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

from tests.support.conversations import best_mapping, conversation

EN = ["en_jfk", "en_librivox_sense", "en_libri61_left", "en_libri260_right", "ls_1998", "ls_3331"]


def run(conv, model: str, root: Path) -> dict:
    from sqlmodel import select

    from fieldkit.projects import Workspace
    from fieldkit.recording.importer import import_recording
    from fieldkit.speakers.attribute import attribute
    from fieldkit.store.models import Session, TranscriptSegment
    from fieldkit.transcription.service import transcribe_session
    from fieldkit.transcription.settings import resolve_settings

    ws = Workspace(root).ensure()
    h = ws.create(f"Turns {time.time_ns()}", language="en")
    with h.db.transaction() as s:
        sess = Session(project_id=h.project_id, title="turns")
        s.add(sess)
    wav = conv.write(root / "conv.wav")
    import_recording(h, sess.id, wav)
    transcribe_session(h, sess.id, resolve_settings(model=model, language="en"), speakers=False)
    attribute(h, sess.id, count=len(conv.voices))
    with h.db.session() as s:
        segs = s.exec(select(TranscriptSegment).where(TranscriptSegment.session_id == sess.id)
                      .order_by(TranscriptSegment.start_ms)).all()
        words = [(int(w["s"]), int(w["e"]), g.speaker_auto) for g in segs for w in (g.words or [])
                 if str(w.get("w", "")).strip()]
    h.close()
    labels = sorted({lab for _s, _e, lab in words})

    def ref_of(s: int, e: int):
        mid = (s + e) // 2
        return next((i for i, (a, b, _v) in enumerate(conv.turns) if a <= mid < b), None)

    conf = np.zeros((len(conv.voices), len(labels)))
    turn_words: dict[int, list[tuple[int, int]]] = {}
    for s, e, lab in words:
        t = ref_of(s, e)
        if t is None:
            continue
        conf[conv.turns[t][2], labels.index(lab)] += 1
        turn_words.setdefault(t, []).append((s, labels.index(lab)))
    mapping = best_mapping(conf)
    voice = {h_: mapping.get(h_, -1) for h_ in range(len(labels))}
    out = {"words": 0, "right": 0, "turns": 0, "first_right": 0, "first_prev": 0, "three_right": 0,
           "three_prev": 0}
    for t, ws_ in turn_words.items():
        ws_.sort()
        truth = conv.turns[t][2]
        out["words"] += len(ws_)
        out["right"] += sum(voice[lab] == truth for _s, lab in ws_)
        prev = conv.turns[t - 1][2] if t else truth
        if prev == truth or len(ws_) < 3:
            continue
        out["turns"] += 1
        out["first_right"] += voice[ws_[0][1]] == truth
        out["first_prev"] += voice[ws_[0][1]] == prev
        out["three_right"] += all(voice[lab] == truth for _s, lab in ws_[:3])
        out["three_prev"] += any(voice[lab] == prev for _s, lab in ws_[:3])
    return out


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--seeds", type=int, default=2)
    ap.add_argument("--gap", type=float, nargs=2, default=(0.05, 0.3))
    ap.add_argument("--model", default="tiny.en")
    args = ap.parse_args()
    total: dict[str, int] = {}
    print(f"gaps {args.gap[0]}-{args.gap[1]} s, model {args.model}; load average {os.getloadavg()}", flush=True)
    with tempfile.TemporaryDirectory() as tmp:
        for k in (2, 3):
            for seed in range(args.seeds):
                rng = np.random.default_rng(100 * k + seed)
                voices = [str(v) for v in rng.choice(EN, size=k, replace=False)]
                conv = conversation(voices, seed=seed, gap=tuple(args.gap))
                t0 = time.perf_counter()
                r = run(conv, args.model, Path(tmp) / f"c{k}{seed}")
                for key, v in r.items():
                    total[key] = total.get(key, 0) + int(v)
                print(f"{k} voices {','.join(voices)} ({len(conv.audio) / 16000 / 60:.1f} min, "
                      f"{time.perf_counter() - t0:.0f} s): {r}", flush=True)
    t = total
    print(f"\nwords on the right voice: {t['right']}/{t['words']} ({t['right'] / max(1, t['words']):.1%})")
    print(f"turn starts ({t['turns']} turns): first word right {t['first_right']} "
          f"({t['first_right'] / max(1, t['turns']):.1%}), on the previous speaker {t['first_prev']} "
          f"({t['first_prev'] / max(1, t['turns']):.1%}); first three words all right {t['three_right']} "
          f"({t['three_right'] / max(1, t['turns']):.1%}), any of them on the previous speaker "
          f"{t['three_prev']} ({t['three_prev'] / max(1, t['turns']):.1%}); load average {os.getloadavg()}")


if __name__ == "__main__":
    main()
