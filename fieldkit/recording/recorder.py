"""Crash-safe capture: at most a second of audio lost whatever happens.

Three parts, so nothing slow ever runs in the audio callback:

* the PortAudio callback (sounddevice) copies each block with its arrival time into a
  queue and counts overflows, nothing else;
* a writer thread appends the blocks to ``<seq>.pcm`` (raw int16; encrypted records in
  an encrypted project), fsyncs at least every ``SYNC_S`` (0.5 s), updates the level
  meter, checks clipping, digital silence, a vanished device and free disk, and stores
  the clock anchor and durations in the database every few seconds;
* :meth:`Recorder.stop` drains the queue, closes the file and turns it into FLAC (a
  temporary file, fsync, rename; :mod:`fieldkit.recording.finalise`) — and
  :mod:`fieldkit.recording.recovery` does the same for recordings whose process died.

While it records, the recorder holds an fcntl lock on ``recorder.lock`` in its folder:
that is how recovery tells a running recorder from a dead one.

A full disk never ends in a crash: the writer checks the free space every second and
stops cleanly while there is still room to finish (the FLAC conversion, its temporary
file and the database: :func:`fieldkit.recording.finalise.room_to_finish`); should a
write fail anyway (another program filled the disk), everything written so far is kept
and the recording is stopped and attached the same way.

Raw PCM is chosen over writing FLAC directly because a raw file is valid up to its last
byte after a crash (no header to repair), its length is its duration, and it can be
read while it grows (live transcription).
"""

from __future__ import annotations

import os
import queue
import threading
import time
import uuid
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path
from typing import TYPE_CHECKING, Callable

import numpy as np

from fieldkit.errors import ExitCode, FieldkitError
from fieldkit.i18n import N_, N_plural, Said, _, ngettext

FILES = N_plural("{n} file", "{n} files")
OVERFLOWS = N_plural("{n} overflow", "{n} overflows")
SECONDS = N_plural("{n} second", "{n} seconds")
RAW_KEPT = N_plural("{n} file is kept as raw audio", "{n} files are kept as raw audio")

if TYPE_CHECKING:
    from fieldkit.projects import ProjectHandle

SYNC_S = 0.5            # durable on disk within this (and a block) of being spoken
ANCHOR_S = 3.0          # clock anchor and durations to the database this often
ANCHOR_TOLERANCE_MS = 40
DISK_CHECK_S = 1.0     # free space is checked this often (cheap: one statvfs)
SILENCE_WARN_S = 4.0    # digital silence this long: muted or unplugged microphone
CLIP_CLEAR_S = 10.0     # no clipping for this long after a clipping warning: it is over
DEVICE_TIMEOUT_S = 2.0  # no blocks for this long while recording: the device is gone
OPEN_GRACE_S = 3.0      # a device just opened may take this long to deliver its first block
BEHIND_WARN_S = 1.0     # the blocks received fall this far behind the time that passed: audio
#                         was dropped before it reached us (a loaded machine, an audio server
#                         that stalled); warned again each time as much more is missing
BEHIND_CONFIRM_S = 1.0  # ... and still missing this long after (late blocks catch up)
LOW_DISK_S = 15 * 60    # warn when less audio than this fits on the disk
STOP_DISK_S = 5         # stop cleanly when less than this still fits (beyond the room to finish)


class RecorderError(FieldkitError):
    exit_code = ExitCode.RECORDER


@dataclass
class RecorderWarning:
    kind: str      # clipping, clipping_over, silence, sound_back, device_lost, device_back,
    #                disk_low, disk_full, stop_failed, behind
    message: str   # a Said: worded in the user's language where it is shown
    at_ms: int


