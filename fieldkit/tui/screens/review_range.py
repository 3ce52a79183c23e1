"""Selective transcription from the review screen: ``b`` on a row marks where a range
starts, ``b`` on another row marks its end, and that part of the recording is
transcribed in the background (seed practice: only the interesting parts of an observed
meeting are transcribed). Later ranges add to the transcript; a range that was cut off
continues when marked again. The work goes through fieldkit.transcription.service."""

from __future__ import annotations

from textual import work

from fieldkit.i18n import _
from fieldkit.tui.widgets.live import clock


class RangeTranscription:
    """Mixin for ReviewScreen (needs ``rows``, ``_cursor``, ``handle``, ``session_id``, ``load``)."""

    range_start_ms: int | None = None

    def _row_times(self) -> tuple[int, int] | None:
        i = self._cursor()
        if i is None:
            return None
        kind, obj = self.rows[i]
        if kind == "segment":
            return obj.start_ms, obj.end_ms
        at = obj.position_ms or 0
        return at, obj.end_ms or at

    def action_mark_range(self) -> None:
        times = self._row_times()
        if times is None:
            self.notify(_("Move to a row first: b marks where the range to transcribe starts."), severity="warning")
            return
        if self.range_start_ms is None:
            self.range_start_ms = times[0]
            self.notify(_("Range starts at {time}: press b on the row where it ends.").format(time=clock(times[0])))
            return
        start, end = sorted((self.range_start_ms, times[1]))
        self.range_start_ms = None
        if end <= start:
            end = start + 30_000   # one row, a marker without length: the half-minute after it
        self.transcribe_range(start, end)

    @work(thread=True, exclusive=True, group="review-range", exit_on_error=False)
    def transcribe_range(self, start_ms: int, end_ms: int) -> None:
        from fieldkit.transcription.service import transcribe_session

        self.app.call_from_thread(self.notify, _("Transcribing {start}–{end} in the background …").format(start=clock(start_ms), end=clock(end_ms)))
        run = transcribe_session(self.handle, self.session_id, span=(start_ms, end_ms))
        self.app.call_from_thread(self.notify, _("Transcribed {start}–{end} ({model}).").format(
            start=clock(start_ms), end=clock(run.done_ms), model=run.model))
        self.app.call_from_thread(self.load)
