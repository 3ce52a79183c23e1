"""Audio for the live transcription worker without a microphone: what the recorder leaves
for it (a Recording in state ``recording`` with a growing raw ``.pcm`` file, listed in
RecordingFile), written from samples at a chosen speed. The worker
(:class:`fieldkit.transcription.live.LiveTranscriber`, its own process) follows it
exactly as it follows a real recording; faster than real time, 90 minutes of audio go
by in a fraction of that (benchmarks), and ``hold()`` keeps the recording running with
no new audio (tests that must not depend on how much audio comes after an utterance).
"""

from __future__ import annotations

import threading
import time
import uuid
from pathlib import Path

import numpy as np

SR = 16000


class FileFeed:
    def __init__(self, handle, session_id: uuid.UUID, chunk_ms: int = 500) -> None:
        self.handle, self.session_id, self.chunk_ms = handle, session_id, chunk_ms
        self.recording_id = uuid.uuid4()
        self.written = 0          # samples
        folder = Path("audio") / str(session_id) / str(self.recording_id)
        (handle.folder / folder).mkdir(parents=True, mode=0o700)
        self.path = handle.folder / folder / "0000.pcm"
        self._enc = None
        if handle.key is not None:   # an encrypted project: one record per write, as the recorder
            from fieldkit.privacy.crypto import EncryptedWriter

            self._enc = EncryptedWriter(self.path, handle.key, fsync=False)
        else:
            self.path.touch()
        from fieldkit.store.models import Recording, RecordingFile, RecordingState, utcnow

        with handle.db.transaction() as s:
            s.add(Recording(id=self.recording_id, session_id=session_id, state=RecordingState.recording,
                            folder=str(folder), clock_ms=0, clock_wall=utcnow()))
            s.add(RecordingFile(recording_id=self.recording_id, seq=0, path=str(folder / "0000.pcm"),
                                offset_ms=0))

    @property
    def position_ms(self) -> int:
        return self.written * 1000 // SR

    def write(self, audio: np.ndarray, speed: float = 1.0, stop: threading.Event | None = None) -> None:
        """Append ``audio`` (16 kHz float32 mono) chunk by chunk, ``speed`` times real time
        (0 or less: as fast as the disk takes it)."""
        step = SR * self.chunk_ms // 1000
        pcm = (np.clip(audio, -1, 1) * 32767).astype("<i2")
        start = time.monotonic()
        base = self.written
        fh = open(self.path, "ab") if self._enc is None else None
        try:
            for i in range(0, len(pcm), step):
                if stop is not None and stop.is_set():
                    return
                if fh is not None:
                    fh.write(pcm[i:i + step].tobytes())
                    fh.flush()
                else:
                    self._enc.write(pcm[i:i + step].tobytes())
                self.written += len(pcm[i:i + step])
                if speed > 0:
                    due = start + (self.written - base) / SR / speed
                    time.sleep(max(0.0, due - time.monotonic()))
        finally:
            if fh is not None:
                fh.close()

    def finish(self) -> None:
        """The recording ends (the worker then transcribes the tail and stops)."""
        from fieldkit.store.models import Recording, RecordingFile, RecordingState, utcnow
        from sqlmodel import select

        if self._enc is not None:
            self._enc.close()
        with self.handle.db.transaction() as s:
            rec = s.get(Recording, self.recording_id)
            rec.state, rec.ended_at, rec.duration_ms = RecordingState.complete, utcnow(), self.position_ms
            rec.clock_ms = self.position_ms
            for f in s.exec(select(RecordingFile).where(RecordingFile.recording_id == self.recording_id)):
                f.duration_ms, f.complete = self.position_ms, True
