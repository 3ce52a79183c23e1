"""A session's audio as one WAV file on the session clock, for exports that carry the
audio (ELAN beside the .eaf, the .qdpx AudioSource): only when pseudonymisation is off,
since voices identify people.

The recording files (imported FLAC, recorded FLAC/PCM, encrypted or not) are laid on the
session clock like :func:`fieldkit.recording.audio.load_audio` does (pauses are
silence), resampled to 16 kHz mono and written as 16-bit PCM WAV, one file at a time
so a two-hour interview never has to be in memory as a whole.
"""

from __future__ import annotations

import uuid
from typing import TYPE_CHECKING, BinaryIO

if TYPE_CHECKING:
    from fieldkit.projects import ProjectHandle

RATE = 16000
MIME = "audio/x-wav"


def has_audio(handle: "ProjectHandle", session_id: uuid.UUID) -> bool:
    return any(span.path.exists() for span in _spans(handle, session_id))


def _spans(handle: "ProjectHandle", session_id: uuid.UUID) -> list:
    from fieldkit.recording.audio import _spans as spans

    return spans(handle, session_id)


def write_wav(handle: "ProjectHandle", session_id: uuid.UUID, f: BinaryIO, rate: int = RATE) -> int:
    """Write the session's audio to ``f`` as a WAV; returns its length in ms."""
    import numpy as np
    import soundfile as sf

    from fieldkit.recording.audio import read_file, resample

    written = 0   # samples so far
    with sf.SoundFile(f, "w", samplerate=rate, channels=1, subtype="PCM_16", format="WAV") as out:
        for span in _spans(handle, session_id):
            if not span.path.exists():
                continue
            samples = resample(read_file(span, handle.key), span.sample_rate, rate)
            start = span.offset_ms * rate // 1000
            if start > written:                       # a pause: silence
                gap = start - written
                for k in range(0, gap, rate * 60):
                    out.write(np.zeros(min(rate * 60, gap - k), dtype=np.float32))
                written = start
            skip = written - start                    # overlapping files: keep the first
            if skip < len(samples):
                out.write(np.clip(samples[skip:], -1.0, 1.0))
                written += len(samples) - skip
    return written * 1000 // rate
