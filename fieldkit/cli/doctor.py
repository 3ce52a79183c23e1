"""``fieldkit doctor``."""

from __future__ import annotations

import click

from fieldkit.errors import ExitCode
from fieldkit.i18n import _


@click.command(help=_("Check this laptop: Python, PortAudio, microphones, models, disk.\n\nPrints "
         "one PASS/FAIL line per check; exits 1 (ExitCode.FAILED) if any check failed."))
@click.pass_context
def doctor(ctx: click.Context) -> None:
    from fieldkit.tools.doctor import run_checks
    from fieldkit.paths import resolve_data_dir

    checks = run_checks(resolve_data_dir(ctx.find_root().obj.get("data_dir")))
    for check in checks:
        click.echo(check.line())
    ctx.exit(ExitCode.OK if all(c.ok for c in checks) else ExitCode.FAILED)
