"""``fieldkit bench``: figures about this laptop."""

from __future__ import annotations

import click
from fieldkit.i18n import _


@click.group(help=_("Measure what this laptop can do (prints figures)."))
def bench() -> None:
    pass


@bench.command("transcribe", help=_("Per installed model: real-time factor and word error rate on real speech "
         "(the\nclips shipped with fieldkit, or --speech DIR), fieldkit's final pass against "
         "raw\nfaster-whisper on the same file in the same run; the figures are kept for "
         "`models\nlist`, setup and the final pass. With --file: the speed of one model "
         "on that file."))
@click.option("--model", default=None, help=_("Model (default: every installed model; "
                                                "with --file: base)."))
@click.option("--language", default="no", show_default=True, help=_("Language of --file."))
@click.option("--file", "file_", type=click.Path(exists=True, dir_okay=False),
              help=_("Audio to time one model on (no reference needed)."))
@click.option("--seconds", type=float, default=None,
              help=_("Length of each language's recording made of the clips (default 60), "
                     "or of the synthetic speech (default 300)."))
@click.option("--synthetic", is_flag=True, help=_("Time one model on synthetic speech made "
                                                  "with espeak-ng instead."))
@click.option("--speech", type=click.Path(exists=True, file_okay=False),
              help=_("A folder of real speech clips with .txt references (no_*.flac, "
                       "en_*.flac); default: the clips shipped with fieldkit."))
@click.option("--rounds", type=int, default=1, show_default=True,
              help=_("Runs of each (raw, fieldkit) alternated; the best of each "
                       "counts."))
def transcribe(model: str | None, language: str, file_: str | None, seconds: float, synthetic: bool,
               speech: str | None, rounds: int) -> None:
    from pathlib import Path

    from fieldkit.tools.bench import default_speech_dir

    if not file_ and not synthetic and (speech or default_speech_dir()):
        return _models(Path(speech) if speech else None, [model] if model else None, rounds, seconds or 60.0)
    # no real-speech clips here (an installed package without the source's tests/data):
    # one model timed on synthetic speech, as before
    model = model or "base"
    from fieldkit.tools.bench import bench_transcribe

    r = bench_transcribe(model, language, Path(file_) if file_ else None, seconds or 300.0,
                         echo=lambda m: click.echo(m, err=True), rounds=max(rounds, 2))
    click.echo(_("audio: {audio_s:.1f} s   model: {model}   language: {language}").format(audio_s=r.audio_s, model=model, language=language))
    click.echo(_("raw faster-whisper: {raw_s:.1f} s (RTF {value:.3f})").format(raw_s=r.raw_s, value=r.raw_s / r.audio_s))
    click.echo(_("fieldkit batch job: {fieldkit_s:.1f} s (RTF {value:.3f})").format(fieldkit_s=r.fieldkit_s, value=r.fieldkit_s / r.audio_s))
    click.echo(_("fieldkit / raw: {ratio:.3f} (goal <= 1.05)").format(ratio=r.ratio))
    if r.single_thread_rtf is not None:
        keeps_up = r.single_thread_rtf < 0.8
        click.echo(_("one thread (live mode): RTF {rtf:.3f} -> live transcription {verdict}").format(
            rtf=r.single_thread_rtf,
            verdict=_("keeps up") if keeps_up else _("falls behind; use a smaller model live, batch after")))


def _models(folder, models, rounds: int, seconds: float) -> None:
    import os

    from fieldkit.tools.bench import bench_models

    before = os.getloadavg()
    rows = bench_models(folder, models, rounds=rounds, min_s=seconds, echo=lambda m: click.echo(m, err=True))
    click.echo(f"{'model':18} {'lang':4} {'words':>5} {'WER':>6} {'WERraw':>6} {'RTF':>6} "
               f"{'+spk':>6} {'raw':>6} {'rawbat':>6} {'batch':>5}")
    for r in rows:
        click.echo(f"{r.model:18} {r.language:4} {r.words:5d} {r.fieldkit_wer:6.3f} {r.raw_wer:6.3f} "
                   f"{r.rtf:6.3f} {r.total_rtf:6.3f} {r.raw_s / r.audio_s:6.3f} "
                   f"{r.raw_batched_s / r.audio_s:6.3f} {r.batch:5d}")
    after = os.getloadavg()
    threads = rows[0].threads if rows else 0
    click.echo(_("RTF: processing time / audio time (fieldkit's final pass; +spk with speakers; raw: "
                 "faster-whisper sequential and batched on the same file). {threads} threads, {cores} "
                 "cores; load average {before:.2f} before, {after:.2f} after.").format(
        threads=threads, cores=os.cpu_count(), before=before[0], after=after[0]))
