"""Recovery: recordings whose process died are repaired and attached to their session.

A recording is unfinished when its row still says recording/paused and no recorder holds
the lock in its folder (:func:`fieldkit.recording.finalise.recorder_alive`: an fcntl lock
the recorder takes when it starts; the operating system drops it when the process ends,
so a crash, a kill or a reboot all free it, and a reused process id fools nothing). Each
of its raw ``.pcm`` files is cut to whole samples (or whole authenticated records when
encrypted) and turned into FLAC the same way a clean stop does
(:mod:`fieldkit.recording.finalise`); the recording is marked ``recovered`` with a report
of how much audio was saved.

On a disk too full to convert, the raw files stay and are attached as they are (they
play and transcribe); the report says how much room finishing needs, and a later
``fieldkit recover`` converts them. A database that cannot be written at all (the disk
is completely full) is explained the same way, never with a traceback.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from fieldkit.errors import FieldkitError
from fieldkit.recording.finalise import disk_full, finalise_recording_files, recorder_alive, size_text
from fieldkit.i18n import N_, N_plural, Said, _

if TYPE_CHECKING:
    from fieldkit.projects import ProjectHandle


@dataclass
class Recovered:
    session_title: str
    recording_id: str
    files: int
    audio_ms: int
    raw_kept: int = 0          # files left raw for lack of room
    room_needed: int = 0       # bytes more free space needed to finish them

    @property
    def message(self) -> str:
        from fieldkit.i18n import format_number

        text = Said("recovered", N_("Recovered {seconds} s of audio in {files} for session “{session}”."),
                    seconds=format_number(self.audio_ms / 1000, 1),
                    files=Said("files", N_plural("{n} file", "{n} files"), n=self.files), session=self.session_title)
        if self.raw_kept:
            text = Said("recovered_raw_kept", N_(
                "{recovered} The disk is too full to finish it: {raw_kept} (they play and transcribe); "
                "free {size} and run `fieldkit recover` again to finish them."), recovered=text,
                raw_kept=Said("raw_kept", N_plural("{n} file is kept as raw audio", "{n} files are kept as raw audio"),
                              n=self.raw_kept), size=size_text(self.room_needed))
        return text


def recover_all(handle: "ProjectHandle") -> list[Recovered]:
    """Find, repair and attach every unfinished recording of the project (and finish
    raw files an earlier recovery or stop had to keep for lack of room)."""
    try:
        return _recover_all(handle)
    except Exception as exc:  # noqa: BLE001 - sqlite "database or disk is full", OSError ENOSPC
        if disk_full(exc):
            from fieldkit.recording.finalise import free_bytes, room_to_finish

            raw = [p.stat().st_size for p in (handle.folder / "audio").rglob("*.pcm")]
            need = max(room_to_finish(max(raw, default=0)) - free_bytes(handle.folder), 1)
            raise FieldkitError(
                _("The disk holding {folder} is full: the unfinished recording "
                    "cannot be stored yet. Its raw audio is kept as it is.").format(folder=handle.folder),
                hint=_("Free at least {size_text} and run `fieldkit recover` again.").format(size_text=size_text(need))) from None
        raise


def _recover_all(handle: "ProjectHandle") -> list[Recovered]:
    from sqlmodel import select

    from fieldkit.store.models import Recording, RecordingFile, RecordingState, Session, SessionStatus, utcnow

    out: list[Recovered] = []
    with handle.db.session() as s:
        rows = s.exec(select(Recording, Session).join(Session).where(
            Session.project_id == handle.project_id,
            Recording.state.in_([RecordingState.recording, RecordingState.paused]))).all()
        raw_left = s.exec(select(Recording, Session).join(Session).join(RecordingFile).where(
            Session.project_id == handle.project_id,
            Recording.state.in_([RecordingState.complete, RecordingState.recovered]),
            RecordingFile.path.like("%.pcm")).distinct()).all()
    for rec, sess in rows:
        if recorder_alive(handle.folder / rec.folder):
            continue
        files = finalise_recording_files(handle, rec.id)
        total = sum(f.row.duration_ms for f in files)
        raw = [f for f in files if f.raw_kept]
        with handle.db.transaction() as s:
            r = s.get(Recording, rec.id)
            r.state, r.ended_at, r.recorder_pid = RecordingState.recovered, utcnow(), None
            r.duration_ms = total
            r.clock_ms = max((f.row.offset_ms + f.row.duration_ms for f in files), default=r.clock_ms)
            r.info = {**r.info, "recovered_ms": total, "raw_kept": len(raw)}
            se = s.get(Session, sess.id)
            if se.status == SessionStatus.recording:
                se.status = SessionStatus.recorded
        (handle.folder / rec.folder / "recorder.lock").unlink(missing_ok=True)
        out.append(Recovered(sess.title, str(rec.id), len(files), total, len(raw),
                             max((f.room_needed for f in raw), default=0)))
    for rec, sess in raw_left:
        if recorder_alive(handle.folder / rec.folder):
            continue
        files = finalise_recording_files(handle, rec.id)
        raw = [f for f in files if f.raw_kept]
        with handle.db.transaction() as s:
            r = s.get(Recording, rec.id)
            r.info = {**r.info, "raw_kept": len(raw)}
        out.append(Recovered(sess.title, str(rec.id), len(files), sum(f.row.duration_ms for f in files),
                             len(raw), max((f.room_needed for f in raw), default=0)))
    return out
