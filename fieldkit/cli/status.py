"""``fieldkit status``: the team overview of a project."""

from __future__ import annotations

import click

from fieldkit.cli import workspace


@click.command()
@click.option("--project", "-p", "name", required=True, help="The project.")
@click.pass_context
def status(ctx: click.Context, name: str) -> None:
    """Sessions per researcher, informants interviewed per site and case network against
    the plan, and guide coverage per site."""
    from fieldkit.team.status import overview, render_lines

    with workspace(ctx).open(name) as handle:
        ov = overview(handle)
    for line in render_lines(ov):
        click.echo(line)
