"""The coverage matrix across sessions: guide questions (by theme) x sessions, and the
questions that most often went uncovered. g switches guide when a project has several."""

from __future__ import annotations

from rich.text import Text
from textual import work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.message import Message
from textual.widgets import DataTable, Footer, Label, Static

from fieldkit.i18n import N_, _, ngettext
from fieldkit.tui.commands import SHELL_KEYS
from fieldkit.tui.screens.base import ProjectScreen
from fieldkit.tui.widgets.live import STYLE, SYMBOL

LEGEND = N_("✓ covered   ½ partly   – skipped   · not yet   (blank: not in that session's guide)")


class CoverageScreen(ProjectScreen[None]):
    BINDINGS = [
        *SHELL_KEYS,
        Binding("g", "next_guide", N_("Next guide"), id="coverage.next_guide", tooltip=N_("the next guide of the project")),
        Binding("escape", "back", N_("Back"), id="coverage.back", tooltip=N_("back to the previous screen")),
    ]

    class Loaded(Message):
        def __init__(self, guides, matrix) -> None:  # noqa: ANN001
            super().__init__()
            self.guides, self.matrix = guides, matrix

    def __init__(self, slug: str) -> None:
        super().__init__(slug)
        self.guide_index = 0
        self.guides: list[tuple] = []

    def compose(self) -> ComposeResult:
        yield Label(_("Coverage"), classes="pane-title", id="coverage-title")
        yield Static(_(LEGEND), id="coverage-legend")
        yield DataTable(id="matrix", zebra_stripes=True, cursor_type="row")
        yield Static("", id="coverage-gaps")
        yield Footer()

    def on_mount(self) -> None:
        self.load()

    @work(thread=True, exclusive=True, exit_on_error=False)
    def load(self) -> None:
        from fieldkit.instruments.guides.coverage import project_matrix
        from fieldkit.instruments.guides.store import latest_versions

        guides = [(g.id, g.title) for g, _v in latest_versions(self.handle.db, self.handle.project_id)]
        matrix = None
        if guides:
            gid = guides[self.guide_index % len(guides)][0]
            matrix = project_matrix(self.handle.db, self.handle.project_id, guide_id=gid)
        self.post_message(self.Loaded(guides, matrix))

    def on_coverage_screen_loaded(self, message: Loaded) -> None:
        self.guides = message.guides
        table = self.query_one("#matrix", DataTable)
        table.clear(columns=True)
        title = self.query_one("#coverage-title", Label)
        gaps = self.query_one("#coverage-gaps", Static)
        if message.matrix is None:
            title.update(_("Coverage — the project has no guide yet (`fieldkit guide import`)"))
            gaps.update("")
            return
        m = message.matrix
        name = self.guides[self.guide_index % len(self.guides)][1]
        more = _("  ·  g: {n} guides").format(n=len(self.guides)) if len(self.guides) > 1 else ""
        title.update(_("Coverage — {guide}  ·  {sessions}").format(
            guide=name, sessions=ngettext("{n} session", "{n} sessions", len(m.sessions)).format(n=len(m.sessions)))
            + more)
        table.add_column(_("Theme / question"), key="question")
        for sid, stitle in m.sessions:
            table.add_column(stitle if len(stitle) <= 14 else stitle[:13] + "…", key=str(sid))
        theme = None
        for row in m.rows:
            if row.theme != theme:
                theme = row.theme
                table.add_row(Text(theme, style="bold"), *[""] * len(m.sessions))
            label = Text("  " + (row.text if len(row.text) <= 48 else row.text[:47] + "…"),
                         style="dim" if row.retired else "")
            cells = []
            for sid, _t in m.sessions:
                status = row.cells.get(sid)
                cells.append("" if status is None else Text(SYMBOL[status.value], style=STYLE[status.value],
                                                            justify="center"))
            table.add_row(label, *cells, key=row.question_id)
        worst = sorted(m.gaps(), key=lambda g: -g[1])[:5]
        if worst and m.sessions:
            gaps.update(_("Most often not covered:") + "\n" + "\n".join(
                f"  {n}/{len(m.sessions)}  {text}" for text, n in worst))
        else:
            gaps.update(_("Every question was covered in every session.") if m.sessions else
                        _("No session has used this guide yet."))

    def action_next_guide(self) -> None:
        if len(self.guides) > 1:
            self.guide_index = (self.guide_index + 1) % len(self.guides)
            self.load()

    def action_back(self) -> None:
        self.dismiss(None)
