"""``fieldkit status``: the team overview of a project."""

from __future__ import annotations

import click

from fieldkit.cli import workspace
from fieldkit.i18n import _


@click.command(help=_("Sessions per researcher, informants interviewed per site and case network "
         "against\nthe plan, and guide coverage per site."))
@click.option("--project", "-p", "name", required=True, help=_("The project."))
@click.pass_context
def status(ctx: click.Context, name: str) -> None:
    from fieldkit.team.status import overview, render_lines

    with workspace(ctx).open(name) as handle:
        ov = overview(handle)
    for line in render_lines(ov):
        click.echo(line)
