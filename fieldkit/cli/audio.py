"""``fieldkit import``: an external recording into a session."""

from __future__ import annotations

import click

from fieldkit.cli import workspace
from fieldkit.i18n import _


@click.command("import", help=_("Import FILE (wav, mp3, m4a, flac, ogg) into a session, keeping the original."))
@click.argument("file", type=click.Path(dir_okay=False))
@click.option("--project", "-p", "project_name", required=True)
@click.option("--session", "session_ref", help=_("Session id, id prefix or title."))
@click.option("--title", help=_("Create a new session with this title for the "
                                  "recording."))
@click.option("--kind", default="telephone", show_default=True,
              type=click.Choice(["individual", "group", "focus_group", "observation", "telephone"]))
@click.option("--recorded-at", "recorded_at", metavar="YYYY-MM-DD[ HH:MM]",
              help=_("When the recording began (local time), when the file does not say or says wrong; "
                     "by default it comes from the file's metadata or its modification time."))
@click.pass_context
def import_(ctx: click.Context, file: str, project_name: str, session_ref: str | None,
            title: str | None, kind: str, recorded_at: str | None) -> None:
    from fieldkit.recording.importer import import_recording
    from fieldkit.sessions.lookup import find_session
    from fieldkit.store.models import Session, SessionKind

    if bool(session_ref) == bool(title):
        raise click.UsageError(_("Give either --session or --title."))
    when = None
    if recorded_at:
        from datetime import datetime

        try:
            when = datetime.fromisoformat(recorded_at.strip()).astimezone()   # local time unless it says
        except ValueError:
            raise click.BadParameter(_("{value} is not a date and time like 2026-03-09 14:05.").format(
                value=repr(recorded_at)), param_hint="--recorded-at") from None
    with workspace(ctx).open(project_name) as handle:
        if session_ref:
            sess = find_session(handle, session_ref)
        else:
            sess = Session(project_id=handle.project_id, title=title, kind=SessionKind(kind))
        try:
            if title:
                with handle.db.transaction() as s:
                    s.add(sess)
            rec = import_recording(handle, sess.id, file, recorded_at=when)
        except BaseException:
            if title:  # nothing half-made: the new session goes with the failed import
                with handle.db.transaction() as s:
                    obj = s.get(Session, sess.id)
                    if obj is not None:
                        s.delete(obj)
            raise
        click.echo(_("Imported {file} into {title!r}: {value:.1f} s ({get}, {get2} "
                       "Hz); session id {value2}").format(file=file, title=sess.title, value=rec.duration_ms / 1000, get=rec.info.get('codec'), get2=rec.info.get('sample_rate'), value2=sess.id.hex[:8]))
        # the recording joins the final pass a recorded interview gets: the app transcribes
        # it by itself, or `fieldkit transcribe --all` does now
        from fieldkit.transcription.service import QUEUED, queue_final_pass

        if queue_final_pass(handle, sess.id) == QUEUED:
            click.echo(_("Queued for transcription: the app transcribes it in the background, or run "
                         "`fieldkit transcribe --all -p {project}` now.").format(project=project_name))
