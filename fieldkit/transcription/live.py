"""Live transcription: finished stretches of speech are transcribed while recording.

A separate process (spawned, at lower priority, one CPU thread, so the recorder keeps a
core) follows the session's durable audio (``available_ms``), cuts it at pauses between
words found by the Silero voice-activity model that faster-whisper bundles (an energy
threshold cut inside quiet words and kept breaths and room noise as "speech"), and
transcribes each stretch that has ended, storing segments in a TranscriptionRun with
mode "live". When recording stops only the tail after the last pause remains, so the
transcript is complete seconds after stop.
"""

from __future__ import annotations

import multiprocessing as mp
import os
import time
import uuid
from pathlib import Path

import numpy as np

from fieldkit.recording.windows import find_cut, speech_spans  # noqa: F401 - the cuts are shared with batch

SR = 16000
MIN_PAUSE_MS = 500            # a pause is >= 0.5 s without speech (Silero VAD)
SHORT_PAUSE_MS = 150          # when a stretch grows too long: any breath will do
MIN_STRETCH_MS = 8000         # whole sentences: shorter pieces lose context (tests/bench/live_wer_bench.py)
MAX_STRETCH_MS = 30000        # cut somewhere anyway after this long
POLL_S = 1.0
#: the error text of a live run whose process ended before the recording did (a crash, a
#: kill, a closed terminal): recovery or the worker itself closes it with this, and the
#: final pass completes the transcript
INTERRUPTED = "interrupted"


def lock_path(folder: Path, session_id) -> Path:
    """The lock a live worker holds while it runs (the operating system drops it when the
    process ends, however it ends): recovery knows a dead run by it."""
    return Path(folder) / "logs" / f"live-{session_id}.lock"


def worker_alive(folder: Path, session_id) -> bool:
    import fcntl

    lock = lock_path(folder, session_id)
    if not lock.exists():
        return False
    try:
        fd = os.open(lock, os.O_RDONLY)
    except OSError:
        return False
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except OSError:
        return True
    else:
        fcntl.flock(fd, fcntl.LOCK_UN)
        return False
    finally:
        os.close(fd)


def next_cut(audio: np.ndarray) -> int | None:
    """Where the live worker cuts the audio not yet transcribed (samples), or None to
    wait for more: the last pause after at least MIN_STRETCH_MS, or once the stretch is
    MAX_STRETCH_MS long, any short pause (else a second before its end)."""
    min_at = MIN_STRETCH_MS * SR // 1000
    cut = find_cut(audio, MIN_PAUSE_MS, min_at)
    if cut is None and len(audio) >= MAX_STRETCH_MS * SR // 1000:
        cut = find_cut(audio, SHORT_PAUSE_MS, min_at) or len(audio) - SR
    return cut


