"""``fieldkit project new|list``."""

from __future__ import annotations

from datetime import date

import click

from fieldkit.cli import workspace


@click.group()
def project() -> None:
    """Create and list projects."""


@project.command("new")
@click.argument("name")
@click.option("--language", default="no", show_default=True, help="Transcription language (no, nn, en ...).")
@click.option("--sikt", "sikt_reference", help="Sikt (NSD) reference number.")
@click.option("--deadline", type=click.DateTime(["%Y-%m-%d"]), help="Deletion deadline (YYYY-MM-DD).")
@click.pass_context
def new(ctx: click.Context, name: str, language: str, sikt_reference: str | None, deadline) -> None:
    """Create a project called NAME."""
    ws = workspace(ctx)
    fields: dict[str, object] = {"language": language, "sikt_reference": sikt_reference}
    if deadline:
        fields["deletion_deadline"] = deadline.date()
    with ws.create(name, **fields) as handle:
        click.echo(f"Created project {name!r} in {handle.folder}")


@project.command("list")
@click.pass_context
def list_(ctx: click.Context) -> None:
    """List the projects in the data folder."""
    ws = workspace(ctx)
    rows = ws.list_projects()
    if not rows:
        click.echo(f"No projects in {ws.projects_dir} yet.")
        return
    today = date.today()
    failed = False
    for folder, p, problem in rows:
        if p is None:
            click.secho(f"{folder.name:24} cannot be opened: {problem}", fg="red", err=True)
            failed = True
            continue
        extra = []
        if p.sikt_reference:
            extra.append(f"Sikt {p.sikt_reference}")
        if p.deletion_deadline:
            days = (p.deletion_deadline - today).days
            extra.append(f"delete by {p.deletion_deadline} ({days} days)")
        click.echo(f"{p.slug:24} {p.name}  [{p.language}]  {'; '.join(extra)}")
    if failed:
        ctx.exit(3)
