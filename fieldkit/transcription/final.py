"""The final pass: after an interview, the rough live transcript is replaced by a batch
transcription with the project's final model, by itself, in the background.

- Which sessions: every recording finished, a completed live transcript, no completed
  batch run, and no edits in the transcript (edits are the researchers' work: a
  transcript with edits is never replaced by itself).
- How: a separate process (``python -m fieldkit.transcription.final DATA_DIR SLUG``),
  detached from the app, at the lowest CPU priority (nice 19), one project at a time
  (a lock file in the project's logs/ folder). It uses the batch job of
  :mod:`fieldkit.transcription.service`, so it is resumable: killed, or stopped because a
  new recording began in the project, it continues from the last stored segment the next
  time it starts (the home screen starts it whenever it is shown).
- Edits made while it runs win: the finished batch transcript is then dropped and the
  edited live transcript kept (``service.EditedMeanwhile``).
- Progress is read with sqlite3 alone (``quick_progress``) so the home screen can show it
  without loading the storage layer.

Encrypted projects are not started by themselves (the background process would need the
passphrase); ``fieldkit transcribe --final -p PROJECT`` runs their final pass.
"""

from __future__ import annotations

import os
import sqlite3
import subprocess
import sys
import threading
import uuid
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Callable

from fieldkit.i18n import N_, Said, _, render

if TYPE_CHECKING:
    from fieldkit.projects import ProjectHandle

LOCK_NAME = "final-pass.lock"
LOG_NAME = "final-pass.log"

#: a session waits for its final pass when its live transcript is complete, or when it
#: was queued (a batch run in state ``queued``: an imported recording, a live transcript
#: cut off by a crash, or "transcribe this session" in the app), once every recording of
#: it is finished and nobody edited its transcript
_WAITING_SQL = """
SELECT s.id, s.title FROM session s
WHERE (EXISTS (SELECT 1 FROM transcriptionrun r WHERE r.session_id = s.id AND r.mode = 'live'
               AND r.status = 'done')
       OR EXISTS (SELECT 1 FROM transcriptionrun r WHERE r.session_id = s.id AND r.mode = 'batch'
                  AND r.status = 'queued'))
  AND EXISTS (SELECT 1 FROM recording c WHERE c.session_id = s.id)
  AND NOT EXISTS (SELECT 1 FROM transcriptionrun r WHERE r.session_id = s.id AND r.mode = 'batch'
                  AND r.status = 'done')
  AND NOT EXISTS (SELECT 1 FROM recording c WHERE c.session_id = s.id AND c.state IN ('recording', 'paused'))
  AND NOT EXISTS (SELECT 1 FROM transcriptsegment t WHERE t.session_id = s.id AND t.edited IS NOT NULL)
"""
#: what the background process takes on by itself: not sessions whose last attempt failed
#: (a missing model, damaged audio: it would fail again; `transcribe --final` retries them,
#: and queueing the session again asks for another attempt)
_PENDING_SQL = _WAITING_SQL + """  AND NOT (EXISTS (SELECT 1 FROM transcriptionrun r WHERE r.session_id = s.id
                       AND r.mode = 'batch' AND r.status = 'failed')
           AND NOT EXISTS (SELECT 1 FROM transcriptionrun r WHERE r.session_id = s.id
                           AND r.mode = 'batch' AND r.status = 'queued'))
ORDER BY s.starts_at
"""
_RETRY_SQL = _WAITING_SQL + "ORDER BY s.starts_at\n"


@dataclass
class FinalProgress:
    project: str
    session: str
    done_ms: int
    total_ms: int
    running: bool      # a batch run is under way (else waiting its turn)
    failed: bool = False

    @property
    def fraction(self) -> float:
        return self.done_ms / self.total_ms if self.total_ms else 0.0


def _hex_uuid(value) -> uuid.UUID:
    return uuid.UUID(str(value))


def pending_sessions(handle: "ProjectHandle", retry_failed: bool = False) -> list[tuple[uuid.UUID, str]]:
    """(id, title) of the sessions whose live transcript awaits the final pass."""
    from sqlalchemy import text

    with handle.db.session() as s:
        rows = s.connection().execute(text(_RETRY_SQL if retry_failed else _PENDING_SQL)).all()
        return [(_hex_uuid(sid), title) for sid, title in rows]


