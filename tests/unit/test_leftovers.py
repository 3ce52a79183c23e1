"""The leftover check (`./scripts/test` ends with it: tests/support/audio_env.py check) lists a
fieldkit process the run started and left running, and only the run's own: a real
``fieldkit purge`` waiting at its question stands for an app whose terminal closed and that
did not end."""

from __future__ import annotations

import os
import subprocess
import sys
import uuid
from pathlib import Path

from tests.support import audio_env
from tests.support.wait import until_sync


def test_a_fieldkit_process_left_running_by_the_run_is_listed_and_only_by_its_run(tmp_path: Path) -> None:
    from fieldkit.projects import Workspace

    home = tmp_path / "home"
    with Workspace(home).ensure().create("Left study", language="en") as h:
        slug, folder = h.folder.name, h.folder
    run = f"leftover-{uuid.uuid4().hex[:8]}"
    env = {**os.environ, "FIELDKIT_HOME": str(home), audio_env.RUN_ENV: run}
    proc = subprocess.Popen([sys.executable, "-m", "fieldkit", "purge", "--project", slug],
                            stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=env,
                            text=True)
    try:
        mine = f"{proc.pid} "
        until_sync(lambda: any(x.startswith(mine) for x in audio_env.leftovers(run)),
                   "the waiting fieldkit process listed by its run", 60)
        assert not any(x.startswith(mine) for x in audio_env.leftovers(f"{run}-other")), "another run's"
        # without a run id: a fieldkit process whose data folder is a test's counts
        assert "/pytest-of-" not in str(home) or any(x.startswith(mine) for x in audio_env.leftovers(""))
        out, _err = proc.communicate("not the name\n", timeout=60)   # the question is answered: it ends
        assert "Type the project's folder name" in out
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait(timeout=10)
    assert not any(x.startswith(mine) for x in audio_env.leftovers(run))
    assert (folder / "project.db").exists() or any(folder.glob("*.db")), "the wrong name purged nothing"


def test_the_tmux_helper_ends_what_its_panes_ran_and_fails_when_that_took_sigkill(tmp_path: Path) -> None:
    """tests/support/tmux.py closes its panes and makes sure their processes (and children)
    are gone: one that ends on the closed terminal is fine; one that ignores SIGHUP and
    SIGTERM is killed, and the test that left it fails (a hang is never hidden)."""
    import shutil

    import pytest

    from tests.support.tmux import Tmux

    if shutil.which("tmux") is None:
        pytest.skip("tmux is not installed (scripts/test installs it)")
    stubborn = ("import signal, time; signal.signal(signal.SIGHUP, signal.SIG_IGN); "
                "signal.signal(signal.SIGTERM, signal.SIG_IGN); open('ready', 'w').close(); time.sleep(120)")
    tmux = Tmux(f"fieldkit-helper-{os.getpid()}", {"HOME": str(tmp_path)})
    tmux.start("lead", f"cd {tmp_path} && sleep 120 & cd {tmp_path} && {sys.executable} -c \"{stubborn}\"")
    until_sync(lambda: (tmp_path / "ready").exists(), "the stubborn process running", 30)
    tmux._remember()
    pids = tmux.alive()
    assert len(pids) >= 3, pids   # the shell, its sleep and the stubborn python
    with pytest.raises(AssertionError, match="needed SIGKILL"):
        tmux.kill(hangup_s=1, term_s=1)
    assert not tmux.alive() and all(not Path(f"/proc/{p}").exists() or _zombie(p) for p in pids)
    tmux.kill()   # again: nothing left, nothing to say


def _zombie(pid: int) -> bool:
    try:
        return Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0] == "Z"
    except OSError:
        return True
