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
from dataclasses import dataclass, field
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


def session_settings(handle: "ProjectHandle", session_id: uuid.UUID, **overrides) -> TranscriptionSettings:
    """The session's settings; its word list is the project's list and the organisations of
    the informant registry (not people's names: the transcript would carry them into every
    export that is not pseudonymised)."""
    with handle.db.session() as s:
        sess = s.get(Session, session_id)
        if sess is None:
            raise TranscriptionError(_("No session {session_id} in this project.").format(session_id=session_id))
        st = resolve_settings(s.get(Project, sess.project_id), sess, **overrides)
        if "vocabulary" not in overrides:
            st.vocabulary = list(st.vocabulary) + registry_terms(s, sess.project_id, st.vocabulary)
        return st


def registry_terms(s, project_id: uuid.UUID, have: list[str] = ()) -> list[str]:
    """Organisations named in the informant registry (withdrawn informants left out) that
    the word list does not have yet."""
    from fieldkit.store.models import Informant

    seen = {t.lower() for t in have}
    out = []
    orgs = s.exec(select(Informant.organisation).where(Informant.project_id == project_id,
                                                       Informant.withdrawn_on.is_(None))).all()
    for org in orgs:
        term = " ".join((org or "").split())
        if term and term.lower() not in seen:
            seen.add(term.lower())
            out.append(term)
    return out


def verbatim_settings(settings: TranscriptionSettings) -> TranscriptionSettings:
    """The settings the final pass writes the verbatim layer with: the model replaced by its
    verbatim variant (``<model>-verbatim``, NB-Whisper's) where that is installed, or by the
    ``verbatim_model`` setting; the run stores the model it used (``TranscriptionRun.model``),
    so which model made the verbatim layer is known (:func:`layer_models`)."""
    from dataclasses import replace
    from pathlib import Path

    from fieldkit.transcription.hub import VERBATIM_SUFFIX
    from fieldkit.transcription.models import available_models

    choice = settings.verbatim_model.strip()
    if choice == "none" or Path(settings.model).name.endswith(VERBATIM_SUFFIX):
        return settings
    if choice:
        return replace(settings, model=choice)
    name = Path(settings.model).name + VERBATIM_SUFFIX
    if any(m.name == name for m in available_models()):
        return replace(settings, model=name)
    return settings


@dataclass
class LayerModels:
    """Which model made which layer of a session's transcript."""
    verbatim: list[str]       # the models of the runs whose segments are in the transcript
    live: bool                # some of them are the live transcript's (rough)
    edited: int               # segments with an edited layer (made by people)
    live_only: list[str] = field(default_factory=list)   # of ``verbatim``: models only of live runs

    @property
    def without_norwegian_model(self) -> bool:
        """Made by models, none of them a Norwegian one (NB-Whisper)."""
        from fieldkit.transcription.hub import norwegian_model

        return bool(self.verbatim) and not any(norwegian_model(m) for m in self.verbatim)


def layer_models(handle: "ProjectHandle", session_id: uuid.UUID) -> LayerModels:
    with handle.db.session() as s:
        return layer_models_in(s, session_id)


def layer_models_in(s, session_id: uuid.UUID) -> LayerModels:
    """:func:`layer_models` within an open database session ``s``."""
    rows = s.exec(select(TranscriptSegment.run_id, TranscriptSegment.edited).where(
        TranscriptSegment.session_id == session_id)).all()
    run_ids = {r for r, _e in rows if r is not None}
    runs = s.exec(select(TranscriptionRun).where(TranscriptionRun.id.in_(run_ids))).all() if run_ids else []
    models = sorted({r.model for r in runs if r.model})
    not_live = {r.model for r in runs if r.model and r.mode != "live"}
    return LayerModels(models, any(r.mode == "live" for r in runs), sum(1 for _r, e in rows if e is not None),
                       [m for m in models if m not in not_live])


def _run_settings(settings: TranscriptionSettings, span: tuple[int, int] | None) -> dict:
    d = settings.as_dict()
    if span is not None:
        d["range_ms"] = list(span)
    return d


def _resumable_run(s, session_id: uuid.UUID, settings: TranscriptionSettings,
                   span: tuple[int, int] | None = None) -> TranscriptionRun | None:
    mode = "batch" if span is None else "range"
    wanted = _run_settings(settings, span)
    for run in s.exec(select(TranscriptionRun).where(TranscriptionRun.session_id == session_id,
                                                     TranscriptionRun.mode == mode)
                      .order_by(TranscriptionRun.created_at.desc())):
        if run.status == RunStatus.done and span is None:
            return None
        if run.status == RunStatus.queued and span is None:
            # queued for the final pass (queue_final_pass): this is the job that was waited for
            run.model, run.language, run.settings, run.done_ms = (settings.model, settings.language, wanted, 0)
            return run
        if run.status in (RunStatus.running, RunStatus.cancelled, RunStatus.failed) and run.settings == wanted:
            return run
        if span is None:
            return None
    return None


