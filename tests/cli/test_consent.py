"""Consent records through the CLI, and recording refused without consent."""

from __future__ import annotations

import os
import subprocess

import pytest
from sqlmodel import select

from fieldkit.recording.recorder import Recorder, RecorderError
from fieldkit.store.models import Event, EventKind, Informant, Session, SessionParticipant
from tests.support.cli import fk as run_cli


def test_consent_flow(project):
    env = {**os.environ, "FIELDKIT_HOME": str(project.folder.parent.parent)}
    p = ["-p", project.folder.name]

    def run(*args: str) -> subprocess.CompletedProcess:
        return run_cli(None, *args, *p, ok=False, env=env)

    assert run("informant", "add", "L01", "--name", "Kari Nordmann", "--role", "leder",
               "--organisation", "DPS", "--letter-sent", "2026-01-05", "--consent", "2026-01-20",
               "--kept-at", "Arkivskap 2").returncode == 0
    assert run("informant", "add", "L02", "--role", "sykepleier").returncode == 0
    r = run("informant", "add", "L01")
    assert r.returncode == 1 and "already used" in r.stderr
    r = run("informant", "list")
    assert "written consent 2026-01-20" in r.stdout and "no information letter" in r.stdout
    assert "Kari" not in r.stdout  # names are not listed
    with project.db.transaction() as s:
        sess = Session(project_id=project.project_id, title="Gruppe 1")
        s.add(sess)
    assert run("consent", "--session", "Gruppe 1", "--informant", "L01", "--recording", "yes").returncode == 0
    assert run("consent", "--session", "Gruppe 1", "--informant", "L02", "--recording", "no").returncode == 0
    with pytest.raises(RecorderError, match="1 participant"):
        Recorder(project, sess.id).start()
    with project.db.session() as s:
        parts = {x.speaker_label: x for x in s.exec(select(SessionParticipant))}
        assert parts["L01"].recording_consent is True and parts["L01"].recording_consent_at
        assert parts["L02"].recording_consent is False
        events = s.exec(select(Event).where(Event.kind == EventKind.consent)).all()
        assert sorted(e.code for e in events) == ["recording_no", "recording_yes"]
    r = run("informant", "withdraw", "L02", "--on", "2026-02-01")
    assert r.returncode == 0 and "fieldkit purge" in r.stdout
    with project.db.session() as s:
        assert str(s.exec(select(Informant).where(Informant.code == "L02")).one().withdrawn_on) == "2026-02-01"
    r = run("consent", "--session", "Gruppe 1", "--informant", "L02", "--recording", "yes")
    assert r.returncode == 1 and "withdrew" in r.stderr
