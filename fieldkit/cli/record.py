"""``fieldkit record``, ``fieldkit recover`` and ``fieldkit devices``."""

from __future__ import annotations

import click

from fieldkit.cli import workspace
from fieldkit.i18n import _, format_number


@click.command(help=_("Record a session without the app; stops cleanly on Ctrl+C or SIGTERM."))
@click.option("--project", "-p", "project_name", required=True)
@click.option("--session", "session_ref", help=_("Session id, id prefix or title."))
@click.option("--title", help=_("Create a new session with this title."))
@click.option("--device", help=_("Input device name or number (see `fieldkit "
                                   "devices`)."))
@click.option("--seconds", type=float, help=_("Stop after this many seconds."))
@click.option("--rate", type=int, default=16000, show_default=True, help=_("Sample "
                                                                             "rate."))
@click.option("--channels", type=int, default=1, show_default=True, help=_("2 for "
                                                                             "two "
                                                                             "microphones."))
@click.option("--guide", "guide_name", metavar="NAME", help=_("The session's interview guide (its "
                                                               "title or the start of it)."))
@click.option("--live", is_flag=True, help=_("Transcribe while recording (ready "
                                               "seconds after stop)."))
@click.pass_context
def record(ctx: click.Context, project_name: str, session_ref: str | None, title: str | None,
           device: str | None, seconds: float | None, rate: int, channels: int, live: bool,
           guide_name: str | None) -> None:
    import signal
    import threading
    import time

    from fieldkit.errors import FieldkitError
    from fieldkit.recording.clock import hms
    from fieldkit.sessions.lookup import find_session
    from fieldkit.sessions.runtime import SessionRuntime
    from fieldkit.store.models import Session

    if bool(session_ref) == bool(title):
        raise click.UsageError(_("Give either --session or --title."))
    dev: str | int | None = int(device) if device and device.isdigit() else device
    with workspace(ctx).open(project_name) as handle:
        version = None
        if guide_name:
            from fieldkit.instruments.guides.store import find_guide_version

            version = find_guide_version(handle.db, handle.project_id, guide_name)
        if title:
            sess = Session(project_id=handle.project_id, title=title,
                           guide_version_id=version.id if version is not None else None)
            with handle.db.transaction() as s:
                s.add(sess)
        else:
            sess = find_session(handle, session_ref)
            if version is not None:
                from fieldkit.instruments.guides.store import set_session_guide

                set_session_guide(handle.db, sess.id, version)
        stop = threading.Event()
        signal.signal(signal.SIGTERM, lambda *_: stop.set())

        def news(n) -> None:
            if n.kind in ("started", "stopped"):
                return
            click.secho(f"\n{n.text}", fg="green" if n.kind in ("device_back", "sound_back", "clipping_over")
                        else "yellow", err=True)

        # the same runtime the interview screen drives: same order, same clock, same stop
        rt = SessionRuntime(handle, sess.id, record=True, device=dev, samplerate=rate, channels=channels,
                            live=live, on_news=news)
        rt.open()
        try:
            rt.start_recording()
        except FieldkitError:
            rt.close()
            raise
        click.echo(_("Recording {title!r} (session {value}). Ctrl+C stops.").format(title=sess.title, value=sess.id.hex[:8]), err=True)
        t0 = time.monotonic()
        ticks = 0
        try:
            while not stop.is_set() and rt.state in ("recording", "paused"):
                if seconds is not None and time.monotonic() - t0 >= seconds:
                    break
                stop.wait(0.25)
                ticks += 1
                if live and ticks % 4 == 0:   # the guide listens to the live transcript (this thread)
                    for x in rt.listen():
                        click.secho(_("\n{item} seems asked at {at}: {label} (confirm: fieldkit coverage "
                                      "--confirm {item})").format(item=x.question, at=hms(x.at_ms),
                                                                  label=x.label[:60]), fg="cyan", err=True)
                level = rt.level_db
                click.echo(_("\r{hms}  level {value} dBFS  overflows "
                               "{overflows}   ").format(hms=hms(rt.position_ms()), value=format_number(level if level is not None else -120, 1).rjust(6), overflows=rt.recorder.overflows), nl=False, err=True)
        except KeyboardInterrupt:
            pass
        click.echo("", err=True)
        try:
            message = rt.stop()
        finally:
            if rt.transcriber is not None:
                click.echo(_("Finishing the transcript ..."), err=True)
                rt.finish_transcript()
            rt.close()
        click.echo(_("{message} Session id {value}.").format(message=message, value=sess.id.hex[:8]))


@click.command(help=_("Repair recordings left unfinished by a crash and attach them to their "
         "sessions."))
@click.option("--project", "-p", "project_name", required=True)
@click.pass_context
def recover(ctx: click.Context, project_name: str) -> None:
    from fieldkit.sessions.runtime import SessionRuntime

    with workspace(ctx).open(project_name) as handle:
        found = SessionRuntime.recover(handle)
        if not found:
            click.echo(_("No unfinished recordings."))
        for r in found:
            click.echo(r.message)


@click.command(help=_("List microphones; --test DEVICE checks one (a microphone test)."))
@click.option("--test", "test_device", help=_("Record 3 s from this device and show "
                                                "the level."))
def devices(test_device: str | None) -> None:
    import sounddevice as sd

    if test_device is None:
        for i, d in enumerate(sd.query_devices()):
            if d["max_input_channels"] > 0:
                mark = "*" if i == sd.default.device[0] else " "
                click.echo(_("{mark}{i:3} {name}  ({max_input_channels} in, {value} "
                               "Hz)").format(mark=mark, i=i, name=d['name'], max_input_channels=d['max_input_channels'], value=int(d['default_samplerate'])))
        return
    from fieldkit.recording.mictest import test_microphone

    result = test_microphone(int(test_device) if test_device.isdigit() else test_device)
    click.echo(_("Peak level {db} dBFS — {verdict}").format(db=format_number(result.db, 1), verdict=result.verdict))
