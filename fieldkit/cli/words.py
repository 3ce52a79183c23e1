"""``fieldkit words``: the project's word list (names, places, terms the transcript should
spell right). It corrects near misses after decoding; it is never a prompt to the model."""

from __future__ import annotations

import click

from fieldkit.cli import workspace
from fieldkit.i18n import _


@click.group(help=_("The project's word list: names, places and terms the transcript should "
                    "spell right (near misses are corrected after transcription)."))
def words() -> None:
    pass


@words.command("list", help=_("Show the project's word list."))
@click.option("--project", "-p", "project_name", required=True)
@click.pass_context
def words_list(ctx: click.Context, project_name: str) -> None:
    from fieldkit.transcription.service import word_list

    with workspace(ctx).open(project_name) as handle:
        terms = word_list(handle)
    for t in terms:
        click.echo(t)
    if not terms:
        click.echo(_("The word list is empty: `fieldkit words add TERM -p PROJECT`."))


@words.command("add", help=_("Add terms (quote one of several words: \"Helse Nord RHF\")."))
@click.argument("terms", nargs=-1, required=True)
@click.option("--project", "-p", "project_name", required=True)
@click.pass_context
def words_add(ctx: click.Context, terms: tuple[str, ...], project_name: str) -> None:
    from fieldkit.transcription.service import change_word_list, word_list

    with workspace(ctx).open(project_name) as handle:
        added, _missing = change_word_list(handle, add=list(terms))
        n = len(word_list(handle))
    click.echo(_("Added: {terms}. The list has {n} terms.").format(terms=", ".join(added) or "-", n=n))


@words.command("remove", help=_("Remove terms from the word list."))
@click.argument("terms", nargs=-1, required=True)
@click.option("--project", "-p", "project_name", required=True)
@click.pass_context
def words_remove(ctx: click.Context, terms: tuple[str, ...], project_name: str) -> None:
    from fieldkit.errors import FieldkitError
    from fieldkit.transcription.service import change_word_list

    with workspace(ctx).open(project_name) as handle:
        removed, missing = change_word_list(handle, remove=list(terms))
    if removed:
        click.echo(_("Removed: {terms}.").format(terms=", ".join(removed)))
    if missing:
        raise FieldkitError(_("Not in the word list: {terms}.").format(terms=", ".join(missing)),
                            hint=_("`fieldkit words list -p PROJECT` shows it."))