@dataclass
class Interrupted:
    """A live transcription whose process died with the recording (a crash, a kill, a
    closed terminal): closed and its session queued for the final pass."""
    session_id: uuid.UUID
    session_title: str
    transcript_ms: int          # where the live transcript stopped

    @property
    def message(self) -> str:
        from fieldkit.i18n import _
        from fieldkit.recording.clock import hms

        return _("The live transcript of {title!r} stopped at {at}; the session is queued for the final "
                 "transcription, which completes it.").format(title=self.session_title, at=hms(self.transcript_ms))


def close_dead_live_runs(handle: "ProjectHandle") -> list[Interrupted]:
    """Live transcription runs still marked running whose worker is gone (it holds a lock
    while it lives: :func:`fieldkit.transcription.live.worker_alive`) are closed as
    interrupted (state cancelled, error ``interrupted``), and their sessions queued for
    the final pass. Recovery runs this beside the recordings' repair."""
    from sqlmodel import select

    from fieldkit.store.models import RunStatus, Session, TranscriptionRun, utcnow
    from fieldkit.transcription.live import INTERRUPTED, worker_alive
    from fieldkit.transcription.service import queue_final_pass

    with handle.db.session() as s:
        running = s.exec(select(TranscriptionRun, Session).join(Session).where(
            Session.project_id == handle.project_id, TranscriptionRun.mode == "live",
            TranscriptionRun.status == RunStatus.running)).all()
        found = [(run.id, sess.id, sess.title) for run, sess in running]
    out: list[Interrupted] = []
    for run_id, sid, title in found:
        if worker_alive(handle.folder, sid):
            continue
        with handle.db.transaction() as s:
            run = s.get(TranscriptionRun, run_id)
            if run is None or run.status != RunStatus.running:
                continue
            run.status, run.error, run.finished_at = RunStatus.cancelled, INTERRUPTED, utcnow()
            done_ms = run.done_ms
        queue_final_pass(handle, sid)
        out.append(Interrupted(sid, title, done_ms))
    return out


def recording_anywhere(projects_dir: Path) -> bool:
    """Whether a recorder holds its lock in any project of the data folder (encrypted ones
    too: the lock files need no passphrase). The final pass of one project must not slow
    down an interview recorded in another."""
    from fieldkit.recording.finalise import LOCK_NAME, recorder_alive

    return any(recorder_alive(lock.parent) for lock in Path(projects_dir).glob(f"*/audio/*/*/{LOCK_NAME}"))


def run_final_passes(handle: "ProjectHandle", *, on_progress: Callable | None = None,
                     stop_if_recording: bool = True, retry_failed: bool = False) -> list[tuple[str, str]]:
    """Run the final pass of every pending session; returns (title, outcome) pairs.

    With ``stop_if_recording`` the pass stops (resumable) as soon as a new recording
    starts in the project, or a recorder runs in any project of the data folder, so it never
    competes with a live interview: it is checked before each session and after each
    window (or batch of windows)."""
    from sqlmodel import select

    from fieldkit.errors import FieldkitError
    from fieldkit.store.models import Recording, RecordingState
    from fieldkit.transcription.service import EditedMeanwhile, session_settings, transcribe_session

    def busy() -> bool:
        with handle.db.session() as s:
            here = s.exec(select(Recording.id).where(
                Recording.state.in_([RecordingState.recording, RecordingState.paused]))).first()
        return here is not None or recording_anywhere(handle.folder.parent)

    out = []
    for sid, title in pending_sessions(handle, retry_failed):
        cancel = threading.Event()
        if stop_if_recording and busy():
            out.append((title, "paused for a new recording; continues later"))
            break

        def watch(p, title=title) -> None:
            if on_progress:
                on_progress(title, p)
            if stop_if_recording and busy():
                cancel.set()

        try:
            settings = session_settings(handle, sid)
            run = transcribe_session(handle, sid, settings, on_progress=watch, cancel=cancel)
        except EditedMeanwhile as exc:
            out.append((title, str(exc)))
            continue
        except FieldkitError as exc:
            out.append((title, Said("final.failed", N_("failed: {message}"), message=exc.message)))
            continue
        if cancel.is_set():
            out.append((title, Said("final.paused", N_("paused for a new recording; continues later"))))
            break
        out.append((title, Said("final.done", N_("done ({model})"), model=run.model)))
    return out


# --------------------------------------------------------------------------- quick reads


