"""The project's word list: WER, proper-noun accuracy and speech without transcript on the real
speech clips, three ways. Prints figures.

- none: no word list;
- hotwords: the list given to the decoder as faster-whisper hotwords (what fieldkit did; it is
  a prompt after <|startofprev|> on every window);
- corrected: what fieldkit does now: decoded without the list, near misses corrected to it.

    PYTHONPATH=. .venv/bin/python tests/bench/word_list_bench.py --model base
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))

from fieldkit.transcription import gaps  # noqa: E402
from fieldkit.transcription.engine import load_model, transcribe_array, transcribe_kwargs  # noqa: E402
from fieldkit.transcription.settings import resolve_settings  # noqa: E402
from tests.support.real_speech import SPEECH, clip  # noqa: E402
from tests.support.speech import normalise, wer  # noqa: E402

#: the proper nouns and terms of the clips' references, as a team would list them
TERMS = {"no": ["Fredric Holen Bjørdal", "Trond Giske", "Stortingets", "representantene"],
         "en": ["Americans", "Dashwood", "wizard"]}


def run(model, settings, audio, how: str):  # noqa: ANN001, ANN201
    if how == "hotwords":
        kw = transcribe_kwargs(settings, model.model.is_multilingual)
        kw["hotwords"] = ", ".join(settings.vocabulary)
        segs, _info = model.transcribe(audio, **kw)
        out = [(round(s.start * 1000), round(s.end * 1000), s.text.strip(),
                [(round(w.start * 1000), round(w.end * 1000)) for w in (s.words or [])]) for s in segs]
        return " ".join(o[2] for o in out), [w for o in out for w in o[3]]
    st = settings if how == "corrected" else resolve_settings(model=settings.model, language=settings.language)
    segs = list(transcribe_array(st, audio, model=model))
    return " ".join(s.text for s in segs), gaps.word_times(segs)


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--model", default="base")
    args = ap.parse_args()
    for how in ("none", "hotwords", "corrected"):
        errs = nouns = found = 0.0
        words_total = 0
        speech_t = uncovered_t = 0.0
        for lang in ("no", "en"):
            for f in sorted(SPEECH.glob(f"{lang}_*.flac")):
                audio, ref = clip(f.stem)
                st = resolve_settings(model=args.model, language=lang, vocabulary=TERMS[lang])
                model = load_model(st)
                text, wt = run(model, st, audio, how)
                n = len(normalise(ref).split())
                errs += wer(ref, text) * n
                words_total += n
                for t in TERMS[lang]:
                    if normalise(t) in normalise(ref):
                        nouns += 1
                        found += normalise(t) in normalise(text)
                speech = gaps.speech_spans(audio)
                s_ms = sum(e - s for s, e in speech)
                speech_t += s_ms
                uncovered_t += gaps.uncovered_share(speech, wt) * s_ms
        print(f"{how:10s} WER {errs / words_total:6.1%}   proper nouns right {found:.0f}/{nouns:.0f}   "
              f"speech without transcript {uncovered_t / speech_t:5.1%}", flush=True)


if __name__ == "__main__":
    main()
