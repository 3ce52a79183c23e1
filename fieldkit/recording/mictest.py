"""The microphone test before an interview: record a few seconds, report the peak level
and what it means. Used by `fieldkit devices --test` and by the setup screen."""

from __future__ import annotations

import time
from dataclasses import dataclass
from typing import Callable
from fieldkit.i18n import N_, Said, _

FULL_SCALE = 32768


def dbfs(peak: int) -> float:
    """Level of an int16 peak in dB below full scale (silence reads -90)."""
    import math

    return 20 * math.log10(max(peak, 1) / FULL_SCALE)


@dataclass
class MicTest:
    peak: int

    @property
    def db(self) -> float:
        return dbfs(self.peak)

    @property
    def verdict(self) -> Said:
        """What the level says (kind ``silent``, ``clipping``, ``quiet`` or ``ok``), worded in
        the user's language where it is shown."""
        if self.peak <= 1:
            return Said("silent", N_("silent: muted or unplugged?"))
        if self.peak >= FULL_SCALE - 1:
            return Said("clipping", N_("clipping: too loud"))
        return Said("quiet", N_("quiet: move it closer")) if self.db < -40 else Said("ok", N_("OK"))


def test_microphone(device: str | int | None, seconds: float = 3.0,
                    on_level: Callable[[float], None] | None = None) -> MicTest:
    """Record ``seconds`` from ``device``; ``on_level`` gets the running peak in dBFS every
    0.1 s. Raises FieldkitError naming the device when it cannot record."""
    import numpy as np
    import sounddevice as sd

    from fieldkit.errors import FieldkitError

    peak = {"now": 0, "max": 0}

    def callback(indata, frames, t, status) -> None:
        p = int(np.abs(indata.astype(np.int32)).max()) if len(indata) else 0
        peak["now"], peak["max"] = p, max(peak["max"], p)

    try:
        with sd.InputStream(samplerate=16000, channels=1, dtype="int16", device=device, callback=callback):
            end = time.monotonic() + seconds
            while time.monotonic() < end:
                time.sleep(0.1)
                if on_level is not None:
                    on_level(dbfs(peak["now"]))
    except Exception as exc:  # noqa: BLE001 - any PortAudio failure becomes a message
        name = _("(default)") if device is None else repr(device)
        raise FieldkitError(_("The microphone {name} cannot record: {exc}").format(name=name, exc=exc)) from None
    return MicTest(peak["max"])


test_microphone.__test__ = False  # not a pytest test, despite the name
