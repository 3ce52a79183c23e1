"""How sure: do low word probabilities point at the words the model got wrong?

    PYTHONPATH=. .venv/bin/python tests/bench/confidence_bench.py [--model base]

Transcribes every clip of ../shared/speech with fieldkit's engine (its language forced,
word timestamps and probabilities as stored in the database), aligns the words with the
reference (jiwer, after lowercasing and stripping punctuation) and, for a range of
thresholds, prints:

- recall: the share of word errors that fall on a flagged word. Substitutions and
  insertions are hypothesis words; a deletion has no word of its own and counts as found
  when a hypothesis word next to the gap is flagged;
- flag rate: the share of all transcribed words that are flagged.

The review screen's threshold (fieldkit.sessions.review.UNCERTAIN_BELOW) is printed
with its row marked."""

from __future__ import annotations

import argparse
import re
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

from tests.support.conversations import speech_dir  # noqa: E402

THRESHOLDS = [0.3, 0.4, 0.5, 0.6, 0.7, 0.75, 0.8, 0.85, 0.9]


def norm(w: str) -> str:
    return " ".join(re.sub(r"[^\w\s]", " ", w.lower()).split())


def main() -> None:
    import jiwer

    from fieldkit.recording.importer import decode_to_16k
    from fieldkit.transcription.engine import transcribe_array
    from fieldkit.sessions.review import UNCERTAIN_BELOW
    from fieldkit.transcription.settings import resolve_settings

    ap = argparse.ArgumentParser()
    ap.add_argument("--model", default="base")
    args = ap.parse_args()
    d = speech_dir()
    if d is None:
        sys.exit("../shared/speech not found")
    # per clip: list of (prob, is_error) for hypothesis words, and deletions as (left prob, right prob)
    words: list[tuple[float, bool]] = []
    deletions: list[tuple[float, float]] = []
    for flac in sorted(d.glob("*.flac")):
        lang = "no" if flac.name.startswith("no_") else "en"
        pcm, _ = decode_to_16k(flac)
        settings = resolve_settings(model=args.model, language=lang)
        hyp = []
        for seg in transcribe_array(settings, pcm.astype("float32") / 32768.0):
            for w in seg.words:
                for piece in norm(w["w"]).split():     # "well-known" -> two words, same probability
                    hyp.append((piece, float(w["p"])))
        ref = norm((flac.with_suffix(".txt")).read_text(encoding="utf-8"))
        out = jiwer.process_words(ref, " ".join(h for h, _ in hyp))
        err = [False] * len(hyp)
        for chunk in out.alignments[0]:
            if chunk.type in ("substitute", "insert"):
                for j in range(chunk.hyp_start_idx, chunk.hyp_end_idx):
                    err[j] = True
            elif chunk.type == "delete":
                j = chunk.hyp_start_idx
                left = hyp[j - 1][1] if j > 0 else 1.0
                right = hyp[j][1] if j < len(hyp) else 1.0
                for _ in range(chunk.ref_end_idx - chunk.ref_start_idx):
                    deletions.append((left, right))
        words += [(p, e) for (_w, p), e in zip(hyp, err)]
        print(f"{flac.stem:<20} {lang} words {len(hyp):3d}  WER {out.wer:.2f}  errors on words {sum(err):3d}")
    n_err = sum(e for _p, e in words) + len(deletions)
    print(f"\n{len(words)} words, {n_err} word errors ({len(deletions)} deletions), model {args.model}")
    print(f"{'flag below':>10} {'recall':>7} {'flag rate':>9}")
    for t in sorted(set(THRESHOLDS + [UNCERTAIN_BELOW])):
        found = sum(1 for p, e in words if e and p < t) + sum(1 for a, b in deletions if min(a, b) < t)
        rate = sum(1 for p, _e in words if p < t) / max(len(words), 1)
        mark = "  <- review screen" if t == UNCERTAIN_BELOW else ""
        print(f"{t:>10.2f} {found / max(n_err, 1):>7.0%} {rate:>9.0%}{mark}")


if __name__ == "__main__":
    main()
