"""The home screen's team panel: sessions per researcher, informants interviewed per site
against the plan, coverage per site, last sync and open conflicts. Shown only for a
project shared with a team server or another laptop; computed in a worker thread."""

from __future__ import annotations

from textual import work
from textual.message import Message
from textual.widgets import Static

from fieldkit.i18n import _


class TeamOverview(Static):
    DEFAULT_CLASSES = "team-overview"

    class Ready(Message):
        def __init__(self, slug: str, overview) -> None:
            super().__init__()
            self.slug = slug
            self.overview = overview

    def __init__(self, **kwargs) -> None:
        super().__init__("", **kwargs)
        self.slug: str | None = None
        self.overview = None
        self.display = False

    def show(self, workspace, slug: str, *, locked: bool = False) -> None:
        """Compute the overview of ``slug`` in the background (hidden while locked)."""
        self.slug = slug
        if locked:
            self.display = False
            return
        self._load(workspace, slug)

    @work(thread=True, exclusive=True, group="team-overview")
    def _load(self, workspace, slug: str) -> None:
        from fieldkit.team.status import overview_for

        self.post_message(self.Ready(slug, overview_for(workspace, slug)))

    def on_team_overview_ready(self, message: Ready) -> None:
        if message.slug != self.slug:
            return   # the user moved on to another project meanwhile
        from fieldkit.team.status import render_lines

        self.overview = message.overview
        if self.overview is None or not self.overview.is_team:
            self.display = False
            return
        self.update("\n".join([_("Team")] + render_lines(self.overview)[1:]))
        self.display = True
