"""One line on the setup screen: the project's final and live model, and advice
(Norwegian projects: NB-Whisper). Reads through fieldkit.transcription.service."""

from __future__ import annotations

from textual import work
from textual.widgets import Static

from fieldkit.i18n import _


class ModelAdvice(Static):
    DEFAULT_CLASSES = "model-advice"

    def on_mount(self) -> None:
        self.load()

    @work(thread=True, exclusive=True, group="model-advice", exit_on_error=False)
    def load(self) -> None:
        from fieldkit.errors import FieldkitError
        from fieldkit.transcription.service import project_advice

        try:
            st, tip = project_advice(self.screen.handle)
        except FieldkitError as exc:
            text, warn = _("Models: {message}").format(message=exc.message), True
        else:
            text = _("Final transcript: {model} · live: {live}").format(model=st.model, live=st.live_model or st.model)
            warn = bool(tip)
            if tip:
                text += f"\n⚠ {tip}"
        self.app.call_from_thread(self._show, text, warn)

    def _show(self, text: str, warn: bool) -> None:
        self.update(text)
        self.set_class(warn, "warning")
