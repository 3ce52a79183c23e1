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
from fieldkit.i18n import N_, _, translate_click

translate_click()  # click's own words ("Usage:", "Options"...) in the user's language

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
    "words": "fieldkit.cli.words:words",
    "tags": "fieldkit.cli.tags:tags",
    "snippets": "fieldkit.cli.snippets:snippets",
}

#: one-line help shown by ``fieldkit --help`` without importing the module
SHORT_HELP: dict[str, str] = {
    "project": N_("Create, list and change projects (deletion deadline, Sikt reference)."),
    "doctor": N_("Check this laptop: Python, PortAudio, microphones, models, disk."),
    "purge": N_("Remove everything about an informant who withdrew."),
    "guide": N_("Check, import and list interview guides."),
    "coverage": N_("Which guide questions were covered, per session and project."),
    "transcribe": N_("Transcribe a session's recording (resumable)."),
    "models": N_("Speech models: list, download, add from a folder, choose per project."),
    "import": N_("Import an external recording (dictaphone, telephone) into a session."),
    "record": N_("Record a session without the app (stops on Ctrl+C or SIGTERM)."),
    "recover": N_("Repair recordings left unfinished by a crash."),
    "devices": N_("List microphones, or test one."),
    "bench": N_("Measure what this laptop can do (transcription speed)."),
    "informant": N_("Add and list informants, record consent and withdrawal."),
    "consent": N_("Record a participant's recording consent for a session."),
    "export": N_("Export sessions: Word, text, subtitles, spreadsheets, JSON, REFI-QDA, ELAN."),
    "observe": N_("Attach a second terminal to the session being recorded (the observer's seat)."),
    "agreement": N_("How alike two researchers tagged a session (kappa per tag, and where they differ)."),
    "plan": N_("A day in the field: the sessions of one date per site, and what is still to plan."),
    "sync": N_("Push this laptop's changes to the team server and pull the team's."),
    "server": N_("Set up the team's PostgreSQL server (administrator)."),
    "status": N_("Team overview: sessions per researcher, informants and coverage per site."),
    "speakers": N_("Who spoke: label every transcript segment with a speaker (offline)."),
    "researcher": N_("Add, list and edit the project's researchers."),
    "words": N_("The project's word list: names and terms the transcript should spell right."),
    "tags": N_("Tag schemes: list, rename, add or remove a tag, change its key."),
    "snippets": N_("Text snippets: abbreviations that expand while you edit a transcript."),
}


#: the words of click's usage lines and fieldkit's metavars, in the user's language where shown
METAVARS: dict[str, str] = {m: m for m in (
    N_("[OPTIONS]"), N_("COMMAND [ARGS]..."), N_("[COMMAND] [ARGS]..."), N_("TEXT"), N_("INTEGER"),
    N_("FLOAT"), N_("DIRECTORY"), N_("FILE"), N_("PATH"), N_("NAME"), N_("CODE"), N_("SESSION"), N_("WHO"),
    N_("SOURCE"), N_("DEADLINE"), N_("CONFLICT_ID"), N_("URL"), N_("ROLE"), N_("OLD=NEW"), N_("PROJECT"),
    N_("YYYY-MM-DD[ HH:MM]"), N_("[SESSION]"), N_("[DEADLINE]"), N_("INITIALS"), N_("ITEM"), N_("HH:MM:SS"),
    N_("ABBREVIATION"), N_("SLUG"), N_("NEW_SLUG"), N_("TERMS"), N_("FLOAT RANGE"))}
PROJECT_HELP = N_("The project (name or short name).")


def _type_word(kind: click.ParamType) -> str:
    """The English word of a parameter type's placeholder. click names a Path in the language
    active when the option was made (a command module first imported in another language
    would keep it), so a Path's word comes from what it accepts."""
    if isinstance(kind, click.Path):
        return "FILE" if not kind.dir_okay else "DIRECTORY" if not kind.file_okay else "PATH"
    return getattr(kind, "name", "").upper()


def localise(cmd: click.Command) -> click.Command:
    """click's usage words and every metavar of ``cmd`` (and its subcommands already loaded)
    in the user's language, and a help text for a ``-p/--project`` option that has none.
    The English originals are kept on the command, so a later call in another language
    starts from them (tests switch languages within one process)."""
    originals = cmd.__dict__.setdefault("_fk_originals", {})
    if "options_metavar" not in originals:
        originals["options_metavar"] = cmd.options_metavar
        if isinstance(cmd, click.Group):
            originals["subcommand_metavar"] = cmd.subcommand_metavar
    if originals["options_metavar"]:
        cmd.options_metavar = _(originals["options_metavar"])
    if originals.get("subcommand_metavar"):
        cmd.subcommand_metavar = _(originals["subcommand_metavar"])
    for param in cmd.params:
        key = ("param", param.name)
        if key not in originals:
            metavar = param.metavar
            if metavar is None:
                if isinstance(param, click.Argument):
                    metavar = param.name.upper()
                elif not getattr(param, "is_flag", False) and not getattr(param, "count", False) \
                        and not isinstance(param.type, (click.Choice, click.DateTime)) \
                        and _type_word(param.type) in METAVARS:
                    metavar = _type_word(param.type)
            if isinstance(param, click.Argument) and metavar and not param.required \
                    and not metavar.startswith("["):
                metavar = f"[{metavar}]"
            help_text = getattr(param, "help", None)
            if isinstance(param, click.Option) and not help_text and "--project" in param.opts:
                help_text = PROJECT_HELP
                metavar = metavar if param.metavar else "PROJECT"
            originals[key] = (metavar, help_text if help_text == PROJECT_HELP else None)
        metavar, help_text = originals[key]
        if metavar:
            param.metavar = _(metavar)
        if help_text:
            param.help = _(help_text)
    return cmd


