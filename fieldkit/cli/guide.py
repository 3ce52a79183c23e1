"""``fieldkit guide check|import|list`` and ``fieldkit coverage``."""

from __future__ import annotations

import click

from fieldkit.cli import workspace
from fieldkit.i18n import N_, _, ngettext

#: coverage states as shown (CoverageStatus values with spaces), translated where shown
COVERAGE_WORDS = (N_("not yet"), N_("partly"), N_("covered"), N_("skipped"))
#: suggestion states as shown
STATE_WORDS = {"open": N_("open"), "confirmed": N_("confirmed"), "dismissed": N_("dismissed")}


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
            only = "  " + _("[only: {types}]").format(types=", ".join(q.only_for)) if q.only_for else ""
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
@click.option("--suggest", is_flag=True, help=_("Suggest which questions were asked, from the "
                                                "session's transcript (the interviewer's turns)."))
@click.option("--confirm", "confirm_ids", multiple=True, metavar="ITEM",
              help=_("Confirm the open suggestion for a question or probe (q4, p7)."))
@click.option("--dismiss", "dismiss_ids", multiple=True, metavar="ITEM",
              help=_("Dismiss the open suggestion for a question or probe."))
@click.option("--as", "initials", help=_("Your initials, as the author of confirmations "
                                         "(default: the session's lead)."))
@click.option("--json", "as_json", is_flag=True, help=_("Print the session's coverage as JSON."))
@click.pass_context
def coverage(ctx: click.Context, project_name: str, session_id: str | None, pilot: bool,
             suggest: bool, confirm_ids: tuple[str, ...], dismiss_ids: tuple[str, ...],
             initials: str | None, as_json: bool) -> None:
    from rich.console import Console
    from rich.table import Table

    from fieldkit.errors import FieldkitError
    from fieldkit.instruments.guides.coverage import project_matrix, session_coverage
    from fieldkit.sessions.lookup import find_session

    console = Console()
    marks = {"covered": "✔", "partly": "½", "skipped": "skip", "not_yet": "·"}
    if not session_id and (suggest or confirm_ids or dismiss_ids or as_json):
        raise FieldkitError(_("--suggest, --confirm, --dismiss and --json work on one session."),
                            hint=_("Name it with --session."))
    with workspace(ctx).open(project_name) as handle:
        if session_id:
            from fieldkit.sessions import suggestions as sg

            sess = find_session(handle, session_id)
            author = sess.lead_id
            if initials:
                from fieldkit.sessions.lookup import observer_target
                _slug, _sid, author = observer_target(handle, str(sess.id), initials)
            if suggest:
                sg.suggest_for_session(handle.db, sess.id)
            for ids, state in ((confirm_ids, sg.CONFIRMED), (dismiss_ids, sg.DISMISSED)):
                for item in ids:
                    found = [x for x in sg.session_suggestions(handle.db, sess.id)
                             if x.question == item.strip() and x.state == "open"]
                    if not found:
                        raise FieldkitError(_("No open suggestion for {item!r} in this session.").format(item=item),
                                            hint=_("See them with --json or --suggest."))
                    sg.answer(handle.db, sess.id, found[0].id, state, author_id=author)
            cov = session_coverage(handle.db, sess.id)
            sugs = sg.session_suggestions(handle.db, sess.id)
            if as_json:
                import json

                data = {
                    "session": str(sess.id), "title": sess.title, "guide": cov.guide.title,
                    "coverage": [{"question": q.id, "theme": t.title, "text": q.text,
                                  "status": cov.of(q.id).value}
                                 for t, q in cov.guide.iter_questions()],
                    "probes_used": sorted(cov.probes_used),
                    "untouched_themes": cov.untouched_themes(),
                    "suggestions": [x.as_json() for x in sugs],
                }
                click.echo(json.dumps(data, ensure_ascii=False, indent=2))
                return
            table = Table(title=f"{sess.title}")
            table.add_column(_("Theme"))
            table.add_column(_("Question"))
            table.add_column(_("Status"))
            for theme, q in cov.guide.iter_questions():
                table.add_row(theme.title, q.text, _(cov.of(q.id).value.replace("_", " ")))
            console.print(table)
            untouched = cov.untouched_themes()
            if untouched:
                console.print(_("Untouched themes: ") + "; ".join(untouched))
            if sugs:
                from fieldkit.recording.clock import hms

                st = Table(title=_("Suggestions (asked? confirm with --confirm ITEM)"))
                st.add_column(_("Item"))
                st.add_column(_("At"))
                st.add_column(_("Score"))
                st.add_column(_("State"))
                st.add_column(_("Said"))
                for x in sugs:
                    st.add_row(x.question, hms(x.at_ms), f"{x.score:.2f}", _(STATE_WORDS[x.state]), x.text[:60])
                console.print(st)
            elif suggest:
                console.print(_("No suggestions: no interviewer turn matched a guide question."))
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
            import textwrap

            # the question column keeps whole words (shortened at a word, never inside one)
            table.add_column(_("Question"), min_width=min(24, max([len(w) for r in m.rows for w in r.text.split()] + [8])))
            for sid, _title in m.sessions:
                table.add_column(heads[sid])
            for row in m.rows:
                label = textwrap.shorten(row.text, 50, placeholder=" …") + (_(" (retired)") if row.retired else "")
                table.add_row(label, *[marks[c.value] if c else "–" for c in row.cells.values()])
            console.print(table)
            for text, missing in m.gaps():
                console.print(ngettext("Not covered in {missing} session of {n}: {text}",
                                       "Not covered in {missing} sessions of {n}: {text}", missing).format(
                    missing=missing, n=len(m.sessions), text=text))
