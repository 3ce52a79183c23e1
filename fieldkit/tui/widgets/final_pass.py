"""A line on the home screen: the final transcription passes running in the background
after interviews (fieldkit.transcription.final), with their progress. It starts them
when the home screen shows (and checks again now and then); hidden when there is none."""

from __future__ import annotations

from textual import work
from textual.widgets import Static

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

    def _show(self, rows) -> None:  # noqa: ANN001
        self.display = bool(rows)
        if not rows:
            return
        parts = []
        for r in rows:
            if r.running:
                parts.append(f"{r.session} {r.fraction:.0%}")
            elif r.failed:
                parts.append(f"{r.session} failed (fieldkit transcribe --final -p {r.project})")
        waiting = sum(1 for r in rows if not r.running and not r.failed)
        text = "Final transcript: " + (" · ".join(parts) if parts else "starting")
        if waiting:
            text += f" · {waiting} waiting"
        self.update(text)
