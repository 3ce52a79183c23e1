"""Shared fixtures: a fresh data folder and project per test (never the user's)."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parent.parent


@pytest.fixture(autouse=True)
def _isolated_home(tmp_path_factory: pytest.TempPathFactory, monkeypatch: pytest.MonkeyPatch) -> Path:
    """No test touches the real user data folder."""
    home = tmp_path_factory.mktemp("fieldkit-home")
    monkeypatch.setenv("FIELDKIT_HOME", str(home))
    # English unless a test asks for Norwegian: the machine's locale must not change what
    # the tests read (tests of the Norwegian texts set FIELDKIT_LANG or call set_language)
    monkeypatch.setenv("FIELDKIT_LANG", "en")
    from fieldkit import i18n

    i18n.set_language("en")
    return home


@pytest.fixture
def workspace(tmp_path: Path):
    from fieldkit.projects import Workspace

    return Workspace(tmp_path / "data").ensure()


@pytest.fixture
def project(workspace):
    """An open, empty project (ProjectHandle) with one researcher pair."""
    from fieldkit.store.models import Researcher

    handle = workspace.create("Test project", language="no")
    with handle.db.transaction() as s:
        s.add(Researcher(project_id=handle.project_id, name="Ada Lead", initials="AL"))
        s.add(Researcher(project_id=handle.project_id, name="Ola Observer", initials="OO"))
    yield handle
    handle.close()
