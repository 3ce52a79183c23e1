"""``fieldkit server init``: set a project up on the team's PostgreSQL server (administrator)."""

from __future__ import annotations

import click
from fieldkit.i18n import _


@click.group(help=_("Set up the team's PostgreSQL server (for its administrator)."))
def server() -> None:
    pass


@server.command("init", help=_("Create (or upgrade) PROJECT's schema and roles on the server at URL, "
         "connecting as an\nadministrator. Run again to add people or after updating "
         "fieldkit."))
@click.argument("url")
@click.option("--project", "slug", required=True, help=_("The project's short name "
                                                           "(as in `fieldkit project "
                                                           "list`)."))
@click.option("--researcher", "researchers", multiple=True, metavar="ROLE",
              help=_("A login role that may read and change the project (repeat for "
                       "each)."))
@click.option("--supervisor", "supervisors", multiple=True, metavar="ROLE",
              help=_("A login role that may only read the project."))
@click.option("--audio/--no-audio", default=None,
              help=_("Whether the team keeps audio on the server (default: records "
                       "and transcripts only)."))
def init(url: str, slug: str, researchers: tuple[str, ...], supervisors: tuple[str, ...],
         audio: bool | None) -> None:
    from fieldkit.team.server import init_project, public_url

    setup = init_project(url, slug, researchers=list(researchers), supervisors=list(supervisors),
                         audio=audio)
    click.echo((_("Created schema {schema} on {url}") if setup.created else _("Updated schema {schema} on {url}"))
               .format(schema=setup.schema, url=public_url(url))
               + _(" (revision {revision}); researchers: {researchers}; supervisors: {supervisors}").format(
                   revision=setup.revision, researchers=', '.join(researchers) or '-',
                   supervisors=', '.join(supervisors) or '-')
               + ("" if audio is None else _("; audio on the server: {answer}").format(
                   answer=_('yes') if audio else _('no'))))
