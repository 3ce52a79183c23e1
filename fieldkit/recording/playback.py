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

    def play(self, handle: "ProjectHandle", session_id: uuid.UUID, start_ms: int, end_ms: int,
             rate: float = 1.0) -> float:
        """Start playing, ``rate`` times as fast (same pitch: :func:`stretch`); returns how
        long it plays in seconds. Stops what was playing."""
        import sounddevice as sd

        from fieldkit.recording.audio import load_audio

        audio = load_audio(handle, session_id, start_ms, end_ms, sr=self.samplerate)
        if len(audio) and rate != 1.0:
            audio = stretch(audio, rate, self.samplerate)
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


# --------------------------------------------------------------------------- the transcription pedal

#: the playback speeds the slower/faster keys step through (1.0: as recorded)
RATES = (0.5, 0.6, 0.75, 0.9, 1.0, 1.1, 1.25, 1.5, 2.0)
#: what resuming after a pause goes back (ms), by default, and the choices
REWIND_MS, REWIND_CHOICES = 2000, (1000, 2000, 3000)
#: what the jump keys skip (ms)
JUMP_MS = 5000
#: playback reads this much audio at a time and goes on with the next piece by itself
PIECE_MS = 60_000

ENV_PLAYBACK = "FIELDKIT_PLAYBACK"


def stretch(audio, rate: float, samplerate: int = 16000):
    """``audio`` (float32 mono) played ``rate`` times as fast without changing its pitch,
    by FFmpeg's ``atempo`` filter through PyAV (already what reads the recordings)."""
    import fractions

    import av
    import av.filter
    import numpy as np

    if abs(rate - 1.0) < 1e-6 or len(audio) == 0:
        return audio
    graph = av.filter.Graph()
    src = graph.add_abuffer(format="flt", sample_rate=samplerate, layout="mono", channels=1)
    tempo = graph.add("atempo", f"{rate:.4f}")
    sink = graph.add("abuffersink")
    src.link_to(tempo)
    tempo.link_to(sink)
    graph.configure()
    out = []

    def drain() -> None:
        while True:
            try:
                out.append(graph.pull().to_ndarray()[0])
            except (av.BlockingIOError, av.EOFError):
                return

    step = samplerate
    for i in range(0, len(audio), step):
        frame = av.AudioFrame.from_ndarray(np.ascontiguousarray(audio[None, i:i + step], dtype=np.float32),
                                           format="flt", layout="mono")
        frame.sample_rate, frame.pts, frame.time_base = samplerate, i, fractions.Fraction(1, samplerate)
        graph.push(frame)
        drain()
    graph.push(None)
    drain()
    return np.concatenate(out).astype(np.float32) if out else audio[:0]


def playback_prefs_path():
    """``playback.toml`` beside the keymap in fieldkit's configuration folder (a person's
    habit, not the project's), or the file named by ``$FIELDKIT_PLAYBACK``."""
    import os
    from pathlib import Path

    env = os.environ.get(ENV_PLAYBACK)
    if env:
        return Path(env).expanduser()
    from platformdirs import user_config_path

    return user_config_path("fieldkit", appauthor=False) / "playback.toml"


def load_rewind_ms() -> int:
    """How far resuming goes back (ms): ``rewind_seconds`` (1 to 3) in playback.toml."""
    import tomllib

    path = playback_prefs_path()
    try:
        conf = tomllib.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        return REWIND_MS
    except (OSError, tomllib.TOMLDecodeError, UnicodeDecodeError) as exc:
        raise FieldkitError(_("Cannot read {path}: {error}").format(path=path, error=exc)) from None
    value = conf.get("rewind_seconds", REWIND_MS / 1000)
    if not isinstance(value, (int, float)) or not 1 <= value <= 3:
        raise FieldkitError(_("In {path}, rewind_seconds must be a number from 1 to 3.").format(path=path))
    return int(value * 1000)


def save_rewind_ms(ms: int) -> None:
    from fieldkit.store.atomic import atomic_write

    path = playback_prefs_path()
    path.parent.mkdir(parents=True, exist_ok=True)
    text = f"# fieldkit playback (the review screen)\nrewind_seconds = {ms / 1000:g}\n"
    atomic_write(path, lambda f: f.write(text.encode("utf-8")), overwrite=True)


class Transport:
    """Where playback is, like a transcriber's pedal: playing or paused at a position on
    the session clock, at a speed, resuming a little before where it paused. It keeps no
    audio and plays nothing itself: each method says what to play next (``start``: play
    from here; None: stop), and the caller's Player does it. ``now`` is a monotonic clock
    in seconds, passed in."""

    def __init__(self, end_ms: int, rewind_ms: int = REWIND_MS) -> None:
        self.end_ms = end_ms
        self.rewind_ms = rewind_ms
        self.rate = 1.0
        self.position_ms = 0          # where it paused (or started)
        self.playing = False
        self.until_ms: int | None = None   # a span plays to its end, then pauses
        self._since = 0.0
        self._from_ms = 0

    def at(self, now: float) -> int:
        """The playhead now (ms)."""
        if not self.playing:
            return self.position_ms
        pos = self._from_ms + int((now - self._since) * 1000 * self.rate)
        return min(pos, self.until_ms if self.until_ms is not None else self.end_ms, self.end_ms)

    def at_now(self) -> int:
        import time

        return self.at(time.monotonic())

    def finished(self, now: float) -> bool:
        stop = self.until_ms if self.until_ms is not None else self.end_ms
        return self.playing and self.at(now) >= stop

    def start(self, from_ms: int, now: float, until_ms: int | None = None) -> int:
        """Play from ``from_ms`` (to ``until_ms``, or on); returns where it starts."""
        self.position_ms = self._from_ms = max(0, min(from_ms, self.end_ms))
        self.until_ms = until_ms
        self.playing, self._since = True, now
        return self._from_ms

    def pause(self, now: float) -> int:
        """Stop where the playhead is; returns that position."""
        self.position_ms = self.at(now)
        self.playing = False
        return self.position_ms

    def resume(self, now: float) -> int:
        """Play on from a little before where it paused (``rewind_ms``)."""
        return self.start(self.position_ms - self.rewind_ms, now)

    def jump(self, delta_ms: int, now: float) -> int:
        """Skip back (negative) or forward; playing goes on from there, paused stays."""
        target = max(0, min(self.at(now) + delta_ms, self.end_ms))
        if self.playing:
            return self.start(target, now, self.until_ms if self.until_ms and self.until_ms > target else None)
        self.position_ms = target
        return target

    def change_rate(self, step: int, now: float) -> float:
        """One step slower (-1) or faster (+1) in RATES; playing goes on at once from the
        playhead at the new speed. Returns the new rate."""
        i = min(range(len(RATES)), key=lambda k: abs(RATES[k] - self.rate))
        new = RATES[max(0, min(len(RATES) - 1, i + step))]
        if self.playing:
            pos = self.at(now)
            self.rate = new
            self.start(pos, now, self.until_ms)
        else:
            self.rate = new
        return new
