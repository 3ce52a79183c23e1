"""``fieldkit purge``: withdrawal of an informant."""

from __future__ import annotations

import click

from fieldkit.cli import workspace
from fieldkit.i18n import N_, _


@click.command(help=_("Remove everything about one informant (withdrawal of consent), or, "
         "without\n--informant, the project's raw audio and personal data (at the "
         "deletion deadline:\npseudonymised transcripts and notes stay).\n\nTheir "
         "audio, transcript segments, notes, tags and registry entry go; in "
         "group\nsessions only their speech and the events attributed to them. Backups "
         "and earlier\nexports that may hold their words are deleted too. The database "
         "is compacted so\nno text remains in it or its WAL; an audit entry without "
         "personal data is kept."))
@click.option("--project", "-p", "project_name", required=True, help=_("Project name "
                                                                         "or folder "
                                                                         "name."))
@click.option("--informant", "code", help=_("Pseudonym code of the informant who "
                                              "withdrew. Without it: the whole "
                                              "project's raw audio and personal data "
                                              "(deletion deadline)."))
@click.option("--alias", "aliases", multiple=True, metavar="NAME",
              help=_("Another name the informant is known by (nickname, maiden "
                       "name); repeatable. Used with their registered name and "
                       "the aliases in their record to find mentions elsewhere."))
@click.option("--dry-run", is_flag=True, help=_("List what would be removed, remove "
                                                  "nothing."))
@click.option("--yes", is_flag=True, help=_("Do not ask for confirmation."))
@click.pass_context
def purge(ctx: click.Context, project_name: str, code: str | None, aliases: tuple[str, ...],
          dry_run: bool, yes: bool) -> None:
    from fieldkit.privacy.purge import (
        execute_project_purge,
        execute_purge,
        plan_informant_purge,
        plan_project_purge,
    )

    with workspace(ctx).open(project_name) as handle:
        if code is None:
            plan, execute = plan_project_purge(handle), execute_project_purge
        else:
            plan, execute = plan_informant_purge(handle, code, aliases=list(aliases)), execute_purge
        click.echo(_("Would remove:") if dry_run else _("Will remove:"))
        for line in plan.describe():
            click.echo(f"  - {line}")
        _echo_mentions(plan)
        if dry_run:
            return
        if not yes:
            if code is None:  # the whole project's raw data: make the user type its name
                if click.prompt(_("Type the project's folder name to confirm")) != handle.folder.name:
                    raise click.Abort()
            else:
                confirm_or_abort(_("Remove everything about {code}? This cannot be "
                                   "undone").format(code=code))
        counts = execute(handle, plan)
        done = ", ".join(f"{v} {k.replace('_', ' ')}" for k, v in counts.items() if v)
        click.echo(_("Removed: {value}.").format(value=done or _('the registry entry')))
        if getattr(plan, "mentions", None):
            click.echo(_("The mentions listed above were left as they are: edit or keep "
                         "them (fieldkit review)."))


_KINDS = {"segment": N_("transcript"), "event": N_("note/tag"), "header": N_("header field")}


def _echo_mentions(plan) -> None:  # noqa: ANN001 - PurgePlan or ProjectPurgePlan
    """Places outside the purge that name the person: listed for the researcher to decide."""
    mentions = getattr(plan, "mentions", None)
    if mentions is None:
        return
    from fieldkit.recording.clock import hms

    terms = ", ".join(sorted(set(plan.names) | set(plan.aliases), key=str.lower))
    if not mentions:
        click.echo(_("No other session names them ({terms}).").format(terms=terms or "-"))
        return
    click.echo(_("Named elsewhere ({terms}); not removed, for you to decide:").format(terms=terms))
    for m in mentions:
        where = hms(m.position_ms) if m.position_ms is not None else "-"
        click.echo(_("  - {title!r} {where} {kind}: {term!r} in \"{excerpt}\"").format(
            title=m.session_title, where=where, kind=_(_KINDS.get(m.kind, m.kind)), term=m.term,
            excerpt=m.excerpt))


def confirm_or_abort(question: str) -> None:
    """A yes/no question that answers in the user's language: j/ja in Norwegian (y/yes are
    taken too), y/yes in English; anything else, or Enter alone, aborts."""
    from fieldkit.i18n import language

    if language() != "nb":
        click.confirm(question, abort=True)
        return
    answer = click.prompt(_("{question} [j/N]").format(question=question), default="", show_default=False,
                          prompt_suffix=" ")
    if answer.strip().lower() not in ("j", "ja", "y", "yes"):
        raise click.Abort()
