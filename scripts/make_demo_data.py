"""Make the demo project's sample recording and transcript (a maintainer's tool).

    .venv/bin/python scripts/make_demo_data.py

Speaks a short, invented Norwegian interview with espeak-ng (two voices), joins the
turns with pauses using sox, writes data/demo/interview.flac (16 kHz mono) and
transcribes it with the bundled multilingual base model (language "no"), storing the
real model output in data/demo/transcript.json. Run it again only to change the demo.
"""

from __future__ import annotations

import json
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
OUT = ROOT / "data" / "demo"

# (speaker, text): I = interviewer (researcher AL), L = informant L01
TURNS = [
    ("I", "Kan du fortelle litt om rollen din i kommunen?"),
    ("L", "Jeg er leder for psykisk helse og rus. Jeg har hatt stillingen i fire år."),
    ("I", "Hvordan samarbeider dere med distriktspsykiatrisk senter?"),
    ("L", "Vi har faste møter hver måned. Men det er ofte vanskelig å få til gode overganger "
          "når pasienter skrives ut."),
    ("I", "Kan du gi et eksempel på en overgang som fungerte godt?"),
    ("L", "Ja. I fjor hadde vi en felles plan før utskrivning, og koordinatoren var med "
          "hele veien. Det gjorde stor forskjell."),
]
VOICES = {"I": "nb+f3", "L": "nb"}
PAUSE_S = 0.8


def main() -> None:
    OUT.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory() as tmp:
        parts: list[str] = []
        turns_ms: list[dict] = []
        pos = 0.0
        silence = Path(tmp, "pause.wav")
        subprocess.run(["sox", "-n", "-r", "16000", "-c", "1", "-b", "16", str(silence),
                        "trim", "0", str(PAUSE_S)], check=True)
        for i, (who, text) in enumerate(TURNS):
            raw = Path(tmp, f"t{i}.wav")
            wav = Path(tmp, f"t{i}-16k.wav")
            subprocess.run(["espeak-ng", "-v", VOICES[who], "-s", "150", "-w", str(raw), text],
                           check=True)
            subprocess.run(["sox", str(raw), "-r", "16000", "-c", "1", "-b", "16", str(wav)],
                           check=True)
            dur = float(subprocess.run(["soxi", "-D", str(wav)], capture_output=True,
                                       text=True, check=True).stdout)
            parts += [str(wav), str(silence)]
            turns_ms.append({"speaker": who, "start_ms": round(pos * 1000),
                             "end_ms": round((pos + dur) * 1000), "script": text})
            pos += dur + PAUSE_S
        flac = OUT / "interview.flac"
        subprocess.run(["sox", *parts, "-r", "16000", "-c", "1", "-b", "16", str(flac)],
                       check=True)

    from fieldkit.recording.audio import resample
    from fieldkit.transcription.engine import transcribe_array
    from fieldkit.transcription.settings import resolve_settings

    import soundfile as sf

    audio, sr = sf.read(str(flac), dtype="float32")
    audio = resample(audio, sr, 16000)
    out = []
    for seg in transcribe_array(resolve_settings(model="base", language="no"), audio):
        mid = (seg.start_ms + seg.end_ms) / 2
        turn = min(turns_ms, key=lambda t: abs((t["start_ms"] + t["end_ms"]) / 2 - mid))
        out.append({"start_ms": seg.start_ms, "end_ms": seg.end_ms, "speaker": turn["speaker"],
                    "text": seg.text, "words": seg.words, "avg_logprob": seg.avg_logprob,
                    "no_speech_prob": seg.no_speech_prob})
    (OUT / "transcript.json").write_text(json.dumps(
        {"model": "base", "language": "no", "turns": turns_ms, "segments": out},
        ensure_ascii=False, indent=1) + "\n", encoding="utf-8")
    print(f"{flac}: {pos:.1f} s, {len(out)} segments", file=sys.stderr)


if __name__ == "__main__":
    main()