def replay_cuts(audio: np.ndarray, poll_ms: int = int(POLL_S * 1000)) -> list[int]:
    """The cut points (ms) the live worker makes on ``audio`` arriving in real time,
    polled every ``poll_ms``, ending with the end of the audio (for benchmarks)."""
    total = len(audio) * 1000 // SR
    done, out = 0, []
    for avail in range(poll_ms, total, poll_ms):
        while avail - done >= MIN_STRETCH_MS:
            cut = next_cut(audio[done * SR // 1000: avail * SR // 1000])
            if cut is None:
                break
            done += cut * 1000 // SR
            out.append(done)
    return out + [total]


def _worker(folder: str, session_id: str, settings: dict, stop: "mp.synchronize.Event",
            passphrase_key: tuple[bytes, bytes] | None, log_path: str | None = None) -> None:
    import fcntl
    import signal

    try:
        os.nice(10)
    except OSError:
        pass
    # the parent says when to end (the stop event) or dies: a Ctrl+C in the terminal of
    # `fieldkit record --live` or a closed terminal (SIGINT, SIGHUP to the whole process
    # group) must not kill the transcript half-way while the parent stops cleanly
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    signal.signal(signal.SIGHUP, signal.SIG_IGN)
    parent = os.getppid()
    os.makedirs(Path(folder) / "logs", mode=0o700, exist_ok=True)
    lock_fd = os.open(lock_path(Path(folder), session_id), os.O_RDWR | os.O_CREAT, 0o600)
    fcntl.flock(lock_fd, fcntl.LOCK_EX)   # held until this process ends
    if log_path:
        # the parent may be a full-screen terminal app: nothing of ours may write into it
        fd = os.open(log_path, os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o600)
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, 1)
        os.dup2(fd, 2)
    from sqlmodel import select

    from fieldkit.privacy.crypto import ProjectKey
    from fieldkit.projects import ProjectHandle
    from fieldkit.recording.audio import available_ms, load_audio
    from fieldkit.store.db import open_database
    from fieldkit.store.models import (
        Project, Recording, RecordingState, RunStatus, Session, SessionStatus, TranscriptionRun,
        TranscriptSegment, utcnow,
    )
    from fieldkit.transcription.engine import load_model, transcribe_array
    from fieldkit.transcription.settings import TranscriptionSettings

    key = ProjectKey(*passphrase_key) if passphrase_key else None
    db = open_database(Path(folder) / "project.db", key=key)
    sid = uuid.UUID(session_id)
    with db.session() as s:
        project = s.exec(select(Project)).one()
    handle = ProjectHandle(folder=Path(folder), db=db, project_id=project.id, key=key)
    st = TranscriptionSettings(**settings)
    model = load_model(st)
    with db.transaction() as s:
        run = TranscriptionRun(session_id=sid, mode="live", status=RunStatus.running, model=st.model,
                               language=st.language, settings=st.as_dict())
        s.add(run)
    done = 0

    def transcribe(upto: int) -> None:
        nonlocal done
        audio = load_audio(handle, sid, done, upto)
        for seg in transcribe_array(st, audio, offset_ms=done, model=model):
            with db.transaction() as s:
                s.add(TranscriptSegment(session_id=sid, run_id=run.id, start_ms=seg.start_ms,
                                        end_ms=min(seg.end_ms, upto), verbatim=seg.text, words=seg.words,
                                        language=seg.language, avg_logprob=seg.avg_logprob,
                                        no_speech_prob=seg.no_speech_prob))
        done = upto
        with db.transaction() as s:
            s.get(TranscriptionRun, run.id).done_ms = done

    def recording_active() -> bool:
        with db.session() as s:
            return any(r.state in (RecordingState.recording, RecordingState.paused)
                       for r in s.exec(select(Recording).where(Recording.session_id == sid)))

    interrupted = False
    while True:
        if os.getppid() != parent and not stop.is_set():
            # the parent died without asking for the end (a kill, a crash): the recording is
            # unfinished; recovery finishes it and the final pass completes the transcript
            interrupted = True
            break
        stopping = stop.is_set() and not recording_active()
        for _attempt in range(3):  # a file may be renamed .pcm -> .flac under our feet
            try:
                avail = available_ms(handle, sid)
                break
            except Exception:  # noqa: BLE001
                time.sleep(0.2)
        if stopping:
            if avail > done:
                transcribe(avail)
            break
        if avail - done >= MIN_STRETCH_MS:
            try:
                audio = load_audio(handle, sid, done, avail)
            except Exception:  # noqa: BLE001 - being finalised right now: next round
                time.sleep(0.2)
                continue
            cut = next_cut(audio)
            if cut is not None:
                transcribe(done + cut * 1000 // SR)
                continue
        stop.wait(POLL_S)
    with db.transaction() as s:
        r = s.get(TranscriptionRun, run.id)
        if interrupted:
            r.status, r.error, r.finished_at, r.done_ms = RunStatus.cancelled, INTERRUPTED, utcnow(), done
        else:
            r.status, r.finished_at, r.done_ms, r.total_ms = RunStatus.done, utcnow(), done, done
            sess = s.get(Session, sid)
            if sess.status in (SessionStatus.recorded, SessionStatus.recording):
                sess.status = SessionStatus.transcribed
    if interrupted:
        from fieldkit.transcription.service import queue_final_pass

        queue_final_pass(handle, sid)
    db.close()


def _ensure_resource_tracker() -> None:
    """Under a Textual app sys.stderr is a capture object whose fileno() is -1, which
    multiprocessing passes on to its resource-tracker process and then fails ("bad
    value(s) in fds_to_keep"): start the tracker with the real stderr."""
    import sys
    from multiprocessing import resource_tracker

    saved = sys.stderr
    try:
        try:
            usable = saved.fileno() >= 0
        except (AttributeError, OSError, ValueError):
            usable = False
        if not usable and sys.__stderr__ is not None:
            sys.stderr = sys.__stderr__
        resource_tracker.ensure_running()
    finally:
        sys.stderr = saved


class LiveTranscriber:
    """Start beside a Recorder; ``stop()`` after the recorder stopped returns when the
    tail is transcribed."""

    def __init__(self, handle, session_id: uuid.UUID, settings, quiet: bool = False) -> None:
        """``quiet``: the worker's messages go to ``<project>/logs/live.log`` instead of
        the terminal (for the full-screen app)."""
        _ensure_resource_tracker()
        self.handle, self.session_id = handle, session_id
        log_path = None
        if quiet:
            from fieldkit.paths import ensure_private_dir

            ensure_private_dir(handle.folder / "logs")
            log_path = str(handle.folder / "logs" / "live.log")
        self.settings = settings.for_live().as_dict()
        self.settings["threads"] = 1
        ctx = mp.get_context("spawn")
        self._stop = ctx.Event()
        key = (handle.key.db, handle.key.audio) if handle.key is not None else None
        self._proc = ctx.Process(target=_worker, name="fieldkit-live",
                                 args=(str(handle.folder), str(session_id), self.settings, self._stop, key, log_path),
                                 daemon=True)

    def start(self) -> "LiveTranscriber":
        self._proc.start()
        return self

    def stop(self, timeout: float = 120) -> bool:
        """Ask for the tail and wait; True when the transcript is complete."""
        self._stop.set()
        self._proc.join(timeout)
        return self._proc.exitcode == 0
