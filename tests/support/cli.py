"""Helpers the scenario and screen tests share: running the real command line, and
letting an app run until something has happened (waiting for events, never for time)."""

from __future__ import annotations

import asyncio
import os
import subprocess
import sys
from pathlib import Path


def fk(root: Path, *args: str, ok: bool = True, timeout: float = 600) -> subprocess.CompletedProcess:
    """``fieldkit ARGS`` in a subprocess on the data folder ``root``, in English, with a wide
    terminal; with ``ok`` it must succeed."""
    env = {**os.environ, "FIELDKIT_HOME": str(root), "COLUMNS": "200", "FIELDKIT_LANG": "en"}
    done = subprocess.run([sys.executable, "-m", "fieldkit", *args], capture_output=True, text=True,
                          env=env, timeout=timeout)
    if ok:
        assert done.returncode == 0, (args, done.stdout, done.stderr)
    return done


async def until(pilot, condition, what: str, deadline_s: float = 60.0) -> None:  # noqa: ANN001
    """Let the app run until ``condition()`` holds (a generous deadline, not a timing)."""
    loop = asyncio.get_running_loop()
    end = loop.time() + deadline_s
    while not condition():
        if loop.time() > end:
            raise AssertionError(f"waited {deadline_s:.0f} s for {what}")
        await pilot.pause(0.02)
