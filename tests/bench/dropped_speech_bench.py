"""Share of speech without transcript words, before and after the second pass. Prints figures.

For each real speech clip (tests/data/speech, or $FIELDKIT_SPEECH_DIR) and for all clips of a
language joined with pauses: the Silero VAD's speech time, the share of it that no word of
the transcript covers (before), the gaps the detector finds (>= 0.8 s), and the share after
each gap was transcribed again on its own (after). Run with and without the demo project's
word list (--words), which goes to the decoder as hotwords, to see what it costs.

    PYTHONPATH=. .venv/bin/python tests/bench/dropped_speech_bench.py --model base
    PYTHONPATH=. .venv/bin/python tests/bench/dropped_speech_bench.py --model base --words
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))

from fieldkit.transcription import gaps  # noqa: E402
from fieldkit.transcription.engine import load_model, transcribe_array  # noqa: E402
from fieldkit.transcription.settings import resolve_settings  # noqa: E402
from tests.support.real_speech import SPEECH, clip, joined  # noqa: E402

DEMO_WORDS = ["DPS", "koordinator", "utskrivning", "IP-plan"]


def measure(name: str, audio, language: str, model_name: str, words: list[str]) -> tuple[float, float, int, float]:
    settings = resolve_settings(model=model_name, language=language, vocabulary=words)
    model = load_model(settings)
    segs = list(transcribe_array(settings, audio, model=model))
    speech = gaps.speech_spans(audio)
    before = gaps.uncovered_share(speech, gaps.word_times(segs))
    found = gaps.uncovered(speech, gaps.word_times(segs))
    t0 = time.perf_counter()
    again = gaps.retranscribe(settings, audio, found, model=model) if found else []
    spent = time.perf_counter() - t0
    after = gaps.uncovered_share(speech, gaps.word_times(segs + again))
    speech_s = sum(e - s for s, e in speech) / 1000
    print(f"{name:28s} speech {speech_s:6.1f} s  without words: before {before:6.1%}  after {after:6.1%}  "
          f"gaps {len(found):2d}  second pass {spent:5.1f} s", flush=True)
    return before * speech_s, after * speech_s, len(found), speech_s


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--model", default="base")
    ap.add_argument("--words", action="store_true", help="the demo project's word list as hotwords")
    args = ap.parse_args()
    words = DEMO_WORDS if args.words else []
    print(f"model {args.model}, word list {words or 'none'}")
    totals = [0.0, 0.0, 0.0]
    for lang in ("no", "en"):
        names = sorted(p.stem for p in SPEECH.glob(f"{lang}_*.flac"))
        model = args.model if lang == "no" or args.model != "tiny.en" else "tiny.en"
        for n in names:
            b, a, _g, s = measure(n, clip(n)[0], lang, model, words)
            totals = [totals[0] + b, totals[1] + a, totals[2] + s]
        audio, _ref = joined(names, gap_s=1.0)
        measure(f"{lang}: all joined", audio, lang, model, words)
    print(f"all clips: {totals[2]:.1f} s of speech, without words before {totals[0] / totals[2]:.1%}, "
          f"after {totals[1] / totals[2]:.1%}")


if __name__ == "__main__":
    main()
