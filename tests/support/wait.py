"""The one wait helper: let an app run until something has happened (waiting for events,
never for time; a deadline only ends a wait that would otherwise hang)."""

from __future__ import annotations

import asyncio


async def until(pilot, condition, what: str = "the condition", deadline_s: float = 60.0, *,
                timeout: float | None = None) -> None:
    """Let the app run until ``condition()`` holds (a generous deadline, not a timing;
    ``timeout`` is another name for ``deadline_s``). A condition that raises (the widget it
    reads is not mounted yet) does not hold yet; at the deadline its error is the cause."""
    if timeout is not None:
        deadline_s = max(deadline_s, timeout)
    loop = asyncio.get_running_loop()
    end = loop.time() + deadline_s
    while True:
        try:
            if condition():
                return
            problem = None
        except Exception as exc:  # noqa: BLE001 - not there yet (a widget not mounted, a value still None)
            problem = exc
        if loop.time() > end:
            raise AssertionError(f"waited {deadline_s:.0f} s for {what}") from problem
        await pilot.pause(0.02)


async def settle(app, pilot, extra: float = 0.0) -> None:
    """Let the screen's workers finish. A worker replaced by a newer one of its exclusive
    group (the home screen's pollers) ends cancelled, which is not a failure: wait again
    for what is left."""
    from textual.worker import WorkerCancelled

    await pilot.pause(extra)
    for _ in range(100):
        try:
            await app.workers.wait_for_complete()
            break
        except WorkerCancelled:
            await pilot.pause()
    await pilot.pause()


def until_sync(condition, what: str = "the condition", deadline_s: float = 60.0, step_s: float = 0.1) -> None:
    """Outside an app: wait until ``condition()`` holds (another process's work, such as the
    live worker storing an utterance); the deadline only ends a wait that would hang."""
    import time

    end = time.monotonic() + deadline_s
    while not condition():
        if time.monotonic() > end:
            raise AssertionError(f"waited {deadline_s:.0f} s for {what}")
        time.sleep(step_s)
