"""The ``fieldkit`` command line.

Subcommands live in their own modules and are imported only when used (see
``COMMANDS``), so ``fieldkit --help`` stays fast: nothing heavy (faster_whisper,
ctranslate2, av, sqlalchemy) is imported at start-up. A new command is one line here.
"""

from __future__ import annotations

import importlib
import os
import sys

import click

from fieldkit import __version__
from fieldkit.errors import ExitCode, FieldkitError

#: name -> "module:attribute" of a click command or group
COMMANDS: dict[str, str] = {
    "project": "fieldkit.cli.project:project",
    "doctor": "fieldkit.cli.doctor:doctor",
    "purge": "fieldkit.cli.purge:purge",
    "guide": "fieldkit.cli.guide:guide",
    "coverage": "fieldkit.cli.guide:coverage",
    "transcribe": "fieldkit.cli.transcribe:transcribe",
    "models": "fieldkit.cli.models:models",
    "import": "fieldkit.cli.audio:import_",
    "record": "fieldkit.cli.record:record",
    "recover": "fieldkit.cli.record:recover",
    "devices": "fieldkit.cli.record:devices",
    "bench": "fieldkit.cli.bench:bench",
    "informant": "fieldkit.cli.informant:informant",
    "consent": "fieldkit.cli.informant:consent",
    "export": "fieldkit.cli.export:export",
    "observe": "fieldkit.cli.observe:observe",
    "agreement": "fieldkit.cli.agreement:agreement",
    "plan": "fieldkit.cli.plan:plan",
    "sync": "fieldkit.cli.sync:sync",
    "server": "fieldkit.cli.server:server",
    "status": "fieldkit.cli.status:status",
    "speakers": "fieldkit.cli.speakers:speakers",
    "researcher": "fieldkit.cli.researcher:researcher",
}

#: one-line help shown by ``fieldkit --help`` without importing the module
SHORT_HELP: dict[str, str] = {
    "project": "Create, list and change projects (deletion deadline, Sikt reference).",
    "doctor": "Check this laptop: Python, PortAudio, microphones, models, disk.",
    "purge": "Remove everything about an informant who withdrew.",
    "guide": "Check, import and list interview guides.",
    "coverage": "Which guide questions were covered, per session and project.",
    "transcribe": "Transcribe a session's recording (resumable).",
    "models": "Speech models: list, download, add from a folder, choose per project.",
    "import": "Import an external recording (dictaphone, telephone) into a session.",
    "record": "Record a session without the app (stops on Ctrl+C or SIGTERM).",
    "recover": "Repair recordings left unfinished by a crash.",
    "devices": "List microphones, or test one.",
    "bench": "Measure what this laptop can do (transcription speed).",
    "informant": "Add and list informants, record consent and withdrawal.",
    "consent": "Record a participant's recording consent for a session.",
    "export": "Export sessions: Word, text, subtitles, spreadsheets, JSON, REFI-QDA, ELAN.",
    "observe": "Attach a second terminal to the session being recorded (the observer's seat).",
    "agreement": "How alike two researchers tagged a session (kappa per tag, and where they differ).",
    "plan": "A day in the field: the sessions of one date per site, and what is still to plan.",
    "sync": "Push this laptop's changes to the team server and pull the team's.",
    "server": "Set up the team's PostgreSQL server (administrator).",
    "status": "Team overview: sessions per researcher, informants and coverage per site.",
    "speakers": "Who spoke: label every transcript segment with a speaker (offline).",
    "researcher": "Add, list and edit the project's researchers.",
}


class LazyGroup(click.Group):
    def list_commands(self, ctx: click.Context) -> list[str]:
        return sorted(COMMANDS)

    def get_command(self, ctx: click.Context, name: str) -> click.Command | None:
        target = COMMANDS.get(name)
        if target is None:
            return None
        module, attr = target.split(":")
        return getattr(importlib.import_module(module), attr)

    def format_commands(self, ctx: click.Context, formatter: click.HelpFormatter) -> None:
        rows = [(name, SHORT_HELP.get(name, "")) for name in self.list_commands(ctx)]
        if rows:
            with formatter.section("Commands"):
                formatter.write_dl(rows)


@click.group(cls=LazyGroup, invoke_without_command=True)
@click.option(
    "--data-dir",
    type=click.Path(file_okay=False),
    envvar="FIELDKIT_HOME",
    help="Where projects are kept (default: your user data folder; env FIELDKIT_HOME).",
)
@click.option("--project", "-p", "project_name", help="Open this project in the app.")
@click.version_option(__version__, prog_name="fieldkit")
@click.pass_context
def cli(ctx: click.Context, data_dir: str | None, project_name: str | None) -> None:
    """fieldkit: interview guide, recording, tags and notes, transcripts and exports
    for qualitative fieldwork, all on this laptop.

    Run without a command to open the app.
    """
    ctx.ensure_object(dict)
    ctx.obj["data_dir"] = data_dir
    if ctx.invoked_subcommand is None:
        from fieldkit.tui.app import run_app

        run_app(data_dir=data_dir, project=project_name)


def workspace(ctx: click.Context):  # noqa: ANN201 - avoid importing at module level
    from fieldkit.projects import Workspace

    def warn(message: str) -> None:
        click.secho(f"Warning: {message}", fg="yellow", err=True)

    return Workspace(ctx.find_root().obj.get("data_dir"), notify=warn,
                     ask_passphrase=ask_passphrase)


def ask_passphrase(folder, confirm: bool = False) -> str | None:  # noqa: ANN001
    """$FIELDKIT_PASSPHRASE for scripts, else a hidden prompt when there is a terminal."""
    env = os.environ.get("FIELDKIT_PASSPHRASE")
    if env:
        return env
    if not sys.stdin.isatty():
        return None
    return click.prompt(f"Passphrase for {getattr(folder, 'name', folder)}", hide_input=True,
                        confirmation_prompt=confirm)


def main(argv: list[str] | None = None) -> None:
    os.umask(0o077)  # research data: files and folders we create are owner-only
    # Offline by default: no library may reach a model hub at run time. Only the
    # explicit `fieldkit models download` lifts this for its own process.
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    os.environ.setdefault("HF_HUB_DISABLE_TELEMETRY", "1")
    try:
        code = cli.main(args=argv, prog_name="fieldkit", standalone_mode=False)
        if isinstance(code, int) and code:
            sys.exit(code)  # ctx.exit(ExitCode...) inside a command
    except click.exceptions.Abort:
        click.echo("Aborted.", err=True)
        sys.exit(ExitCode.INTERRUPTED)
    except click.ClickException as exc:
        exc.show()
        # click: 2 for a usage error (as ExitCode.USAGE), 1 for any other
        sys.exit(ExitCode.USAGE if isinstance(exc, click.UsageError) else ExitCode.FAILED)
    except FieldkitError as exc:
        click.secho(f"fieldkit: {exc.message}", fg="red", err=True)
        if exc.hint:
            click.echo(f"  {exc.hint}", err=True)
        sys.exit(exc.exit_code)
    except KeyboardInterrupt:
        sys.exit(ExitCode.INTERRUPTED)
