"""Batch transcription of a session: resumable, cancellable, never losing a transcript.

A job is a TranscriptionRun. faster-whisper's segments are stored one transaction each,
together with the run's ``done_ms``, so a job that is killed keeps every finished segment
and the next run of the same session continues from ``done_ms``. A job replaces the
session's earlier transcript only when it completes: until then the old segments stay,
and a failed or cancelled job leaves them as they were. A transcript with edits is not
replaced unless asked (``replace_edited``), because edits are the researchers' work.
"""

from __future__ import annotations

import threading
import time
import uuid
from dataclasses import dataclass
from typing import TYPE_CHECKING, Callable

from sqlmodel import select

from fieldkit.errors import ExitCode, FieldkitError
from fieldkit.store.models import (
    Project,
    Recording,
    RecordingState,
    RunStatus,
    Session,
    SessionStatus,
    TranscriptionRun,
    TranscriptSegment,
    utcnow,
)
from fieldkit.transcription.settings import TranscriptionSettings, resolve_settings
from fieldkit.i18n import _

if TYPE_CHECKING:
    from fieldkit.projects import ProjectHandle

SR = 16000


@dataclass
class Progress:
    done_ms: int
    total_ms: int
    elapsed_s: float
    #: what the job is doing: "model" (loading it), "voice" (finding pauses and speech
    #: for the next window), "window" (a window done), "speakers" (who spoke), "done"
    phase: str = "window"
    windows: int = 0           # windows finished by this job

    @property
    def fraction(self) -> float:
        return self.done_ms / self.total_ms if self.total_ms else 1.0


class TranscriptionError(FieldkitError):
    exit_code = ExitCode.TRANSCRIPTION


class EditedMeanwhile(TranscriptionError):
    """The transcript was edited while a new one was being made: the edited one is kept."""


def session_settings(handle: "ProjectHandle", session_id: uuid.UUID, **overrides) -> TranscriptionSettings:  # noqa: ANN003
    with handle.db.session() as s:
        sess = s.get(Session, session_id)
        if sess is None:
            raise TranscriptionError(_("No session {session_id} in this project.").format(session_id=session_id))
        return resolve_settings(s.get(Project, sess.project_id), sess, **overrides)


def _run_settings(settings: TranscriptionSettings, span: tuple[int, int] | None) -> dict:
    d = settings.as_dict()
    if span is not None:
        d["range_ms"] = list(span)
    return d


def _resumable_run(s, session_id: uuid.UUID, settings: TranscriptionSettings,  # noqa: ANN001
                   span: tuple[int, int] | None = None) -> TranscriptionRun | None:
    mode = "batch" if span is None else "range"
    wanted = _run_settings(settings, span)
    for run in s.exec(select(TranscriptionRun).where(TranscriptionRun.session_id == session_id,
                                                     TranscriptionRun.mode == mode)
                      .order_by(TranscriptionRun.created_at.desc())):
        if run.status == RunStatus.done and span is None:
            return None
        if run.status in (RunStatus.running, RunStatus.cancelled, RunStatus.failed) and run.settings == wanted:
            return run
        if span is None:
            return None
    return None


def _overlaps(span: tuple[int, int]):  # noqa: ANN202
    return (TranscriptSegment.end_ms > span[0]) & (TranscriptSegment.start_ms < span[1])


