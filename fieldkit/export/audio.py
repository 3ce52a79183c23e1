"""A session's audio as one WAV file on the session clock, for exports that carry the
audio (ELAN beside the .eaf, the .qdpx AudioSource): only when pseudonymisation is off,
since voices identify people.

The recording files (imported FLAC, recorded FLAC/PCM, encrypted or not) are laid on the
session clock like :func:`fieldkit.recording.audio.load_audio` does (pauses are
silence), resampled to 16 kHz mono and written as 16-bit PCM WAV a minute at a time (the files
are read with seeks), so a three-hour interview never has to be in memory as a whole.
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


BLOCK_MS = 60_000   # written a minute at a time: memory is a minute of samples, whatever the length


def write_wav(handle: "ProjectHandle", session_id: uuid.UUID, f: BinaryIO, rate: int = RATE) -> int:
    """Write the session's audio to ``f`` as a WAV; returns its length in ms. The files are
    read a block at a time (FLAC, WAV and raw PCM seek), never decoded whole."""
    import numpy as np
    import soundfile as sf

    from fieldkit.recording.audio import file_duration_ms, load_audio

    spans = [s for s in _spans(handle, session_id) if s.path.exists()]
    total = max((s.offset_ms + file_duration_ms(s, handle.key) for s in spans), default=0)
    with sf.SoundFile(f, "w", samplerate=rate, channels=1, subtype="PCM_16", format="WAV") as out:
        for a in range(0, total, BLOCK_MS):
            block = load_audio(handle, session_id, a, min(total, a + BLOCK_MS), sr=rate, spans=spans)
            out.write(np.clip(block, -1.0, 1.0))
    return total * rate // 1000 * 1000 // rate
