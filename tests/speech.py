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
    """Write ``text`` spoken by espeak-ng to a 16 kHz mono WAV, with silence around it."""
    raw = path.with_suffix(".raw.wav")
    subprocess.run(["espeak-ng", "-v", voice, "-s", str(speed), "-w", str(raw), text], check=True)
    subprocess.run(["sox", str(raw), "-r", "16000", "-c", "1", "-b", "16", str(path),
                    "pad", str(pad_s), str(pad_s)], check=True, capture_output=True)
    raw.unlink()
    return path


def normalise(text: str) -> str:
    text = re.sub(r"[^\w\s]", " ", text.lower())
    return " ".join(text.split())


def wer(reference: str, hypothesis: str) -> float:
    import jiwer

    return jiwer.wer(normalise(reference), normalise(hypothesis))
