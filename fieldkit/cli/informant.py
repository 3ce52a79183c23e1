"""``fieldkit informant add|list|withdraw`` and ``fieldkit consent``."""

from __future__ import annotations

import click

from fieldkit.cli import workspace
from fieldkit.i18n import _

DATE = click.DateTime(["%Y-%m-%d"])


@click.group(help=_("The project's informants and their consent records."))
def informant() -> None:
    pass


@informant.command("add", help=_("Add informant CODE (a pseudonym code such as L03)."))
@click.argument("code")
@click.option("--project", "-p", "project_name", required=True)
@click.option("--name", default="", help=_("Real name (never exported)."))
@click.option("--role", default="", help=_("The informant's role, e.g. nurse or unit leader (used in "
                                              "attribution labels such as [nurse, DPS])."))
@click.option("--organisation", default="", help=_("The informant's organisation or service."))
@click.option("--site", default="", help=_("The site or case the informant belongs to."))
@click.option("--group", "group_label", default="", help=_("Informant group, e.g. "
                                                             "central or local."))
@click.option("--letter-sent", type=DATE, help=_("Date the information letter was "
                                                   "sent."))
@click.option("--consent", "consent_on", type=DATE, help=_("Date written consent was "
                                                             "received."))
@click.option("--kept-at", default="", help=_("Where the signed consent form is kept."))
@click.pass_context
def add(ctx: click.Context, code: str, project_name: str, letter_sent, consent_on, **fields: str) -> None:
    from fieldkit.people.informants import add_informant

    with workspace(ctx).open(project_name) as handle:
        add_informant(handle, code, name=fields["name"], role=fields["role"],
                      organisation=fields["organisation"], site=fields["site"],
                      group_label=fields["group_label"], consent_kept_at=fields["kept_at"],
                      info_letter_sent_on=letter_sent.date() if letter_sent else None,
                      written_consent_on=consent_on.date() if consent_on else None)
        click.echo(_("Added {code}.").format(code=code))


@informant.command("list", help=_("Informants with role, organisation, site, group and consent state (no names)."))
@click.option("--project", "-p", "project_name", required=True)
@click.pass_context
def list_(ctx: click.Context, project_name: str) -> None:
    from fieldkit.people.informants import informant_rows

    with workspace(ctx).open(project_name) as handle:
        rows = informant_rows(handle)
    if not rows:
        click.echo(_("No informants yet: add them with `fieldkit informant add CODE "
                       "-p PROJECT`."))
        return
    cols = (("code", _("Code")), ("role", _("Role")), ("organisation", _("Organisation")), ("site", _("Site")),
            ("group", _("Group")))
    width = {k: max([len(h)] + [len(getattr(r, k)) for r in rows]) for k, h in cols}
    sessions = _("Sessions")
    click.echo("  ".join(f"{h:{width[k]}}" for k, h in cols) + f"  {sessions:{max(8, len(sessions))}}  "
               + _("Consent"))
    for r in rows:
        click.echo("  ".join(f"{getattr(r, k) or '-':{width[k]}}" for k, _h in cols)
                   + f"  {r.sessions:{max(8, len(sessions))}}  {r.consent}")


@informant.command("withdraw", help=_("Record that CODE withdrew; then remove their data with `fieldkit purge`."))
@click.argument("code")
@click.option("--project", "-p", "project_name", required=True)
@click.option("--on", "on", type=DATE, help=_("Date of withdrawal (default today)."))
@click.pass_context
def withdraw_(ctx: click.Context, code: str, project_name: str, on) -> None:
    from fieldkit.people.informants import withdraw

    with workspace(ctx).open(project_name) as handle:
        inf = withdraw(handle, code, on.date() if on else None)
    click.echo(_("{code} withdrew on {withdrawn_on}. Remove their data now: fieldkit "
                   "purge -p {project_name} --informant {code}").format(code=code, withdrawn_on=inf.withdrawn_on, project_name=project_name))


@click.command(help=_("Record a participant's recording consent at the start of a session."))
@click.option("--project", "-p", "project_name", required=True)
@click.option("--session", "session_ref", required=True, help=_("Session id, id "
                                                                  "prefix or title."))
@click.option("--informant", "code", required=True)
@click.option("--recording", type=click.Choice(["yes", "no"]), required=True,
              help=_("The answer to 'may we record?' at the start of the session."))
@click.pass_context
def consent(ctx: click.Context, project_name: str, session_ref: str, code: str, recording: str) -> None:
    from fieldkit.sessions.consent import record_session_consent
    from fieldkit.recording.clock import position_ms
    from fieldkit.sessions.lookup import find_session

    with workspace(ctx).open(project_name) as handle:
        sess = find_session(handle, session_ref)
        record_session_consent(handle, sess.id, code, recording == "yes",
                               position_ms=position_ms(handle.db, sess.id))
    click.echo(_("{code}: recording consent {value} for {title!r}.").format(code=code, value=_('given') if recording == 'yes' else _('refused'), title=sess.title))
