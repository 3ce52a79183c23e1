"""Reading a session's audio on the session clock, whatever state its recordings are in.

On disk (under the project folder)::

    audio/<session id>/<recording id>/<seq>.pcm    being written: raw little-endian int16,
                                                  interleaved channels, fsync'd in blocks
    audio/<session id>/<recording id>/<seq>.flac   finished (stop, recovery or import)
    audio/<session id>/<recording id>/original.*  an imported file, kept unchanged

In an encrypted project every one of these files is a sequence of authenticated records
(fieldkit.privacy.crypto); readers decrypt in memory. Each RecordingFile row says where
its file starts on the session clock (``offset_ms``), so pauses and device changes are
just gaps between files; :func:`load_audio` lays the files on that clock.
"""

from __future__ import annotations

import io
import math
import uuid
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np

from fieldkit.errors import FieldkitError
from fieldkit.i18n import _

if TYPE_CHECKING:
    from fieldkit.privacy.crypto import ProjectKey
    from fieldkit.projects import ProjectHandle

SAMPLE_WIDTH = 2  # int16


@dataclass
class FileSpan:
    path: Path
    offset_ms: int
    sample_rate: int
    channels: int
    complete: bool


def _spans(handle: "ProjectHandle", session_id: uuid.UUID) -> list[FileSpan]:
    from sqlmodel import select

    from fieldkit.store.models import Recording, RecordingFile

    with handle.db.session() as s:
        rows = s.exec(
            select(RecordingFile, Recording)
            .join(Recording, RecordingFile.recording_id == Recording.id)
            .where(Recording.session_id == session_id)
            .order_by(RecordingFile.offset_ms, RecordingFile.seq)
        ).all()
    return [FileSpan(handle.folder / rf.path, rf.offset_ms, rec.sample_rate, rec.channels, rf.complete)
            for rf, rec in rows]


def _raw_bytes(path: Path, key: "ProjectKey | None") -> bytes:
    from fieldkit.privacy.crypto import is_encrypted_file, read_encrypted

    if key is not None and is_encrypted_file(path):
        return read_encrypted(path, key)
    return path.read_bytes()


def read_file(span: FileSpan, key: "ProjectKey | None" = None) -> np.ndarray:
    """The file's samples as float32 mono at its own sample rate."""
    if not span.path.exists():
        raise FieldkitError(_("The audio file {path} is missing.").format(path=span.path))
    if span.path.suffix == ".pcm":
        data = _raw_bytes(span.path, key)
        frame = SAMPLE_WIDTH * span.channels
        data = data[: len(data) - len(data) % frame]  # a torn last frame after a crash
        pcm = np.frombuffer(data, dtype="<i2").reshape(-1, span.channels)
        return (pcm.mean(axis=1) / 32768.0).astype(np.float32)
    import soundfile as sf

    from fieldkit.privacy.crypto import open_audio

    try:
        data, _sr = sf.read(open_audio(span.path, key), dtype="float32", always_2d=True)
    except Exception as exc:
        raise FieldkitError(_("Cannot read the audio file {path}: {exc}").format(path=span.path, exc=exc)) from exc
    return data.mean(axis=1).astype(np.float32)