def transcribe_session(
    handle: "ProjectHandle",
    session_id: uuid.UUID,
    settings: TranscriptionSettings | None = None,
    *,
    on_progress: Callable[[Progress], None] | None = None,
    cancel: threading.Event | None = None,
    replace_edited: bool = False,
    speakers: bool = True,
    span: tuple[int, int] | None = None,
) -> TranscriptionRun:
    """Transcribe a session's recorded audio, resuming an interrupted job.

    ``span`` (start_ms, end_ms): only that part of the recording (selective
    transcription). Its segments replace those of earlier runs that overlap it and leave
    the rest of the transcript as it is, so later ranges add to earlier ones."""
    from fieldkit.recording.audio import _spans as _file_spans
    from fieldkit.recording.audio import available_ms, load_audio
    from fieldkit.transcription.engine import load_model, transcribe_array, transcribe_kwargs
    from fieldkit.recording.windows import next_window

    settings = settings or session_settings(handle, session_id)
    db = handle.db
    with db.transaction() as s:
        sess = s.get(Session, session_id)
        if sess is None:
            raise TranscriptionError(_("No session {session_id} in this project.").format(session_id=session_id))
        recs = s.exec(select(Recording).where(Recording.session_id == session_id)).all()
        if not recs:
            raise TranscriptionError(_("The session {title!r} has no recording to "
                                         "transcribe.").format(title=sess.title))
        if any(r.state in (RecordingState.recording, RecordingState.paused) for r in recs):
            raise TranscriptionError(
                _("The session {title!r} is still being recorded.").format(title=sess.title),
                hint=_("Stop the recording first (live transcription covers it while "
                         "it runs), or run `fieldkit recover` if fieldkit crashed "
                         "during the recording."))
        if span is not None and not (0 <= span[0] < span[1]):
            raise TranscriptionError(_("The range {value:.0f} s to {value2:.0f} s is "
                                         "empty.").format(value=span[0] / 1000, value2=span[1] / 1000),
                                     hint=_("--from must come before --to."))
        run = _resumable_run(s, session_id, settings, span)
        if run is None:
            q = select(TranscriptSegment.id).where(
                TranscriptSegment.session_id == session_id, TranscriptSegment.edited.is_not(None))
            if span is not None:
                q = q.where(_overlaps(span))
            if s.exec(q).first() is not None and not replace_edited:
                where = "" if span is None else " in that range"
                raise TranscriptionError(
                    _("The transcript of {title!r} has edits{where}; transcribing "
                        "again would replace them.").format(title=sess.title, where=where),
                    hint=_("Pass --replace-edited to transcribe again anyway."))
            run = TranscriptionRun(session_id=session_id, model=settings.model, language=settings.language,
                                   settings=_run_settings(settings, span),
                                   mode="batch" if span is None else "range",
                                   done_ms=0 if span is None else span[0])
        run.status, run.error = RunStatus.running, ""
        s.add(run)
    total = available_ms(handle, session_id)
    if span is not None:
        if span[0] >= total:
            with db.transaction() as s:
                r = s.get(TranscriptionRun, run.id)
                r.status, r.error = RunStatus.failed, "range after the end of the recording"
            raise TranscriptionError(
                _("The range starts at {value:.0f} s, after the end of the recording "
                    "({value2:.0f} s).").format(value=span[0] / 1000, value2=total / 1000))
        total = min(total, span[1])
    start = run.done_ms
    t0 = time.perf_counter()
    with db.transaction() as s:
        r = s.get(TranscriptionRun, run.id)
        r.total_ms = total
    windows = 0

    def report(phase: str, done: int) -> None:
        if on_progress:
            on_progress(Progress(done, total, time.perf_counter() - t0, phase, windows))

    try:
        report("model", start)
        model = load_model(settings)
        transcribe_kwargs(settings, model.model.is_multilingual)   # a model unfit for the language fails now
        spans = _file_spans(handle, session_id)
        pos = start
        while pos < total:
            # one window at a time, cut at a pause, read from the files with seeks: memory
            # is a window's worth whatever the length; each window is stored with the run's
            # done_ms in one transaction, so a stopped job resumes at the next window
            report("voice", pos)
            win = next_window(lambda a, b: load_audio(handle, session_id, a, b, sr=SR, spans=spans), pos, total)
            segs = list(transcribe_array(settings, win.audio, offset_ms=win.start_ms, model=model)) \
                if win.speech else []
            with db.transaction() as s:
                for seg in segs:
                    s.add(TranscriptSegment(
                        session_id=session_id, run_id=run.id, start_ms=seg.start_ms,
                        end_ms=min(seg.end_ms, win.end_ms), verbatim=seg.text, words=seg.words,
                        language=seg.language, avg_logprob=seg.avg_logprob,
                        no_speech_prob=seg.no_speech_prob))
                r = s.get(TranscriptionRun, run.id)
                r.done_ms = win.end_ms
                if segs and segs[-1].language:
                    r.language = segs[-1].language
            pos = win.end_ms
            windows += 1
            report("window", pos)
            if cancel is not None and cancel.is_set():
                break
    except BaseException as exc:
        status = RunStatus.cancelled if isinstance(exc, KeyboardInterrupt) else RunStatus.failed
        with db.transaction() as s:
            r = s.get(TranscriptionRun, run.id)
            r.status, r.error = status, str(exc)[:500]
        raise
    with db.transaction() as s:
        r = s.get(TranscriptionRun, run.id)
        if cancel is not None and cancel.is_set():
            r.status = RunStatus.cancelled
            return r
        older = select(TranscriptSegment).where(
            TranscriptSegment.session_id == session_id,
            (TranscriptSegment.run_id != run.id) | (TranscriptSegment.run_id.is_(None)))
        if span is not None:
            older = older.where(_overlaps(span))
        olds = s.exec(older).all()
        if not replace_edited and any(o.edited is not None for o in olds):
            # edited while this job ran: the researchers' work wins, this run's text goes
            for new in s.exec(select(TranscriptSegment).where(TranscriptSegment.run_id == run.id)):
                s.delete(new)
            r.status, r.error = RunStatus.cancelled, "the transcript was edited meanwhile; the edited one is kept"
            r.done_ms = 0 if span is None else span[0]   # its text is gone: a later run starts afresh
            s.add(r)
            edited_meanwhile = True
        else:
            edited_meanwhile = False
            r.status, r.done_ms, r.finished_at = RunStatus.done, total, utcnow()
            # the new transcript is complete: now (and only now) the older one goes
            for old in olds:
                s.delete(old)
        sess = s.get(Session, session_id)
        if not edited_meanwhile and sess.status in (SessionStatus.planned, SessionStatus.recorded,
                                                    SessionStatus.recording):
            sess.status = SessionStatus.transcribed
        s.add(sess)
        title = sess.title
    if edited_meanwhile:
        raise EditedMeanwhile(_("The transcript of {title!r} was edited while it was "
                                  "being transcribed again; the edited transcript is "
                                  "kept.").format(title=title))
    if speakers:   # who spoke: by itself once the transcript is complete (fieldkit.speakers)
        from fieldkit.speakers.attribute import after_transcription

        def voices(done: int, _total: int) -> None:
            report("speakers", done)

        after_transcription(handle, session_id, on_progress=voices if on_progress else None)
    report("done", total)
    return r


