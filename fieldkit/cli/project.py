"""``fieldkit project new|list|deadline|set|encrypt|demo`` (pack, merge, conflicts, settle: fieldkit.cli.pack)."""

from __future__ import annotations

from datetime import date

import click

from fieldkit.cli import workspace
from fieldkit.errors import ExitCode
from fieldkit.i18n import _


@click.group(help=_("Create, list and change projects."))
def project() -> None:
    pass


@project.command("new", help=_("Create a project called NAME."))
@click.argument("name")
@click.option("--language", default="no", show_default=True, help=_("Transcription "
                                                                      "language (no, "
                                                                      "nn, en ...)."))
@click.option("--sikt", "sikt_reference", help=_("Sikt (NSD) reference number."))
@click.option("--deadline", type=click.DateTime(["%Y-%m-%d"]), help=_("Deletion "
                                                                        "deadline "
                                                                        "(YYYY-MM-DD)."))
@click.option("--encrypt", is_flag=True, help=_("Encrypt the database and audio with "
                                                  "a passphrase."))
@click.pass_context
def new(ctx: click.Context, name: str, language: str, sikt_reference: str | None, deadline,
        encrypt: bool) -> None:
    from fieldkit.cli import ask_passphrase

    ws = workspace(ctx)
    fields: dict[str, object] = {"language": language, "sikt_reference": sikt_reference}
    if deadline:
        fields["deletion_deadline"] = deadline.date()
    passphrase = None
    if encrypt:
        passphrase = ask_passphrase(name, confirm=True)
        if not passphrase:
            raise click.UsageError(_("--encrypt needs a passphrase (prompt or "
                                       "$FIELDKIT_PASSPHRASE)."))
    with ws.create(name, passphrase=passphrase, **fields) as handle:
        click.echo(_("Created project {name!r} in {folder}").format(name=name, folder=handle.folder)
                   + (_(" (encrypted: keep the passphrase safe, it cannot be recovered)") if encrypt else ""))


@project.command("encrypt", help=_("Encrypt an existing project's database and audio with a new "
         "passphrase.\n\nClose fieldkit first. Earlier exports are left as they are "
         "and listed."))
@click.argument("name")
@click.pass_context
def encrypt_(ctx: click.Context, name: str) -> None:
    from fieldkit.cli import ask_passphrase
    from fieldkit.privacy.crypto import encrypt_project

    folder = workspace(ctx).find(name)
    passphrase = ask_passphrase(folder, confirm=True)
    if not passphrase:
        raise click.UsageError(_("A passphrase is needed (prompt or "
                                   "$FIELDKIT_PASSPHRASE)."))
    leftovers = encrypt_project(folder, passphrase)
    click.echo(_("Encrypted {name}. Keep the passphrase safe: it cannot be recovered.").format(name=folder.name))
    for path in leftovers:
        click.secho(_("Not encrypted (an earlier export, delete it if not needed): "
                        "{path}").format(path=path),
                    fg="yellow", err=True)


@project.command("list", help=_("List the projects in the data folder."))
@click.pass_context
def list_(ctx: click.Context) -> None:
    ws = workspace(ctx)
    rows = ws.list_projects()
    if not rows:
        click.echo(_("No projects in {projects_dir} yet.").format(projects_dir=ws.projects_dir))
        return
    today = date.today()
    failed = False
    for folder, p, problem in rows:
        if p is None:
            from fieldkit.privacy.crypto import is_encrypted

            if is_encrypted(folder) and "locked" in (problem or ""):
                click.echo(_("{name:24} (encrypted, locked)").format(name=folder.name))
                continue
            click.secho(_("{name:24} cannot be opened: {problem}").format(name=folder.name, problem=problem), fg="red", err=True)
            failed = True
            continue
        extra = []
        if p.sikt_reference:
            extra.append(f"Sikt {p.sikt_reference}")
        if p.deletion_deadline:
            days = (p.deletion_deadline - today).days
            extra.append(_("delete by {deadline} ({days} days)").format(deadline=p.deletion_deadline, days=days))
        # the folder name (what -p takes): a project merged --into a new name is listed under it
        click.echo(f"{folder.name:24} {p.name}  [{p.language}]  {'; '.join(extra)}")
    if failed:
        ctx.exit(ExitCode.DATABASE)  # a project in the list cannot be opened


