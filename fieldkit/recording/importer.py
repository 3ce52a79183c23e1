"""Importing an external recording (dictaphone, telephone) into a session.

The original file is copied unchanged into the session's audio folder; a 16 kHz mono
FLAC made from it (decoded with PyAV, so mp3, m4a, ogg, wav and flac all work) is what
transcription and playback use. Everything is written to temporary names and only
registered in the database once complete: a corrupt, truncated, empty or non-audio file
gives a clear error and leaves no files and no rows behind.
"""

from __future__ import annotations

import io
import os
import shutil
import uuid
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np

from fieldkit.errors import ExitCode, FieldkitError
from fieldkit.i18n import _

if TYPE_CHECKING:
    from fieldkit.projects import ProjectHandle
    from fieldkit.store.models import Recording

SR = 16000
MIN_MS = 100


class RecordingImportError(FieldkitError):
    exit_code = ExitCode.IMPORT


def _frames_16k(path: Path):
    """Open ``path`` with PyAV: (what the file says about itself, an iterator of int16 mono
    16 kHz blocks as decoded, a frame at a time). Errors are RecordingImportErrors."""
    import av

    try:
        container = av.open(str(path))
    except Exception as exc:  # noqa: BLE001 - PyAV raises many error types
        raise _unreadable(path, exc) from None
    streams = [s for s in container.streams if s.type == "audio"]
    if not streams:
        container.close()
        raise RecordingImportError(_("{path} has no audio stream.").format(path=path),
                           hint=_("Import an audio file (wav, mp3, m4a, "
                                    "flac, ogg)."))
    stream = streams[0]
    info = {"codec": stream.codec_context.name, "sample_rate": stream.codec_context.sample_rate,
            "channels": stream.codec_context.channels, "format": container.format.name}

    def blocks():
        try:
            with container:
                resampler = av.AudioResampler(format="s16", layout="mono", rate=SR)
                for frame in container.decode(stream):
                    for out in resampler.resample(frame):
                        yield out.to_ndarray().reshape(-1).astype(np.int16, copy=False)
                for out in resampler.resample(None):
                    yield out.to_ndarray().reshape(-1).astype(np.int16, copy=False)
        except RecordingImportError:
            raise
        except Exception as exc:  # noqa: BLE001 - PyAV raises many error types
            raise _unreadable(path, exc) from None
    return info, blocks()


def _unreadable(path: Path, exc: Exception) -> RecordingImportError:
    return RecordingImportError(_("{path} cannot be read as audio: {exc}").format(path=path, exc=exc),
                                hint=_("The file may be damaged, incomplete, or not an "
                                         "audio file."))


