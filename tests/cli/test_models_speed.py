"""`fieldkit models list`: the speed of a model is measured on this laptop (by `fieldkit
bench transcribe`, or by a finished transcription of a minute or more), or said plainly to
be a guess, in the user's language. The old figure (about 40 min per hour for base) came
from one 11.7 s clip timed together with loading the model."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

from tests.support.conversations import ALL_VOICES, conversation, speech_dir


def _models_list(env: dict) -> str:
    r = subprocess.run([sys.executable, "-m", "fieldkit", "models", "list"], env=env, capture_output=True,
                       text=True, timeout=120, check=False)
    assert r.returncode == 0, r.stderr
    return r.stdout


def test_nothing_measured_is_said_to_be_a_guess(tmp_path):
    env = {**os.environ, "FIELDKIT_CACHE": str(tmp_path / "cache"), "FIELDKIT_HOME": str(tmp_path / "home"),
           "COLUMNS": "200"}
    out = _models_list({**env, "FIELDKIT_LANG": "en"})
    row = next(line for line in out.splitlines() if "nb-whisper-base" in line)
    assert "a guess" in row and "measured" not in row.replace("measures", "")
    minutes = int(re.search(r"about (\d+) min per hour", row).group(1))
    assert minutes < 15                       # not the 40 min per hour the old guess said
    out = _models_list({**env, "FIELDKIT_LANG": "nb"})
    assert "et anslag" in next(line for line in out.splitlines() if "nb-whisper-base" in line)


@pytest.mark.slow
@pytest.mark.skipif(speech_dir() is None, reason="no speech clips in tests/data/speech")
def test_a_transcription_measures_the_speed(project, tmp_path, monkeypatch):
    from tests.support.cli import fk

    cache = tmp_path / "cache"
    monkeypatch.setenv("FIELDKIT_CACHE", str(cache))       # fk passes the environment on
    conv = conversation(ALL_VOICES, seed=1)
    assert len(conv.audio) / 16000 >= 60
    wav = conv.write(tmp_path / "long.wav")
    root, name = project.folder.parent.parent, project.folder.name
    before = _models_list({**os.environ, "FIELDKIT_HOME": str(root), "COLUMNS": "200", "FIELDKIT_LANG": "en"})
    assert "a guess" in next(line for line in before.splitlines() if "tiny.en" in line)
    fk(root, "import", str(wav), "-p", name, "--title", "Long")
    fk(root, "transcribe", "Long", "-p", name, "--model", "tiny.en", "--language", "en")
    out = _models_list({**os.environ, "FIELDKIT_HOME": str(root), "COLUMNS": "200", "FIELDKIT_LANG": "en"})
    row = next(line for line in out.splitlines() if "tiny.en" in line)
    assert "(measured here)" in row, out
    assert (Path(os.environ["FIELDKIT_MEASURES"]) / "speed.json").is_file()
