"""The command line: version, help, projects, doctor, and bad input at the edges."""

from __future__ import annotations

import os
import shutil
import sqlite3
import subprocess
import sys
from pathlib import Path

import pytest

from tests.support.cli import fk

FIELDKIT = [sys.executable, "-m", "fieldkit"]


def run(*args: str, env: dict | None = None):
    """``fieldkit ARGS`` in this process (tests.support.cli), not asserting success."""
    return fk(None, *args, ok=False, env=env)


def test_version():
    from fieldkit import __version__

    r = run("--version")
    assert r.returncode == 0 and __version__ in r.stdout


def test_help_imports_nothing_heavy():
    code = (
        "import sys; from fieldkit.cli import cli\n"
        "try:\n    cli.main(['--help'], standalone_mode=False)\nexcept SystemExit: pass\n"
        "heavy = [m for m in ('faster_whisper','ctranslate2','av','sqlalchemy','sqlmodel',"
        "'textual','numpy','sounddevice') if m in sys.modules]\n"
        "print('HEAVY', heavy)"
    )
    r = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert "HEAVY []" in r.stdout, r.stdout + r.stderr
    assert "doctor" in r.stdout and "project" in r.stdout


def test_every_registered_command_loads():
    from fieldkit.cli import COMMANDS, SHORT_HELP, cli
    import click

    ctx = click.Context(cli)
    assert set(COMMANDS) == set(SHORT_HELP)
    for name in COMMANDS:
        assert isinstance(cli.get_command(ctx, name), click.Command), name


def test_project_new_and_list(tmp_path: Path):
    data = tmp_path / "data"
    r = run("--data-dir", str(data), "project", "new", "Samhandling i Øst",
            "--sikt", "123456", "--deadline", "2030-01-31", "--language", "nn")
    assert r.returncode == 0, r.stderr
    folder = data / "projects" / "samhandling-i-ost"
    assert (folder / "project.db").is_file() and (folder / "audio").is_dir()
    assert (folder.stat().st_mode & 0o077) == 0, "project folder must be owner-only"
    assert ((folder / "project.db").stat().st_mode & 0o077) == 0
    r = run("--data-dir", str(data), "project", "list")
    assert r.returncode == 0
    assert "Samhandling i Øst" in r.stdout and "Sikt 123456" in r.stdout and "[nn]" in r.stdout
    r = run("--data-dir", str(data), "project", "new", "Samhandling i Øst")
    assert r.returncode != 0 and "already exists" in r.stderr and "Traceback" not in r.stderr


def test_fieldkit_home_env(tmp_path: Path):
    r = run("project", "new", "Env project", env={"FIELDKIT_HOME": str(tmp_path / "h")})
    assert r.returncode == 0
    assert (tmp_path / "h" / "projects" / "env-project" / "project.db").exists()


def test_doctor_lines(tmp_path: Path):
    r = run("--data-dir", str(tmp_path / "d"), "doctor")
    lines = r.stdout.strip().splitlines()
    names = [l.split("]", 1)[1].split(":", 1)[0].strip() for l in lines]
    assert names == ["Python", "PortAudio", "Input devices", "Models", "Data folder", "Free disk"]
    assert all(l.startswith(("[PASS]", "[FAIL]")) for l in lines)
    assert lines[0].startswith("[PASS] Python")
    assert lines[4].startswith("[PASS] Data folder")
    assert r.returncode == (0 if all(l.startswith("[PASS]") for l in lines) else 1)


def test_doctor_reports_unusable_data_dir(tmp_path: Path):
    blocker = tmp_path / "file"
    blocker.write_text("x")
    r = run("--data-dir", str(blocker / "sub"), "doctor")
    assert r.returncode == 1
    assert f"[FAIL] Data folder: Cannot create the data folder {blocker / 'sub'}" in r.stdout


def test_data_dir_that_is_a_file(tmp_path: Path):
    blocker = tmp_path / "file"
    blocker.write_text("x")
    r = run("--data-dir", str(blocker / "sub"), "project", "new", "X")
    assert r.returncode == 4
    assert "Cannot create the data folder" in r.stderr and "Traceback" not in r.stderr


