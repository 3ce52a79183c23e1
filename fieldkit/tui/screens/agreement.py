"""Observer agreement in review: kappa per tag code between the two researchers who
tagged the session, and the moments where they differ (Enter jumps there in review).

The numbers come from :func:`fieldkit.sessions.agreement.session_agreement` (Cohen's kappa over
short time slices, as BORIS computes it), the same as ``fieldkit agreement``."""

from __future__ import annotations

from typing import TYPE_CHECKING

from rich.text import Text
from textual import on
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical
from textual.screen import ModalScreen
from textual.widgets import Label, OptionList, Static
from textual.widgets.option_list import Option

from fieldkit.i18n import N_, _
from fieldkit.tui.commands import HELP_KEYS
from fieldkit.tui.widgets.live import clock

if TYPE_CHECKING:
    from fieldkit.sessions.agreement import AgreementReport, CodeAgreement


def kappa_words(row: "CodeAgreement") -> str:
    """κ with two decimals, or why there is none."""
    k = row.kappa
    if k is None:
        return _("κ —  (no variation: neither or both tagged it throughout)")
    return _("κ {kappa}").format(kappa=f"{k:.2f}")


class AgreementScreen(ModalScreen["int | None"]):
    """Dismissed with the moment (ms) of the difference chosen, or None."""

    BINDINGS = [*HELP_KEYS, Binding("escape", "dismiss(None)", N_("Close"), id="agreement.close", tooltip=N_("close this view"))]

    def __init__(self, report: "AgreementReport") -> None:
        super().__init__()
        self.report = report

    def compose(self) -> ComposeResult:
        rep = self.report
        with Vertical(id="agreement-box"):
            yield Label(_("Observer agreement: {a} and {b}  ·  slices of {s} s").format(
                a=rep.rater_a, b=rep.rater_b, s=f"{rep.window_ms / 1000:g}"), id="agreement-title")
            table = Text()
            width = max([len(c.label) for c in rep.codes] + [len(_("All codes"))])
            for row in [*rep.codes, rep.overall]:
                style = "bold" if row is rep.overall else ""
                table.append(f"{_(row.label) if row is rep.overall else row.label:<{width}}  ", style=style)
                table.append(kappa_words(row), style=style)
                table.append("  " + _("both {both} · only {a} {only_a} · only {b} {only_b}").format(
                    both=row.both, a=rep.rater_a, only_a=row.only_a, b=rep.rater_b, only_b=row.only_b) + "\n",
                    style="dim")
            table.rstrip()
            yield Static(table, id="agreement-kappa")
            if rep.differences:
                yield Label(_("Where they differ (Enter jumps there):"))
                yield OptionList(*[Option(_("{at}–{end}  {label}: tagged by {by}, not by {not_by}").format(
                    at=clock(d.start_ms), end=clock(d.end_ms), label=d.label, by=d.tagged_by, not_by=d.not_by))
                    for d in rep.differences], id="agreement-differences")
            else:
                yield Label(_("They tagged alike: no moment where they differ."), id="agreement-alike")

    @on(OptionList.OptionSelected, "#agreement-differences")
    def _chosen(self, event: OptionList.OptionSelected) -> None:
        event.stop()
        self.dismiss(self.report.differences[event.option_index].start_ms)
