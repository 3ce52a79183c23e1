"""Norwegian on day one, in the app: a Norwegian project without a Norwegian model is told so
on the setup screen and offered the download (size and expected time, then a progress bar),
which runs against a real local server speaking the hub's protocol
(tests/support/hub_server.py); the model is installed and becomes the project's final model."""

from __future__ import annotations

import json
import os
from pathlib import Path

from textual.widgets import Button, ProgressBar, Static

from fieldkit.projects import Workspace
from fieldkit.transcription import hub
from fieldkit.transcription.models import resolve_model
from fieldkit.transcription.service import project_advice
from fieldkit.tui.app import FieldkitApp
from tests.support.hub_server import HubServer, model_repo
from tests.support.wait import settle, until


async def test_norwegian_project_offers_and_downloads_nb_whisper(tmp_path: Path, monkeypatch):
    base = resolve_model("base")   # multilingual weights stand in for NB-Whisper's
    monkeypatch.setenv("FIELDKIT_CACHE", str(tmp_path / "cache"))
    # the size offered follows what `fieldkit bench transcribe` measured on this laptop
    assert hub.suggested_norwegian_model() == "nb-whisper-small"      # nothing measured: the guess
    hub.record_speed("base", 0.1, threads=2)
    assert hub.suggested_norwegian_model() == "nb-whisper-medium"     # a fast laptop: 9x base fits
    hub.record_speed("nb-whisper-medium", 1.6, threads=2)
    assert hub.suggested_norwegian_model() == "nb-whisper-small"      # medium measured too slow here
    model_repo(tmp_path / "hub", "NbAiLab/nb-whisper-small", base)
    root = tmp_path / "data"
    with Workspace(root).ensure().create("Helse nord", language="no"):
        pass
    with HubServer(tmp_path / "hub") as server:
        monkeypatch.setenv(hub.HUB_ENV, server.url)
        app = FieldkitApp(data_dir=root, project="Helse nord")
        async with app.run_test(size=(120, 50)) as pilot:
            await settle(app, pilot)
            await pilot.press("n")
            await until(pilot, lambda: type(app.screen).__name__ == "SetupScreen", "the setup screen")
            screen = app.screen
            button = screen.query_one("#model-download", Button)
            await until(pilot, lambda: button.display, "the download offered")
            text = str(screen.query_one("#model-advice-text", Static).render())
            assert "Norwegian project without a Norwegian model" in text
            # speeds: measured here (the base model's, from the bench) or said to be a guess
            assert "Final pass here: 6 min per hour of audio (measured here)" in text, text
            assert "nb-whisper-small here: about 19 min per hour of audio (a guess" in text, text
            label = str(button.label)
            assert "nb-whisper-small: 488 MB" in label and "a guess" in label, label
            button.scroll_visible()
            await pilot.pause()
            button.press()
            bar = screen.query_one("#model-progress", ProgressBar)
            status = screen.query_one("#model-download-status", Static)
            await until(pilot, lambda: "installed in" in str(status.render()), "the model installed",
                        deadline_s=180)
            assert bar.total and bar.progress == bar.total
            await until(pilot, lambda: "Norwegian project" not in str(
                screen.query_one("#model-advice-text", Static).render()), "the advice gone")
            assert not button.display
    # stored: the model installed whole, and the project's final model
    installed = tmp_path / "cache" / "models" / "nb-whisper-small"
    assert (installed / "model.bin").stat().st_size == (base / "model.bin").stat().st_size
    with Workspace(root).open("Helse nord") as h:
        st, tip = project_advice(h)
    assert (st.model, tip) == ("nb-whisper-small", None)
    # the download's speed was measured: the next offer's time comes from it
    assert json.loads((Path(os.environ["FIELDKIT_MEASURES"]) / "download-speed.json").read_text())["bytes_per_s"] > 0
    assert "speed of the last download" in hub.describe_download("nb-whisper-medium")