def _overlaps(span: tuple[int, int]):
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
    import numpy as np

    from fieldkit.transcription.engine import batch_size, load_model, transcribe_array, transcribe_kwargs
    from fieldkit.recording.windows import next_window

    settings = verbatim_settings(settings or session_settings(handle, session_id))
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
        batch = batch_size(settings)
        heard: dict = {}       # the voice activity of each window, for the speakers after it

        def read(a: int, b: int):
            return load_audio(handle, session_id, a, b, sr=SR, spans=spans)

        pos = start
        while pos < total:
            # one window at a time, cut at a pause, read from the files with seeks: memory
            # is a window's worth whatever the length (a batch's worth when windows are
            # decoded together: faster-whisper's batched pipeline, where it is faster here);
            # each window (or batch) is stored with the run's done_ms in one transaction, so
            # a stopped job resumes at the next one
            report("voice", pos)
            group = [next_window(read, pos, total, heard)]
            while batch > 1 and len(group) < batch and group[-1].end_ms < total:
                group.append(next_window(read, group[-1].end_ms, total, heard))
            g_start, g_end = group[0].start_ms, group[-1].end_ms
            if len(group) == 1:
                # one window: decoded with the audio after its cut, its own voice activity reused
                win = group[0]
                segs = _window_segments(settings, model, win) if win.speech else []
                if win.speech:
                    # speech the VAD finds that no word covers is decoded again on its own, in
                    # this window (the dropped-speech pass, window by window like the rest)
                    segs += _dropped_in_window(settings, model, win.audio, win.start_ms, segs, act=win.act)
            else:
                # windows decoded together (the batched pipeline cuts its own chunks at pauses)
                speech = any(w.speech for w in group)
                audio = np.concatenate([w.audio for w in group])
                segs = list(transcribe_array(settings, audio, offset_ms=g_start, model=model)) if speech else []
                if speech:
                    segs += _dropped_in_window(settings, model, audio, g_start, segs)
            if segs:
                segs.sort(key=lambda g: g.start_ms)
            with db.transaction() as s:
                for seg in segs:
                    s.add(TranscriptSegment(
                        session_id=session_id, run_id=run.id, start_ms=seg.start_ms,
                        end_ms=min(seg.end_ms, g_end), verbatim=seg.text, words=seg.words,
                        language=seg.language, avg_logprob=seg.avg_logprob,
                        no_speech_prob=seg.no_speech_prob))
                r = s.get(TranscriptionRun, run.id)
                r.done_ms = g_end
                if segs and segs[-1].language:
                    r.language = segs[-1].language
            pos = g_end
            windows += len(group)
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
    audio_s = (total - start) / 1000
    if audio_s >= 60:     # a measurement of this laptop's speed, for `models list`
        from fieldkit.transcription.hub import record_speed

        try:
            record_speed(settings.model, (time.perf_counter() - t0) / audio_s, settings.cpu_threads(), source="run")
        except OSError:
            pass
    if edited_meanwhile:
        raise EditedMeanwhile(_("The transcript of {title!r} was edited while it was "
                                  "being transcribed again; the edited transcript is "
                                  "kept.").format(title=title))
    if speakers:   # who spoke: by itself once the transcript is complete (fieldkit.speakers)
        from fieldkit.speakers.attribute import after_transcription

        def voices(done: int, _total: int) -> None:
            report("speakers", done)

        after_transcription(handle, session_id, on_progress=voices if on_progress else None, heard=heard)
    report("done", total)
    return r


#: what :func:`queue_final_pass` found (the interface words them)
QUEUED, ALREADY_QUEUED, DONE_ALREADY, HAS_EDITS, STILL_RECORDING, NO_AUDIO = (
    "queued", "already_queued", "done_already", "has_edits", "still_recording", "no_audio")


