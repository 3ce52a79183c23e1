"""Live transcription: finished stretches of speech are transcribed while recording.

A separate process (spawned, at lower priority, one CPU thread, so the recorder keeps a
core) follows the session's durable audio (``available_ms``), cuts it at pauses and
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

SR = 16000
FRAME = SR * 30 // 1000       # 30 ms energy frames
MIN_PAUSE_FRAMES = 17         # a pause is >= 0.5 s quiet
MIN_STRETCH_MS = 4000         # do not transcribe tiny pieces
MAX_STRETCH_MS = 30000        # cut somewhere anyway after this long
POLL_S = 1.0


def find_cut(audio: np.ndarray) -> int | None:
    """Sample index in the middle of the last pause (>= 0.5 s quiet), or None."""
    n = len(audio) // FRAME
    if n < MIN_PAUSE_FRAMES * 2:
        return None
    rms = np.sqrt((audio[: n * FRAME].reshape(n, FRAME) ** 2).mean(axis=1))
    loud = rms[rms > 1e-4]
    threshold = max(0.005, float(np.percentile(loud, 90)) * 0.1) if len(loud) else 0.005
    quiet = rms < threshold
    run_end = None
    length = 0
    for i in range(n - 1, -1, -1):
        if quiet[i]:
            length += 1
            if run_end is None:
                run_end = i
        else:
            if length >= MIN_PAUSE_FRAMES and run_end is not None and run_end < n - 1:
                return (i + 1 + run_end + 1) // 2 * FRAME
            run_end, length = None, 0
    return None


def _worker(folder: str, session_id: str, settings: dict, stop: "mp.synchronize.Event",
            passphrase_key: tuple[bytes, bytes] | None, log_path: str | None = None) -> None:
    try:
        os.nice(10)
    except OSError:
        pass
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

    while True:
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
            cut = find_cut(audio)
            if cut is not None and cut * 1000 // SR >= MIN_STRETCH_MS:
                transcribe(done + cut * 1000 // SR)
                continue
            if avail - done >= MAX_STRETCH_MS:
                transcribe(avail - 1000)
                continue
        stop.wait(POLL_S)
    with db.transaction() as s:
        r = s.get(TranscriptionRun, run.id)
        r.status, r.finished_at, r.done_ms, r.total_ms = RunStatus.done, utcnow(), done, done
        sess = s.get(Session, sid)
        if sess.status in (SessionStatus.recorded, SessionStatus.recording):
            sess.status = SessionStatus.transcribed
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

    def __init__(self, handle, session_id: uuid.UUID, settings, quiet: bool = False) -> None:  # noqa: ANN001
        """``quiet``: the worker's messages go to ``<project>/logs/live.log`` instead of
        the terminal (for the full-screen app)."""
        _ensure_resource_tracker()
        self.handle, self.session_id = handle, session_id
        log_path = None
        if quiet:
            from fieldkit.paths import ensure_private_dir

            ensure_private_dir(handle.folder / "logs")
            log_path = str(handle.folder / "logs" / "live.log")
        self.settings = settings.as_dict()
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
