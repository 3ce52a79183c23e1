"""Shared fixtures: a fresh data folder and project per test (never the user's); markers set
by folder (tests/audio: audio, tests/team: team, tests/journeys: journey); new project
databases copied from a migrated template (tests/support/template_db.py); the test run's
private PulseAudio stopped at the end."""

from __future__ import annotations

from pathlib import Path

import pytest

pytest_plugins = ["tests.support.fixtures"]

REPO = Path(__file__).resolve().parent.parent
TESTS = Path(__file__).resolve().parent

#: folder under tests/ -> the marker every test in it carries (`make test-fast` leaves these out)
FOLDER_MARKERS = {"audio": "audio", "team": "team", "journeys": "journey"}


@pytest.hookimpl(tryfirst=True)   # before pytest-xdist reads the xdist_group marks
def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    for item in items:
        try:
            folder = Path(str(item.path)).resolve().relative_to(TESTS).parts[0]
        except ValueError:
            continue
        marker = FOLDER_MARKERS.get(folder)
        if marker:
            item.add_marker(marker)
        if folder == "team":
            # with `--dist loadgroup` (scripts/test) a module's tests share one worker, so
            # its PostgreSQL server (a module fixture) starts once
            item.add_marker(pytest.mark.xdist_group(Path(str(item.path)).stem))


@pytest.fixture(scope="session", autouse=True)
def _private_audio_server_stops():
    """Audio tests start the run's own PulseAudio (tests/support/audio_env.py) when they need
    it; at the end of the run it is stopped, with its silence stream."""
    yield
    from tests.support import audio_env

    audio_env.stop()


@pytest.fixture(scope="session")
def virtual_mic() -> str:
    """The ALSA device recording from the run's private virtual microphone."""
    from tests.support import audio_env

    problem = audio_env.start()
    if problem:
        pytest.skip(f"virtual microphone unavailable: {problem}")
    return audio_env.DEVICE


@pytest.fixture(autouse=True)
def _isolated_home(tmp_path_factory: pytest.TempPathFactory, monkeypatch: pytest.MonkeyPatch) -> Path:
    """No test touches the real user data folder."""
    home = tmp_path_factory.mktemp("fieldkit-home")
    monkeypatch.setenv("FIELDKIT_HOME", str(home))
    # nor the laptop's measured figures (speed and batch size per model, download speed):
    # a figure measured on the machine would change what the screens show and how the
    # final pass decodes, and a test's transcription would write the user's file
    monkeypatch.setenv("FIELDKIT_MEASURES", str(tmp_path_factory.mktemp("fieldkit-measures")))
    # nor the person's own settings: a remapped key or a playback rewind of their own
    config = tmp_path_factory.mktemp("fieldkit-config")
    monkeypatch.setenv("FIELDKIT_KEYMAP", str(config / "keymap.toml"))
    monkeypatch.setenv("FIELDKIT_PLAYBACK", str(config / "playback.toml"))
    # English unless a test asks for Norwegian: the machine's locale must not change what
    # the tests read (tests of the Norwegian texts set FIELDKIT_LANG or call set_language)
    monkeypatch.setenv("FIELDKIT_LANG", "en")
    from fieldkit import i18n

    i18n.set_language("en")
    return home


@pytest.fixture(autouse=True)
def _template_database(request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch) -> None:
    """A new project database is a copy of one migrated template (tests/support/template_db.py)
    instead of a migration of its own; tests marked ``real_migrations`` migrate for real."""
    if request.node.get_closest_marker("real_migrations"):
        return
    from fieldkit.store import db as dbmod
    from tests.support import template_db

    monkeypatch.setattr(dbmod, "upgrade", template_db.templated_upgrade)


@pytest.fixture(scope="session", autouse=True)
def _template_database_removed():
    yield
    from tests.support import template_db

    template_db.remove()


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
