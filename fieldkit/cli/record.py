"""``fieldkit record``, ``fieldkit recover`` and ``fieldkit devices``."""

from __future__ import annotations

import click

from fieldkit.cli import workspace


@click.command()
@click.option("--project", "-p", "project_name", required=True)
@click.option("--session", "session_ref", help="Session id, id prefix or title.")
@click.option("--title", help="Create a new session with this title.")
@click.option("--device", help="Input device name or number (see `fieldkit devices`).")
@click.option("--seconds", type=float, help="Stop after this many seconds.")
@click.option("--rate", type=int, default=16000, show_default=True, help="Sample rate.")
@click.option("--channels", type=int, default=1, show_default=True, help="2 for two microphones.")
@click.option("--live", is_flag=True, help="Transcribe while recording (ready seconds after stop).")
@click.pass_context
def record(ctx: click.Context, project_name: str, session_ref: str | None, title: str | None,
           device: str | None, seconds: float | None, rate: int, channels: int, live: bool) -> None:
    """Record a session without the app; stops cleanly on Ctrl+C or SIGTERM."""
    import signal
    import threading
    import time

    from fieldkit.recording.recorder import Recorder
    from fieldkit.sessions_lookup import find_session
    from fieldkit.store.models import Session

    if bool(session_ref) == bool(title):
        raise click.UsageError("Give either --session or --title.")
    dev: str | int | None = int(device) if device and device.isdigit() else device
    with workspace(ctx).open(project_name) as handle:
        if title:
            sess = Session(project_id=handle.project_id, title=title)
            with handle.db.transaction() as s:
                s.add(sess)
        else:
            sess = find_session(handle, session_ref)
        stop = threading.Event()
        signal.signal(signal.SIGTERM, lambda *_: stop.set())
        rec = Recorder(handle, sess.id, device=dev, samplerate=rate, channels=channels,
                       on_warning=lambda w: click.secho(f"\n{w.message}", fg="yellow", err=True))
        transcriber = None
        if live:
            from fieldkit.transcription.live import LiveTranscriber
            from fieldkit.transcription.service import session_settings

            transcriber = LiveTranscriber(handle, sess.id, session_settings(handle, sess.id)).start()
        rec.start()
        click.echo(f"Recording {sess.title!r} (session {sess.id.hex[:8]}). Ctrl+C stops.", err=True)
        t0 = time.monotonic()
        try:
            while not stop.is_set() and rec.state == "recording":
                if seconds is not None and time.monotonic() - t0 >= seconds:
                    break
                stop.wait(0.25)
                s = rec.position_ms // 1000
                click.echo(f"\r{s // 60:02d}:{s % 60:02d}  level {rec.peak_db:6.1f} dBFS  "
                           f"overflows {rec.overflows}   ", nl=False, err=True)
        except KeyboardInterrupt:
            pass
        summary = rec.stop() if rec.state != "stopped" else None
        click.echo("", err=True)
        if transcriber is not None:
            click.echo("Finishing the transcript ...", err=True)
            transcriber.stop()
        if summary:
            click.echo(f"Stopped: {summary.duration_ms / 1000:.1f} s in {summary.files} file(s), "
                       f"{summary.overflows} overflows; session id {sess.id.hex[:8]}")


@click.command()
@click.option("--project", "-p", "project_name", required=True)
@click.pass_context
def recover(ctx: click.Context, project_name: str) -> None:
    """Repair recordings left unfinished by a crash and attach them to their sessions."""
    from fieldkit.recording.recovery import recover_all

    with workspace(ctx).open(project_name) as handle:
        found = recover_all(handle)
        if not found:
            click.echo("No unfinished recordings.")
        for r in found:
            click.echo(f"Recovered {r.audio_ms / 1000:.1f} s of audio in {r.files} file(s) "
                       f"for session {r.session_title!r}.")


@click.command()
@click.option("--test", "test_device", help="Record 3 s from this device and show the level.")
def devices(test_device: str | None) -> None:
    """List microphones; --test DEVICE checks one (a microphone test)."""
    import sounddevice as sd

    if test_device is None:
        for i, d in enumerate(sd.query_devices()):
            if d["max_input_channels"] > 0:
                mark = "*" if i == sd.default.device[0] else " "
                click.echo(f"{mark}{i:3} {d['name']}  ({d['max_input_channels']} in, "
                           f"{int(d['default_samplerate'])} Hz)")
        return
    from fieldkit.recording.mictest import test_microphone

    result = test_microphone(int(test_device) if test_device.isdigit() else test_device)
    click.echo(f"Peak level {result.db:.1f} dBFS — {result.verdict}")
