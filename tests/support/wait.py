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


async def still(pilot, frames: int = 3, deadline_s: float = 60.0) -> None:
    """Before a snapshot: let the app run until its screen is drawn the same ``frames`` times
    in a row, with the text cursors held still.

    A snapshot taken as soon as the workers are done can catch a screen that has not settled
    on a loaded machine: a DataTable measures its columns for new rows only when its message
    queue is idle (rows drawn at the header's widths, or a header drawn before the rows were
    measured), and a blinking cursor is drawn or not depending on how long the test took.
    So every Input and TextArea stops blinking (shown where it has the focus; a TextArea's
    line cache is dropped, as its key does not change with the focus once the cursor stops
    blinking), every DataTable drops the cells it drew before its columns were measured
    (Textual 8.2 keeps a header drawn at the labels' widths when the screen was painted
    between ``add_row`` and the table's idle measuring, which a loaded machine does), and the
    picture is taken again until it no longer changes."""
    from textual.widgets import DataTable, Input, TextArea

    app = pilot.app
    # a screen just pushed starts its loading workers when it is mounted
    await until(pilot, lambda: app.screen.is_mounted, "the screen is mounted", deadline_s)
    loop = asyncio.get_running_loop()
    end = loop.time() + deadline_s
    last, same = None, 0
    while True:
        await settle(app, pilot)
        for box in app.screen.query("Input, TextArea"):
            if isinstance(box, (Input, TextArea)) and box.cursor_blink:
                box.cursor_blink = False
                box.refresh()
        for screen in app.screen_stack:   # a dialog draws the screens below it too
            for widget in screen.query("DataTable, TextArea"):
                if isinstance(widget, (DataTable, TextArea)):
                    widget.notify_style_update()   # its cached lines drawn again
                    widget.refresh()
        await pilot.wait_for_scheduled_animations()
        await pilot.pause()
        picture = app.export_screenshot()
        same = same + 1 if picture == last else 0
        if same >= frames - 1:
            return
        if loop.time() > end:
            raise AssertionError(f"the screen was still changing after {deadline_s:.0f} s")
        last = picture
