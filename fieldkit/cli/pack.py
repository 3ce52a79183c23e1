"""``fieldkit project pack|merge|conflicts|settle``: carry a project to another laptop
without a server, and settle what both laptops changed."""

from __future__ import annotations

import sys

import click

from fieldkit.cli import ask_passphrase, workspace
from fieldkit.i18n import _, ngettext


def _codes(values: tuple[str, ...]) -> dict[str, str]:
    out = {}
    for v in values:
        old, sep, new = v.partition("=")
        if not sep or not old.strip() or not new.strip():
            raise click.BadParameter(_("{v!r}: write OLD=NEW, e.g. L03=L03B").format(v=v), param_hint="--recode")
        out[old.strip()] = new.strip()
    return out


def echo_refused(refused, side: str) -> None:
    """Name each record the other side would not take, and what to do; ``side``: "server"
    (the team server refused this laptop's record) or "here" (this laptop's database
    refused an incoming one)."""
    for r in refused:
        what = f"{r.tbl} {r.record_id[:8]}" + (f" ({r.label})" if r.label else "")
        if side == "server":
            click.secho(_("Not synced: the team server refused {record}: {reason}").format(
                record=what, reason=r.reason), fg="red", err=True)
        else:
            click.secho(_("Not taken: this project refused the incoming {record}: {reason}").format(
                record=what, reason=r.reason), fg="red", err=True)
    if refused:
        n = len(refused)
        if side == "server":
            hint = ngettext(
                "Everything else was synced. Correct or delete the record above on this laptop "
                "(it stays here), then sync again.",
                "Everything else was synced. Correct or delete the {n} records above on this "
                "laptop (they stay here), then sync again.", n)
        else:
            hint = ngettext(
                "Everything else was brought in; the record above is tried again at the next "
                "exchange. Rename or correct it on the laptop that made it (a name or number "
                "used here for a different record), then exchange again.",
                "Everything else was brought in; the {n} records above are tried again at the "
                "next exchange. Rename or correct them on the laptop that made them (a name or "
                "number used here for a different record), then exchange again.", n)
        click.secho(hint.format(n=n), fg="yellow", err=True)


def ask_clash(clash):
    """Ask at the terminal what a clashing informant code is; None without a terminal."""
    if not sys.stdin.isatty():
        return None

    def ask(c):
        click.echo(c.describe())
        how = click.prompt(_("Is it [s]ame person or [d]ifferent people?"), type=click.Choice(["s", "d"]))
        if how == "s":
            return ("same", None)
        return ("rename", click.prompt(_("New code for the incoming {code}").format(code=c.code)))

    return ask


@click.command("pack", help=_("Write project NAME's records (and audio with --with-audio) into one file "
         "for\nanother laptop. An encrypted project gives an encrypted pack (same "
         "passphrase)."))
@click.argument("name")
@click.option("-o", "--output", "output", required=True, type=click.Path(dir_okay=False),
              help=_("The pack file to write."))
@click.option("--with-audio", is_flag=True, help=_("Include the audio files (large)."))
@click.pass_context
def pack(ctx: click.Context, name: str, output: str, with_audio: bool) -> None:
    from pathlib import Path

    from fieldkit.team.pack import write_pack

    from fieldkit.team.pack import fingerprint, read_manifest

    with workspace(ctx).open(name) as handle:
        counts = write_pack(handle, Path(output), with_audio=with_audio)
    total = sum(v for k, v in counts.items() if k not in ("audio_files", "left_out"))
    click.echo(_("Packed {n} records").format(n=total)
               + (_(" and {n} audio files").format(n=counts['audio_files']) if with_audio else "")
               + (_(" (encrypted)") if handle.key is not None else "")
               + _(" into {output}").format(output=output))
    if counts.get("left_out"):
        click.echo(_("Left out {n} records of withdrawn informants (they do not leave this "
                     "laptop).").format(n=counts["left_out"]))
    click.echo(_("Signed with this laptop's key {fingerprint}.").format(
        fingerprint=fingerprint(read_manifest(Path(output))["signer"])))


@click.command("merge", help=_("Bring a pack from another laptop into a project (made if missing). Merging "
         "the\nsame pack again changes nothing; records changed on both laptops keep "
         "the later\nchange and the other goes to `fieldkit project conflicts`."))
@click.argument("file", type=click.Path(dir_okay=False))
@click.option("--into", "into", help=_("The project to merge into (default: the "
                                         "pack's project)."))
@click.option("--recode", multiple=True, metavar="OLD=NEW",
              help=_("An incoming informant code used here for a different person: "
                       "give the incoming one NEW."))
