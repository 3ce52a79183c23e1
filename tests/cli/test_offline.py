"""fieldkit works with no network at all: run it in a network namespace without one."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest


def _offline_ok() -> bool:
    if shutil.which("unshare") is None:
        return False
    return subprocess.run(["unshare", "-rn", "true"], capture_output=True).returncode == 0


pytestmark = pytest.mark.skipif(not _offline_ok(), reason="unshare -rn (a user+network namespace) is not permitted here")

APP_FLOW = r"""
import asyncio, sys
from fieldkit.tui.app import FieldkitApp

async def main():
    app = FieldkitApp(data_dir=sys.argv[1])
    async with app.run_test() as pilot:
        await pilot.pause()
        await app.workers.wait_for_complete()
        await pilot.pause()
        print("STATUS", app.screen.query_one("#status").render())

asyncio.run(main())
"""


def offline(*cmd: str, env: dict | None = None) -> subprocess.CompletedProcess:
    return subprocess.run(["unshare", "-rn", *cmd], capture_output=True, text=True, timeout=300,
                          env={**os.environ, **(env or {})})


def test_no_network_in_namespace():
    r = offline(sys.executable, "-c",
                "import socket; s=socket.socket(); s.settimeout(2); s.connect(('1.1.1.1', 443))")
    assert r.returncode != 0 and ("unreachable" in r.stderr or "OSError" in r.stderr)


def test_cli_and_app_work_offline(tmp_path: Path):
    data = str(tmp_path / "data")
    fk = [sys.executable, "-m", "fieldkit", "--data-dir", data]
    r = offline(*fk, "project", "new", "Offline study")
    assert r.returncode == 0, r.stderr
    r = offline(*fk, "doctor")
    assert "[PASS] Data folder" in r.stdout and "Traceback" not in r.stderr
    r = offline(sys.executable, "-c", APP_FLOW, data)
    assert r.returncode == 0, r.stderr
    assert "STATUS 1 project · data folder" in r.stdout


@pytest.mark.slow
def test_import_and_transcribe_offline(tmp_path: Path):
    """Models come from installed packages: transcription needs no network either."""
    from tests.support.speech import HAVE_TTS, speak

    if not HAVE_TTS:
        pytest.skip("espeak-ng and sox are installed by scripts/test")
    wav = speak("The weekly meeting with the hospital makes the biggest difference.", tmp_path / "s.wav")
    data = str(tmp_path / "data")
    fk = [sys.executable, "-m", "fieldkit", "--data-dir", data]
    assert offline(*fk, "project", "new", "Offline").returncode == 0
    r = offline(*fk, "import", str(wav), "-p", "offline", "--title", "Phone call")
    assert r.returncode == 0, r.stderr
    r = offline(*fk, "transcribe", "Phone call", "-p", "offline", "--model", "tiny.en", "--language", "en")
    assert r.returncode == 0, r.stderr
    assert "segments" in r.stdout and "no speech" not in r.stdout