def queue_final_pass(handle: "ProjectHandle", session_id: uuid.UUID, *, again: bool = False) -> str:
    """Put a session in the queue of the background final pass (a batch run in state
    ``queued``); it is transcribed with the project's final model as soon as a final-pass
    process runs (the app starts one; ``fieldkit transcribe --all`` takes queued sessions
    too). Returns what was found: QUEUED, ALREADY_QUEUED, DONE_ALREADY (a final transcript
    exists; ``again`` queues it anyway), HAS_EDITS (the pass would replace the
    researchers' edits, so it never takes the session), STILL_RECORDING (queued; it starts
    once the recording ends) or NO_AUDIO."""
    with handle.db.transaction() as s:
        recs = s.exec(select(Recording).where(Recording.session_id == session_id)).all()
        if not recs:
            return NO_AUDIO
        runs = s.exec(select(TranscriptionRun).where(TranscriptionRun.session_id == session_id,
                                                     TranscriptionRun.mode == "batch")).all()
        if any(r.status == RunStatus.queued for r in runs):
            return ALREADY_QUEUED
        if any(r.status == RunStatus.done for r in runs) and not again:
            return DONE_ALREADY
        if s.exec(select(TranscriptSegment.id).where(TranscriptSegment.session_id == session_id,
                                                     TranscriptSegment.edited.is_not(None))).first() is not None:
            return HAS_EDITS
        s.add(TranscriptionRun(session_id=session_id, mode="batch", status=RunStatus.queued))
        if any(r.state in (RecordingState.recording, RecordingState.paused) for r in recs):
            return STILL_RECORDING
        return QUEUED


def untranscribed_sessions(handle: "ProjectHandle") -> list[Session]:
    """Sessions with a finished recording and no completed transcription run, and those
    queued for the final pass (queue_final_pass: an import, a live transcript cut off)."""
    with handle.db.session() as s:
        out = []
        queued = set(s.exec(select(TranscriptionRun.session_id).where(
            TranscriptionRun.mode == "batch", TranscriptionRun.status == RunStatus.queued)).all())
        for sess in s.exec(select(Session).where(Session.project_id == handle.project_id)):
            recs = s.exec(select(Recording).where(Recording.session_id == sess.id)).all()
            if not recs or any(r.state in (RecordingState.recording, RecordingState.paused) for r in recs):
                continue
            done = s.exec(select(TranscriptionRun).where(TranscriptionRun.session_id == sess.id,
                                                         TranscriptionRun.status == RunStatus.done)).first()
            edited = s.exec(select(TranscriptSegment.id).where(TranscriptSegment.session_id == sess.id,
                                                               TranscriptSegment.edited.is_not(None))).first()
            if done is None or (sess.id in queued and edited is None):
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


def download_offer(handle: "ProjectHandle") -> str | None:
    """The NB-Whisper model to offer for download: a Norwegian project whose final model is
    not Norwegian, on a laptop with no NB-Whisper installed, gets the one suggested for this
    laptop's measured speed (hub.suggested_norwegian_model)."""
    from pathlib import Path

    from fieldkit.transcription.hub import suggested_norwegian_model
    from fieldkit.transcription.models import available_models

    with handle.db.session() as s:
        project = s.get(Project, handle.project_id)
        st = resolve_settings(project)
        language = (project.language or "").lower()
    if language not in ("no", "nb", "nn", "norsk") or "nb-whisper" in Path(st.model).name:
        return None
    if any(m.name.startswith("nb-whisper") for m in available_models()):
        return None
    return suggested_norwegian_model()


def model_advice(handle: "ProjectHandle", model: str) -> str | None:
    """What the project is advised about a transcript made with ``model`` (a Norwegian
    project transcribed without a Norwegian model hears so with its first transcript)."""
    from fieldkit.transcription.hub import advice

    with handle.db.session() as s:
        project = s.get(Project, handle.project_id)
        return advice(project.language, model)


def _window_segments(settings: TranscriptionSettings, model, win) -> list:
    """The engine's segments of a window (fieldkit.recording.windows.Window), absolute
    times. A window cut at a pause is decoded with the audio read after it (Whisper hears
    its 30 s, as in a whole file) and only the words before the cut are kept: the next
    window starts at the cut and has the rest. Decoding stops once those words are in
    (:data:`STOP_AT_CUT`)."""
    from dataclasses import replace

    from fieldkit.transcription.engine import transcribe_array

    if win.context is None:
        return list(transcribe_array(settings, win.audio, offset_ms=win.start_ms, model=model, act=win.act))
    # faster-whisper decodes lazily, 30 s at a time, and decodes again from the last complete
    # segment when the last one is cut off (as the context after the cut usually is): once a
    # segment reaches the last speech before the cut, the words before the cut are all in and
    # the rest is not decoded
    heard_to = _last_speech_ms(win) if STOP_AT_CUT else None
    out = []
    for seg in transcribe_array(settings, win.context, offset_ms=win.start_ms, model=model, act=win.context_act):
        if seg.start_ms >= win.end_ms and STOP_AT_CUT:
            break
        if seg.words:
            words = [w for w in seg.words if (w["s"] + w["e"]) / 2 < win.end_ms]
            if not words:
                continue
            if len(words) < len(seg.words):
                from fieldkit.transcription.wordlist import words_text

                seg = replace(seg, words=words, text=words_text(words), end_ms=min(seg.end_ms, words[-1]["e"]))
            out.append(seg)
        elif seg.start_ms < win.end_ms:
            out.append(seg)
        else:
            continue
        if heard_to is not None and (seg.words[-1]["e"] if seg.words else seg.end_ms) >= heard_to - STOP_TOLERANCE_MS:
            break
    return out


