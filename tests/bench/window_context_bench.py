"""How much of the audio after a window's cut is decoded with the window (issue 27): CPU
seconds and word error rate of fieldkit's transcription of the real-speech clips
(tests/data/speech, references in its README) joined per language into a recording of
``--seconds`` (pauses of 0.6-1.5 s between clips, as ``fieldkit bench transcribe`` joins
them), with ``fieldkit.recording.windows.CONTEXT_AFTER_MS`` set to each value, the same
model loaded once, in one run; settings alternated over ``--rounds`` (the lowest CPU
seconds of each count; the word error rate is printed per round). CPU seconds are this
process's user+system time over all threads (less at the mercy of a shared machine's
load than the wall time); the load average is printed beside each figure.

    PYTHONPATH=. .venv/bin/python tests/bench/window_context_bench.py [--model base]
        [--seconds 180] [--contexts all,0,3,5,8,all+stop,3+stop] [--rounds 2] [--languages en,no]

``all``: everything read after the cut (up to 30 s from the window's start, the behaviour
before the cap); ``0``: the window decoded alone (before windows were decoded with what
follows; the first-question test then failed in about half the runs); ``+stop``: decoding
of a window stops once a segment reaches the last speech before its cut
(fieldkit.transcription.service.STOP_AT_CUT, on by default: ``all`` alone is the
behaviour before it). Whisper's encoder passes and decoded tokens
are counted too (the same whatever the load).

    PYTHONPATH=. .venv/bin/python tests/bench/window_context_bench.py --first-question
        [--contexts all,0,1,2,3] [--dithers 8]

The first question of tests/unit/test_export_timeline.py (the same espeak-ng lines and
voices; tiny.en, as the test): how often the first segment begins "Could you describe"
with each context, on the test's own audio and on ``--dithers`` copies with a dither of
about -80 dBFS added (seeded), as the test's audio differed from run to run before sox
was told to repeat its dither."""

from __future__ import annotations

import argparse
import os
import resource
import sys
import tempfile
import time
from dataclasses import replace
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))
os.environ.setdefault("HF_HUB_OFFLINE", "1")


def parse(text: str) -> tuple[int | None, bool]:
    """"3" -> (3000, False); "all+stop" -> (None, True): the context after the cut, and
    whether decoding stops once the words before the cut are in."""
    ctx, _plus, stop = text.partition("+")
    return (None if ctx == "all" else int(float(ctx) * 1000)), stop == "stop"


def label(v: tuple) -> str:
    return ("all" if v[0] is None else f"{v[0] / 1000:g} s") + ("+stop" if v[1] else "")


def apply(v: tuple) -> None:
    from fieldkit.recording import windows
    from fieldkit.transcription import service

    windows.CONTEXT_AFTER_MS, service.STOP_AT_CUT = v


def count_passes() -> dict:
    """Whisper's encoder passes and decoded tokens, counted (the same on any load)."""
    from faster_whisper import WhisperModel

    counts = {"encode": 0, "tokens": 0}
    encode, generate = WhisperModel.encode, WhisperModel.generate_with_fallback

    def counted_encode(self, *a, **k):
        counts["encode"] += 1
        return encode(self, *a, **k)

    def counted_generate(self, *a, **k):
        out = generate(self, *a, **k)
        counts["tokens"] += len(out[0].sequences_ids[0])
        return out
    WhisperModel.encode, WhisperModel.generate_with_fallback = counted_encode, counted_generate
    return counts


def cpu_s() -> float:
    r = resource.getrusage(resource.RUSAGE_SELF)
    return r.ru_utime + r.ru_stime


#: the first lines of tests/unit/test_export_timeline.py LINES (who, what), spoken the same way
FIRST_LINES = [
    ("lead", "Could you describe your role and a typical working week?"),
    ("inf", "I lead the home care team in the north district, and most weeks I plan visits and talk "
            "with the nurses about the users."),
    ("lead", "How are users and their relatives involved in planning their services?"),
    ("inf", "The users come to the first meeting, and their relatives often call us when something "
            "changes at home."),
    ("lead", "How does cooperation with the other services work?"),
    ("inf", "It works best when we meet the hospital every week, because then the discharge plans "
            "are ready in time."),
    ("lead", "Going back to your role, what do you find hardest about your role?"),
    ("inf", "The hardest part is that we are not told when a patient is sent home from the ward on a "
            "Friday."),
]