@pytest.mark.skipif(shutil.which("setpriv") is None, reason="needs setpriv to drop root")
def test_data_dir_not_writable(tmp_path: Path):
    """As an ordinary user (root ignores permissions, so drop to nobody when root)."""
    import tempfile

    base = Path(tempfile.mkdtemp(prefix="fieldkit-ro-"))  # reachable by nobody (0755)
    os.chmod(base, 0o755)
    ro = base / "readonly"
    ro.mkdir()
    os.chmod(ro, 0o555)
    cmd = [*FIELDKIT, "--data-dir", str(ro), "project", "new", "X"]
    if os.geteuid() == 0:
        cmd = ["setpriv", "--reuid=65534", "--regid=65534", "--clear-groups", *cmd]
    env = {**os.environ, "HOME": str(tmp_path)}
    r = subprocess.run(cmd, capture_output=True, text=True, env=env, timeout=120)
    assert r.returncode == 4, r.stderr
    assert f"The data folder {ro} is not writable" in r.stderr
    assert list(ro.iterdir()) == []
    shutil.rmtree(base)


def _make_project(data: Path) -> Path:
    assert run("--data-dir", str(data), "project", "new", "P").returncode == 0
    return data / "projects" / "p" / "project.db"


def test_corrupt_database_cli(tmp_path: Path):
    db = _make_project(tmp_path)
    db.write_bytes(b"\x00garbage" * 64)
    r = run("--data-dir", str(tmp_path), "project", "list")
    assert r.returncode == 3
    assert "damaged or is not a fieldkit database" in r.stderr and "Traceback" not in r.stderr
    assert db.read_bytes() == b"\x00garbage" * 64


def test_newer_database_cli(tmp_path: Path):
    db = _make_project(tmp_path)
    con = sqlite3.connect(db)
    con.execute("UPDATE alembic_version SET version_num='ffff'")
    con.commit()
    con.close()
    r = run("--data-dir", str(tmp_path), "project", "list")
    assert r.returncode == 3 and "newer fieldkit" in r.stderr


def test_locked_database_cli(tmp_path: Path):
    db = _make_project(tmp_path)
    con = sqlite3.connect(db)
    con.execute("DROP TABLE auditentry")  # make it a revision-0001 database, so
    con.execute("UPDATE alembic_version SET version_num='0001'")  # opening must write
    con.execute("PRAGMA journal_mode=DELETE")
    con.commit()
    con.isolation_level = None
    con.execute("BEGIN EXCLUSIVE")
    try:
        r = run("--data-dir", str(tmp_path), "project", "list")
    finally:
        con.rollback()
        con.close()
    assert r.returncode == 3
    assert "locked by another program" in r.stderr and "Traceback" not in r.stderr


def test_a_write_while_another_program_holds_the_database_says_so(tmp_path: Path, monkeypatch):
    """Another process (a second fieldkit, a sqlite3 shell) holds a write transaction
    while a command writes: a clear message naming the database, nothing half-stored; the
    same command works once the other lets go. It was a SQLAlchemy traceback."""
    import fieldkit.store.db as dbmod
    from fieldkit.errors import ExitCode

    monkeypatch.setattr(dbmod, "BUSY_TIMEOUT_MS", 100)   # the wait before giving up, shortened
    db = _make_project(tmp_path)
    con = sqlite3.connect(db, isolation_level=None)
    con.execute("BEGIN IMMEDIATE")
    try:
        r = run("--data-dir", str(tmp_path), "informant", "add", "L01", "-p", "P", "--role", "nurse")
    finally:
        con.rollback()
    assert r.returncode == ExitCode.DATABASE, r.stderr
    assert f"The database {db} is locked by another program" in r.stderr and "Traceback" not in r.stderr
    assert con.execute("SELECT count(*) FROM informant").fetchone() == (0,)
    assert run("--data-dir", str(tmp_path), "informant", "add", "L01", "-p", "P").returncode == 0
    assert con.execute("SELECT code FROM informant").fetchall() == [("L01",)]
    con.close()


def test_deadline_warning_in_cli(tmp_path: Path):
    from datetime import date, timedelta

    soon = (date.today() + timedelta(days=10)).isoformat()
    assert run("--data-dir", str(tmp_path), "project", "new", "Soon", "--sikt", "654321",
               "--deadline", soon).returncode == 0
    assert run("--data-dir", str(tmp_path), "project", "new", "Later", "--deadline",
               "2099-01-01").returncode == 0
    r = run("--data-dir", str(tmp_path), "project", "list")
    assert r.returncode == 0
    assert f"Soon: Deletion deadline (Sikt ref. 654321) in 10 days ({soon})" in r.stderr
    assert "Later:" not in r.stderr


def test_deadline_sentences():
    from datetime import date

    from fieldkit.privacy.deadline import deadline_warning

    today = date(2026, 11, 22)
    assert deadline_warning(None, today=today) is None
    assert deadline_warning(date(2026, 12, 23), today=today) is None       # 31 days
    assert "in 30 days" in deadline_warning(date(2026, 12, 22), today=today)
    assert "passed 2 days ago" in deadline_warning(date(2026, 11, 20), "1", today=today)
