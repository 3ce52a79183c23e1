"""``fieldkit snippets``: the team's text snippets, abbreviations that expand while a
transcript is edited in review (``,,i`` -> the informant's code)."""

from __future__ import annotations

import click

from fieldkit.cli import workspace
from fieldkit.i18n import _


@click.group(help=_("Text snippets: abbreviations that expand while you edit a transcript "
                    "(for example ,,i for the informant's code)."))
def snippets() -> None:
    pass


@snippets.command("list", help=_("Show the project's snippets."))
@click.option("--project", "-p", "project_name", required=True)
@click.pass_context
def snippets_list(ctx: click.Context, project_name: str) -> None:
    from fieldkit.sessions.snippets import snippets as table

    with workspace(ctx).open(project_name) as handle:
        rows = table(handle)
    for abbr, text in rows.items():
        click.echo(f"{abbr}\t{text}")
    if not rows:
        click.echo(_("No snippets yet: `fieldkit snippets add ,,i \"{informant}\" -p PROJECT`."))


@snippets.command("add", help=_("Add a snippet, or change its text. The text may use {informant}, "
                                "{informants}, {lead} and {observer}: the session's names."))
@click.argument("abbreviation")
@click.argument("text")
@click.option("--project", "-p", "project_name", required=True)
@click.pass_context
def snippets_add(ctx: click.Context, abbreviation: str, text: str, project_name: str) -> None:
    from fieldkit.sessions.snippets import set_snippet

    with workspace(ctx).open(project_name) as handle:
        new = set_snippet(handle, abbreviation, text)
    click.echo((_("Added {abbr} → {text}.") if new else _("Changed {abbr} → {text}.")).format(
        abbr=abbreviation.strip(), text=text))


@snippets.command("remove", help=_("Remove a snippet."))
@click.argument("abbreviation")
@click.option("--project", "-p", "project_name", required=True)
@click.pass_context
def snippets_remove(ctx: click.Context, abbreviation: str, project_name: str) -> None:
    from fieldkit.sessions.snippets import remove_snippet

    with workspace(ctx).open(project_name) as handle:
        remove_snippet(handle, abbreviation)
    click.echo(_("Removed {abbr}.").format(abbr=abbreviation.strip()))
