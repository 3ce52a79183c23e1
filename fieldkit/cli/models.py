"""``fieldkit models``: the speech models here and to be had, and a project's choice."""

from __future__ import annotations

import click

from fieldkit.cli import workspace
from fieldkit.i18n import N_, _

#: where an installed model comes from (ModelInfo.source), as shown
SOURCES = {"package": N_("package"), "cache": N_("downloaded"), "path": N_("folder")}


@click.group(help=_("List, download, add and choose Whisper models.\n\nOnly `fieldkit models "
         "download` goes online, and only when you run it."))
def models() -> None:
    pass


@models.command("list", help=_("Show the models on this laptop and the ones that can be downloaded."))
def models_list() -> None:
    from rich.console import Console
    from rich.table import Table

    from fieldkit.transcription.hub import CATALOGUE, describe_speed
    from fieldkit.transcription.models import available_models, cache_dir

    found = available_models()
    have = {m.name for m in found}
    table = Table(title=_("Installed"), title_justify="left")
    for col in (_("model"), _("languages"), _("from"), _("speed on this laptop"), _("where")):
        table.add_column(col)
    for m in found:
        where = str(m.path) if m.path else _("installed as packages; assembled on first use")
        table.add_row(m.name, m.languages, _(SOURCES.get(m.source, m.source)), describe_speed(m.name), where)
    console = Console(width=max(Console().width, 140))
    if found:
        console.print(table)
    else:
        console.print(_("No models installed. Install fieldkit[models], or add or download one."))
    more = Table(title=_("Downloadable (`fieldkit models download NAME`)"), title_justify="left")
    for col in (_("model"), _("best for"), _("size"), _("speed on this laptop"), _("repository")):
        more.add_column(col)
    for m in CATALOGUE.values():
        if m.name in have:
            continue
        size = f"{m.approx_mb / 1000:.1f} GB" if m.approx_mb >= 1000 else f"{m.approx_mb} MB"
        more.add_row(m.name, _(m.best_for), f"≈{size}", describe_speed(m.name),
                     m.repo + (f" ({m.subfolder}/)" if m.subfolder else ""))
    console.print(more)
    console.print(_("Cache: {folder}").format(folder=cache_dir() / "models"))


@models.command("prepare", help=_("Assemble the multilingual base model once (done automatically on first use)."))
def models_prepare() -> None:
    from fieldkit.transcription.models import assemble_base

    click.echo(_("base model ready in {assemble_base}").format(assemble_base=assemble_base()))


@models.command("download", help=_("Download model NAME (see `models list`; `nb-whisper`: the NB-Whisper size "
         "suggested for this laptop). The only command that goes online.\n\nA cut-off "
         "download continues where it stopped when run again; "
         "every file is\nchecked against the hub's sizes and checksums before the "
         "model is installed."))
@click.argument("name")
@click.option("--force", is_flag=True, help=_("Download again and replace an "
                                                "installed copy."))
def models_download(name: str, force: bool) -> None:
    from rich.progress import (
        BarColumn, DownloadColumn, Progress, TextColumn, TimeRemainingColumn, TransferSpeedColumn,
    )

    from fieldkit.transcription.hub import describe_download, download, suggested_norwegian_model

    if name == "nb-whisper":
        name = suggested_norwegian_model()
        click.echo(_("NB-Whisper for this laptop: {what} (the largest whose final pass keeps to real "
                     "time by the speeds measured here; `fieldkit bench transcribe` measures "
                     "them).").format(what=describe_download(name)))
    from fieldkit.transcription.hub import CATALOGUE

    if name not in CATALOGUE:   # said before the progress bar is drawn
        download(name)
    with Progress(TextColumn(f"[bold]{name}"), BarColumn(), DownloadColumn(), TransferSpeedColumn(),
                  TimeRemainingColumn()) as progress:
        task = progress.add_task(name, total=None)

        def show(done: int, total: int) -> None:
            progress.update(task, completed=done, total=total or None)

        path = download(name, on_progress=show, force=force)
    click.echo(_("Installed {name} in {path}").format(name=name, path=path))


@models.command("add", help=_("Install a model copied from another computer: a folder (e.g. NB-Whisper's "
         "ct2\nfolder) or a .zip / .tar.gz of one. Nothing is installed unless it is "
         "complete."))
@click.argument("source", type=click.Path())
@click.option("--name", help=_("Name to install it under (default: from the folder "
                                 "or archive)."))
@click.option("--replace", is_flag=True, help=_("Replace an installed model of the "
                                                  "same name."))
def models_add(source: str, name: str | None, replace: bool) -> None:
    from fieldkit.transcription.hub import add

    path = add(source, name=name, replace=replace)
    click.echo(_("Installed {name} in {path}").format(name=path.name, path=path))


@models.command("use", help=_("Make NAME the project's final model (or, with --live, its live model)."))
@click.argument("name")
@click.option("--project", "-p", "project_name", required=True)
@click.option("--live", is_flag=True, help=_("Set the live model (used while "
                                               "recording) instead of the final one."))
@click.pass_context
def models_use(ctx: click.Context, name: str, project_name: str, live: bool) -> None:
    from fieldkit.transcription.service import set_project_model

    with workspace(ctx).open(project_name) as handle:
        st, tip = set_project_model(handle, name, live=live)
    click.echo(_("{project_name}: final model {model}, live model {value}").format(project_name=project_name, model=st.model, value=st.live_name()))
    if tip:
        click.echo(_("Advice: {tip}").format(tip=tip))
