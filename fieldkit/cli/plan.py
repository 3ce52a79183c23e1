"""``fieldkit plan``: a day in the field, per site, and what is still to plan."""

from __future__ import annotations

from datetime import date

import click

from fieldkit.cli import workspace
from fieldkit.i18n import _, format_date, language, ngettext


@click.command(help=_("The sessions of one day per site: time, kind, informants, lead, observer, "
         "guide,\nand what is still to plan (no lead, observer, guide, informants or "
         "consent)."))
@click.option("--project", "-p", "project_name", required=True)
@click.option("--day", type=click.DateTime(formats=["%Y-%m-%d"]), default=None,
              help=_("The date, YYYY-MM-DD (default: today)."))
@click.option("--output", "-o", type=click.Path(dir_okay=False), default=None,
              help=_("Also write the plan to bring along: FILE.md (Markdown) or "
                       "FILE.docx (Word)."))
@click.option("--force", is_flag=True, help=_("Replace the output file if it exists."))
@click.option("--names", is_flag=True, help=_("Informants' real names too (the file "
                                                "then holds personal data)."))
@click.pass_context
def plan(ctx: click.Context, project_name: str, day, output: str | None, force: bool, names: bool) -> None:  # noqa: ANN001
    from pathlib import Path

    from rich import box
    from rich.console import Console
    from rich.table import Table

    from fieldkit.sessions.dayplan import day_plan, write_plan

    the_day = day.date() if day else date.today()
    with workspace(ctx).open(project_name) as handle:
        dp = day_plan(handle, the_day, names=names)
    console = Console()
    console.print("[bold]" + _("Day in the field: {project}, {day}").format(
        project=dp.project, day=format_date(the_day, "full") if language() == "nb"
        else f"{the_day.strftime('%A')} {the_day.isoformat()}") + "[/bold]")
    if not dp.sites:
        console.print(_("No sessions on this day."))
    for site in dp.sites:
        table = Table(title=site.site, title_justify="left", title_style="bold", box=box.SIMPLE_HEAD)
        # words wrap whole: each column is at least as wide as its longest word (up to 20)
        sessions = [p.title + " " + p.kind_words for p in site.sessions]
        table.add_column(_("Time"), no_wrap=True)
        table.add_column(_("Session"), ratio=3, min_width=_longest_word(sessions))
        table.add_column(_("Informants"), ratio=3, min_width=_longest_word(i for p in site.sessions for i in p.informants))
        table.add_column(_("Lead/obs"), no_wrap=True)
        table.add_column(_("Guide"), ratio=2, no_wrap=True, overflow="ellipsis", max_width=12)
        table.add_column(_("To plan"), ratio=3, style="yellow",
                         min_width=_longest_word(t for p in site.sessions for t in p.to_plan))
        for p in site.sessions:
            table.add_row(p.when, p.title + (_(" (pilot)") if p.is_pilot else "") + f"\n[dim]{p.kind_words}[/dim]",
                          "\n".join(p.informants) or "–",
                          f"{p.lead_initials or '–'}/{p.observer_initials or '–'}", p.guide or "–",
                          "\n".join(p.to_plan))
        console.print(table)
    n, open_n = len(dp.sessions), len(dp.open_items)
    if n:
        console.print(_("{sessions} at {sites}; ").format(
            sessions=ngettext("{n} session", "{n} sessions", n).format(n=n),
            sites=ngettext("{n} site", "{n} sites", len(dp.sites)).format(n=len(dp.sites)))
            + (_("{n} still to plan.").format(n=open_n) if open_n else _("everything is planned.")))
    if output:
        path = write_plan(dp, Path(output), force=force)
        console.print(_("Written to {path}").format(path=path)
                      + (_(" (holds informants' names)") if names else ""))


def _longest_word(texts, cap: int = 20) -> int:  # noqa: ANN001
    """The longest word in ``texts`` (at most ``cap``): a column's width that never splits one."""
    return min(cap, max([len(w) for t in texts for w in str(t).split()] + [4]))
