"""Real human speech with exact references (../shared/speech beside the repository, or
$FIELDKIT_SPEECH_DIR): FLAC clips and one-line .txt references."""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np
import pytest

REPO = Path(__file__).resolve().parent.parent
SPEECH = Path(os.environ.get("FIELDKIT_SPEECH_DIR") or REPO.parent / "shared" / "speech")
needs_speech = pytest.mark.skipif(not SPEECH.is_dir(), reason=f"no real speech clips at {SPEECH}")


def clip(name: str) -> tuple[np.ndarray, str]:
    """16 kHz float32 samples and the reference text of one clip."""
    import soundfile as sf

    audio, sr = sf.read(SPEECH / f"{name}.flac", dtype="float32")
    assert sr == 16000
    return audio, (SPEECH / f"{name}.txt").read_text(encoding="utf-8").strip()


def joined(names: list[str], gap_s: float = 1.0) -> tuple[np.ndarray, str]:
    """Clips one after another with ``gap_s`` of silence between, and the joined reference."""
    parts, refs = [], []
    for n in names:
        a, r = clip(n)
        parts += [a, np.zeros(int(16000 * gap_s), dtype=np.float32)]
        refs.append(r)
    return np.concatenate(parts), " ".join(refs)
