"""The verbatim layer is written by the final model's verbatim variant where it is installed
(NB-Whisper's "-verbatim" models), and the transcript says which model made which layer.

No NB-Whisper model can be had offline here, so the variant is the real tiny.en model
installed a second time under the name a verbatim variant has (`fieldkit models add
--name tiny.en-verbatim`): what is tested is that the pass finds and uses it, stores it as
the run's model and says so, and that "none" keeps the final model."""

from __future__ import annotations

from pathlib import Path

import pytest
import soundfile as sf
from sqlmodel import select

from fieldkit.projects import Workspace
from fieldkit.recording.importer import import_recording
from fieldkit.store.models import Project, Session, TranscriptionRun
from fieldkit.transcription.models import resolve_model
from fieldkit.transcription.service import layer_models, session_settings, set_project_model, verbatim_settings
from tests.support.cli import fk
from tests.support.real_speech import joined, needs_speech

pytestmark = [needs_speech, pytest.mark.slow]


def test_verbatim_variant_writes_the_verbatim_layer(tmp_path: Path, monkeypatch):
    cache = tmp_path / "cache"
    monkeypatch.setenv("FIELDKIT_CACHE", str(cache))
    env = {"FIELDKIT_CACHE": str(cache)}
    root = tmp_path / "data"
    with Workspace(root).ensure().create("Eng", language="en") as h:
        set_project_model(h, "tiny.en")
        audio, _ref = joined(["en_jfk"], gap_s=0.5)
        sf.write(tmp_path / "a.wav", audio, 16000, subtype="PCM_16")
        with h.db.transaction() as s:
            sess = Session(project_id=h.project_id, title="Interview")
            s.add(sess)
        import_recording(h, sess.id, tmp_path / "a.wav")
    fk(root, "models", "add", str(resolve_model("tiny.en")), "--name", "tiny.en-verbatim", env=env)

    r = fk(root, "transcribe", "Interview", "-p", "Eng", env=env)
    assert "verbatim layer: tiny.en-verbatim; edited layer: 0 segments edited by people" in r.stdout
    with Workspace(root).open("eng") as h, h.db.session() as s:
        run = s.exec(select(TranscriptionRun).where(TranscriptionRun.session_id == sess.id)).one()
        assert run.model == "tiny.en-verbatim" and run.settings["model"] == "tiny.en-verbatim"
        layers = layer_models(h, sess.id)
        assert layers.verbatim == ["tiny.en-verbatim"] and not layers.live and layers.edited == 0

    # the project can say no: its final model writes the verbatim layer
    with Workspace(root).open("eng") as h, h.db.transaction() as s:
        project = s.get(Project, h.project_id)
        project.transcription = {**(project.transcription or {}), "verbatim_model": "none"}
        s.add(project)
    with Workspace(root).open("eng") as h:
        assert verbatim_settings(session_settings(h, sess.id)).model == "tiny.en"
