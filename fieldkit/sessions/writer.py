"""The event writer: a thread that stores every keypress in order, one short
transaction each, so a screen never waits for the disk."""

from __future__ import annotations

import queue
import threading
import time
from dataclasses import dataclass
from typing import Any, Callable


@dataclass
class Stored:
    """What the writer reports back for each job."""
    label: str
    result: Any
    error: Exception | None
    pressed_at: float          # time.monotonic() of the keypress
    stored_at: float           # time.monotonic() when the commit returned

    @property
    def latency_ms(self) -> float:
        return (self.stored_at - self.pressed_at) * 1000


class EventWriter:
    """A thread that runs database writes in the order they were asked for.

    ``submit(label, fn, pressed_at)`` returns at once; ``fn()`` runs on the thread and
    ``on_stored(Stored)`` is called there afterwards (the screen posts a message from
    it). A write that fails (a locked database past its busy timeout ...) is retried
    for ``retry_s`` before it is reported as an error, so a short lock held by another
    terminal costs nothing. ``close()`` finishes every queued write first.
    """

    def __init__(self, on_stored: Callable[[Stored], None], retry_s: float = 10.0) -> None:
        self.on_stored = on_stored
        self.retry_s = retry_s
        self._q: queue.Queue = queue.Queue()
        self._thread = threading.Thread(target=self._run, name="fieldkit-events", daemon=True)
        self._thread.start()

    def submit(self, label: str, fn: Callable[[], Any], pressed_at: float | None = None) -> None:
        self._q.put((label, fn, pressed_at if pressed_at is not None else time.monotonic()))

    def close(self, timeout: float = 30) -> None:
        self._q.put(None)
        self._thread.join(timeout)

    def pending(self) -> int:
        return self._q.qsize()

    def _run(self) -> None:
        while True:
            job = self._q.get()
            if job is None:
                return
            label, fn, pressed = job
            deadline = time.monotonic() + self.retry_s
            while True:
                try:
                    result, error = fn(), None
                    break
                except Exception as exc:  # noqa: BLE001 - reported to the screen, never lost silently
                    if time.monotonic() >= deadline or not _retryable(exc):
                        result, error = None, _worded(exc, self.retry_s)
                        break
                    time.sleep(0.2)
            try:
                self.on_stored(Stored(label, result, error, pressed, time.monotonic()))
            except Exception:  # noqa: BLE001 - a closed screen must not stop the writer
                pass


def _worded(exc: Exception, waited_s: float) -> Exception:
    """A database still locked after the retries, as the message the user reads (the
    driver's own text is English and names SQL); any other error as it is."""
    if not _retryable(exc):
        return exc
    from fieldkit.errors import DatabaseError
    from fieldkit.i18n import _

    return DatabaseError(_("The project's database stayed locked by another program for {seconds} s.").format(
        seconds=round(waited_s)), hint=_("Close the other fieldkit window or program using it, then try again."))


def _retryable(exc: Exception) -> bool:
    text = str(exc).lower()
    return "locked" in text or "busy" in text