#: stop decoding a window's context once the words before the cut are in (_window_segments):
#: 13 encoder passes instead of 16 on 3 min of the English clips with base, about a third
#: less CPU, the same words (tests/bench/window_context_bench.py)
STOP_AT_CUT = True
#: a segment whose last word ends this close to the end of the last speech before the cut
#: (the voice detector's end comes a little after the word's) has the window's last words
STOP_TOLERANCE_MS = 200


def _last_speech_ms(win) -> int | None:
    """Where the last speech before the window's cut ends (absolute ms), by the window's
    voice activity; None when it heard none."""
    from fieldkit.recording.windows import speech_spans

    spans = speech_spans(win.audio, act=win.act)
    return win.start_ms + spans[-1][1] * 1000 // SR if spans else None


def _dropped_in_window(settings: TranscriptionSettings, model, audio, offset_ms: int, segs: list,
                       act=None) -> list:
    """Speech the VAD finds in a window's ``audio`` (starting at ``offset_ms``) that no word
    of ``segs`` (the window's engine results, absolute times) covers, decoded again on its
    own (fieldkit.transcription.gaps); the segments that came back, in absolute times.
    ``act``: the window's voice activity when known."""
    from dataclasses import replace

    from fieldkit.transcription import gaps

    words = [(ws - offset_ms, we - offset_ms) for ws, we in gaps.word_times(segs)]
    found = gaps.uncovered(gaps.speech_spans(audio, act=act), words)
    if not found:
        return []
    return [replace(g, start_ms=g.start_ms + offset_ms, end_ms=g.end_ms + offset_ms,
                    words=[{**w, "s": w["s"] + offset_ms, "e": w["e"] + offset_ms} for w in g.words])
            for g in gaps.retranscribe(settings, audio, found, model=model)]


def word_list(handle: "ProjectHandle") -> list[str]:
    """The project's word list (names, places, terms), one term per line in the project."""
    with handle.db.session() as s:
        project = s.get(Project, handle.project_id)
        return [w.strip() for w in (project.vocabulary or "").splitlines() if w.strip()]


def set_word_list(handle: "ProjectHandle", terms: list[str]) -> list[str]:
    """Replace the project's word list with ``terms`` (blank lines and repeats, in any case,
    dropped; spaces inside a term collapsed); returns the list stored."""
    out: list[str] = []
    for t in (" ".join(t.split()) for t in terms):
        if t and t.lower() not in {x.lower() for x in out}:
            out.append(t)
    with handle.db.transaction() as s:
        project = s.get(Project, handle.project_id)
        project.vocabulary = "".join(f"{t}\n" for t in out)
        s.add(project)
    return out


def change_word_list(handle: "ProjectHandle", add: list[str] = (), remove: list[str] = ()) -> tuple[list[str], list[str]]:
    """Add and remove terms (a term may be several words: "Helse Nord RHF"); a term already
    there (any case) is not added twice. Returns (changed terms, terms not found to remove)."""
    with handle.db.transaction() as s:
        project = s.get(Project, handle.project_id)
        terms = [w.strip() for w in (project.vocabulary or "").splitlines() if w.strip()]
        changed, missing = [], []
        for t in (" ".join(t.split()) for t in add):
            if t and t.lower() not in {x.lower() for x in terms}:
                terms.append(t)
                changed.append(t)
        for t in (" ".join(t.split()) for t in remove):
            hit = [x for x in terms if x.lower() == t.lower()]
            if hit:
                terms = [x for x in terms if x.lower() != t.lower()]
                changed += hit
            else:
                missing.append(t)
        project.vocabulary = "".join(f"{t}\n" for t in terms)
        s.add(project)
    return changed, missing
