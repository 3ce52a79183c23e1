"""``fieldkit bench``: figures about this laptop."""

from __future__ import annotations

import click


@click.group()
def bench() -> None:
    """Measure what this laptop can do (prints figures)."""


@bench.command("transcribe")
@click.option("--model", default="base", show_default=True)
@click.option("--language", default="no", show_default=True)
@click.option("--file", "file_", type=click.Path(exists=True, dir_okay=False),
              help="Audio to use (default: synthetic speech made with espeak-ng).")
@click.option("--seconds", type=float, default=300, show_default=True, help="Length of synthetic speech.")
def transcribe(model: str, language: str, file_: str | None, seconds: float) -> None:
    """Real-time factor of a model here, fieldkit vs raw faster-whisper, and whether
    live transcription will keep up."""
    from pathlib import Path

    from fieldkit.bench import bench_transcribe

    r = bench_transcribe(model, language, Path(file_) if file_ else None, seconds,
                         echo=lambda m: click.echo(m, err=True))
    click.echo(f"audio: {r.audio_s:.1f} s   model: {model}   language: {language}")
    click.echo(f"raw faster-whisper: {r.raw_s:.1f} s (RTF {r.raw_s / r.audio_s:.3f})")
    click.echo(f"fieldkit batch job: {r.fieldkit_s:.1f} s (RTF {r.fieldkit_s / r.audio_s:.3f})")
    click.echo(f"fieldkit / raw: {r.ratio:.3f} (goal <= 1.05)")
    if r.single_thread_rtf is not None:
        keeps_up = r.single_thread_rtf < 0.8
        click.echo(f"one thread (live mode): RTF {r.single_thread_rtf:.3f} -> live transcription "
                   + ("keeps up" if keeps_up else "falls behind; use a smaller model live, batch after"))
