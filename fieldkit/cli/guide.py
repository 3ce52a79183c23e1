"""``fieldkit guide check|import|list`` and ``fieldkit coverage``."""

from __future__ import annotations

import click

from fieldkit.cli import workspace
from fieldkit.i18n import N_, _, ngettext

#: coverage states as shown (CoverageStatus values with spaces), translated where shown
COVERAGE_WORDS = (N_("not yet"), N_("partly"), N_("covered"), N_("skipped"))


@click.group(help=_("Check, import and list interview guides."))
def guide() -> None:
    pass


def _print_outline(g) -> None:  # noqa: ANN001
    click.echo(f"{g.title}  [{g.language}]")
    if g.informant_types:
        click.echo(_("  informant types: {informant_types}").format(informant_types=', '.join(g.informant_types)))
    if g.header:
        click.echo(_("  header fields: {header}").format(header='; '.join(g.header)))
    for line in g.intro.splitlines():
        click.echo(f"  > {line}")
    n = 0
    for theme in g.themes:
        extra = [f"{theme.minutes} min"] if theme.minutes else []
        if theme.open:
            extra.append("open")
        click.echo(f"\n  {theme.id:6} {theme.title}" + (f" ({', '.join(extra)})" if extra else ""))
        for ins in theme.instructions:
            click.echo(f"         > {ins}")
        for q in theme.questions:
            n += 1
            only = f"  [only: {', '.join(q.only_for)}]" if q.only_for else ""
            click.echo(f"  {q.id:6}   {n}. {q.text}{only}")
            for ins in q.instructions:
                click.echo(f"             > {ins}")
            for p in q.probes:
                click.echo(f"  {p.id:6}      - {p.text}")
            for ex in q.examples:
                click.echo(f"               + {ex}")


@guide.command("check", help=_("Validate a guide FILE (.md, .txt or .docx) and print its outline with ids."))
@click.argument("file", type=click.Path(dir_okay=True))
def check(file: str) -> None:
    from fieldkit.instruments.guides.files import load_guide_file

    g, _text = load_guide_file(file)
    _print_outline(g)
    questions = sum(len(t.questions) for t in g.themes)
    click.echo(_("\nOK: {n} themes, {questions} questions.").format(n=len(g.themes), questions=questions))


@guide.command("import", help=_("Add guide FILE to a project, or a new version of it."))
@click.argument("file", type=click.Path(dir_okay=True))
@click.option("--project", "-p", "project_name", required=True)
@click.option("--slug", help=_("Guide name in the project (default: the file name)."))
@click.pass_context
def import_(ctx: click.Context, file: str, project_name: str, slug: str | None) -> None:
    from fieldkit.instruments.guides.store import import_guide

    with workspace(ctx).open(project_name) as handle:
        version, created = import_guide(handle.db, handle.project_id, file, slug=slug)
        retired = version.outline.get("retired", [])
        if created:
            click.echo(_("Imported {file} as version {number}").format(file=file, number=version.number)
                       + (ngettext(" ({n} item retired)", " ({n} items retired)", len(retired)).format(
                           n=len(retired)) if retired else "") + ".")
        else:
            click.echo(_("No change: {file} is the same as version {number}.").format(file=file, number=version.number))


@guide.command("list", help=_("List the guides in a project with their latest version."))
@click.option("--project", "-p", "project_name", required=True)
@click.pass_context
def list_(ctx: click.Context, project_name: str) -> None:
    from fieldkit.instruments.guides.store import latest_versions

    with workspace(ctx).open(project_name) as handle:
        for g, v in latest_versions(handle.db, handle.project_id):
            click.echo(f"{g.slug:30} v{v.number}  {g.title}  ({v.created_at:%Y-%m-%d})")


@guide.command("rename", help=_("Give guide SLUG another name NEW_SLUG in a project (e.g. when a "
                                 "teammate's\ndifferent guide has the same name and sync "
                                 "cannot join them)."))
@click.argument("slug")
@click.argument("new_slug")
@click.option("--project", "-p", "project_name", required=True)
@click.option("--title", help=_("A new title as well."))
@click.pass_context
def rename(ctx: click.Context, slug: str, new_slug: str, project_name: str, title: str | None) -> None:
    from fieldkit.instruments.guides.store import rename_guide

    with workspace(ctx).open(project_name) as handle:
        g = rename_guide(handle.db, handle.project_id, slug, new_slug, title=title)
    click.echo(_("Renamed guide {old} to {new}.").format(old=slug, new=g.slug))


@guide.command("remove", help=_("Remove guide SLUG (all its versions) from a project; only "
                                 "a guide no session uses."))
@click.argument("slug")
@click.option("--project", "-p", "project_name", required=True)
@click.pass_context
def remove(ctx: click.Context, slug: str, project_name: str) -> None:
    from fieldkit.instruments.guides.store import remove_guide

    with workspace(ctx).open(project_name) as handle:
        n = remove_guide(handle.db, handle.project_id, slug)
    click.echo(ngettext("Removed guide {slug} ({n} version).", "Removed guide {slug} ({n} versions).",
                        n).format(slug=slug, n=n))


@click.command(help=_("Guide coverage: one session, or question x session for the project."))
@click.option("--project", "-p", "project_name", required=True)
@click.option("--session", "session_id", help=_("One session's coverage (id or its "
                                                  "start)."))
@click.option("--pilot", is_flag=True, help=_("Include pilot sessions."))
@click.pass_context
def coverage(ctx: click.Context, project_name: str, session_id: str | None, pilot: bool) -> None:
    from rich.console import Console
    from rich.table import Table

    from fieldkit.instruments.guides.coverage import project_matrix, session_coverage
    from fieldkit.sessions.lookup import find_session

    console = Console()
    marks = {"covered": "✔", "partly": "½", "skipped": "skip", "not_yet": "·"}
    with workspace(ctx).open(project_name) as handle:
        if session_id:
            sess = find_session(handle, session_id)
            cov = session_coverage(handle.db, sess.id)
            table = Table(title=f"{sess.title}")
            table.add_column("Theme")
            table.add_column(_("Question"))
            table.add_column(_("Status"))
            for theme, q in cov.guide.iter_questions():
                table.add_row(theme.title, q.text, _(cov.of(q.id).value.replace("_", " ")))
            console.print(table)
            untouched = cov.untouched_themes()
            if untouched:
                console.print(_("Untouched themes: ") + "; ".join(untouched))
            return
        whole = project_matrix(handle.db, handle.project_id, include_pilot=pilot)
        if not whole.guides:
            console.print(_("No session has used a guide yet."))
            return
        # one table per guide: a session's coverage only under its own guide's questions
        for gid, gtitle, versions in whole.guides:
            m = whole.for_guide(gid)
            heads = m.headings()
            vtext = ", ".join(f"v{v}" for v in versions)
            table = Table(title=_("Coverage: {guide} ({versions}), question x session").format(
                guide=gtitle, versions=vtext))
            table.add_column(_("Question"))
            for sid, _title in m.sessions:
                table.add_column(heads[sid])
            for row in m.rows:
                label = row.text[:50] + (_(" (retired)") if row.retired else "")
                table.add_row(label, *[marks[c.value] if c else "–" for c in row.cells.values()])
            console.print(table)
            for text, missing in m.gaps():
                console.print(_("Not covered in {missing} session(s) of {n}: {text}").format(
                    missing=missing, n=len(m.sessions), text=text))
