"""The setup screen's model lines: the project's final and live model, and advice
(Norwegian projects: NB-Whisper). A Norwegian project without a Norwegian model is
offered the download here: a button with the size and the expected time (from the speed
of the last download on this laptop, or said to be a guess), then a progress bar with
the time left as measured while it runs; when it is installed it becomes the project's
final model. Reads and downloads through fieldkit.transcription (service, hub).

The review screen shows it too (``advice_only``: only the advice and a compact download
button, asked for by the screen once it shows a transcript made by a model that is not
Norwegian, and shown only when there is advice), so the first transcript a Norwegian project
reads in the app says so."""

from __future__ import annotations

import time

from textual import on, work
from textual.app import ComposeResult
from textual.containers import Vertical
from textual.widgets import Button, ProgressBar, Static

from fieldkit.i18n import _, format_number


def _clock(seconds: float) -> str:
    seconds = max(0, int(seconds))
    return f"{seconds // 60}:{seconds % 60:02d}"


class ModelAdvice(Vertical):
    DEFAULT_CLASSES = "model-advice"

    def __init__(self, *, id: str | None = None, advice_only: bool = False) -> None:
        super().__init__(id=id)
        self.offer: str | None = None
        self.downloading = False
        self.advice_only = advice_only
        self.status_text = ""         # what the download said last
        if advice_only:
            self.display = False      # until there is advice to give

    def compose(self) -> ComposeResult:
        yield Static("", id="model-advice-text")
        download = Button("", id="model-download", variant="primary", compact=self.advice_only)
        download.display = False
        yield download
        bar = ProgressBar(id="model-progress", show_eta=False)
        bar.display = False
        yield bar
        yield Static("", id="model-download-status")

    def on_mount(self) -> None:
        if not self.advice_only:
            self.load()

    def ask(self) -> None:
        """Look for advice (``advice_only``: the screen asks once it has a reason)."""
        if not self.downloading:
            self.load()

    @work(thread=True, exclusive=True, group="model-advice", exit_on_error=False)
    def load(self) -> None:
        from fieldkit.errors import FieldkitError
        from fieldkit.transcription.hub import describe_download, describe_speed
        from fieldkit.transcription.service import download_offer, project_advice

        offer = label = None
        try:
            st, tip = project_advice(self.screen.handle)
            offer = download_offer(self.screen.handle) if not self.downloading else None
        except FieldkitError as exc:
            text, warn = _("Models: {message}").format(message=exc.message), True
        else:
            text = _("Final transcript: {model} · live: {live}").format(model=st.model, live=st.live_name())
            # the speed measured on this laptop (fieldkit bench transcribe, a finished
            # transcription) or said to be a guess
            text += "\n" + _("Final pass here: {speed}").format(speed=describe_speed(st.model))
            warn = bool(tip)
            if self.advice_only:
                # in review, short: the button says what the download is
                text = "" if not tip else "⚠ " + (_(
                    "Norwegian project without a Norwegian model: NB-Whisper (National Library of "
                    "Norway) is much better at Norwegian than the model that made this transcript.")
                    if offer else tip)
            elif tip:
                text += f"\n⚠ {tip}"
            if offer:
                label = _("Download {what} and use it").format(what=describe_download(offer))
                if not self.advice_only:
                    text += "\n" + _("{model} here: {speed}").format(model=offer, speed=describe_speed(offer))
        self.app.call_from_thread(self._show, text, warn, offer, label)

    def _show(self, text: str, warn: bool, offer: str | None, label: str | None) -> None:
        self.offer = offer
        if self.advice_only:   # shown while there is advice, a download or its outcome
            self.display = bool(text) or self.downloading or bool(self.status_text)
        self.query_one("#model-advice-text", Static).update(text)
        self.set_class(warn, "warning")
        button = self.query_one("#model-download", Button)
        button.display = bool(offer) and not self.downloading
        if label:
            button.label = label

    @on(Button.Pressed, "#model-download")
    def _pressed(self, event: Button.Pressed) -> None:
        event.stop()
        self.start_download()

    def start_download(self) -> None:
        if not self.offer or self.downloading:
            return
        self.downloading = True
        self.query_one("#model-download", Button).display = False
        self.query_one("#model-progress", ProgressBar).display = True
        self._status(_("Asking the model hub for {name}…").format(name=self.offer))
        self.download(self.offer)

    def _status(self, text: str) -> None:
        self.status_text = text
        self.query_one("#model-download-status", Static).update(text)

    def _progress(self, done: int, total: int, text: str) -> None:
        bar = self.query_one("#model-progress", ProgressBar)
        bar.update(total=total or None, progress=done)
        self._status(text)

    @work(thread=True, exclusive=True, group="model-download", exit_on_error=False)
    def download(self, name: str) -> None:
        from fieldkit.errors import FieldkitError
        from fieldkit.transcription.hub import download
        from fieldkit.transcription.service import set_project_model

        started = time.monotonic()
        first: list[int] = []
        last = [0.0]

        def on_progress(done: int, total: int) -> None:
            now = time.monotonic()
            if not first:
                first.append(done)   # what a former attempt left: not part of this speed
            if now - last[0] < 0.2 and done < total:
                return
            last[0] = now
            got, spent = done - first[0], now - started
            if got > 0 and spent > 0.5:
                speed = got / spent
                left = _("{done:.0f} of {total:.0f} MB · {speed} MB/s · {left} left").format(
                    done=done / 1e6, total=total / 1e6, speed=format_number(speed / 1e6, 1), left=_clock((total - done) / speed))
            else:
                left = _("{done:.0f} of {total:.0f} MB").format(done=done / 1e6, total=total / 1e6)
            self.app.call_from_thread(self._progress, done, total, left)

        try:
            path = download(name, on_progress=on_progress)
            set_project_model(self.screen.handle, name)
        except FieldkitError as exc:
            message = exc.message + (f"\n{exc.hint}" if exc.hint else "")
            self.app.call_from_thread(self._failed, message)
            return
        self.app.call_from_thread(self._done, _("{name} installed in {path} and chosen for the final "
                                                "transcript.").format(name=name, path=path))

    def _failed(self, message: str) -> None:
        self.downloading = False
        self.query_one("#model-progress", ProgressBar).display = False
        self._status(f"⚠ {message}")
        self.load()

    def _done(self, message: str) -> None:
        self.downloading = False
        self.query_one("#model-progress", ProgressBar).display = False
        self._status(message)
        self.load()
