"""Finishing a recording's files: raw ``.pcm`` to FLAC, the same way for a clean stop
(:mod:`fieldkit.recording.recorder`) and for recovery after a crash
(:mod:`fieldkit.recording.recovery`).

A conversion writes ``<seq>.flac.tmp`` beside the raw file, fsyncs it, renames it over
``<seq>.flac``, updates the database and only then deletes the raw file, so a crash at
any moment leaves either the raw file or the finished one (and recovery finishes the
job). Converting needs room on the disk: :func:`room_to_finish` says how much, and a
file that does not fit is kept raw, attached to its session as it is (it plays and
transcribes), and converted by a later ``fieldkit recover`` once there is room.
"""

from __future__ import annotations

import io
import os
import shutil
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    import uuid

    from fieldkit.projects import ProjectHandle
    from fieldkit.store.models import RecordingFile

FLAC_OVERHEAD = 64 * 1024   # FLAC headers and frames that do not compress (at worst ~1 % over raw)
DB_ROOM = 512 * 1024        # the database's share: last durations, events, the WAL growing
BLOCK_FRAMES = 16000        # frames converted per write (the tmp file grows while converting)


def room_to_finish(raw_bytes: int) -> int:
    """Bytes of free disk needed to turn a raw file of ``raw_bytes`` into FLAC and store
    the result (the raw file is deleted only after the FLAC file is complete)."""
    return int(raw_bytes * 1.02) + FLAC_OVERHEAD + DB_ROOM


def disk_full(exc: BaseException) -> bool:
    """Is this error a full disk (ENOSPC, or SQLite's "database or disk is full")?"""
    import errno

    text = str(exc).lower()
    return ("disk is full" in text or "no space left" in text
            or getattr(exc, "errno", None) == errno.ENOSPC)


def free_bytes(folder: Path) -> int:
    return shutil.disk_usage(folder).free


def size_text(n: int) -> str:
    """Bytes in the units a researcher reads: "1.4 MB", "300 kB"."""
    from fieldkit.i18n import format_number

    if n >= 1_000_000_000:
        return f"{format_number(n / 1e9, 1)} GB"
    if n >= 1_000_000:
        return f"{format_number(n / 1e6, 1)} MB"
    return f"{max(1, round(n / 1000))} kB"


@dataclass
class Finished:
    """One file after finishing: its row, and whether it is still raw for lack of room."""
    row: "RecordingFile"
    raw_kept: bool = False
    room_needed: int = 0       # bytes more free space needed to convert it (raw_kept)


def finalise_file(handle: "ProjectHandle", f: "RecordingFile") -> Finished:
    """Turn one raw .pcm file into FLAC (atomically) and store its true duration. Without
    room to convert, the raw file stays, attached with its duration (``raw_kept``)."""
    from fieldkit.store.models import Recording

    path = handle.folder / f.path
    if path.suffix != ".pcm":
        return Finished(f)
    with handle.db.session() as s:
        rec = s.get(Recording, f.recording_id)
    flac = path.with_suffix(".flac")
    tmp = flac.with_name(flac.name + ".tmp")
    if not path.exists():
        if flac.exists():  # converted before a crash, database not yet updated
            return Finished(_update(handle, f, flac, _flac_ms(handle, flac, rec.sample_rate, f.duration_ms)))
        return Finished(_update(handle, f, flac, 0))
    if tmp.exists():
        tmp.unlink()  # a conversion cut short by a crash: start it again
    size = path.stat().st_size
    need = room_to_finish(size)
    free = free_bytes(path.parent)
    if free < need:
        return Finished(_update(handle, f, path, _raw_ms(path, handle, rec), complete=False),
                        raw_kept=True, room_needed=need - free)
    try:
        duration = _convert(handle, path, tmp, rec.sample_rate, rec.channels)
        with open(tmp, "rb+") as fh:
            os.fsync(fh.fileno())
        os.replace(tmp, flac)
    except OSError:
        # the disk filled while converting (another program wrote to it): keep the raw file
        tmp.unlink(missing_ok=True)
        free = free_bytes(path.parent)
        return Finished(_update(handle, f, path, _raw_ms(path, handle, rec), complete=False),
                        raw_kept=True, room_needed=max(need - free, 1))
    row = _update(handle, f, flac, duration)
    path.unlink()
    return Finished(row)


