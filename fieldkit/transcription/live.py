"""Live transcription: finished utterances are transcribed while recording.

A separate process (spawned, one CPU thread, at lower priority and as a batch task, so
the recorder and the app keep a core and preempt it) follows the session's durable audio (``available_ms``) and transcribes each utterance as soon as it has ended:
the speaker paused for UTTERANCE_PAUSE_MS, as the Silero voice-activity model that
faster-whisper bundles hears it. A poll looks only at the last second or so of new
audio (the voice detector over the whole pending stretch costs in proportion to it);
the whole stretch is read once an utterance has ended, and cut at its *last* pause, so
a worker that fell behind catches up with one longer stretch instead of many short ones
(every Whisper call costs a 30 s window whatever the length of the audio). Speech
without a long pause is cut at a shorter one after MIN_STRETCH_MS, and anywhere after
MAX_STRETCH_MS; silence is passed over without a Whisper call. Segments are stored in a
TranscriptionRun with mode "live". When recording stops only the tail after the last
pause remains, so the transcript is complete seconds after stop.

The live model: the project's live model, or when none is set the final model if it is
no heavier than base, else base (a heavy final model, NB-Whisper small and up, cannot
keep up on one thread of a 2-core laptop: issue 21 measured 40-60 s of lag).
"""

from __future__ import annotations

import multiprocessing as mp
import os
import time
import uuid
from pathlib import Path

import numpy as np

from fieldkit.recording.windows import find_cut, speech_spans  # the cuts are shared with batch