@project.command("demo", help=_("Create the demo project (a guide, tags, a recorded interview with "
         "transcript)."))
@click.option("--name", default="Demo", show_default=True)
@click.pass_context
def demo(ctx: click.Context, name: str) -> None:
    from fieldkit.tools.demo import create_demo

    folder = create_demo(workspace(ctx).ensure(), name=name)
    click.echo(_("Created the demo project in {folder}").format(folder=folder))


def _show(p) -> str:  # noqa: ANN001 - a Project
    extra = [_("language {language}").format(language=p.language), f"Sikt {p.sikt_reference or '-'}",
             _("delete by {deadline}").format(deadline=p.deletion_deadline) if p.deletion_deadline
             else _("no deletion deadline")]
    return f"{p.name}: " + "; ".join(extra)


@project.command("deadline", help=_("Set or change project NAME's deletion deadline (YYYY-MM-DD), e.g. one month "
         "after grading."))
@click.argument("name")
@click.argument("deadline", required=False)
@click.option("--clear", is_flag=True, help=_("Remove the deletion deadline."))
@click.pass_context
def deadline_(ctx: click.Context, name: str, deadline: str | None, clear: bool) -> None:
    from datetime import datetime

    if clear == bool(deadline):
        raise click.UsageError(_("Give a date (YYYY-MM-DD) or --clear."))
    when = None
    if deadline:
        try:
            when = datetime.strptime(deadline.strip(), "%Y-%m-%d").date()
        except ValueError:
            raise click.BadParameter(_("{deadline!r} is not a date like 2026-06-30.").format(deadline=deadline), param_hint="DEADLINE") from None
    p = workspace(ctx).set_details(name, deletion_deadline=when)
    click.echo(_("Deletion deadline of {name!r} {value}.").format(name=p.name, value=_('set to {date}').format(date=when) if when else _('removed')))
    if when is not None and when < date.today():
        click.secho(_("Warning: that date has passed: `fieldkit purge` removes raw "
                        "audio and personal data."),
                    fg="yellow", err=True)


@project.command("set", help=_("Change project NAME's deletion deadline, Sikt reference or language."))
@click.argument("name")
@click.option("--deadline", help=_("Deletion deadline (YYYY-MM-DD), or 'none' to "
                                     "remove it."))
@click.option("--sikt", "sikt_reference", help=_("Sikt (NSD) reference number "
                                                   "('none' removes it)."))
@click.option("--language", help=_("Transcription language (no, nn, en ...)."))
@click.pass_context
def set_(ctx: click.Context, name: str, deadline: str | None, sikt_reference: str | None,
         language: str | None) -> None:
    from datetime import datetime

    fields: dict[str, object] = {}
    if deadline is not None:
        if deadline.strip().lower() in ("none", ""):
            fields["deletion_deadline"] = None
        else:
            try:
                fields["deletion_deadline"] = datetime.strptime(deadline.strip(), "%Y-%m-%d").date()
            except ValueError:
                raise click.BadParameter(_("{deadline!r} is not a date like "
                                             "2026-06-30.").format(deadline=deadline),
                                         param_hint="--deadline") from None
    if sikt_reference is not None:
        fields["sikt_reference"] = None if sikt_reference.strip().lower() in ("none", "") else sikt_reference
    if language is not None:
        fields["language"] = language
    if not fields:
        raise click.UsageError(_("Nothing to change: give --deadline, --sikt or "
                                   "--language."))
    p = workspace(ctx).set_details(name, **fields)
    click.echo(_("Changed {show}.").format(show=_show(p)))


from fieldkit.cli.pack import register as _register_pack  # noqa: E402 - team commands

_register_pack(project)