@dataclass
class Summary:
    recording_id: uuid.UUID
    duration_ms: int
    overflows: int
    files: int
    warnings: list[RecorderWarning]
    raw_kept: int = 0          # files kept raw: no room to convert them (see finalise)
    room_needed: int = 0       # bytes more free space needed to finish those
    disk_full: bool = False    # the recorder stopped itself because the disk was (nearly) full
    behind_ms: int = 0         # audio that never arrived: the blocks fell this far behind the clock

    @property
    def message(self) -> str:
        from fieldkit.recording.clock import hms
        from fieldkit.recording.finalise import size_text

        text = Said("stopped", N_("Stopped: {duration} recorded in {files}, {overflows}."),
                    duration=hms(self.duration_ms), files=Said("files", FILES, n=self.files),
                    overflows=Said("overflows", OVERFLOWS, n=self.overflows))
        if self.behind_ms >= BEHIND_WARN_S * 1000:
            text = Said("stopped_behind", N_("{stopped} About {missing} of audio never arrived from the "
                                             "microphone (the computer was too busy?)."),
                        stopped=text, missing=_seconds(self.behind_ms))
        if self.disk_full:
            text = Said("stopped_disk_full", N_("The disk was nearly full, so the recording stopped by itself; "
                                                "everything captured is kept. {stopped}"), stopped=text)
        if self.raw_kept:
            text = Said("stopped_raw_kept", N_("{stopped} {raw_kept} (they play and transcribe): free {size} "
                                               "and run `fieldkit recover` to finish them."),
                        stopped=text, raw_kept=Said("raw_kept", RAW_KEPT, n=self.raw_kept),
                        size=size_text(self.room_needed))
        return text


def _hms(ms: int) -> str:
    from fieldkit.recording.clock import hms

    return hms(ms)


def _seconds(ms: int) -> Said:
    """A count of seconds, worded where it is shown."""
    return Said("seconds", SECONDS, n=round(ms / 1000))


def _duration(seconds: float) -> str:
    from fieldkit.recording.clock import duration_text

    return duration_text(seconds)


def _db_time(t: float) -> datetime:
    return datetime.fromtimestamp(t, tz=timezone.utc)