SR = 16000
UTTERANCE_PAUSE_MS = 700      # an utterance has ended: this long without speech (Silero VAD)
MIN_UTTERANCE_MS = 1000       # ... after at least this much audio
MIN_PAUSE_MS = 500            # a pause between words, for speech that runs on
SHORT_PAUSE_MS = 150          # when a stretch grows too long: any breath will do
MIN_STRETCH_MS = 8000         # speech running on without a long pause is cut after this ...
MAX_STRETCH_MS = 30000        # ... and somewhere anyway after this long
TAIL_MS = 1500                # the newest audio a poll looks at
POLL_S = 0.5
#: below the app and the recorder (a recording is never disturbed for a transcript); it
#: runs one thread (the other core stays with the app and the recorder) as a batch task
#: (it never preempts them when it wakes; they preempt it)
NICE = 10
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
    wait for more: the last pause of UTTERANCE_PAUSE_MS after MIN_UTTERANCE_MS (an
    utterance has ended; a pause still going on at the end counts); else, once the
    stretch is MIN_STRETCH_MS long, the last pause between words after it; once it is
    MAX_STRETCH_MS long, any short pause (else a second before its end). Audio without
    speech is cut too (:func:`has_speech` tells the worker to pass it over)."""
    spans = speech_spans(audio, UTTERANCE_PAUSE_MS)
    cut = find_cut(audio, UTTERANCE_PAUSE_MS, MIN_UTTERANCE_MS * SR // 1000, spans)
    if cut is None and len(audio) >= MIN_STRETCH_MS * SR // 1000:
        min_at = MIN_STRETCH_MS * SR // 1000
        cut = find_cut(audio, MIN_PAUSE_MS, min_at)
        if cut is None and len(audio) >= MAX_STRETCH_MS * SR // 1000:
            cut = find_cut(audio, SHORT_PAUSE_MS, min_at) or len(audio) - SR
    return cut


def utterance_ended(tail: np.ndarray) -> bool:
    """Whether the newest audio ends in a pause of UTTERANCE_PAUSE_MS (cheap: the voice
    detector over ``tail``, the last TAIL_MS only)."""
    pause = UTTERANCE_PAUSE_MS * SR // 1000
    if len(tail) < pause:
        return False
    spans = speech_spans(tail, UTTERANCE_PAUSE_MS)
    return not spans or len(tail) - spans[-1][1] >= pause


def has_speech(audio: np.ndarray) -> bool:
    return len(audio) >= SR // 4 and bool(speech_spans(audio, MIN_PAUSE_MS))


class Follower:
    """When to cut the audio arriving in real time: ``poll(pending)`` with the audio not
    yet transcribed returns a cut (samples) or None. Looks at the whole pending stretch
    only when its newest audio ends in a pause, when it ran past MIN_STRETCH_MS (at most
    every CHECK_MS of new audio) or past MAX_STRETCH_MS: what a poll costs stays small
    however long the speech runs on."""

    CHECK_MS = 2000

    def __init__(self) -> None:
        self.checked = 0          # samples of pending audio at the last whole check

    def poll(self, pending: np.ndarray) -> int | None:
        n = len(pending)
        if n * 1000 // SR < MIN_UTTERANCE_MS + UTTERANCE_PAUSE_MS:
            return None
        whole = utterance_ended(pending[-TAIL_MS * SR // 1000:])
        if not whole and n * 1000 // SR >= MIN_STRETCH_MS:
            whole = (n - self.checked) * 1000 // SR >= self.CHECK_MS or n * 1000 // SR >= MAX_STRETCH_MS
        if not whole:
            return None
        self.checked = n
        cut = next_cut(pending)
        if cut is not None:
            self.checked = 0
        return cut


def replay_cuts(audio: np.ndarray, poll_ms: int = int(POLL_S * 1000)) -> list[int]:
    """The cut points (ms) the live worker makes on ``audio`` arriving in real time,
    polled every ``poll_ms``, ending with the end of the audio (for benchmarks; the
    time transcription takes is left out)."""
    total = len(audio) * 1000 // SR
    done, out, follow = 0, [], Follower()
    for avail in range(poll_ms, total, poll_ms):
        cut = follow.poll(audio[done * SR // 1000: avail * SR // 1000])
        if cut is not None:
            done += cut * 1000 // SR
            out.append(done)
    return out + [total]


def _give_back_memory() -> None:
    """Hand memory freed after a stretch back to the system: glibc keeps it in its arenas,
    and with stretches of every length the worker's resident memory crept up (an A/B of 25
    Whisper calls on 2-30 s stretches here: 326 MB without, 255 MB with)."""
    try:
        import ctypes

        ctypes.CDLL("libc.so.6").malloc_trim(0)
    except (OSError, AttributeError):   # not glibc: nothing to do
        pass


def _worker(folder: str, session_id: str, settings: dict, stop: "mp.synchronize.Event",
            passphrase_key: tuple[bytes, bytes] | None, log_path: str | None = None) -> None:
    import fcntl
    import signal

    if NICE:
        try:
            os.nice(NICE)
        except OSError:
            pass
    try:   # a batch task: never preempts the recorder's or the app's threads when it wakes
        os.sched_setscheduler(0, os.SCHED_BATCH, os.sched_param(0))
    except (AttributeError, OSError):
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
        # silence (nobody speaking, a pause): passed over without a Whisper call
        for seg in (transcribe_array(st, audio, offset_ms=done, model=model) if has_speech(audio) else ()):
            with db.transaction() as s:
                s.add(TranscriptSegment(session_id=sid, run_id=run.id, start_ms=seg.start_ms,
                                        end_ms=min(seg.end_ms, upto), verbatim=seg.text, words=seg.words,
                                        language=seg.language, avg_logprob=seg.avg_logprob,
                                        no_speech_prob=seg.no_speech_prob))
        done = upto
        with db.transaction() as s:
            s.get(TranscriptionRun, run.id).done_ms = done
        del audio
        _give_back_memory()

    def recording_active() -> bool:
        with db.session() as s:
            return any(r.state in (RecordingState.recording, RecordingState.paused)
                       for r in s.exec(select(Recording).where(Recording.session_id == sid)))

    interrupted = False
    follow = Follower()
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
            while avail > done:   # the tail, a stretch at a time (memory: one stretch)
                upto = avail
                if avail - done > MAX_STRETCH_MS:
                    window = load_audio(handle, sid, done, done + MAX_STRETCH_MS)
                    cut = find_cut(window, MIN_PAUSE_MS) or find_cut(window, SHORT_PAUSE_MS)
                    upto = done + (cut * 1000 // SR if cut and cut >= SR else MAX_STRETCH_MS)
                transcribe(upto)
            break
        if avail - done >= MIN_UTTERANCE_MS + UTTERANCE_PAUSE_MS:
            try:   # at most one stretch: a worker far behind must not read all it has missed
                audio = load_audio(handle, sid, done, min(avail, done + MAX_STRETCH_MS))
            except Exception:  # noqa: BLE001 - being finalised right now: next round
                time.sleep(0.2)
                continue
            cut = follow.poll(audio)
            del audio
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
