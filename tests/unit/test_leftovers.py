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
