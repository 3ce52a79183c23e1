"""Issue 26, "Low": clear messages instead of tracebacks for a team server's and a pack's
problems, checked through the real CLI (and a real PostgreSQL where a server answers)."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from tests.support import pg_server
from tests.support.builders import laptop

needs_pg = pytest.mark.skipif(pg_server.pg_bindir() is None and not os.environ.get("CI"),
                              reason="PostgreSQL is not installed (CI installs it)")


def run(home, *args, env=None):
    return subprocess.run([sys.executable, "-m", "fieldkit", *args], capture_output=True, text=True,
                          timeout=120, env={**os.environ, "FIELDKIT_HOME": str(home),
                                            "FIELDKIT_LANG": "en", **(env or {})})


@pytest.fixture(scope="module")
def pg():
    server = pg_server.start()
    import psycopg

    with psycopg.connect(server.url(), autocommit=True) as conn:
        conn.execute("CREATE ROLE alice LOGIN PASSWORD 'alice-pw'")
    yield server
    server.stop()


@pytest.mark.parametrize("address, says", [
    ("postgresql://admin:secret@127.0.0.1:99999/fieldkit", "the port is out of range"),
    ("postgresql://admin:secret@127.0.0.1:port/fieldkit", "the port is not a number"),
    ("postgresql://admin:secret@[2001:db8::1/fieldkit", "the IPv6 address is not valid"),
])
def test_unusable_addresses_are_named(tmp_path, address, says):
    r = run(tmp_path, "server", "init", address, "--project", "p")
    assert r.returncode == 11, r.stderr
    assert says in r.stderr and "Traceback" not in r.stderr
    assert "secret" not in r.stderr                       # the password is never shown


@needs_pg
def test_missing_database_tls_mismatch_and_non_admin_init(pg, tmp_path):
    r = run(tmp_path, "server", "init", pg.url(db="nope"), "--project", "p")
    assert r.returncode == 11 and "has no database nope" in r.stderr, r.stderr
    assert "Cannot reach" not in r.stderr and "Traceback" not in r.stderr
    r = run(tmp_path, "server", "init", pg.url() + "?sslmode=require", "--project", "p")
    assert r.returncode == 11 and "encrypted connection (TLS)" in r.stderr, r.stderr
    assert "Cannot reach" not in r.stderr and "Traceback" not in r.stderr
    r = run(tmp_path, "server", "init", pg.url("alice", "alice-pw"), "--project", "p")
    assert r.returncode == 11 and "alice may not set projects up" in r.stderr, r.stderr
    assert "supervisor" not in r.stderr and "Traceback" not in r.stderr
    import psycopg

    with psycopg.connect(pg.url()) as conn:           # nothing was made
        assert conn.execute("SELECT count(*) FROM pg_namespace WHERE nspname = 'fk_p'").fetchone()[0] == 0


def test_wrong_passphrase_names_the_pack(tmp_path):
    from fieldkit.team.pack import write_pack

    h = laptop(tmp_path, "a").create("Hemmelig", passphrase="riktig hest")
    pack = tmp_path / "h.fkpack"
    write_pack(h, pack)
    h.close()
    r = run(tmp_path / "b", "project", "merge", str(pack), env={"FIELDKIT_PASSPHRASE": "feil"})
    assert r.returncode != 0 and "Traceback" not in r.stderr
    assert str(pack) in r.stderr and ".fieldkit-unpack-" not in r.stderr and "/tmp/tmp" not in r.stderr, r.stderr
    assert not (tmp_path / "b" / "projects" / "hemmelig").exists()


def test_pack_with_a_value_this_fieldkit_cannot_read(tmp_path):
    from fieldkit.store.models import Session
    from fieldkit.team.pack import write_pack

    h = laptop(tmp_path, "a").create("Felt")
    with h.db.transaction() as s:
        s.add(Session(project_id=h.project_id, title="Intervju"))
    good = tmp_path / "good.fkpack"
    write_pack(h, good)
    h.close()
    from tests.support.packs import rewrite_pack

    seen = {}

    def hologram(records):
        [sess] = records["tables"]["session"]
        sess["kind"] = "hologram"
        seen.update(sess)

    # as a newer fieldkit would write it: signed (by a sender this laptop has not met)
    bad = rewrite_pack(good, tmp_path / "bad.fkpack", records=hologram, sign="new")
    sess = seen
    r = run(tmp_path / "b", "project", "merge", str(bad))
    assert r.returncode != 0 and "Traceback" not in r.stderr, r.stderr
    assert "session record" in r.stderr and sess["id"] in r.stderr and "'hologram'" in r.stderr
    assert not (tmp_path / "b" / "projects" / "felt").exists()


def test_project_merged_into_a_new_name_is_listed_under_it(tmp_path):
    from fieldkit.team.pack import write_pack

    h = laptop(tmp_path, "a").create("Demo")
    write_pack(h, tmp_path / "demo.fkpack")
    h.close()
    laptop(tmp_path, "b").create("Demo").close()             # a different project, same name
    r = run(tmp_path / "b", "project", "merge", str(tmp_path / "demo.fkpack"))
    assert r.returncode != 0 and "--into" in r.stderr
    r = run(tmp_path / "b", "project", "merge", str(tmp_path / "demo.fkpack"), "--into", "Demo B")
    assert r.returncode == 0, r.stderr
    listed = [line.split()[0] for line in run(tmp_path / "b", "project", "list").stdout.splitlines()
              if line.strip()]
    assert sorted(listed) == ["demo", "demo-b"], listed
    assert run(tmp_path / "b", "informant", "list", "-p", "demo-b").returncode == 0


def test_driver_log_lines_stay_off_the_terminal():
    """After a lost connection psycopg and SQLAlchemy's pool log a line ("error ignored in
    rollback ...") that Python's last-resort handler would print under fieldkit's own
    message; a team server engine keeps them off stderr."""
    code = ("import logging, sys\n"
            "if sys.argv[1] == 'engine':\n"
            "    from fieldkit.team.server import engine_for\n"
            "    engine_for('postgresql://x@127.0.0.1:1/db')\n"
            "logging.getLogger('psycopg').warning('error ignored in rollback on <conn>')\n"
            "logging.getLogger('sqlalchemy.pool.impl.NullPool').error('Exception during reset')\n")
    env = {**os.environ, "PYTHONPATH": str(Path(__file__).resolve().parents[2])}
    bare = subprocess.run([sys.executable, "-c", code, "bare"], capture_output=True, text=True, env=env)
    assert "error ignored in rollback" in bare.stderr          # what would have shown
    quiet = subprocess.run([sys.executable, "-c", code, "engine"], capture_output=True, text=True, env=env)
    assert quiet.returncode == 0 and quiet.stderr == "", quiet.stderr
