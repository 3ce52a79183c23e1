"""``fieldkit researcher add|list|edit``: the project's researchers."""

from __future__ import annotations

import click

from fieldkit.cli import workspace
from fieldkit.i18n import _


@click.group(help=_("The project's researchers (who leads, who observes, whose notes)."))
def researcher() -> None:
    pass


@researcher.command("add", help=_("Add researcher NAME to a project."))
@click.argument("name")
@click.option("--initials", required=True, help=_("Short label for notes and speech, "
                                                    "e.g. IB (unique in the project)."))
@click.option("--institution", default="", help=_("The researcher's institution."))
@click.option("--project", "-p", "project_name", required=True)
@click.pass_context
def add(ctx: click.Context, name: str, initials: str, institution: str, project_name: str) -> None:
    from fieldkit.people.researchers import add_researcher

    with workspace(ctx).open(project_name) as handle:
        r = add_researcher(handle, name, initials, institution)
    click.echo(_("Added {label}.").format(label=r.label))


@researcher.command("list", help=_("Researchers with initials, institution and how many sessions they lead or "
         "observe."))
@click.option("--project", "-p", "project_name", required=True)
@click.pass_context
def list_(ctx: click.Context, project_name: str) -> None:
    from fieldkit.people.researchers import list_researchers

    with workspace(ctx).open(project_name) as handle:
        rows = list_researchers(handle)
    if not rows:
        click.echo(_("No researchers yet: add them with `fieldkit researcher add "
                       "NAME --initials XX -p PROJECT`."))
        return
    click.echo(f"{_('Initials'):10} {_('Name'):28} {_('Institution'):28} {_('Sessions')}")
    for r in rows:
        click.echo(f"{r.initials:10} {r.name:28} {r.institution or '-':28} {r.sessions}")


@researcher.command("edit", help=_("Change researcher WHO (initials or name)."))
@click.argument("who")
@click.option("--name", default=None, help=_("New name."))
@click.option("--initials", default=None, help=_("New initials (unique in the "
                                                   "project)."))
@click.option("--institution", default=None, help=_("New institution."))
@click.option("--project", "-p", "project_name", required=True)
@click.pass_context
def edit(ctx: click.Context, who: str, name: str | None, initials: str | None, institution: str | None,
         project_name: str) -> None:
    from fieldkit.people.researchers import edit_researcher, find_researcher

    if name is None and initials is None and institution is None:
        raise click.UsageError(_("Nothing to change: give --name, --initials or "
                                   "--institution."))
    with workspace(ctx).open(project_name) as handle:
        r = edit_researcher(handle, find_researcher(handle, who).id, name=name, initials=initials,
                            institution=institution)
    click.echo(_("Changed: {label}.").format(label=r.label))
