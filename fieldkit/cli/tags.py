"""``fieldkit tags list|rename|add|remove|key``: make a project's tag schemes its own."""

from __future__ import annotations

import click

from fieldkit.cli import workspace
from fieldkit.i18n import N_, _, ngettext

PROJECT_HELP = _("The project (name or short name).")
SCHEME_HELP = _("The tag scheme (name, or its start); needed when the project has several.")


def _project_option(f):
    return click.option("--project", "-p", "project_name", required=True, metavar=N_("PROJECT"),
                        help=PROJECT_HELP)(f)


def _scheme_option(f):
    return click.option("--scheme", "-s", default=None, metavar=N_("SCHEME"), help=SCHEME_HELP)(f)


@click.group(help=_("A project's tag schemes: list them, rename a tag, add or remove one, change its key. "
                    "Events refer to a tag by its code, so renaming keeps everything already tagged."))
def tags() -> None:
    pass


def _mode(mode: str) -> str:
    return _("on/off") if mode == "state" else _("point")


@tags.command("list", help=_("The project's tag schemes with every tag's key, code, label and use."))
@_scheme_option
@_project_option
@click.pass_context
def list_(ctx: click.Context, scheme: str | None, project_name: str) -> None:
    from fieldkit.instruments.tags import find_scheme, list_schemes
    from fieldkit.sessions.plan import ensure_tag_schemes

    with workspace(ctx).open(project_name) as handle:
        ensure_tag_schemes(handle)
        schemes = [find_scheme(handle.db, handle.project_id, scheme)] if scheme else \
            list_schemes(handle.db, handle.project_id)
    for n, sc in enumerate(schemes):
        if n:
            click.echo("")
        used = ngettext("used in {n} session", "used in {n} sessions", sc.sessions).format(n=sc.sessions)
        click.echo(f"{sc.name}  ({used})")
        click.echo(f"  {_('Key'):5} {_('Code'):22} {_('Label'):32} {_('Kind'):8} {_('Used')}")
        for t in sc.tags:
            click.echo(f"  {t.key:5} {t.code:22} {t.label:32} {_mode(t.mode):8} {t.events}")


@tags.command("rename", help=_("Give tag WHICH (code, key or label) the label LABEL. Its code, key and "
                               "events stay."))
@click.argument("which", metavar=N_("WHICH"))
@click.argument("label", metavar=N_("LABEL"))
@_scheme_option
@_project_option
@click.pass_context
def rename(ctx: click.Context, which: str, label: str, scheme: str | None, project_name: str) -> None:
    from fieldkit.instruments.tags import rename_tag

    with workspace(ctx).open(project_name) as handle:
        t = rename_tag(handle.db, handle.project_id, scheme, which, label)
    click.echo(_("Renamed: {code} is now “{label}” (key {key}).").format(code=t.code, label=t.label, key=t.key))


@tags.command("key", help=_("Move tag WHICH (code, key or label) to key KEY."))
@click.argument("which", metavar=N_("WHICH"))
@click.argument("key", metavar=N_("KEY"))
@_scheme_option
@_project_option
@click.pass_context
def key(ctx: click.Context, which: str, key: str, scheme: str | None, project_name: str) -> None:
    from fieldkit.instruments.tags import set_tag_key

    with workspace(ctx).open(project_name) as handle:
        t = set_tag_key(handle.db, handle.project_id, scheme, which, key)
    click.echo(_("“{label}” is now on key {key}.").format(label=t.label, key=t.key))


@tags.command("add", help=_("Add a tag labelled LABEL on key KEY at the end of the scheme."))
@click.argument("label", metavar=N_("LABEL"))
@click.argument("key", metavar=N_("KEY"))
@click.option("--code", default=None, metavar=N_("CODE"),
              help=_("Stable code (lower-case letters, digits, _); made from the label when left out."))
@click.option("--on-off", "state", is_flag=True,
              help=_("The key starts and stops a stretch (like a digression) instead of marking a moment."))
@click.option("--colour", default="#888888", metavar="#RRGGBB", show_default=True, help=_("Colour in the app."))
@click.option("--description", default="", metavar=N_("TEXT"), help=_("What the tag is for."))
@_scheme_option
@_project_option
@click.pass_context
def add(ctx: click.Context, label: str, key: str, code: str | None, state: bool, colour: str, description: str,
        scheme: str | None, project_name: str) -> None:
    from fieldkit.instruments.tags import add_tag

    with workspace(ctx).open(project_name) as handle:
        t = add_tag(handle.db, handle.project_id, scheme, label, key, code=code,
                    mode="state" if state else "point", colour=colour, description=description)
    click.echo(_("Added “{label}” on key {key} (code {code}).").format(label=t.label, key=t.key, code=t.code))


@tags.command("remove", help=_("Remove tag WHICH (code, key or label); refused once it has been used."))
@click.argument("which", metavar=N_("WHICH"))
@_scheme_option
@_project_option
@click.pass_context
def remove(ctx: click.Context, which: str, scheme: str | None, project_name: str) -> None:
    from fieldkit.instruments.tags import remove_tag

    with workspace(ctx).open(project_name) as handle:
        t = remove_tag(handle.db, handle.project_id, scheme, which)
    click.echo(_("Removed “{label}” (code {code}).").format(label=t.label, code=t.code))
