"""``fieldkit sync``: exchange a project's records with the team's PostgreSQL server."""

from __future__ import annotations

import click

from fieldkit.cli import workspace
from fieldkit.i18n import _, ngettext


@click.command(help=_("Push this laptop's changes to the team server and pull the team's.\n\nWorks "
         "offline-first: when the server cannot be reached nothing changes here; sync "
         "again\nlater. A sync cut off halfway is finished by the next one. A project "
         "that is only on\nthe server is copied to this laptop."))
@click.option("--project", "-p", "name", required=True, help=_("The project to sync."))
@click.option("--server", "url", help=_("postgresql://USER@HOST:PORT/DATABASE "
                                          "(remembered after the first time; the "
                                          "password comes from the address, "
                                          "$PGPASSWORD or ~/.pgpass and is never "
                                          "stored)."))
@click.option("--recode", multiple=True, metavar="OLD=NEW",
              help=_("This laptop's informant code clashes with a different person "
                       "on the server: give ours NEW."))
@click.option("--same-person", "same", multiple=True, metavar="CODE",
              help=_("This laptop's informant CODE is the same person as the team's "
                       "CODE: join them."))
@click.option("--encrypt", is_flag=True,
              help=_("When the project is copied from the server: encrypt this "
                       "laptop's copy with a passphrase."))
@click.option("--encrypt-server", is_flag=True,
              help=_("This laptop's copy is encrypted and the team's copy on the server "
                     "is not: encrypt it there too (names, transcripts and audio sealed "
                     "with the project key; every teammate then needs an encrypted copy)."))
@click.pass_context
def sync(ctx: click.Context, name: str, url: str | None, recode: tuple[str, ...], same: tuple[str, ...],
         encrypt: bool, encrypt_server: bool) -> None:
    from fieldkit.cli.pack import _codes
    from fieldkit.errors import FieldkitError
    from fieldkit.team.sync import clone_project, remembered_url, sync_project

    ws = workspace(ctx).ensure()
    try:
        handle = ws.open(name)
        created = False
    except FieldkitError as exc:
        # the project is not on this laptop (the message of fieldkit.projects, in either language)
        not_here = _("No project called {name_or_slug!r} in {projects_dir}.").split("{")[0]
        if not url or not exc.message.startswith(not_here):
            raise
        passphrase = None
        if encrypt:
            from fieldkit.cli import ask_passphrase

            passphrase = ask_passphrase(name, confirm=True)
            if not passphrase:
                raise click.UsageError(_("--encrypt needs a passphrase (prompt or "
                                           "$FIELDKIT_PASSPHRASE)."))
        from fieldkit.cli import ask_passphrase

        handle = clone_project(ws, name, url, passphrase, ask=lambda: ask_passphrase(name))
        created = True
    with handle:
        url = url or remembered_url(handle)
        if not url:
            raise click.UsageError(_("Give the team server once: fieldkit sync -p "
                                       "NAME --server postgresql://..."))
        try:
            res = sync_project(handle, url, recode=_codes(recode), same=set(same),
                               encrypt_server=encrypt_server)
        except BaseException:
            if created:
                import shutil

                handle.close()
                shutil.rmtree(handle.folder, ignore_errors=True)
            raise
    click.echo((_("Copied from the team server; ") if created else _("Synced: ")) + res.summary()
               + (_("; audio {up} up, {down} down").format(up=res.audio_up, down=res.audio_down)
                  if res.audio_up or res.audio_down else ""))
    for note in res.notes:
        click.secho(note, fg="yellow")
    if res.guides_joined:
        click.echo(_("The same guide was imported here and by the team; joined: {slugs}").format(
            slugs=", ".join(res.guides_joined)))
    if res.pulled.purged_informants:
        click.echo(_("Withdrawn informants purged here too: {purged_informants}").format(purged_informants=', '.join(res.pulled.purged_informants)))
    if res.pulled.conflicts:
        click.secho(ngettext("{conflicts} record was changed here and by the team: see "
                             "`fieldkit project conflicts {name}`",
                             "{conflicts} records were changed here and by the team: see "
                             "`fieldkit project conflicts {name}`", res.pulled.conflicts).format(
            conflicts=res.pulled.conflicts, name=handle.folder.name), fg="yellow")
    if res.refused or res.pulled.refused:
        from fieldkit.cli.pack import echo_refused
        from fieldkit.errors import ExitCode

        echo_refused(res.refused, "server")
        echo_refused(res.pulled.refused, "here")
        ctx.exit(ExitCode.SYNC)
