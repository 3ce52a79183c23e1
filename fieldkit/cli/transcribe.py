"""``fieldkit transcribe``."""

from __future__ import annotations

import click

from fieldkit.cli import workspace
from fieldkit.errors import ExitCode
from fieldkit.i18n import _, ngettext


@click.command(help=_("Transcribe SESSION (id, id prefix or title), or --all untranscribed "
         "sessions.\n\nAn interrupted job (Ctrl+C, a crash) keeps what it finished; "
         "running the same\ncommand again continues where it stopped. With --from/--to "
         "only that part is\ntranscribed; later ranges add to the transcript."))
@click.argument("session", required=False)
@click.option("--project", "-p", "project_name", required=True)
@click.option("--all", "all_", is_flag=True, help=_("Every session with a recording "
                                                      "and no transcript."))
@click.option("--model", help=_("Model name (base, tiny.en ...) or a model folder."))
@click.option("--language", help=_("no, nn, en ... or auto (default: the project's)."))
@click.option("--threads", type=int, help=_("CPU threads (default: all cores)."))
@click.option("--beam-size", type=int)
@click.option("--replace-edited", is_flag=True, help=_("Transcribe again even if the "
                                                         "transcript has edits."))
@click.option("--from", "from_", metavar="HH:MM:SS", help=_("Only from this point of "
                                                              "the recording."))
@click.option("--to", "to", metavar="HH:MM:SS", help=_("Only up to this point of the "
                                                         "recording."))
@click.option("--final", is_flag=True,
              help=_("Replace live transcripts with the project's final model (what "
                       "runs by itself after an interview)."))
@click.pass_context
def transcribe(ctx: click.Context, session: str | None, project_name: str, all_: bool,
               model: str | None, language: str | None, threads: int | None, beam_size: int | None,
               replace_edited: bool, from_: str | None, to: str | None, final: bool) -> None:
    from rich.progress import (
        BarColumn, Progress, TaskProgressColumn, TextColumn, TimeRemainingColumn,
    )

    from fieldkit.sessions.lookup import find_session
    from fieldkit.transcription.service import (
        layer_models, session_settings, transcribe_session, untranscribed_sessions, verbatim_settings,
    )

    if final:
        from fieldkit.i18n import render
        from fieldkit.transcription.final import run_final_passes

        with workspace(ctx).open(project_name) as handle:
            done = run_final_passes(handle, stop_if_recording=False, retry_failed=True)
        for title, outcome in done:
            click.echo(f"{title}: {render(outcome)}")
        if not done:
            click.echo(_("No live transcript waits for its final pass."))
        return
    if not session and not all_:
        raise click.UsageError(_("Name a SESSION or pass --all."))
    span = None
    if from_ or to:
        if all_:
            raise click.UsageError(_("--from/--to work on one SESSION, not --all."))
        span = (parse_time(from_, "--from") if from_ else 0,
                parse_time(to, "--to") if to else 10**12)
    overrides = {"model": model, "language": language, "threads": threads, "beam_size": beam_size}
    with workspace(ctx).open(project_name) as handle:
        sessions = untranscribed_sessions(handle) if all_ else [find_session(handle, session)]
        if not sessions:
            click.echo(_("Nothing to transcribe."))
            return
        used: set[str] = set()
        columns = (TextColumn("{task.description}"), BarColumn(), TaskProgressColumn(),
                   TextColumn("{task.fields[audio]}"), TextColumn("{task.fields[phase]}"),
                   TimeRemainingColumn())
        with Progress(*columns, transient=False) as progress:
            for sess in sessions:
                settings = verbatim_settings(session_settings(handle, sess.id, **overrides))
                used.add(settings.model)
                task = progress.add_task(f"{sess.title[:30]} ({settings.model}, {settings.language})",
                                         total=1.0, audio="", phase=_("starting"))

                def show(p, task=task) -> None:
                    progress.update(task, completed=p.fraction,
                                    audio=_("{done} / {total} audio").format(done=_hms(p.done_ms),
                                                                            total=_hms(p.total_ms)),
                                    phase=_phase(p))

                try:
                    run = transcribe_session(handle, sess.id, settings, on_progress=show,
                                             replace_edited=replace_edited, span=span)
                except KeyboardInterrupt:
                    progress.stop()
                    click.echo(_("Stopped. Finished segments are kept; run the same "
                                   "command to continue."),
                               err=True)
                    ctx.exit(ExitCode.INTERRUPTED)
                from sqlmodel import func, select

                from fieldkit.store.models import TranscriptSegment

                with handle.db.session() as s:
                    q = select(func.count()).select_from(TranscriptSegment).where(
                        TranscriptSegment.session_id == sess.id)
                    n = s.exec(q).one()
                    if span:
                        n_in = s.exec(q.where(TranscriptSegment.start_ms < span[1],
                                              TranscriptSegment.end_ms > span[0])).one()
                if span:
                    progress.console.print(
                        _("{title}: {n_in} segments from {start} to {end}; {n} in the transcript").format(
                            title=sess.title, n_in=n_in, start=_hms(span[0]),
                            end=_hms(min(span[1], run.total_ms or span[1])), n=n))
                else:
                    progress.console.print(
                        _("{title}: {n} segments, language {language}").format(
                            title=sess.title, n=n, language=run.language)
                        + ("" if n else _(" — no speech found in the recording")))
                layers = layer_models(handle, sess.id)
                progress.console.print(ngettext(
                    "  verbatim layer: {models}; edited layer: {n} segment edited by people",
                    "  verbatim layer: {models}; edited layer: {n} segments edited by people",
                    layers.edited).format(models=", ".join(layers.verbatim) or "-", n=layers.edited))
        from fieldkit.transcription.service import model_advice

        for tip in sorted({t for m in used if (t := model_advice(handle, m))}):
            click.echo(_("Advice: {tip}").format(tip=tip))


def parse_time(text: str, option: str = "time") -> int:
    """hh:mm:ss, mm:ss or seconds (decimals allowed) -> milliseconds."""
    parts = text.strip().split(":")
    try:
        if not 1 <= len(parts) <= 3 or any(p.strip() == "" for p in parts):
            raise ValueError
        values = [float(p) for p in parts]
        if any(v < 0 for v in values) or any(v >= 60 for v in values[1:]):
            raise ValueError
    except ValueError:
        raise click.BadParameter(_("{text!r} is not a time; write hh:mm:ss, mm:ss or "
                                     "seconds.").format(text=text),
                                 param_hint=option) from None
    seconds = 0.0
    for v in values:
        seconds = seconds * 60 + v
    return round(seconds * 1000)


def _phase(p) -> str:
    """What the job is doing, in words, for the progress line."""
    windows = ngettext("{n} window done", "{n} windows done", p.windows).format(n=p.windows)
    if p.phase == "model":
        return _("loading the model")
    if p.phase == "voice":
        return _("finding speech and pauses") + f" · {windows}"
    if p.phase == "speakers":
        return _("telling speakers apart") + f" · {windows}"
    return windows


def _hms(ms: int) -> str:
    from fieldkit.recording.clock import hms

    return hms(ms)
