"""``fieldkit speakers``: who spoke in a session's transcript."""

from __future__ import annotations

import click

from fieldkit.cli import workspace
from fieldkit.i18n import _


@click.command(help=_("Label every transcript segment of SESSION with its speaker (S1, S2 ... or "
         "the person).\n\nRuns offline on the CPU. Segments are split where the "
         "speaker changes inside them.\nThe lead is found from the guide's questions; "
         "segments you assigned by hand in the\nreview screen are kept, and running it "
         "again keeps them."))
@click.argument("session")
@click.option("--project", "-p", "project_name", required=True)
@click.option("--count", type=int, help=_("How many people speak (default: found in the audio, "
                                            "at most the session's participants, lead and observer)."))
@click.option("--channels", type=click.Choice(["1", "2"]), default="1", show_default=True,
              help=_("2: a two-channel recording with one microphone near each side; "
                       "the louder channel speaks."))
@click.pass_context
def speakers(ctx: click.Context, session: str, project_name: str, count: int | None, channels: str) -> None:
    from fieldkit.sessions.lookup import find_session
    from fieldkit.speakers.attribute import attribute

    from rich.progress import BarColumn, Progress, TaskProgressColumn, TextColumn, TimeElapsedColumn

    from fieldkit.recording.clock import hms

    with workspace(ctx).open(project_name) as handle:
        sess = find_session(handle, session)
        columns = (TextColumn("{task.description}"), BarColumn(), TaskProgressColumn(),
                   TextColumn("{task.fields[audio]}"), TimeElapsedColumn())
        with Progress(*columns, transient=True) as progress:
            task = progress.add_task(_("Taking the voices of {title}").format(title=sess.title[:30]),
                                     total=1.0, audio="")

            def show(done: int, total: int) -> None:
                progress.update(task, completed=done / total if total else 1.0,
                                audio=_("{done} / {total} audio").format(done=hms(done), total=hms(total)))

            result = attribute(handle, sess.id, count=count, channels=int(channels), on_progress=show)
    how = _("by channel") if result.method == "channel" else _("by voice")
    if result.estimated:
        how = _("found in the audio; {n} listed").format(n=result.listed) if result.listed else \
            _("found in the audio")
    click.echo(_("{title}: {count} speakers ({how}), {segments} segments").format(
        title=sess.title, count=result.count, how=how, segments=result.segments)
               + (_(", {n} split where the speaker changes").format(n=result.split) if result.split else "")
               + (_(", {n} assigned by hand kept").format(n=result.manual_kept) if result.manual_kept else "")
               + ".")
    for voice, label in result.mapping.items():
        talk = result.talk_ms.get(voice, 0) // 1000
        why = result.evidence.get(voice)
        shown = (_("{voice} is {label} ({why})").format(voice=voice, label=label, why=why) if label != voice
                 else _("{voice} (not yet known: say who in the review screen)").format(voice=voice))
        click.echo(_("  {shown}, speaks {value}:{value2:02d}").format(shown=shown, value=talk // 60, value2=talk % 60))
