"""Recovery: recordings whose process died are repaired and attached to their session.

A recording is unfinished when its row still says recording/paused and the process that
wrote it (``recorder_pid``) is gone. Each of its raw ``.pcm`` files is cut to whole
samples (or whole authenticated records when encrypted), turned into FLAC the same way a
clean stop does, and the recording is marked ``recovered`` with a report of how much
audio was saved.
"""

from __future__ import annotations

import io
import os
from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np

if TYPE_CHECKING:
    from fieldkit.projects import ProjectHandle
    from fieldkit.store.models import RecordingFile


@dataclass
class Recovered:
    session_title: str
    recording_id: str
    files: int
    audio_ms: int


def _alive(pid: int | None) -> bool:
    if not pid or pid == os.getpid():
        return False
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    try:  # a zombie (killed child not yet reaped) is gone too
        with open(f"/proc/{pid}/stat") as fh:
            return fh.read().split(")")[-1].split()[0] != "Z"
    except OSError:
        return True


def finalise_file(handle: "ProjectHandle", f: "RecordingFile") -> "RecordingFile":
    """Turn one raw .pcm file into FLAC (atomically) and store its true duration."""
    import soundfile as sf

    from fieldkit.recording.audio import SAMPLE_WIDTH, _raw_bytes
    from fieldkit.store.models import Recording, RecordingFile

    path = handle.folder / f.path
    with handle.db.session() as s:
        rec = s.get(Recording, f.recording_id)
    if not path.suffix == ".pcm":
        return f
    flac = path.with_suffix(".flac")
    if not path.exists():
        if flac.exists():  # converted before a crash, database not yet updated
            frames = sf.info(str(flac)).frames if handle.key is None else None
            duration = f.duration_ms if frames is None else frames * 1000 // rec.sample_rate
            return _update(handle, f, flac, duration)
        return _update(handle, f, flac, 0)
    data = _raw_bytes(path, handle.key)
    frame = SAMPLE_WIDTH * rec.channels
    data = data[: len(data) - len(data) % frame]
    pcm = np.frombuffer(data, dtype="<i2").reshape(-1, rec.channels)
    tmp = flac.with_name(flac.name + ".tmp")
    if handle.key is None:
        sf.write(str(tmp), pcm, rec.sample_rate, format="FLAC", subtype="PCM_16")
    else:
        from fieldkit.privacy.crypto import EncryptedWriter

        buf = io.BytesIO()
        sf.write(buf, pcm, rec.sample_rate, format="FLAC", subtype="PCM_16")
        with EncryptedWriter(tmp, handle.key, fsync=False) as w:
            w.write(buf.getvalue())
    with open(tmp, "rb+") as fh:
        os.fsync(fh.fileno())
    os.replace(tmp, flac)
    duration = len(pcm) * 1000 // rec.sample_rate
    f = _update(handle, f, flac, duration)
    path.unlink()
    return f


def _update(handle: "ProjectHandle", f: "RecordingFile", flac, duration: int) -> "RecordingFile":  # noqa: ANN001
    from fieldkit.store.models import RecordingFile

    with handle.db.transaction() as s:
        row = s.get(RecordingFile, f.id)
        row.path = str(flac.relative_to(handle.folder))
        row.duration_ms, row.complete = duration, True
    return row


def recover_all(handle: "ProjectHandle") -> list[Recovered]:
    """Find, repair and attach every unfinished recording of the project."""
    from sqlmodel import select

    from fieldkit.recording.recorder import finalise_recording_files
    from fieldkit.store.models import Recording, RecordingState, Session, SessionStatus, utcnow

    out: list[Recovered] = []
    with handle.db.session() as s:
        rows = s.exec(select(Recording, Session).join(Session).where(
            Session.project_id == handle.project_id,
            Recording.state.in_([RecordingState.recording, RecordingState.paused]))).all()
    for rec, sess in rows:
        if _alive(rec.recorder_pid):
            continue
        files = finalise_recording_files(handle, rec.id, finalise_file)
        total = sum(f.duration_ms for f in files)
        with handle.db.transaction() as s:
            r = s.get(Recording, rec.id)
            r.state, r.ended_at, r.recorder_pid = RecordingState.recovered, utcnow(), None
            r.duration_ms = total
            r.clock_ms = max((f.offset_ms + f.duration_ms for f in files), default=r.clock_ms)
            r.info = {**r.info, "recovered_ms": total}
            se = s.get(Session, sess.id)
            if se.status == SessionStatus.recording:
                se.status = SessionStatus.recorded
        out.append(Recovered(sess.title, str(rec.id), len(files), total))
    return out