def file_duration_ms(span: FileSpan, key: "ProjectKey | None" = None) -> int:
    """Duration from the file's size (raw PCM) or header, without decoding it all."""
    if span.path.suffix == ".pcm":
        from fieldkit.privacy.crypto import HEADER_LEN, is_encrypted_file

        size = span.path.stat().st_size
        if is_encrypted_file(span.path):
            if key is not None:
                size = _record_reader(span.path, key).refresh()   # the plaintext, exactly
            else:   # records add 32 bytes each: an upper bound
                size -= HEADER_LEN
        return int(size // (SAMPLE_WIDTH * span.channels) * 1000 // span.sample_rate)
    import soundfile as sf

    try:
        return int(sf.info(str(span.path)).duration * 1000)
    except Exception:  # noqa: BLE001 - encrypted or damaged: decode to know
        return int(len(read_file(span, key)) * 1000 // span.sample_rate)


def resample(x: np.ndarray, src: int, dst: int) -> np.ndarray:
    """Band-limited resampling (PyAV's libswresample)."""
    if src == dst or len(x) == 0:
        return x
    import av

    resampler = av.AudioResampler(format="flt", layout="mono", rate=dst)
    frame = av.AudioFrame.from_ndarray(x.reshape(1, -1), format="flt", layout="mono")
    frame.sample_rate = src
    out = [f.to_ndarray().reshape(-1) for f in resampler.resample(frame)]
    out += [f.to_ndarray().reshape(-1) for f in resampler.resample(None)]
    return np.concatenate(out).astype(np.float32) if out else np.zeros(0, np.float32)


def available_ms(handle: "ProjectHandle", session_id: uuid.UUID) -> int:
    """How much of the session clock has durable audio (also while recording)."""
    end = 0
    for span in _spans(handle, session_id):
        if span.path.exists():
            end = max(end, span.offset_ms + file_duration_ms(span, handle.key))
    return end


_plain_cache: dict[tuple, bytes] = {}
_readers: dict[str, "object"] = {}


def _record_reader(path: Path, key: "ProjectKey"):
    """The record index of an encrypted raw file being recorded (one per file, extended as
    it grows): the live transcriber reads its newest seconds without decrypting the rest."""
    from fieldkit.privacy.crypto import RecordReader

    reader = _readers.get(str(path))
    if reader is None:
        if len(_readers) > 8:
            _readers.clear()
        reader = _readers[str(path)] = RecordReader(path, key)
    return reader


def _decrypted(path: Path, key: "ProjectKey") -> bytes:
    """An encrypted file's bytes (still FLAC-compressed), kept for the next window: its
    records are not indexed, so reading a part means decrypting it all, once per file."""
    from fieldkit.privacy.crypto import read_encrypted

    st = path.stat()
    k = (str(path), st.st_size, st.st_mtime_ns)
    if k not in _plain_cache:
        _plain_cache.clear()
        _plain_cache[k] = read_encrypted(path, key)
    return _plain_cache[k]


def read_range(span: FileSpan, first: int, count: int, key: "ProjectKey | None" = None) -> np.ndarray:
    """``count`` samples (or fewer at the end) of the file from sample ``first``, as float32
    mono at the file's own rate, reading only that part: raw PCM and FLAC/WAV seek. An
    encrypted raw file decrypts only the records the part touches (its record index grows
    with it); an encrypted FLAC is decrypted whole once and decoded only in part."""
    first, count = max(0, first), max(0, count)
    if count == 0 or not span.path.exists():
        if not span.path.exists():
            raise FieldkitError(_("The audio file {path} is missing.").format(path=span.path))
        return np.zeros(0, np.float32)
    from fieldkit.privacy.crypto import is_encrypted_file

    encrypted = key is not None and is_encrypted_file(span.path)
    if span.path.suffix == ".pcm":
        frame = SAMPLE_WIDTH * span.channels
        if encrypted:   # only the records the range touches are decrypted
            data = _record_reader(span.path, key).read(first * frame, count * frame)
        else:
            with open(span.path, "rb") as fh:
                fh.seek(first * frame)
                data = fh.read(count * frame)
        data = data[: len(data) - len(data) % frame]  # a torn last frame after a crash
        pcm = np.frombuffer(data, dtype="<i2").reshape(-1, span.channels)
        return (pcm.mean(axis=1) / 32768.0).astype(np.float32)
    import soundfile as sf

    plain = _decrypted(span.path, key) if encrypted else None
    try:
        with sf.SoundFile(io.BytesIO(plain) if plain is not None else str(span.path)) as f:
            if first >= f.frames:
                return np.zeros(0, np.float32)
            f.seek(first)
            data = f.read(min(count, f.frames - first), dtype="float32", always_2d=True)
    except Exception as exc:
        raise FieldkitError(_("Cannot read the audio file {path}: {exc}").format(path=span.path, exc=exc)) from exc
    return data.mean(axis=1).astype(np.float32)


def load_audio(handle: "ProjectHandle", session_id: uuid.UUID, start_ms: int = 0,
               end_ms: int | None = None, sr: int = 16000,
               spans: list[FileSpan] | None = None) -> np.ndarray:
    """float32 mono samples at ``sr`` for [start_ms, end_ms) of the session clock.
    Gaps (pauses) are silence; a missing end means "all durable audio so far". Only the
    part asked for is read from each file (seeking), so memory follows the span, not the
    recording. ``spans``: the session's files when the caller has them already."""
    spans = _spans(handle, session_id) if spans is None else spans
    if end_ms is None:
        end_ms = max((s.offset_ms + file_duration_ms(s, handle.key) for s in spans if s.path.exists()),
                     default=0)
    n = max(0, (end_ms - start_ms) * sr // 1000)
    out = np.zeros(n, dtype=np.float32)
    for span in spans:
        if span.offset_ms >= end_ms:
            continue
        rate = span.sample_rate
        lo_ms = max(0, start_ms - span.offset_ms)          # where in the file the part begins
        out_first = lo_ms * sr // 1000                     # ... in samples at `sr`
        out_end = (end_ms - span.offset_ms) * sr // 1000
        if rate == sr:
            a_first, count, skip = out_first, out_end - out_first, 0
        else:
            # start on a sample where both rates meet (44.1 kHz and 16 kHz: every 441/160),
            # with some samples before and after, so the resampled part lines up with the
            # same samples of the whole file resampled at once
            g = math.gcd(rate, sr)
            unit_in, unit_out = rate // g, sr // g
            pad = max(1, -(-64 // unit_out))
            blk = max(0, out_first // unit_out - pad)
            a_first, skip = blk * unit_in, out_first - blk * unit_out
            count = -(-out_end * rate // sr) + pad * unit_in - a_first
        native = read_range(span, a_first, count, handle.key)
        if len(native) == 0:
            continue
        samples = resample(native, rate, sr)[skip:]
        a = (span.offset_ms + lo_ms - start_ms) * sr // 1000   # where the part starts in `out`
        lo, hi = max(0, -a), min(len(samples), n - a)
        if hi > lo:
            out[a + lo: a + hi] = samples[lo:hi]
    return out
