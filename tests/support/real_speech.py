"""Real human speech with exact references (tests/data/speech, copied from ../shared/speech
with its README; $FIELDKIT_SPEECH_DIR overrides): FLAC clips and one-line .txt references."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from tests.support.shared_files import missing, speech_dir

SPEECH = speech_dir()
needs_speech = pytest.mark.skipif(not (SPEECH / "en_jfk.flac").is_file(),
                                  reason=missing(SPEECH, "the real speech clips with exact references"))


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