def first_question(contexts: list, dithers: int) -> None:
    """(``contexts``: parsed variants)"""
    import numpy as np
    import soundfile as sf
    from sqlmodel import select

    from fieldkit.projects import Workspace
    from fieldkit.recording.importer import import_recording
    from fieldkit.store.models import Session, TranscriptSegment
    from fieldkit.transcription.service import transcribe_session
    from fieldkit.transcription.settings import resolve_settings
    from tests.support.speech import speak

    with tempfile.TemporaryDirectory() as tmp:
        tmpdir = Path(tmp)
        parts = []
        for i, (who, text) in enumerate(FIRST_LINES):
            p = speak(text, tmpdir / f"line{i}.wav", voice="en-us+m3" if who == "lead" else "en+f4",
                      speed=150 if who == "lead" else 140)
            parts.append(sf.read(str(p), dtype="float32")[0])
        clean = np.concatenate(parts)
        files = [("as in the test", clean)]
        for d in range(dithers):
            noise = np.random.default_rng(d).uniform(-1, 1, len(clean)).astype(np.float32) * 1e-4
            files.append((f"dither {d + 1}", clean + noise))
        ws = Workspace(tmpdir / "data").ensure()
        st = resolve_settings(model="tiny.en", language="en", batch=1)
        print(f"first question, tiny.en; load average {os.getloadavg()[0]:.2f}", flush=True)
        with ws.create("first question") as handle:
            counts = {c: 0 for c in contexts}
            for name, audio in files:
                wav = tmpdir / f"{name}.wav"
                sf.write(wav, audio, 16000, subtype="PCM_16")
                row = []
                for ctx in contexts:
                    apply(ctx)
                    with handle.db.transaction() as s:
                        sess = Session(project_id=handle.project_id, title=f"{name} {ctx}")
                        s.add(sess)
                    import_recording(handle, sess.id, wav)
                    transcribe_session(handle, sess.id, st, speakers=False)
                    with handle.db.session() as s:
                        first = s.exec(select(TranscriptSegment).where(TranscriptSegment.session_id == sess.id)
                                       .order_by(TranscriptSegment.start_ms)).first()
                    words = " ".join(first.verbatim.split()[:3]) if first else ""
                    counts[ctx] += words == "Could you describe"
                    row.append(f"{label(ctx)}: {words!r}")
                print(f"  {name:15} " + "  ".join(row), flush=True)
            print("  'Could you describe' in " + ", ".join(
                f"{counts[c]}/{len(files)} ({label(c)})" for c in contexts))


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--model", default="base")
    ap.add_argument("--seconds", type=float, default=180)
    ap.add_argument("--contexts", default="all,0,3,5,8,all+stop,3+stop",
                    help="seconds after the cut (all: no cap), +stop: stop at the cut's words")
    ap.add_argument("--rounds", type=int, default=2)
    ap.add_argument("--languages", default="en,no")
    ap.add_argument("--threads", type=int, default=0)
    ap.add_argument("--first-question", action="store_true")
    ap.add_argument("--dithers", type=int, default=8)
    args = ap.parse_args()

    import soundfile as sf
    from sqlmodel import select

    from fieldkit.projects import Workspace
    from fieldkit.recording.importer import import_recording
    from fieldkit.store.models import Session, TranscriptSegment
    from fieldkit.tools.bench import _bench_recording, _wer, default_speech_dir, speech_clips
    from fieldkit.transcription.engine import load_model
    from fieldkit.transcription.service import transcribe_session
    from fieldkit.transcription.settings import resolve_settings

    variants = [parse(c) for c in args.contexts.split(",")]
    if args.first_question:
        first_question(variants, args.dithers)
        return
    passes = count_passes()
    by_lang: dict[str, list] = {}
    for path, ref, lang in speech_clips(default_speech_dir()):
        by_lang.setdefault(lang, []).append((path, ref))
    print(f"model {args.model}, {args.seconds:g} s per language, {os.cpu_count()} cores; load average "
          f"{' '.join(f'{x:.2f}' for x in os.getloadavg())}", flush=True)
    results: dict[tuple[str, tuple], list[tuple[float, float, float, float, int, int]]] = {}
    with tempfile.TemporaryDirectory() as tmp:
        tmpdir = Path(tmp)
        ws = Workspace(tmpdir / "data").ensure()
        with ws.create("bench") as handle:
            files = {}
            for lang in args.languages.split(","):
                audio, ref = _bench_recording(by_lang[lang], args.seconds)
                sf.write(tmpdir / f"{lang}.wav", audio, 16000, subtype="PCM_16")
                files[lang] = (tmpdir / f"{lang}.wav", ref, len(audio) / 16000)
            for round_ in range(args.rounds):
                order = variants if round_ % 2 == 0 else variants[::-1]
                for lang, (file, ref, audio_s) in files.items():
                    st = resolve_settings(model=args.model, language=lang, batch=1, threads=args.threads)
                    load_model(st)                      # loaded once, outside the figures
                    for ctx in order:
                        apply(ctx)
                        with handle.db.transaction() as s:
                            sess = Session(project_id=handle.project_id, title=f"{lang} {label(ctx)} {round_}")
                            s.add(sess)
                        import_recording(handle, sess.id, file)
                        passes["encode"] = passes["tokens"] = 0
                        c, t = cpu_s(), time.perf_counter()
                        transcribe_session(handle, sess.id, replace(st), speakers=False)
                        c, t = cpu_s() - c, time.perf_counter() - t
                        with handle.db.session() as s:
                            text = " ".join(x.verbatim for x in s.exec(
                                select(TranscriptSegment).where(TranscriptSegment.session_id == sess.id)
                                .order_by(TranscriptSegment.start_ms)))
                        wer = _wer(ref, text)
                        load = os.getloadavg()[0]
                        results.setdefault((lang, ctx), []).append((c, t, wer, load, passes["encode"],
                                                                     passes["tokens"]))
                        print(f"round {round_ + 1} {lang} context {label(ctx):>8}: CPU {c:6.1f} s  wall {t:6.1f} s  "
                              f"(CPU/audio {c / audio_s:.3f})  encoder passes {passes['encode']}  tokens "
                              f"{passes['tokens']}  WER {wer:.3f}  load {load:.2f}", flush=True)
    print("\nsummary (lowest CPU s of the rounds; WER of each round; CPU relative to 'all' in the same run):")
    for lang in files:
        ref_rows = results.get((lang, (None, False)))
        base = min(r[0] for r in ref_rows) if ref_rows else None
        for ctx in variants:
            rows = results[(lang, ctx)]
            best = min(r[0] for r in rows)
            rel = f"  x{best / base:.2f}" if base else ""
            print(f"  {lang} context {label(ctx):>8}: CPU {best:6.1f} s{rel}  encoder passes {rows[0][4]}  "
                  f"tokens {rows[0][5]}  WER {' '.join(f'{r[2]:.3f}' for r in rows)}  "
                  f"loads {' '.join(f'{r[3]:.2f}' for r in rows)}")


if __name__ == "__main__":
    main()