def _too_short(path: Path, samples: int) -> RecordingImportError | None:
    if samples * 1000 // SR < MIN_MS:
        return RecordingImportError(_("{path} holds no audio (decoded {value} ms).").format(
            path=path, value=samples * 1000 // SR), hint=_("The file may be empty or cut off at the start."))
    return None


def decode_to_16k(path: Path) -> tuple[np.ndarray, dict]:
    """All samples as int16 mono 16 kHz, plus what the file said about itself (for a
    short clip; an import streams the file instead: :func:`import_recording`)."""
    info, blocks = _frames_16k(path)
    chunks = list(blocks)
    pcm = np.concatenate(chunks).astype(np.int16) if chunks else np.zeros(0, np.int16)
    if (err := _too_short(path, len(pcm))) is not None:
        raise err
    return pcm, info


def import_recording(handle: "ProjectHandle", session_id: uuid.UUID, source: str | Path,
                     *, author_id: uuid.UUID | None = None, recorded_at=None) -> "Recording":
    """``recorded_at`` (aware datetime) is when the recording began, if the researcher
    knows; else it is taken from the file's metadata (creation time) or, failing that,
    from the file's modification time less its duration (a dictaphone writes the file
    until it stops). The session's start is set from it when it has none."""
    from sqlmodel import select

    from fieldkit.store.models import (
        Recording,
        RecordingFile,
        RecordingState,
        Session,
        SessionStatus,
    )

    source = Path(source)
    if not source.is_file():
        raise RecordingImportError(_("{source} is not a file.").format(source=source))
    if source.stat().st_size == 0:
        raise RecordingImportError(_("{source} is empty (0 bytes).").format(source=source))
    with handle.db.session() as s:
        sess = s.get(Session, session_id)
        if sess is None or sess.project_id != handle.project_id:
            raise RecordingImportError(_("No session {session_id} in this project.").format(session_id=session_id))
        offset = max((rf.offset_ms + rf.duration_ms for rf in s.exec(
            select(RecordingFile).join(Recording).where(Recording.session_id == session_id))), default=0)
    info, blocks = _frames_16k(source)
    rec_id = uuid.uuid4()
    rel = Path("audio") / str(session_id) / str(rec_id)
    folder = handle.folder / rel
    tmp = folder.with_name(folder.name + ".importing")
    made = [p for p in (tmp.parent.parent, tmp.parent) if not p.exists()]   # left as found on failure
    tmp.mkdir(parents=True, mode=0o700)
    try:
        original = tmp / f"original{source.suffix.lower()}"
        flac = tmp / "0000.flac"
        # decoded and written a frame at a time: memory does not follow the length
        samples = _write_flac(blocks, flac, handle)
        if (err := _too_short(source, samples)) is not None:
            raise err
        _write_copy(source, original, handle)
        os.replace(tmp, folder)
    except BaseException:
        blocks.close()
        shutil.rmtree(tmp, ignore_errors=True)
        for p in reversed(made):
            try:
                p.rmdir()
            except OSError:
                pass
        raise
    duration = samples * 1000 // SR
    began, date_source = _recorded_at(source, duration, recorded_at)
    try:
        with handle.db.transaction() as s:
            from datetime import timedelta

            rec = Recording(id=rec_id, session_id=session_id, state=RecordingState.imported,
                            folder=str(rel), sample_rate=SR, channels=1, device="import",
                            started_at=began, ended_at=began + timedelta(milliseconds=duration),
                            duration_ms=duration, original_path=str(rel / original.name),
                            info={"source_name": source.name, "date_from": date_source, **info},
                            created_by=author_id)
            s.add(rec)
            s.add(RecordingFile(recording_id=rec_id, seq=0, path=str(rel / flac.name),
                                offset_ms=offset, duration_ms=duration, complete=True,
                                created_by=author_id))
            sess = s.get(Session, session_id)
            if sess.status == SessionStatus.planned:
                sess.status = SessionStatus.recorded
            if sess.starts_at is None:
                sess.starts_at, sess.ended_at = rec.started_at, sess.ended_at or rec.ended_at
            s.add(sess)
    except BaseException:
        shutil.rmtree(folder, ignore_errors=True)
        raise
    return rec


def _write_copy(src: Path, dst: Path, handle: "ProjectHandle") -> None:
    if handle.key is None:
        shutil.copyfile(src, dst)
    else:
        from fieldkit.privacy.crypto import EncryptedWriter

        with open(src, "rb") as fh, EncryptedWriter(dst, handle.key, fsync=False) as w:
            while chunk := fh.read(1 << 20):
                w.write(chunk)
    with open(dst, "rb+") as fh:
        os.fsync(fh.fileno())


def _write_flac(blocks, dst: Path, handle: "ProjectHandle") -> int:
    """Write int16 ``blocks`` as a 16 kHz mono FLAC, block by block; returns the samples
    written. In an encrypted project the FLAC is made in memory (compressed, about half
    the size of the samples) and written encrypted: no plain audio touches the disk."""
    import soundfile as sf

    buf = io.BytesIO() if handle.key is not None else None
    samples = 0
    pending: list[np.ndarray] = []
    with sf.SoundFile(buf if buf is not None else str(dst), "w", SR, 1, "PCM_16", format="FLAC") as f:
        for block in blocks:          # a few seconds at a time: fewer, larger writes
            pending.append(block)
            samples += len(block)
            if sum(len(b) for b in pending) >= 4 * SR:
                f.write(np.concatenate(pending))
                pending = []
        if pending:
            f.write(np.concatenate(pending))
    if buf is not None:
        from fieldkit.privacy.crypto import EncryptedWriter

        data = buf.getbuffer()
        with EncryptedWriter(dst, handle.key, fsync=False) as w:
            for i in range(0, len(data), 1 << 20):
                w.write(bytes(data[i:i + (1 << 20)]))
        del data
    with open(dst, "rb+") as fh:
        os.fsync(fh.fileno())
    return samples


def _recorded_at(source: Path, duration_ms: int, given=None):
    """(when the recording began, where that came from): given by the researcher, the
    container's ``creation_time`` tag (phones and most recorders write it), or the file's
    modification time less the duration."""
    from datetime import datetime, timedelta, timezone

    if given is not None:
        return (given if given.tzinfo else given.astimezone()).astimezone(timezone.utc), "given"
    try:
        import av

        with av.open(str(source)) as container:
            tags = dict(container.metadata)
            for stream in container.streams:
                tags = {**dict(stream.metadata), **tags}
        for key in ("creation_time", "date", "DATE", "creation_date", "ICRD"):
            text = str(tags.get(key, "")).strip()
            if not text:
                continue
            try:
                when = datetime.fromisoformat(text.replace("Z", "+00:00"))
            except ValueError:
                continue
            if when.year >= 1990:
                return (when if when.tzinfo else when.astimezone()).astimezone(timezone.utc), "metadata"
    except Exception:  # noqa: BLE001 - metadata is a bonus: the audio was already read
        pass
    mtime = datetime.fromtimestamp(source.stat().st_mtime, tz=timezone.utc)
    return mtime - timedelta(milliseconds=duration_ms), "file time"


#: words in a file's name or metadata (title, comment, album ...) that say it is a phone call,
#: as call-recorder apps name their files ("Call recording 9123...", "Samtale med ...")
CALL_WORDS = ("call", "phone", "telefon", "samtale", "anrop", "oppringing")
#: codecs made for telephone speech
PHONE_CODECS = ("amr_nb", "amr_wb", "gsm", "gsm_ms", "pcm_mulaw", "pcm_alaw", "g722", "g723_1", "g729")


def kind_from_file(source: str | Path) -> str | None:
    """``"telephone"`` when the file says it is a phone call, else None (the caller's
    default). The file says so by its sound or its name: telephone-band audio (a sample rate
    of 8 kHz or less, or a telephone codec such as AMR or G.711), or a call word in the
    file name or in its title/comment metadata (call, phone, telefon, samtale, anrop)."""
    import re

    source = Path(source)
    words = [source.stem]
    try:
        import av

        with av.open(str(source)) as container:
            tags = dict(container.metadata)
            stream = next((st for st in container.streams if st.type == "audio"), None)
            if stream is not None:
                tags.update(dict(stream.metadata))
                ctx = stream.codec_context
                if ctx.name in PHONE_CODECS or (ctx.sample_rate and ctx.sample_rate <= 8000):
                    return "telephone"
        words += [str(v) for k, v in tags.items() if k.lower() in ("title", "comment", "description", "album",
                                                                   "genre", "encoder", "handler_name")]
    except Exception:  # noqa: BLE001 - unreadable files are reported by the import itself
        pass
    text = " ".join(words).casefold()
    return "telephone" if any(re.search(rf"(?<![a-zæøå]){w}", text) for w in CALL_WORDS) else None
