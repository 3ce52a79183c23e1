"""``fieldkit agreement``: how alike two researchers tagged one session."""

from __future__ import annotations

import click

from fieldkit.cli import workspace
from fieldkit.i18n import N_, _


def reading(kappa: float | None) -> str:
    """Landis and Koch's words for a kappa, as the pilot-interview literature uses them."""
    if kappa is None:
        return "—"
    for bound, word in ((0.0, N_("poor")), (0.2, N_("slight")), (0.4, N_("fair")),
                        (0.6, N_("moderate")), (0.8, N_("substantial"))):
        if kappa <= bound:
            return _(word)
    return _("almost perfect")


@click.command(help=_("Agreement per tag code between two researchers who tagged SESSION (Cohen's "
         "kappa\nover time slices, as BORIS computes it), and the moments where they "
         "differ."))
@click.argument("session_ref", metavar="SESSION")
@click.option("--project", "-p", "project_name", required=True)
@click.option("--window", type=click.FloatRange(min=0.1, max=600), default=2.0, show_default=True,
              help=_("Length of a time slice, in seconds."))
@click.option("--raters", help=_("Two researchers' initials, e.g. AB,CD (default: "
                                   "the two who tagged, lead first)."))
@click.pass_context
def agreement(ctx: click.Context, session_ref: str, project_name: str, window: float,
              raters: str | None) -> None:
    from rich import box
    from rich.console import Console
    from rich.table import Table

    from fieldkit.sessions.agreement import n_slices, session_agreement
    from fieldkit.export.model import hms
    from fieldkit.sessions.lookup import find_session

    pair = None
    if raters:
        parts = [p for p in raters.replace(" ", ",").split(",") if p]
        if len(parts) != 2:
            raise click.UsageError(_("--raters takes two researchers' initials, e.g. "
                                       "--raters AB,CD."))
        pair = (parts[0], parts[1])
    with workspace(ctx).open(project_name) as handle:
        sess = find_session(handle, session_ref)
        rep = session_agreement(handle, sess.id, raters=pair, window_ms=round(window * 1000))
    a, b = rep.rater_a, rep.rater_b
    console = Console()
    table = Table(box=box.SIMPLE_HEAD, title=_("Agreement in {title}: {a} and {b}, {n} slices of {window} s ({length})").format(
        title=rep.session_title, a=a, b=b, n=n_slices(rep.length_ms, rep.window_ms),
        window=f"{window:g}", length=hms(rep.length_ms)))
    cols = (_("Tag"), _("Both"), _("{who} only").format(who=a), _("{who} only").format(who=b),
            _("Neither"), _("Agree"), "Kappa", _("Reading"))
    # a tag's label wraps between words, never inside one
    label_min = min(20, max([len(w) for c in [*rep.codes, rep.overall] for w in c.label.split()] + [4]))
    for i, col in enumerate(cols):
        table.add_column(col, justify="left" if i in (0, 7) else "right",
                         min_width=len(_("almost perfect")) if i == 7 else label_min if i == 0 else None)

    def row(c, style: str = "") -> None:  # noqa: ANN001
        k = c.kappa
        table.add_row(c.label, str(c.both), str(c.only_a), str(c.only_b), str(c.neither),
                      f"{c.observed:.0%}", "—" if k is None else f"{k:.2f}", reading(k), style=style)

    for c in rep.codes:
        row(c)
    if len(rep.codes) > 1:
        table.add_section()
        row(rep.overall, style="bold")
    console.print(table)
    if not rep.differences:
        console.print(_("They tagged alike in every slice."))
        return
    diff = Table(box=box.SIMPLE_HEAD, title=_("Where they differ ({n})").format(n=len(rep.differences)))
    for col in (_("From"), _("To"), _("Tag"), _("Tagged by"), _("Not by")):
        diff.add_column(col)
    for d in rep.differences:
        diff.add_row(hms(d.start_ms), hms(d.end_ms), d.label, d.tagged_by, d.not_by)
    console.print(diff)