class Recorder:
    """Records one session. ``start``, ``pause``, ``resume``, ``stop``; thread-safe."""

    def __init__(self, handle: "ProjectHandle", session_id: uuid.UUID, *, device: str | int | None = None,
                 samplerate: int = 16000, channels: int = 1, author_id: uuid.UUID | None = None,
                 on_warning: Callable[[RecorderWarning], None] | None = None, block_ms: int = 50):
        self.handle, self.session_id = handle, session_id
        self.device, self.samplerate, self.channels = device, samplerate, channels
        self.author_id, self.on_warning = author_id, on_warning
        self.blocksize = samplerate * block_ms // 1000
        self.state = "idle"
        self.overflows = 0
        self.samples_written = 0          # in the current file
        self.peak_db = self.rms_db = -120.0
        self.warnings: list[RecorderWarning] = []
        self._q: queue.SimpleQueue = queue.SimpleQueue()
        self._stream = None
        self._writer: threading.Thread | None = None
        self._lock = threading.Lock()
        self._stop = threading.Event()
        self._paused = threading.Event()
        self.recording_id: uuid.UUID | None = None
        self._file_seq = -1
        self._file_offset_ms = 0
        self._fh = None
        self._path: Path | None = None
        self._file_id: uuid.UUID | None = None
        self._last_block_t = 0.0
        self._device_lost = False
        self._anchor: tuple[int, float] | None = None
        self._grace_until = 0.0
        self.bytes_per_s = samplerate * channels * 2
        self._largest_closed = 0          # bytes of the largest raw file closed so far
        self._lock_fh = None              # the recorder's fcntl lock (see finalise.hold_lock)
        self._stopped = threading.Event()
        self._disk_full = False
        self._write_error: OSError | None = None
        self.summary: Summary | None = None
        self.behind_ms = 0                # audio that never arrived, over the whole recording
        self._behind_before_ms = 0        # ... in the streams closed before the current one
        self._stream_t0: float | None = None   # arrival of the current stream's first block
        self._stream_samples = 0          # samples the current stream delivered after it
        self._behind_warned_ms = 0
        self._behind_seen: float | None = None   # when the shortfall was first seen

    # ------------------------------------------------------------------ public

    @property
    def position_ms(self) -> int:
        return self._file_offset_ms + self.samples_written * 1000 // self.samplerate

    def clock_ms(self, at: float | None = None) -> int:
        """The session clock at wall time ``at`` (default now): the same anchor the
        database gives other processes, so both terminals put a keypress at the same
        audio position. Paused or stopped, the clock stands still."""
        from fieldkit.recording.clock import position_at

        anchor = self._anchor
        if self.state != "recording" or anchor is None:
            return self.position_ms
        return position_at("recording", anchor[0], anchor[1], time.time() if at is None else at)

    def _raw_bytes_now(self) -> int:
        return max(self._largest_closed, self.samples_written * 2 * self.channels)

    def disk_left_s(self) -> float:
        """Seconds of audio that still fit on the disk, keeping the room needed to finish
        (convert the largest raw file to FLAC and store the result)."""
        from fieldkit.recording.finalise import free_bytes, room_to_finish

        spare = free_bytes(self.handle.folder) - room_to_finish(self._raw_bytes_now())
        # each further second costs its raw bytes now and (about) as much again to convert
        return max(0.0, spare / (self.bytes_per_s * 2.02))

    def start(self) -> None:
        from sqlmodel import select

        from fieldkit.instruments.events import add_event
        from fieldkit.store.models import (
            EventKind, Recording, RecordingFile, RecordingState, Session, SessionParticipant,
            SessionStatus,
        )

        with self.handle.db.session() as s:
            sess = s.get(Session, self.session_id)
            if sess is None:
                raise RecorderError(_("No session {session_id} in this project.").format(session_id=self.session_id))
            missing = [p for p in s.exec(select(SessionParticipant).where(
                SessionParticipant.session_id == self.session_id)) if p.recording_consent is not True]
            if missing:
                raise RecorderError(
                    ngettext("{n} participant of “{title}” has not consented to recording.",
                             "{n} participants of “{title}” have not consented to recording.",
                             len(missing)).format(n=len(missing), title=sess.title),
                    hint=_("Record their consent at the start of the session, or "
                             "take notes without recording."))
            start_ms = max((f.offset_ms + f.duration_ms for f in s.exec(
                select(RecordingFile).join(Recording).where(Recording.session_id == self.session_id))), default=0)
        from fieldkit.recording.clock import duration_text
        from fieldkit.recording.finalise import hold_lock, room_to_finish, size_text

        left = self.disk_left_s()
        if left < STOP_DISK_S * 2:
            need = room_to_finish(STOP_DISK_S * 2 * self.bytes_per_s) + STOP_DISK_S * 2 * self.bytes_per_s
            raise RecorderError(_("The disk holding {folder} is too full to record "
                                    "({duration_text} of audio would fit).").format(folder=self.handle.folder, duration_text=duration_text(left)),
                                hint=_("Free at least {size_text} (about 4 MB per "
                                         "minute of audio) first.").format(size_text=size_text(need)))
        self._check_device()
        self.recording_id = uuid.uuid4()
        self._folder_rel = Path("audio") / str(self.session_id) / str(self.recording_id)
        (self.handle.folder / self._folder_rel).mkdir(parents=True, mode=0o700)
        # the lock first, then the row: recovery never sees a recording without its lock
        self._lock_fh = hold_lock(self.handle.folder / self._folder_rel)
        now = time.time()
        with self.handle.db.transaction() as s:
            s.add(Recording(id=self.recording_id, session_id=self.session_id, state=RecordingState.recording,
                            folder=str(self._folder_rel), sample_rate=self.samplerate, channels=self.channels,
                            device=str(self.device or "default"), clock_ms=start_ms, clock_wall=_db_time(now),
                            recorder_pid=os.getpid(), created_by=self.author_id))
            sess = s.get(Session, self.session_id)
            sess.status = SessionStatus.recording
            sess.starts_at = sess.starts_at or _db_time(now)
        self._file_offset_ms = self._rec_start_ms = start_ms
        self._open_file()
        add_event(self.handle.db, self.session_id, EventKind.recording, position_ms=start_ms,
                  author_id=self.author_id, code="start")
        if left < LOW_DISK_S:
            self._warn("disk_low", Said("disk_low", N_("Only {duration} of audio fit on the disk."),
                                        duration=duration_text(left)))
        self.state = "recording"
        self._last_block_t = time.time()
        self._anchor = (start_ms, now)
        self._writer = threading.Thread(target=self._write_loop, name="fieldkit-writer", daemon=True)
        self._writer.start()
        self._open_stream()

    def pause(self) -> None:
        from fieldkit.instruments.events import add_event
        from fieldkit.store.models import EventKind, Recording, RecordingPause, RecordingState

        with self._lock:
            if self.state != "recording":
                return
            self._close_stream()
        self._flush_queue()  # every block captured before the pause is on disk first
        with self._lock:
            self.state = "paused"
            self._paused.set()
            if self._fh is not None:
                try:
                    self._sync()  # durable at the pause: a crash while paused loses nothing
                except OSError:
                    pass  # a full disk: the writer stops the recording on its next round
            at = self.position_ms
            with self.handle.db.transaction() as s:
                rec = s.get(Recording, self.recording_id)
                rec.state, rec.clock_ms, rec.clock_wall = RecordingState.paused, at, _db_time(time.time())
                s.add(RecordingPause(recording_id=self.recording_id, at_ms=at))
            self._store_durations()
        add_event(self.handle.db, self.session_id, EventKind.recording, position_ms=at,
                  author_id=self.author_id, code="pause")

    def resume(self) -> None:
        from sqlmodel import select

        from fieldkit.instruments.events import add_event
        from fieldkit.store.models import EventKind, Recording, RecordingPause, RecordingState, utcnow

        with self._lock:
            if self.state != "paused":
                return
            at = self.position_ms
            with self.handle.db.transaction() as s:
                rec = s.get(Recording, self.recording_id)
                rec.state, rec.clock_ms, rec.clock_wall = RecordingState.recording, at, _db_time(time.time())
                p = s.exec(select(RecordingPause).where(RecordingPause.recording_id == self.recording_id,
                                                        RecordingPause.resumed_at.is_(None))).first()
                if p is not None:
                    p.resumed_at = utcnow()
            self._paused.clear()
            self._anchor = (at, time.time())
            self.state = "recording"
            self._last_block_t = time.time()
            self._open_stream()
        add_event(self.handle.db, self.session_id, EventKind.recording, position_ms=at,
                  author_id=self.author_id, code="resume")

    def stop(self) -> Summary:
        """Stop and finish the files. Safe to call again, or while the recorder stops
        itself (a full disk): every caller gets the same summary."""
        with self._lock:
            if self.state == "idle":
                raise RecorderError(_("The recorder is not running."))
            first = self.state not in ("stopping", "stopped")
            if first:
                self.state = "stopping"  # the clock stands still from here
                self._close_stream()
                self._stop.set()
        if not first:
            if threading.current_thread() is not self._writer:
                self._stopped.wait(120)
            if self.summary is None:
                raise RecorderError(self._stop_problem or _("The recorder is still stopping."))
            return self.summary
        try:
            self.summary = self._finish()
            return self.summary
        except RecorderError as exc:
            self._stop_problem = exc.message
            raise
        except Exception as exc:  # noqa: BLE001 - never a traceback for the researcher
            from fieldkit.recording.finalise import disk_full

            if disk_full(exc):
                self._stop_problem = _("The disk holding {folder} is full: the recording could not "
                                       "be finished. Its raw audio is kept.").format(folder=self.handle.folder)
                raise RecorderError(self._stop_problem,
                                    hint=_("Free some space and run `fieldkit "
                                             "recover`.")) from None
            self._stop_problem = _("The recording could not be finished: {exc}").format(exc=exc)
            raise RecorderError(self._stop_problem, hint=_("Run `fieldkit recover` "
                                                             "to finish it.")) from None
        finally:
            if self._lock_fh is not None:
                from fieldkit.recording.finalise import release_lock

                release_lock(self._lock_fh, self.handle.folder / self._folder_rel)
                self._lock_fh = None
            self._stopped.set()

    _stop_problem: str | None = None

    def _finish(self) -> Summary:
        from fieldkit.instruments.events import add_event
        from fieldkit.recording.finalise import finalise_recording_files
        from fieldkit.store.models import EventKind, Recording, RecordingState, Session, SessionStatus, utcnow

        # the writer needs the lock for its last blocks: wait for it outside the lock
        if self._writer is not None and self._writer is not threading.current_thread():
            self._writer.join(timeout=10)
        with self._lock:
            self._drain()
            self._close_file()
            self.state = "stopped"
        end = self.position_ms
        files = finalise_recording_files(self.handle, self.recording_id)
        raw = [f for f in files if f.raw_kept]
        with self.handle.db.transaction() as s:
            rec = s.get(Recording, self.recording_id)
            rec.state, rec.ended_at, rec.recorder_pid = RecordingState.complete, utcnow(), None
            rec.clock_ms, rec.clock_wall = end, _db_time(time.time())
            rec.duration_ms = sum(f.row.duration_ms for f in files)
            rec.info = {**rec.info, "overflows": self.overflows, "raw_kept": len(raw), "behind_ms": self.behind_ms,
                        **({"stopped_by": "disk_full"} if self._disk_full else {})}
            sess = s.get(Session, self.session_id)
            sess.status, sess.ended_at = SessionStatus.recorded, utcnow()
            duration = rec.duration_ms
        add_event(self.handle.db, self.session_id, EventKind.recording, position_ms=end,
                  author_id=self.author_id, code="stop")
        return Summary(self.recording_id, duration, self.overflows, len(files), list(self.warnings),
                       len(raw), max((f.room_needed for f in raw), default=0), self._disk_full, self.behind_ms)

    # ------------------------------------------------------------------ audio side

    def _check_device(self) -> None:
        import sounddevice as sd

        try:
            sd.check_input_settings(device=self.device, samplerate=self.samplerate,
                                    channels=self.channels, dtype="int16")
        except Exception as exc:  # noqa: BLE001 - PortAudio errors of every kind
            raise RecorderError(_("The microphone {value!s} cannot record {channels} "
                                    "channel(s) at {samplerate} Hz: {exc}").format(value=self.device or _("(default)"), channels=self.channels, samplerate=self.samplerate, exc=exc),
                                hint=_("See `fieldkit devices` for the microphones "
                                         "on this laptop.")) from None

    def _callback(self, indata, frames, time_info, status) -> None:
        if status.input_overflow:
            self.overflows += 1
        self._q.put((time.time(), bytes(indata)))

    def _open_stream(self) -> None:
        import sounddevice as sd

        self._stream = sd.RawInputStream(device=self.device, samplerate=self.samplerate,
                                         channels=self.channels, dtype="int16",
                                         blocksize=self.blocksize, callback=self._callback)
        self._stream.start()
        self._grace_until = time.time() + OPEN_GRACE_S
        self._behind_before_ms = self.behind_ms
        self._stream_t0, self._stream_samples, self._behind_seen = None, 0, None

    def _close_stream(self) -> None:
        if self._stream is not None:
            try:
                self._stream.stop()
                self._stream.close()
            except Exception:  # noqa: BLE001 - a vanished device fails to close; it is gone anyway
                pass
            self._stream = None

    # ------------------------------------------------------------------ file side

    def _open_file(self) -> None:
        from fieldkit.store.models import RecordingFile

        self._file_seq += 1
        name = f"{self._file_seq:04d}.pcm"
        self._path = self.handle.folder / self._folder_rel / name
        if self.handle.key is not None:
            from fieldkit.privacy.crypto import EncryptedWriter

            self._fh = EncryptedWriter(self._path, self.handle.key, fsync=False)
        else:
            self._fh = open(self._path, "wb")
        self.samples_written = 0
        self._file_id = uuid.uuid4()
        with self.handle.db.transaction() as s:
            s.add(RecordingFile(id=self._file_id, recording_id=self.recording_id, seq=self._file_seq,
                                path=str(self._folder_rel / name), offset_ms=self._file_offset_ms))
        self._last_sync = time.time()
        self._pending = bytearray()

    def _sync(self) -> None:
        fh = self._fh
        if self._pending:
            fh.write(bytes(self._pending))  # one encrypted record per sync in encrypted projects
            self._pending.clear()
        raw = fh._fh if hasattr(fh, "_fh") else fh
        raw.flush()
        os.fsync(raw.fileno())
        self._last_sync = time.time()

    def _close_file(self) -> None:
        if self._fh is None:
            return
        try:
            self._sync()
            self._fh.close()
        except OSError as exc:
            # the disk is full (or gone): what reached the file is kept, the rest is lost
            self._write_error = self._write_error or exc
            self._pending.clear()
            try:
                self._fh.close()
            except OSError:
                pass
            frame = 2 * self.channels
            self.samples_written = self._path.stat().st_size // frame if self._path.exists() else 0
        self._fh = None
        self._largest_closed = max(self._largest_closed, self.samples_written * 2 * self.channels)
        self._store_durations()

    def _store_durations(self) -> None:
        from fieldkit.store.models import Recording, RecordingFile

        with self.handle.db.transaction() as s:
            f = s.get(RecordingFile, self._file_id)
            f.duration_ms = self.samples_written * 1000 // self.samplerate
            rec = s.get(Recording, self.recording_id)
            rec.duration_ms = self.position_ms - self._rec_start_ms

    def _write_block(self, t: float, data: bytes) -> None:
        self._pending += data
        n = len(data) // (2 * self.channels)
        self.samples_written += n
        self._last_block_t = t
        if self._stream_t0 is None:
            self._stream_t0 = t          # the block ends at its arrival: count from here
        else:
            self._stream_samples += n
        x = np.frombuffer(data, dtype="<i2")
        peak = int(np.abs(x.astype(np.int32)).max()) if len(x) else 0
        self.peak_db = 20 * np.log10(max(peak, 1) / 32768)
        self.rms_db = 20 * np.log10(max(float(np.sqrt(np.mean(x.astype(np.float64) ** 2))) if len(x) else 0, 1) / 32768)
        if peak >= 32767:
            self._clipped += 1
        self._silent_samples = self._silent_samples + n if peak <= 1 else 0

    def _flush_queue(self) -> None:
        """Wait until the writer has written everything queued so far (FIFO barrier)."""
        barrier = threading.Event()
        self._q.put((None, barrier))
        if not barrier.wait(5):
            with self._lock:
                self._drain()

    def _drain(self) -> None:
        while True:
            try:
                t, data = self._q.get_nowait()
            except queue.Empty:
                return
            if t is None:
                data.set()
            elif self._fh is not None:
                self._write_block(t, data)

    def _write_loop(self) -> None:

        self._clipped = 0
        self._silent_samples = 0
        silence_warned = False
        last_anchor = last_disk = time.time()
        last_low = clip_warned = 0.0
        while not self._stop.is_set():
            try:
                t, data = self._q.get(timeout=0.1)
                if t is None:  # a barrier from pause()
                    data.set()
                    continue
                with self._lock:
                    if self._fh is not None:
                        self._write_block(t, data)
            except queue.Empty:
                pass
            now = time.time()
            with self._lock:
                if self._device_lost and self.state == "recording":
                    self._device_gone()  # retries every 2 s until a device is back
                    continue
                if self._fh is None:
                    continue
                if now - self._last_sync >= SYNC_S:
                    try:
                        self._sync()
                    except OSError as exc:  # the disk filled under us (another program)
                        self._write_error = exc
                        self._disk_full = True
                        self._warn("disk_full", Said("disk_full", N_(
                            "The disk is full: the recording stopped at {time}; everything written so far "
                            "is kept."), time=_hms(self.position_ms)))
                        self._auto_stop()
                        return
                if (self.state == "recording" and now - self._last_block_t > DEVICE_TIMEOUT_S
                        and now > self._grace_until):
                    self._device_gone()
                    continue
                if self._clipped >= 5:
                    self._warn("clipping", Said("clipping", N_(
                        "The input is clipping: move the microphone away or lower the gain.")))
                    self._clipped = 0
                    clip_warned = now
                elif clip_warned and now - clip_warned >= CLIP_CLEAR_S:
                    clip_warned = 0.0
                    self._warn("clipping_over", Said("clipping_over", N_("The input no longer clips.")))
                silent = self._silent_samples / self.samplerate >= SILENCE_WARN_S
                if silent and not silence_warned:
                    self._warn("silence", Said("silence", N_(
                        "Digital silence for several seconds: is the microphone muted or unplugged?")))
                elif silence_warned and not silent:
                    self._warn("sound_back", Said("sound_back", N_("Sound is back.")))
                silence_warned = silent
                if self.state == "recording":
                    self._check_behind(now)
                if self.state == "recording" and self._anchor is not None and self._last_block_t > self._anchor[1]:
                    # keep the database clock within ANCHOR_TOLERANCE_MS of the real sample
                    # count (device start-up bursts, clock drift), and fresh every ANCHOR_S
                    a_ms, a_t = self._anchor
                    predicted = a_ms + (self._last_block_t - a_t) * 1000
                    if abs(predicted - self.position_ms) > ANCHOR_TOLERANCE_MS or now - last_anchor >= ANCHOR_S:
                        last_anchor = now
                        self._set_anchor(self.position_ms, self._last_block_t)
                        self._store_durations()
                if now - last_disk >= DISK_CHECK_S:
                    last_disk = now
                    left = self.disk_left_s()
                    if left < STOP_DISK_S:
                        self._disk_full = True
                        self._warn("disk_full", Said("disk_full", N_(
                            "The disk is almost full: the recording stopped at {time} while there is room "
                            "to finish it; everything recorded is kept."), time=_hms(self.position_ms)))
                        self._auto_stop()
                        return
                    if left < LOW_DISK_S and now - last_low >= 60:  # remind once a minute
                        last_low = now
                        self._warn("disk_low", Said("disk_low", N_("Only {duration} of audio still fit on the disk."),
                                                    duration=_duration(left)))

    def _check_behind(self, now: float) -> None:
        """(writer, lock held) Compare the samples the stream delivered with the time that
        passed between their blocks' arrivals: PortAudio reports an overflow only for what
        it dropped itself, not audio lost before it (the audio server, a virtual microphone
        under load). Falling BEHIND_WARN_S more behind, and staying so for BEHIND_CONFIRM_S
        (blocks that were only late arrive in a burst and catch up), is a warning (kind
        ``behind``, the missing time as its value), stored with the recording."""
        if self._stream_t0 is None:
            return
        passed_s = self._last_block_t - self._stream_t0
        missing_ms = int((passed_s - self._stream_samples / self.samplerate) * 1000)
        total = self._behind_before_ms + max(0, missing_ms)
        if total - self._behind_warned_ms < BEHIND_WARN_S * 1000:
            self._behind_seen = None
            return
        if self._behind_seen is None:
            self._behind_seen = now
        if now - self._behind_seen < BEHIND_CONFIRM_S:
            return
        self._behind_seen = None
        self.behind_ms = self._behind_warned_ms = max(self.behind_ms, total)
        self._store_behind()
        self._warn("behind", Said("behind", N_(
            "The microphone delivered {missing} less audio than the time that passed: speech may be "
            "missing (is the computer too busy?)."), missing=_seconds(self.behind_ms)))

    def _store_behind(self) -> None:
        from fieldkit.store.models import Recording

        with self.handle.db.transaction() as s:
            rec = s.get(Recording, self.recording_id)
            rec.info = {**rec.info, "behind_ms": self.behind_ms}

    def _auto_stop(self) -> None:
        """Stop from the writer (full disk) on a thread of its own; a failure is a warning."""
        def run() -> None:
            try:
                self.stop()
            except FieldkitError as exc:
                self._warn("stop_failed", exc.message)

        threading.Thread(target=run, name="fieldkit-autostop", daemon=True).start()

    def _set_anchor(self, clock_ms: int, wall: float) -> None:
        from fieldkit.store.models import Recording

        self._anchor = (clock_ms, wall)
        with self.handle.db.transaction() as s:
            rec = s.get(Recording, self.recording_id)
            rec.clock_ms, rec.clock_wall = clock_ms, _db_time(wall)

    def _device_gone(self) -> None:
        """Called with the lock held: close the segment, then try to get a device back."""
        if not self._device_lost:
            self._device_lost = True
            self._close_stream()
            self._close_file()
            self._warn("device_lost", Said("device_lost", N_(
                "The microphone {device} stopped delivering audio. Recording continues when it is back."),
                device=self.device or Said("default_device", N_("(default)"))))
            self._retry_at = time.time()
        if time.time() < self._retry_at:
            return
        self._retry_at = time.time() + 2.0
        try:
            import sounddevice as sd

            # PortAudio lists devices once, when it starts: re-read them so a microphone
            # plugged back in (or an audio server restarted) can be found again
            sd._terminate()
            sd._initialize()
            self._check_device()
            self._file_offset_ms = self.position_ms
            self._open_file()
            self._last_block_t = time.time()
            self._open_stream()
        except Exception:  # noqa: BLE001 - still gone: try again later
            self._close_stream()
            return
        self._device_lost = False
        self._warn("device_back", Said("device_back", N_(
            "The microphone is back; recording continues in the same session.")))

    def _warn(self, kind: str, message: str) -> None:
        w = RecorderWarning(kind, message, self.position_ms)
        self.warnings.append(w)
        if self.on_warning is not None:
            try:
                self.on_warning(w)
            except Exception:  # noqa: BLE001 - a UI callback must not stop the recording
                pass