def _ro(db_path: Path) -> sqlite3.Connection | None:
    from fieldkit.store.dbfile import SQLITE_MAGIC, read_header

    try:
        if read_header(db_path) != SQLITE_MAGIC:
            return None   # encrypted: not readable without the passphrase
        return sqlite3.connect(f"file:{db_path}?mode=ro", uri=True, timeout=3)
    except (OSError, sqlite3.Error):
        return None


def quick_pending(db_path: Path) -> int:
    con = _ro(db_path)
    if con is None:
        return 0
    try:
        return len(con.execute(_PENDING_SQL).fetchall())
    except sqlite3.Error:
        return 0
    finally:
        con.close()


def quick_progress(projects_dir: Path) -> list[FinalProgress]:
    """What the final passes of every (unencrypted) project are doing, for the home screen."""
    out: list[FinalProgress] = []
    for db in sorted(Path(projects_dir).glob("*/project.db")):
        con = _ro(db)
        if con is None:
            continue
        try:
            running = {}
            failed = {str(sid) for (sid,) in con.execute(
                "SELECT session_id FROM transcriptionrun WHERE mode = 'batch' AND status = 'failed'")}
            for sid, done, total in con.execute(
                    "SELECT session_id, done_ms, total_ms FROM transcriptionrun "
                    "WHERE mode = 'batch' AND status = 'running'"):
                running[str(sid)] = (done, total)
            for sid, title in con.execute(_RETRY_SQL):
                done, total = running.get(str(sid), (0, 0))
                out.append(FinalProgress(db.parent.name, title, done or 0, total or 0, str(sid) in running,
                                         str(sid) in failed and str(sid) not in running))
        except sqlite3.Error:
            pass
        finally:
            con.close()
    return out


# --------------------------------------------------------------------------- background


def is_running(folder: Path) -> bool:
    """Whether a final-pass process holds this project's lock."""
    import fcntl

    lock = folder / "logs" / LOCK_NAME
    if not lock.exists():
        return False
    fd = os.open(lock, os.O_RDWR)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except OSError:
        return True
    else:
        fcntl.flock(fd, fcntl.LOCK_UN)
        return False
    finally:
        os.close(fd)


def start_background(data_dir: Path, slug: str) -> subprocess.Popen | None:
    """Start the final-pass process for one project unless it has nothing to do or runs."""
    folder = Path(data_dir) / "projects" / slug
    if not quick_pending(folder / "project.db") or is_running(folder):
        return None
    from fieldkit.paths import ensure_private_dir

    logs = ensure_private_dir(folder / "logs")
    log = open(logs / LOG_NAME, "ab")
    try:
        return subprocess.Popen(
            [sys.executable, "-m", "fieldkit.transcription.final", str(data_dir), slug],
            stdin=subprocess.DEVNULL, stdout=log, stderr=log, start_new_session=True,
            env={**os.environ, "HF_HUB_OFFLINE": "1"})
    finally:
        log.close()


def start_pending(data_dir: Path) -> list[str]:
    """Start the final pass for every project that needs one; returns their slugs."""
    started = []
    projects = Path(data_dir) / "projects"
    for db in sorted(projects.glob("*/project.db")) if projects.is_dir() else []:
        if start_background(data_dir, db.parent.name) is not None:
            started.append(db.parent.name)
    return started


def _main(argv: list[str]) -> int:
    import fcntl

    data_dir, slug = Path(argv[0]), argv[1]
    try:
        os.nice(19)
    except OSError:
        pass
    folder = data_dir / "projects" / slug
    (folder / "logs").mkdir(parents=True, exist_ok=True)
    fd = os.open(folder / "logs" / LOCK_NAME, os.O_RDWR | os.O_CREAT, 0o600)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except OSError:
        return 0   # another final pass is on this project
    from fieldkit.errors import FieldkitError
    from fieldkit.projects import Workspace

    try:
        with Workspace(data_dir).open(slug) as handle:
            for title, outcome in run_final_passes(handle):
                print(_("final pass of {title!r}: {outcome}").format(title=title, outcome=render(outcome)),
                      flush=True)
    except FieldkitError as exc:
        print(_("final pass in {slug}: {message}").format(slug=slug, message=exc.message), flush=True)
        return 1
    return 0


if __name__ == "__main__":
    os.umask(0o077)
    sys.exit(_main(sys.argv[1:]))