def _raw_ms(path: Path, handle: "ProjectHandle", rec) -> int:  # noqa: ANN001
    from fieldkit.recording.audio import FileSpan, file_duration_ms

    return file_duration_ms(FileSpan(path, 0, rec.sample_rate, rec.channels, False), handle.key)


def _flac_ms(handle: "ProjectHandle", flac: Path, rate: int, fallback: int) -> int:
    import soundfile as sf

    if handle.key is not None:
        return fallback
    return sf.info(str(flac)).frames * 1000 // rate


def _convert(handle: "ProjectHandle", path: Path, tmp: Path, rate: int, channels: int) -> int:
    """Write the FLAC version of ``path`` to ``tmp``; returns its duration in ms."""
    import numpy as np
    import soundfile as sf

    from fieldkit.recording.audio import SAMPLE_WIDTH, _raw_bytes

    frame = SAMPLE_WIDTH * channels
    if handle.key is None:
        frames = 0
        with open(path, "rb") as src, sf.SoundFile(str(tmp), "w", rate, channels, "PCM_16", format="FLAC") as out:
            while True:
                data = src.read(BLOCK_FRAMES * frame)
                data = data[: len(data) - len(data) % frame]  # a torn last frame after a crash
                if not data:
                    break
                out.write(np.frombuffer(data, dtype="<i2").reshape(-1, channels))
                frames += len(data) // frame
        return frames * 1000 // rate
    from fieldkit.privacy.crypto import EncryptedWriter

    data = _raw_bytes(path, handle.key)
    data = data[: len(data) - len(data) % frame]
    pcm = np.frombuffer(data, dtype="<i2").reshape(-1, channels)
    buf = io.BytesIO()
    sf.write(buf, pcm, rate, format="FLAC", subtype="PCM_16")
    with EncryptedWriter(tmp, handle.key, fsync=False) as w:
        w.write(buf.getvalue())
    return len(pcm) * 1000 // rate


def _update(handle: "ProjectHandle", f: "RecordingFile", path: Path, duration: int,
            complete: bool = True) -> "RecordingFile":
    from fieldkit.store.models import RecordingFile

    with handle.db.transaction() as s:
        row = s.get(RecordingFile, f.id)
        row.path = str(path.relative_to(handle.folder))
        row.duration_ms, row.complete = duration, complete
    return row


def finalise_recording_files(handle: "ProjectHandle", recording_id: "uuid.UUID") -> list[Finished]:
    from sqlmodel import select

    from fieldkit.store.models import RecordingFile

    with handle.db.session() as s:
        files = s.exec(select(RecordingFile).where(RecordingFile.recording_id == recording_id)
                       .order_by(RecordingFile.seq)).all()
    return [finalise_file(handle, f) for f in files]


# --------------------------------------------------------------------------- the recorder's lock

LOCK_NAME = "recorder.lock"


def hold_lock(folder: Path):  # noqa: ANN201 - an open file
    """Take the recorder's lock on ``folder`` (held while the file stays open; the
    operating system drops it when the process ends, however it ends)."""
    import fcntl

    fh = open(folder / LOCK_NAME, "a+b")
    try:
        fcntl.flock(fh.fileno(), fcntl.LOCK_EX | fcntl.LOCK_NB)
    except OSError:
        fh.close()
        raise
    return fh


def release_lock(fh, folder: Path) -> None:  # noqa: ANN001
    import fcntl

    try:
        (folder / LOCK_NAME).unlink(missing_ok=True)
        fcntl.flock(fh.fileno(), fcntl.LOCK_UN)
    finally:
        fh.close()


def recorder_alive(folder: Path) -> bool:
    """Is a recorder (in any process) still writing into ``folder``? True while some open
    file holds the lock; a recorder that died (crash, kill, reboot) holds nothing."""
    import fcntl

    lock = folder / LOCK_NAME
    if not lock.exists():
        return False
    try:
        fh = open(lock, "rb")
    except OSError:
        return False
    try:
        fcntl.flock(fh.fileno(), fcntl.LOCK_EX | fcntl.LOCK_NB)
    except OSError:
        return True
    else:
        fcntl.flock(fh.fileno(), fcntl.LOCK_UN)
        return False
    finally:
        fh.close()
