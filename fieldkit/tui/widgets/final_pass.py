"""A line on the home screen: the final transcription passes running in the background
after interviews (fieldkit.transcription.final), with their progress. It starts them
when the home screen shows (and checks again now and then); hidden when there is none."""

from __future__ import annotations

from textual import work
from textual.widgets import Static

from fieldkit.i18n import _, format_percent

POLL_S = 2.0
KICK_EVERY = 10      # polls between checks for new work


class FinalPassStatus(Static):
    DEFAULT_CLASSES = "final-pass"

    def on_mount(self) -> None:
        self.display = False
        self._polls = 0
        self.poll(kick=True)
        self.set_interval(POLL_S, self._tick)

    def _tick(self) -> None:
        self._polls += 1
        self.poll(kick=self._polls % KICK_EVERY == 0)

    @work(thread=True, exclusive=True, group="final-pass", exit_on_error=False)
    def poll(self, kick: bool = False) -> None:
        from fieldkit.transcription.final import quick_progress, start_pending

        workspace = self.app.workspace
        if kick:
            start_pending(workspace.root)
        rows = quick_progress(workspace.projects_dir)
        self.app.call_from_thread(self._show, rows)

    def _show(self, rows) -> None:
        self.display = bool(rows)
        if not rows:
            return
        parts = []
        for r in rows:
            if r.running:
                parts.append(f"{r.session} {format_percent(r.fraction)}")
            elif r.failed:
                parts.append(_("{session} failed (fieldkit transcribe --final -p {project})").format(
                    session=r.session, project=r.project))
        waiting = sum(1 for r in rows if not r.running and not r.failed)
        text = _("Final transcript:") + " " + (" · ".join(parts) if parts else _("starting"))
        if waiting:
            text += " · " + _("{n} waiting").format(n=waiting)
        self.update(text)
