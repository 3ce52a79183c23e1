"""The project's word list: WER, proper-noun accuracy and speech without transcript on the real
speech clips (tests/data/speech), four ways, each clip alone and the clips of a language joined
into one longer recording (as an interview: pauses between turns). Prints figures.

- none: no word list;
- hotwords: the list given to the decoder as faster-whisper hotwords alone (a prompt after
  <|startofprev|> on every window: what made Whisper skip speech);
- correct: decoded without the list, near misses the model was unsure of corrected to it;
- guarded: hotwords, then the speech the VAD finds that no word covers decoded again without
  the list, and near misses corrected;
- targeted: decoded without the list; a segment with a near miss of a term decoded again alone
  with the list as hotwords, kept when it then has the term and as many words; near misses
  corrected (fieldkit's default, ``word_list_use``).

Two lists: the clips' own proper nouns and terms (the list helps), and the demo project's list,
whose terms the clips never say (the list can only hurt: the issue's case).

    PYTHONPATH=. .venv/bin/python tests/bench/word_list_bench.py --model base
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))

from fieldkit.transcription import gaps  # noqa: E402
from fieldkit.transcription.engine import load_model, transcribe_array  # noqa: E402
from fieldkit.transcription.settings import resolve_settings  # noqa: E402
from fieldkit.transcription.wordlist import correct_words, words_text  # noqa: E402
from tests.support.real_speech import SPEECH, clip  # noqa: E402
from tests.support.speech import normalise, wer  # noqa: E402

#: the proper nouns and terms of the clips' references, as a team would list them
TERMS = {"no": ["Fredric Holen Bjørdal", "Trond Giske", "Stortingets", "representantene"],
         "en": ["Americans", "Dashwood", "wizard"]}
DEMO = ["DPS", "koordinator", "utskrivning", "IP-plan"]
HOWS = ("none", "hotwords", "correct", "guarded", "targeted")


def recordings(lang: str) -> list[tuple[str, np.ndarray, str]]:
    names = sorted(p.stem for p in SPEECH.glob(f"{lang}_*.flac"))
    out = [(n, *clip(n)) for n in names]
    # a longer recording: every clip of the language twice, pauses of 0.6-1.5 s between turns
    parts, refs = [], []
    for i, n in enumerate(names * 2):
        a, r = clip(n)
        parts += [a, np.zeros(int(16000 * (0.6 + 0.3 * (i % 4))), dtype=np.float32)]
        refs.append(r)
    out.append((f"{lang}: joined", np.concatenate(parts), " ".join(refs)))
    return out


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--model", default="base")
    ap.add_argument("--hows", default=",".join(HOWS), help="which ways, comma-separated")
    args = ap.parse_args()
    hows = args.hows.split(",")
    print(f"model {args.model}; load average at start {os.getloadavg()[0]:.2f} "
          f"{os.getloadavg()[1]:.2f} {os.getloadavg()[2]:.2f} on {os.cpu_count()} cores", flush=True)
    data = {lang: recordings(lang) for lang in ("no", "en")}
    speech = {(lang, name): gaps.speech_spans(audio) for lang in data for name, audio, _ in data[lang]}
    for listname in ("clip terms", "demo list"):
        for part in ("clips", "joined"):
            for how in hows:
                errs = nouns = found = 0.0
                words_total = 0
                speech_t = uncovered_t = 0.0
                took = audio_s = 0.0
                for lang in ("no", "en"):
                    terms = TERMS[lang] if listname == "clip terms" else DEMO
                    for name, audio, ref in data[lang]:
                        if (part == "joined") != name.endswith("joined"):
                            continue
                        use = {"none": "correct", "guarded": "hotwords"}.get(how, how)
                        st = resolve_settings(model=args.model, language=lang,
                                              vocabulary=[] if how == "none" else terms, word_list_use=use)
                        model = load_model(st)
                        t = time.perf_counter()
                        segs = list(transcribe_array(st, audio, model=model))
                        if how == "guarded":   # as the final pass: speech no word covers, again alone
                            lost = gaps.uncovered(gaps.speech_spans(audio), gaps.word_times(segs))
                            again = gaps.retranscribe(st, audio, lost, model=model) if lost else []
                            for g in again:
                                g.words, _n = correct_words(g.words, terms)
                                g.text = words_text(g.words) if g.words else g.text
                            segs = sorted(segs + again, key=lambda g: g.start_ms)
                        took += time.perf_counter() - t
                        audio_s += len(audio) / 16000
                        text = " ".join(s.text for s in segs)
                        n = len(normalise(ref).split())
                        errs += wer(ref, text) * n
                        words_total += n
                        for term in TERMS[lang]:
                            said = normalise(ref).count(normalise(term))
                            nouns += said
                            found += min(said, normalise(text).count(normalise(term)))
                        sp = speech[(lang, name)]
                        s_ms = sum(e - s for s, e in sp)
                        speech_t += s_ms
                        uncovered_t += gaps.uncovered_share(sp, gaps.word_times(segs)) * s_ms
                print(f"{listname:10s} {part:6s} {how:9s} WER {errs / words_total:6.1%}   proper nouns right "
                      f"{found:.0f}/{nouns:.0f}   speech without transcript {uncovered_t / speech_t:5.1%}   "
                      f"RTF {took / audio_s:.3f}   load {os.getloadavg()[0]:.2f}", flush=True)


if __name__ == "__main__":
    main()