def untranscribed_sessions(handle: "ProjectHandle") -> list[Session]:
    """Sessions with a finished recording and no completed transcription run."""
    with handle.db.session() as s:
        out = []
        for sess in s.exec(select(Session).where(Session.project_id == handle.project_id)):
            recs = s.exec(select(Recording).where(Recording.session_id == sess.id)).all()
            if not recs or any(r.state in (RecordingState.recording, RecordingState.paused) for r in recs):
                continue
            done = s.exec(select(TranscriptionRun).where(TranscriptionRun.session_id == sess.id,
                                                         TranscriptionRun.status == RunStatus.done)).first()
            if done is None:
                out.append(sess)
        return out


def set_project_model(handle: "ProjectHandle", name: str, live: bool = False) -> tuple[TranscriptionSettings, str | None]:
    """Make ``name`` the project's final (or live) model; returns the settings and advice."""
    from fieldkit.transcription.hub import advice
    from fieldkit.transcription.models import resolve_model

    from fieldkit.transcription.models import ModelError, _is_multilingual

    path = resolve_model(name)   # installed and usable, or a ModelError saying what is wrong
    with handle.db.transaction() as s:
        project = s.get(Project, handle.project_id)
        if not _is_multilingual(path) and project.language not in ("en", "auto"):
            raise ModelError(_("The model {name!r} understands English only; the "
                                 "project's language is {language!r}.").format(name=name, language=project.language), hint=_("Choose a multilingual "
                                                                "model (base, "
                                                                "NB-Whisper)."))
        conf = dict(project.transcription or {})
        conf["live_model" if live else "model"] = name
        project.transcription = conf
        s.add(project)
    with handle.db.session() as s:
        project = s.get(Project, handle.project_id)
        st = resolve_settings(project)
        return st, advice(project.language, st.model)


def project_advice(handle: "ProjectHandle") -> tuple[TranscriptionSettings, str | None]:
    """The project's settings and what it is advised to use (for the setup screen)."""
    from fieldkit.transcription.hub import advice

    with handle.db.session() as s:
        project = s.get(Project, handle.project_id)
        st = resolve_settings(project)
        return st, advice(project.language, st.model)