class LazyGroup(click.Group):
    def list_commands(self, ctx: click.Context) -> list[str]:
        return sorted(COMMANDS)

    def get_command(self, ctx: click.Context, name: str) -> click.Command | None:
        target = COMMANDS.get(name)
        if target is None:
            return None
        module, attr = target.split(":")
        cmd = getattr(importlib.import_module(module), attr)
        _localise_tree(cmd)
        return cmd

    def format_commands(self, ctx: click.Context, formatter: click.HelpFormatter) -> None:
        rows = [(name, _(SHORT_HELP[name]) if name in SHORT_HELP else "")
                for name in self.list_commands(ctx)]
        if rows:
            with formatter.section(_("Commands")):
                formatter.write_dl(rows)


@click.group(cls=LazyGroup, invoke_without_command=True, help=_("fieldkit: interview guide, recording, tags and notes, transcripts and "
         "exports\nfor qualitative fieldwork, all on this laptop.\n\nRun without a "
         "command to open the app."))
@click.option(
    "--data-dir",
    type=click.Path(file_okay=False),
    envvar="FIELDKIT_HOME",
    help=_("Where projects are kept (default: your user data folder; env "
             "FIELDKIT_HOME)."),
)
@click.option("--project", "-p", "project_name", help=_("Open this project in the "
                                                          "app."))
@click.version_option(__version__, prog_name="fieldkit")
@click.pass_context
def cli(ctx: click.Context, data_dir: str | None, project_name: str | None) -> None:
    ctx.ensure_object(dict)
    ctx.obj["data_dir"] = data_dir
    if ctx.invoked_subcommand is None:
        from fieldkit.tui.app import run_app

        run_app(data_dir=data_dir, project=project_name)


def _localise_tree(cmd: click.Command) -> None:
    localise(cmd)
    if isinstance(cmd, click.Group) and not isinstance(cmd, LazyGroup):
        for sub in cmd.commands.values():
            _localise_tree(sub)


def workspace(ctx: click.Context):
    from fieldkit.projects import Workspace

    def warn(message: str) -> None:
        click.secho(_("Warning: {message}").format(message=message), fg="yellow", err=True)

    return Workspace(ctx.find_root().obj.get("data_dir"), notify=warn,
                     ask_passphrase=ask_passphrase)


def ask_passphrase(folder, confirm: bool = False) -> str | None:
    """$FIELDKIT_PASSPHRASE for scripts, else a hidden prompt when there is a terminal."""
    env = os.environ.get("FIELDKIT_PASSPHRASE")
    if env:
        return env
    if not sys.stdin.isatty():
        return None
    return click.prompt(_("Passphrase for {folder}").format(folder=getattr(folder, 'name', folder)), hide_input=True,
                        confirmation_prompt=confirm)


def main(argv: list[str] | None = None) -> None:
    os.umask(0o077)  # research data: files and folders we create are owner-only
    # Offline by default: no library may reach a model hub at run time. Only the
    # explicit `fieldkit models download` lifts this for its own process.
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    os.environ.setdefault("HF_HUB_DISABLE_TELEMETRY", "1")
    localise(cli)
    try:
        code = cli.main(args=argv, prog_name="fieldkit", standalone_mode=False)
        if isinstance(code, int) and code:
            sys.exit(code)  # ctx.exit(ExitCode...) inside a command
    except click.exceptions.Abort:
        click.echo(_("Aborted."), err=True)
        sys.exit(ExitCode.INTERRUPTED)
    except click.ClickException as exc:
        exc.show()
        # click: 2 for a usage error (as ExitCode.USAGE), 1 for any other
        sys.exit(ExitCode.USAGE if isinstance(exc, click.UsageError) else ExitCode.FAILED)
    except FieldkitError as exc:
        click.secho(_("fieldkit: {message}").format(message=exc.message), fg="red", err=True)
        if exc.hint:
            click.echo(f"  {exc.hint}", err=True)
        sys.exit(exc.exit_code)
    except KeyboardInterrupt:
        sys.exit(ExitCode.INTERRUPTED)
