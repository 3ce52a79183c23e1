"""``fieldkit server init``: set a project up on the team's PostgreSQL server (administrator)."""

from __future__ import annotations

import click


@click.group()
def server() -> None:
    """Set up the team's PostgreSQL server (for its administrator)."""


@server.command("init")
@click.argument("url")
@click.option("--project", "slug", required=True, help="The project's short name (as in `fieldkit project list`).")
@click.option("--researcher", "researchers", multiple=True, metavar="ROLE",
              help="A login role that may read and change the project (repeat for each).")
@click.option("--supervisor", "supervisors", multiple=True, metavar="ROLE",
              help="A login role that may only read the project.")
@click.option("--audio/--no-audio", default=None,
              help="Whether the team keeps audio on the server (default: records and transcripts only).")
def init(url: str, slug: str, researchers: tuple[str, ...], supervisors: tuple[str, ...],
         audio: bool | None) -> None:
    """Create (or upgrade) PROJECT's schema and roles on the server at URL, connecting as an
    administrator. Run again to add people or after updating fieldkit."""
    from fieldkit.team.server import init_project, public_url

    setup = init_project(url, slug, researchers=list(researchers), supervisors=list(supervisors),
                         audio=audio)
    click.echo(f"{'Created' if setup.created else 'Updated'} schema {setup.schema} on {public_url(url)} "
               f"(revision {setup.revision}); researchers: {', '.join(researchers) or '-'}; "
               f"supervisors: {', '.join(supervisors) or '-'}"
               + ("" if audio is None else f"; audio on the server: {'yes' if audio else 'no'}"))
