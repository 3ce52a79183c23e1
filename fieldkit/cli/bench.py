"""``fieldkit bench``: figures about this laptop."""

from __future__ import annotations

import click
from fieldkit.i18n import _


@click.group(help=_("Measure what this laptop can do (prints figures)."))
def bench() -> None:
    pass


@bench.command("transcribe", help=_("Real-time factor of a model here, fieldkit vs raw faster-whisper, and "
         "whether\nlive transcription will keep up; with --speech DIR, the word and "
         "character error\nrates of every installed model on real speech."))
@click.option("--model", default=None, help=_("Model (default: base; with --speech "
                                                "every installed model)."))
@click.option("--language", default="no", show_default=True)
@click.option("--file", "file_", type=click.Path(exists=True, dir_okay=False),
              help=_("Audio to use (default: synthetic speech made with espeak-ng)."))
@click.option("--seconds", type=float, default=300, show_default=True, help=_("Length "
                                                                                "of "
                                                                                "synthetic "
                                                                                "speech."))
@click.option("--speech", type=click.Path(exists=True, file_okay=False),
              help=_("A folder of real speech clips with .txt references (no_*.flac, "
                       "en_*.flac): WER and CER of each installed model instead of the "
                       "speed figures."))
@click.option("--rounds", type=int, default=2, show_default=True,
              help=_("Runs of each (raw, fieldkit) alternated; the best of each "
                       "counts."))
def transcribe(model: str | None, language: str, file_: str | None, seconds: float, speech: str | None,
               rounds: int) -> None:
    from pathlib import Path

    if speech:
        return _accuracy(Path(speech), [model] if model else None)
    model = model or "base"
    from fieldkit.tools.bench import bench_transcribe

    r = bench_transcribe(model, language, Path(file_) if file_ else None, seconds,
                         echo=lambda m: click.echo(m, err=True), rounds=rounds)
    click.echo(_("audio: {audio_s:.1f} s   model: {model}   language: {language}").format(audio_s=r.audio_s, model=model, language=language))
    click.echo(_("raw faster-whisper: {raw_s:.1f} s (RTF {value:.3f})").format(raw_s=r.raw_s, value=r.raw_s / r.audio_s))
    click.echo(_("fieldkit batch job: {fieldkit_s:.1f} s (RTF {value:.3f})").format(fieldkit_s=r.fieldkit_s, value=r.fieldkit_s / r.audio_s))
    click.echo(_("fieldkit / raw: {ratio:.3f} (goal <= 1.05)").format(ratio=r.ratio))
    if r.single_thread_rtf is not None:
        keeps_up = r.single_thread_rtf < 0.8
        click.echo(_("one thread (live mode): RTF {rtf:.3f} -> live transcription {verdict}").format(
            rtf=r.single_thread_rtf,
            verdict=_("keeps up") if keeps_up else _("falls behind; use a smaller model live, batch after")))


def _accuracy(folder, models) -> None:  # noqa: ANN001
    from fieldkit.tools.bench import bench_accuracy, pooled

    scores = bench_accuracy(folder, models, echo=lambda m: click.echo(m, err=True))
    click.echo(f"{'model':18} {'language':8} {'words':>5} {'WER':>6} {'CER':>6} {'RTF':>6}")
    speed: dict[str, list[float]] = {}
    for s in scores:
        acc = speed.setdefault(s.model, [0.0, 0.0])
        acc[0] += s.seconds
        acc[1] += s.audio_s
    for (name, lang), (wer, cer, words) in sorted(pooled(scores).items()):
        busy, audio = speed[name]
        click.echo(f"{name:18} {lang:8} {words:5d} {wer:6.3f} {cer:6.3f} {busy / audio:6.3f}")
    click.echo(_("clips: {folder}; WER/CER pooled over the clips of each language "
                   "(errors / reference words)").format(folder=folder))
