"""Live WER / batch WER on the same real recording. Prints figures.

Real speech clips (../shared/speech or $FIELDKIT_SPEECH_DIR) are joined with pauses into
one recording. Batch: the file imported and transcribed by fieldkit. Live: the same file
played in real time through the virtual microphone while fieldkit records with live
transcription; the live transcript is scored against the same reference.

    .venv/bin/python tests/bench/live_wer_bench.py --set no --model base
    .venv/bin/python tests/bench/live_wer_bench.py --set en --model base --repeat 2

fieldkit is imported from PYTHONPATH first, so the same script measures another checkout
(PYTHONPATH=/path/to/other/checkout) for a before/after comparison.
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
sys.path.append(str(ROOT))
sys.path.append(str(ROOT / "tests"))
from real_speech import joined  # noqa: E402  (this checkout's helper, whatever fieldkit is measured)

from tests.support import audio_env  # noqa: E402
from tests.support.speech import normalise  # noqa: E402

SETS = {
    "no": ["no_npsc_medium", "no_npsc_short"],
    "en": ["en_jfk", "en_librivox_sense", "en_libri61_left", "en_libri260_right"],
}


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--set", choices=sorted(SETS), default="no")
    ap.add_argument("--model", default="base")
    ap.add_argument("--repeat", type=int, default=1, help="play the joined clips this many times")
    ap.add_argument("--gap", type=float, default=1.0, help="seconds of silence between clips")
    ap.add_argument("--replay", action="store_true",
                    help="no microphone: replay the live worker's cuts on the file (deterministic)")
    args = ap.parse_args()
    if args.replay:
        return replay(args)
    problem = audio_env.start()
    if problem:
        sys.exit(problem)
    import jiwer
    import numpy as np
    import soundfile as sf
    from sqlmodel import select

    import fieldkit
    from fieldkit.projects import Workspace
    from fieldkit.recording.importer import import_recording
    from fieldkit.recording.recorder import Recorder
    from fieldkit.store.models import Session, TranscriptSegment
    from fieldkit.transcription.live import LiveTranscriber
    from fieldkit.transcription.service import transcribe_session
    from fieldkit.transcription.settings import resolve_settings

    language = args.set
    audio, ref = joined(SETS[args.set] * args.repeat, args.gap)
    audio = np.concatenate([np.zeros(8000, dtype=np.float32), audio])
    settings = resolve_settings(model=args.model, language=language)

    def text(h, sid) -> str:  # noqa: ANN001
        with h.db.session() as s:
            return " ".join(x.verbatim for x in s.exec(select(TranscriptSegment).where(
                TranscriptSegment.session_id == sid).order_by(TranscriptSegment.start_ms)))

    with tempfile.TemporaryDirectory() as tmp:
        tmp = Path(tmp)
        wav = tmp / "real.wav"
        sf.write(wav, audio, 16000, subtype="PCM_16")
        ws = Workspace(tmp / "data").ensure()
        with ws.create("wer", language=language) as h:
            with h.db.transaction() as s:
                batch_s = Session(project_id=h.project_id, title="batch")
                live_s = Session(project_id=h.project_id, title="live")
                s.add(batch_s)
                s.add(live_s)
            import_recording(h, batch_s.id, wav)
            transcribe_session(h, batch_s.id, settings)
            batch = text(h, batch_s.id)

            rec = Recorder(h, live_s.id, device=audio_env.DEVICE)
            live = LiveTranscriber(h, live_s.id, settings).start()
            rec.start()
            time.sleep(0.3)
            audio_env.play(wav).wait()
            time.sleep(1.0)
            rec.stop()
            t = time.perf_counter()
            live.stop(timeout=600)
            after = time.perf_counter() - t
            live_text = text(h, live_s.id)
    r, b, lv = normalise(ref), normalise(batch), normalise(live_text)
    wb, wl = jiwer.wer(r, b), jiwer.wer(r, lv)
    print(f"fieldkit from {Path(fieldkit.__file__).parent.parent}")
    print(f"set {args.set} x{args.repeat}: {len(audio) / 16000:.1f} s real speech, {len(r.split())} words, "
          f"model {args.model}, language {language}")
    print(f"  batch WER {wb:.3f}  CER {jiwer.cer(r, b):.3f}")
    print(f"  live  WER {wl:.3f}  CER {jiwer.cer(r, lv):.3f}  (complete {after:.1f} s after stop)")
    print(f"  live/batch WER ratio: {wl / wb if wb else float('inf') if wl else 1.0:.2f} (goal <= 1.1)")
    print(f"  batch: {batch}\n  live:  {live_text}")


def replay(args) -> None:  # noqa: ANN001
    """The live worker's cut points replayed on the file as it would arrive, each piece
    transcribed with the same settings as the batch pass."""
    import jiwer
    import numpy as np

    from fieldkit.transcription.engine import load_model, transcribe_array
    from fieldkit.transcription.live import replay_cuts
    from fieldkit.transcription.settings import resolve_settings

    audio, ref = joined(SETS[args.set] * args.repeat, args.gap)
    audio = np.concatenate([np.zeros(8000, dtype=np.float32), audio])
    st = resolve_settings(model=args.model, language=args.set)
    model = load_model(st)
    batch = " ".join(s.text for s in transcribe_array(st, audio, model=model))
    cuts, prev, pieces = replay_cuts(audio), 0, []
    for c in cuts:
        pieces += [s.text for s in transcribe_array(st, audio[prev * 16: c * 16], model=model)]
        prev = c
    r = normalise(ref)
    wb, wl = jiwer.wer(r, normalise(batch)), jiwer.wer(r, normalise(" ".join(pieces)))
    print(f"replay, set {args.set} x{args.repeat}: {len(audio) / 16000:.1f} s, {len(r.split())} words, "
          f"{len(cuts)} live pieces, model {args.model}")
    print(f"  batch WER {wb:.3f}  live WER {wl:.3f}  live/batch {wl / wb if wb else 1.0:.2f}")


if __name__ == "__main__":
    main()
