"""Playing a stretch of a session's audio (the review screen's "play this segment")."""

from __future__ import annotations

import uuid
from typing import TYPE_CHECKING

from fieldkit.errors import FieldkitError
from fieldkit.i18n import _

if TYPE_CHECKING:
    from fieldkit.projects import ProjectHandle


class Player:
    """Non-blocking playback of [start_ms, end_ms) through sounddevice; one at a time."""

    def __init__(self, device: str | int | None = None, samplerate: int = 16000):
        self.device, self.samplerate = device, samplerate

    def play(self, handle: "ProjectHandle", session_id: uuid.UUID, start_ms: int, end_ms: int) -> float:
        """Start playing; returns the length in seconds. Stops what was playing."""
        import sounddevice as sd

        from fieldkit.recording.audio import load_audio

        audio = load_audio(handle, session_id, start_ms, end_ms, sr=self.samplerate)
        if len(audio) == 0:
            raise FieldkitError(_("No audio between {start_ms} and {end_ms} ms in "
                                    "this session.").format(start_ms=start_ms, end_ms=end_ms))
        try:
            sd.stop()
            sd.play(audio, self.samplerate, device=self.device)
        except Exception as exc:  # noqa: BLE001 - PortAudio errors
            raise FieldkitError(_("Cannot play on {value}: {exc}").format(value=self.device or _('the default output'), exc=exc)) from None
        return len(audio) / self.samplerate

    @staticmethod
    def stop() -> None:
        import sounddevice as sd

        sd.stop()

    @staticmethod
    def wait() -> None:
        import sounddevice as sd

        sd.wait()
