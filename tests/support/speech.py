"""Real synthetic speech for tests: espeak-ng speaks, sox makes it 16 kHz mono."""

from __future__ import annotations

import re
import shutil
import subprocess
from pathlib import Path

import pytest

HAVE_TTS = shutil.which("espeak-ng") is not None and shutil.which("sox") is not None
needs_tts = pytest.mark.skipif(not HAVE_TTS, reason="espeak-ng and sox are installed by scripts/test")


def speak(text: str, path: Path, voice: str = "en", speed: int = 150, pad_s: float = 0.5) -> Path:
    """Write ``text`` spoken by espeak-ng to a 16 kHz mono WAV, with silence around it. The
    same arguments give the same samples on every run: sox dithers when it resamples, and
    without ``-R`` (repeatable) its dither is seeded at random, so every run heard slightly
    different audio and tiny.en's borderline words ("Could you" / "Can you") changed from
    run to run."""
    raw = path.with_suffix(".raw.wav")
    subprocess.run(["espeak-ng", "-v", voice, "-s", str(speed), "-w", str(raw), text], check=True)
    subprocess.run(["sox", "-R", str(raw), "-r", "16000", "-c", "1", "-b", "16", str(path),
                    "pad", str(pad_s), str(pad_s)], check=True, capture_output=True)
    raw.unlink()
    return path


def normalise(text: str) -> str:
    text = re.sub(r"[^\w\s]", " ", text.lower())
    return " ".join(text.split())


def wer(reference: str, hypothesis: str) -> float:
    import jiwer

    return jiwer.wer(normalise(reference), normalise(hypothesis))

#: varied English sentences; repeating one sentence makes tiny.en judge whole windows
#: as non-speech (its compression-ratio and no-speech checks), so long test audio varies
EN_SENTENCES = [
    "The interview took place at the local health centre on a rainy Tuesday morning.",
    "The nurse explained how the team plans each discharge together with the family.",
    "She said that the weekly meeting with the hospital makes the biggest difference.",
    "Sometimes the coordinator is not told when a patient is sent home from the ward.",
    "The municipality has hired two new social workers for the youth team this year.",
    "Everyone agreed that the written plan should follow the patient between services.",
    "The leader wanted more time for training, but the budget did not allow it.",
    "Relatives often call the office when they do not know who is responsible.",
]
