"""``fieldkit export``: sessions or a whole project to Word, text, subtitles, spreadsheets,
JSON, REFI-QDA or ELAN, pseudonymised unless told otherwise."""

from __future__ import annotations

import click

from fieldkit.cli import workspace
from fieldkit.i18n import _, ngettext

FORMATS = ("docx", "md", "txt", "srt", "vtt", "csv", "xlsx", "json", "qdpx", "eaf")


@click.command(help=_("Export sessions for reading, coding and analysis.\n\nNames from the "
         "project's registry (informants, researchers, places and the redaction\nlist) "
         "are replaced in text, notes and metadata unless --pseudonymise off. Only "
         "then\ndo ELAN (a WAV beside the .eaf) and REFI-QDA (inside the .qdpx) carry "
         "the audio."))
@click.option("--project", "-p", "project_name", required=True)
@click.option("--session", "session_refs", multiple=True,
              help=_("Session id, id prefix or title (repeat for several)."))
@click.option("--all", "all_sessions", is_flag=True, help=_("Every session of the "
                                                              "project."))
@click.option("--format", "-f", "formats", multiple=True, required=True,
              type=click.Choice(FORMATS), help=_("Output format (repeat for several)."))
@click.option("--layer", type=click.Choice(["verbatim", "edited"]), default="edited", show_default=True,
              help=_("Transcript layer: what was heard, or the edited readable text."))
@click.option("--pseudonymise", "mode", type=click.Choice(["code", "role", "nn", "organisation", "network", "off"]),
              default="code", show_default=True,
              help=_("Replace registry names by pseudonym codes, role labels or NN; organisation / network: "
                     "quotes attributed \"NN, <organisation>\" or \"NN, <case network>\"."))
@click.option("--redact-organisations", is_flag=True,
              help=_("Treat informants' organisations and sites as names too."))
@click.option("--no-audio", is_flag=True,
              help=_("With --pseudonymise off: leave the audio out of ELAN and "
                       "REFI-QDA exports."))
@click.option("--line-numbers", is_flag=True, help=_("Line numbers in Word "
                                                       "(line-by-line coding)."))
@click.option("--turn-times", is_flag=True, help=_("Word, Markdown and text: the time of "
                                                   "every segment inside a speaker's turn, not "
                                                   "only at its start."))
@click.option("--no-pilot", is_flag=True, help=_("Leave pilot interviews out (with "
                                                   "--all)."))
@click.option("--suggestions", is_flag=True, help=_("Include the guide's suggestions (open, confirmed, "
                                                   "dismissed); confirmed coverage is always there."))
@click.option("--csv-separator", type=click.Choice([";", ",", "tab"]), default=None,
              help=_("CSV column separator (default: ';' for Norwegian projects, as "
                       "Norwegian Excel expects, else ',')."))
@click.option("--out", "out_dir", type=click.Path(file_okay=False),
              help=_("Folder to write to (default: the project's exports folder)."))
@click.option("--force", is_flag=True, help=_("Replace files that already exist."))
@click.pass_context
def export(ctx: click.Context, project_name: str, session_refs: tuple[str, ...], all_sessions: bool,
           formats: tuple[str, ...], layer: str, mode: str, redact_organisations: bool, no_audio: bool,
           line_numbers: bool, turn_times: bool, no_pilot: bool, suggestions: bool,
           csv_separator: str | None, out_dir: str | None, force: bool) -> None:
    from pathlib import Path

    from fieldkit.errors import FieldkitError
    from fieldkit.export import run_export
    from fieldkit.export.collect import ExportOptions
    from fieldkit.sessions.lookup import find_session

    if bool(session_refs) == all_sessions:
        raise FieldkitError(_("Say which sessions to export: --session ID (one or "
                                "more) or --all."))
    with workspace(ctx).open(project_name) as handle:
        ids = None if all_sessions else list(dict.fromkeys(find_session(handle, r).id for r in session_refs))
        options = ExportOptions(mode=mode, layer=layer, line_numbers=line_numbers, turn_times=turn_times,
                                redact_organisations=redact_organisations,
                                include_pilot=not no_pilot, include_audio=not no_audio,
                                include_suggestions=suggestions,
                                csv_separator="\t" if csv_separator == "tab" else csv_separator)
        result = run_export(handle, list(dict.fromkeys(formats)), ids, options,
                            Path(out_dir) if out_dir else None, force)
    bundle = result.bundle
    for line in bundle.report_lines:
        click.echo(line, err=mode == "off")
    for w in bundle.warnings:
        click.secho(_("Warning: {w}").format(w=w), fg="yellow", err=True)
    n = len(bundle.sessions)
    files = len(result.files)
    click.echo(_("Exported {sessions} to {files}:").format(
        sessions=ngettext("{n} session", "{n} sessions", n).format(n=n),
        files=ngettext("{n} file", "{n} files", files).format(n=files)))
    for f in result.files:
        click.echo(f"  {f}")
