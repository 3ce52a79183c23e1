"""How many voices: the count found in the audio (``diarize_auto``, at most the people
listed) against the true count given as ``--count``, on conversations spliced from real
speech (tests/support/conversations.py).

    PYTHONPATH=. .venv/bin/python tests/bench/speakers_count_bench.py [--seeds 2] [--no-words]

Each conversation is scored as a session would list it:

* "observer": everyone who speaks is listed, plus a silent observer (listed = voices + 1);
* "phone": one informant listed and no researcher, the interviewer speaks too
  (two voices; the most is informant + the unlisted interviewer = 2);
* "alone": one voice, listed with a silent researcher (listed = 2).

Printed per conversation: voices speaking, voices found, the diarization error (DER, no
collar) with the found count, with the true count and with the count the listed people
gave before this change ("listed": participants + lead + observer; 1 for the phone case),
and the share of transcript words attributed to the wrong voice (WWE) with each (words and times from faster-whisper tiny.en,
split where the voice changes as ``fieldkit speakers`` does; --no-words skips it). The
baseline in the same run is the true count, so a loaded machine changes both alike."""

from __future__ import annotations

import argparse
import itertools
import sys
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

from fieldkit.speakers import diarize as D  # noqa: E402
from tests.support.conversations import ALL_VOICES, SHARED_VOICES, conversation, diarization_error, word_error  # noqa: E402


def cases(seeds: int) -> list[tuple[str, list[str], int, int, int]]:
    """(case, voices, seed, most voices the session allows, the count the listed people gave
    before: participants + lead + observer)."""
    out = []
    for v in SHARED_VOICES[:seeds + 1]:
        out.append(("alone", [v], 0, 2, 2))
    pairs = list(itertools.combinations(SHARED_VOICES, 2))
    rng = np.random.default_rng(2)
    for i in rng.choice(len(pairs), size=min(2 * seeds, len(pairs)), replace=False):
        out.append(("phone", list(pairs[i]), int(i), 2, 1))
    for k in (2, 3, 4):
        combos = list(itertools.combinations(SHARED_VOICES, k))
        rng = np.random.default_rng(k)
        for i in rng.choice(len(combos), size=min(seeds, len(combos)), replace=False):
            out.append(("observer", list(combos[i]), int(i), k + 1, k + 1))
    for seed in range(max(1, seeds // 2)):
        out.append(("observer", ALL_VOICES, seed, 9, 9))
    return out


def words_of(audio: np.ndarray, model) -> list[tuple[list[dict], int, int]]:  # noqa: ANN001
    from fieldkit.transcription.engine import transcribe_array
    from fieldkit.transcription.settings import resolve_settings

    settings = resolve_settings(model="tiny.en", language="en")
    return [(r.words, r.start_ms, r.end_ms) for r in transcribe_array(settings, audio, model=model) if r.words]


def word_labels(segs: list[tuple[list[dict], int, int]], d: D.Diarization) -> list[tuple[int, int, int]]:
    from fieldkit.speakers.attribute import _word_speakers

    out = []
    for words, _s, _e in segs:
        for w, lab in zip(words, _word_speakers(words, d)):
            out.append((int(w["s"]), int(w["e"]), -1 if lab is None else int(lab)))
    return out


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--seeds", type=int, default=2, help="conversations per case and speaker count")
    ap.add_argument("--no-words", action="store_true", help="skip transcription (DER only)")
    ap.add_argument("--gap", type=float, nargs=2, default=(0.25, 0.6), metavar=("MIN", "MAX"),
                    help="seconds of silence between turns (0.02 0.1: turns without a pause)")
    args = ap.parse_args()
    model = None
    if not args.no_words:
        from fieldkit.transcription.engine import load_model
        from fieldkit.transcription.settings import resolve_settings

        model = load_model(resolve_settings(model="tiny.en", language="en"))
    print(f"{'case':<8} {'voices':<62} {'most':>4} {'speak':>5} {'found':>5} {'DER found':>9} "
          f"{'DER true':>8} {'DER listed':>10} {'WWE found':>9} {'WWE true':>8} {'WWE listed':>10} {'s':>5}")
    rows = []
    for case, voices, seed, most, listed in cases(args.seeds):
        conv = conversation(voices, seed=seed, gap=tuple(args.gap))
        t0 = time.perf_counter()
        auto = D.diarize_auto(conv.audio, most)
        dt = time.perf_counter() - t0
        true = D.diarize(conv.audio, len(voices))
        try:
            old = D.diarize(conv.audio, listed)
        except D.SpeakerError:           # more voices asked for than pieces of speech
            old = None
        ref = conv.reference()
        der_a, der_t = diarization_error(ref, auto.labels), diarization_error(ref, true.labels)
        der_o = diarization_error(ref, old.labels) if old is not None else float("nan")
        wwe_a = wwe_t = wwe_o = float("nan")
        if model is not None:
            segs = words_of(conv.audio, model)
            wwe_a = word_error(conv, word_labels(segs, auto))
            wwe_t = word_error(conv, word_labels(segs, true))
            wwe_o = word_error(conv, word_labels(segs, old)) if old is not None else float("nan")
        rows.append((case, len(voices), auto.count, der_a, der_t, wwe_a, wwe_t, der_o, wwe_o))
        print(f"{case:<8} {','.join(voices):<62.62} {most:>4} {len(voices):>5} {auto.count:>5} {der_a:9.1%} "
              f"{der_t:8.1%} {der_o:10.1%} {wwe_a:9.1%} {wwe_t:8.1%} {wwe_o:10.1%} {dt:5.1f}", flush=True)
    print()
    for case in ("alone", "phone", "observer"):
        rs = [r for r in rows if r[0] == case]
        if not rs:
            continue
        right = sum(r[1] == r[2] for r in rs)
        a = np.array([r[3:] for r in rs], dtype=float)
        line = (f"{case}: voices found = voices speaking in {right}/{len(rs)}; DER found {a[:, 0].mean():.1%} "
                f"vs true count {a[:, 1].mean():.1%} vs listed {np.nanmean(a[:, 4]):.1%}")
        if not np.all(np.isnan(a[:, 2])):
            line += (f"; wrong words found {np.nanmean(a[:, 2]):.1%} vs true count {np.nanmean(a[:, 3]):.1%} "
                     f"vs listed {np.nanmean(a[:, 5]):.1%}")
        print(line)


if __name__ == "__main__":
    main()
