"""``fieldkit observe``: the observer's terminal (a second terminal, tmux pane or SSH
session on the same laptop) attached to the session being recorded."""

from __future__ import annotations

import click

from fieldkit.cli import workspace
from fieldkit.i18n import _


@click.command(help=_("Tag, note and mark coverage in a session another terminal is recording."))
@click.option("--project", "-p", "project_name", required=True)
@click.option("--session", "session_ref", help=_("Session id, id prefix or title "
                                                   "(default: the one recording now)."))
@click.option("--as", "initials", help=_("Your initials (default: the session's "
                                           "observer)."))
@click.pass_context
def observe(ctx: click.Context, project_name: str, session_ref: str | None, initials: str | None) -> None:
    from fieldkit.sessions.lookup import observer_target
    from fieldkit.tui.app import run_app

    ws = workspace(ctx)
    with ws.open(project_name) as handle:
        slug, session_id, author_id = observer_target(handle, session_ref, initials)
    run_app(data_dir=ws.root, project=slug, observe=(session_id, author_id))