@click.option("--same-person", "same", multiple=True, metavar="CODE",
              help=_("An incoming informant code that is the same person as here."))
@click.pass_context
def merge(ctx: click.Context, file: str, into: str | None, recode: tuple[str, ...],
          same: tuple[str, ...]) -> None:
    from pathlib import Path

    from fieldkit.team.ops import merge_pack
    from fieldkit.team.pack import read_manifest

    ws = workspace(ctx)
    man = read_manifest(Path(file))
    passphrase = None
    if man.get("encrypted"):
        passphrase = ask_passphrase(Path(file))
        if not passphrase:
            raise click.UsageError(_("The pack is encrypted: give the project's "
                                       "passphrase (prompt or $FIELDKIT_PASSPHRASE)."))
    res = merge_pack(ws.ensure(), Path(file), into=into, passphrase=passphrase,
                     recode=_codes(recode), same=set(same), ask=ask_clash(None))
    o = res.outcome
    click.echo((_("Created") if res.created else _("Merged into")) + f" {res.folder.name}: {o.summary()}"
               + (_("; {n} audio files").format(n=res.audio_written) if res.audio_written else ""))
    if res.signature == "new":
        click.echo(_("The first pack from this sender: its key {fingerprint} is remembered; later "
                     "packs from it must carry the same. Compare it with the one the sender's "
                     "`fieldkit project pack` showed.").format(fingerprint=res.fingerprint))
    elif res.signature == "unsigned":
        click.secho(_("The pack is not signed (made by an older fieldkit): whether it was "
                      "changed on the way cannot be checked."), fg="yellow")
    if o.purged_informants:
        click.echo(_("Withdrawn informants purged here too: {purged_informants}").format(purged_informants=', '.join(o.purged_informants)))
    if o.conflicts:
        click.secho(ngettext("{conflicts} record was changed on both laptops: see "
                             "`fieldkit project conflicts {name}`",
                             "{conflicts} records were changed on both laptops: see "
                             "`fieldkit project conflicts {name}`", o.conflicts).format(
            conflicts=o.conflicts, name=res.folder.name), fg="yellow")
    if o.refused:
        from fieldkit.errors import ExitCode

        echo_refused(o.refused, "here")
        ctx.exit(ExitCode.FAILED)


@click.command("conflicts", help=_("List records changed on two laptops: the kept version and the one set aside."))
@click.argument("name")
@click.option("--all", "all_", is_flag=True, help=_("Also list settled conflicts."))
@click.pass_context
def conflicts(ctx: click.Context, name: str, all_: bool) -> None:
    from fieldkit.team.ops import RECORD_KINDS, describe_conflict, list_conflicts

    with workspace(ctx).open(name) as handle:
        rows = list_conflicts(handle, include_settled=all_)
    if not rows:
        click.echo(_("No conflicts to settle."))
        return
    for c in rows:
        if c["settled_at"]:
            how = {"kept": _("kept as it was"), "other": _("the other version is back"),
                   "carried": _("carried over")}.get(c["settled_with"], c["settled_with"])
            state = _("settled ({how})").format(how=how)
        elif c["kept_side"] == "merged":
            state = _("changed on two copies; every copy keeps the same version")
        elif c["kept_side"] == "deleted":
            state = _("deleted on one copy after a change it had not seen; the change is set aside")
        else:
            state = {"remote": _("kept the incoming version"), "local": _("kept this laptop's version"),
                     "carried": _("deleted on one copy; the change is carried over")}.get(
                c["kept_side"], _("kept the {side} version").format(side=c['kept_side']))
        what = _(RECORD_KINDS[c["tbl"]]) if c["tbl"] in RECORD_KINDS else c["tbl"]
        click.echo(f"{str(c['id'])[:8]}  {what} {str(c['record_id'])[:8]}  {state}")
        for line in describe_conflict(c):
            click.echo(f"    {line}")


@click.command("settle", help=_("Settle a conflict (its id from `fieldkit project conflicts`)."))
@click.argument("name")
@click.argument("conflict_id")
@click.option("--keep", type=click.Choice(["kept", "other"]), required=True,
              help=_("kept: leave the record as it is; other: put the set-aside "
                       "version back."))
@click.pass_context
def settle(ctx: click.Context, name: str, conflict_id: str, keep: str) -> None:
    from fieldkit.team.ops import settle as settle_

    with workspace(ctx).open(name) as handle:
        c = settle_(handle, conflict_id, keep)
    click.echo(_("Settled {value}: {value2}.").format(value=str(c['id'])[:8], value2=_('kept as it was') if keep == 'kept' else _('the other version is back')))


def register(group: click.Group) -> None:
    for cmd in (pack, merge, conflicts, settle):
        group.add_command(cmd)
