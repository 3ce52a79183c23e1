"""The team's messages in the pseudo-locale (issue 22): setting up the team server, the first
sync, a copy made from the server, a record changed on two laptops (the sync's note, `project
conflicts`, the conflicts screen and the team overview on the home screen) and the errors of a
wrong password and a server out of reach, against a real PostgreSQL. Every word outside the
``⟦ ⟧`` markers that is not data reached a Norwegian team without the catalogue."""

from __future__ import annotations

import os
import re
from pathlib import Path

import pytest

from tests.support import pg_server
from tests.support.cli import fk
from tests.support.pseudo import drawn, pseudo_language, screen_findings, unmarked

pytestmark = pytest.mark.skipif(pg_server.pg_bindir() is None and not os.environ.get("CI"),
                                reason="PostgreSQL is not installed (CI installs it)")

#: the data: the project, the people, the roles typed, the server's names
DATA = "Teamstudie teamstudie L01 leder avdelingsleder seksjonsleder alice bob Ada Lund AL postgresql fieldkit"
NAMES = ("PostgreSQL", "TLS", "PGPASSWORD", "pgpass")


def _words(r) -> list[str]:
    text = re.sub(r"`[^`]*`|--?[\w-]+", " ", r.stdout + "\n" + r.stderr)   # commands and options typed
    return unmarked(text, DATA, allowed=NAMES)


@pytest.mark.slow
async def test_team_server_sync_and_conflicts_come_from_the_catalogue(tmp_path: Path, monkeypatch):
    import psycopg

    from fieldkit.projects import Workspace
    from fieldkit.store.models import Informant
    from fieldkit.tui.app import FieldkitApp
    from fieldkit.tui.screens.conflicts import ConflictsScreen
    from sqlmodel import select
    from tests.support.wait import settle, until

    server = pg_server.start()
    try:
        with psycopg.connect(server.url(), autocommit=True) as conn:
            for role in ("alice", "bob"):
                conn.execute(f"CREATE ROLE {role} LOGIN PASSWORD '{role}-pw'")
        a, b = tmp_path / "a", tmp_path / "b"
        found: dict[str, list[str]] = {}
        dump = os.environ.get("FIELDKIT_PSEUDO_DUMP")   # a file to write every output to

        def say(name: str, root, *args, code: int | None = 0):
            r = fk(root, *args, lang="pseudo", ok=False)
            assert "Traceback" not in r.stderr, (args, r.stderr)
            if code is not None:
                assert r.returncode == code, (args, r.stdout, r.stderr)
            found[name] = _words(r)
            if dump:
                with open(dump, "a", encoding="utf-8") as f:
                    f.write(f"\n===== {name}\n{r.stdout}{r.stderr}")
            return r

        fk(a, "project", "new", "Teamstudie", lang="pseudo")
        fk(a, "researcher", "add", "Ada Lund", "--initials", "AL", "-p", "teamstudie", lang="pseudo")
        fk(a, "informant", "add", "L01", "--role", "leder", "-p", "teamstudie", lang="pseudo")
        say("server init", None, "server", "init", server.url(), "--project", "teamstudie",
            "--researcher", "alice", "--researcher", "bob")
        alice, bob = server.url("alice", "alice-pw"), server.url("bob", "bob-pw")
        say("first sync", a, "sync", "-p", "teamstudie", "--server", alice)
        say("copied from the server", b, "sync", "-p", "teamstudie", "--server", bob)
        # the informant's role changed on both laptops before either syncs
        for root, role in ((a, "avdelingsleder"), (b, "seksjonsleder")):
            with Workspace(root).open("teamstudie") as h, h.db.transaction() as s:
                s.exec(select(Informant).where(Informant.code == "L01")).one().role = role
        say("sync, pushing", a, "sync", "-p", "teamstudie", "--server", alice)
        r = say("sync, a conflict", b, "sync", "-p", "teamstudie", "--server", bob)
        # one conflict, in the singular (Babel's plural forms, not "1 konflikter")
        assert "⟦1 konflikt⟧" in r.stdout and "⟦1 oppføring ble endret" in r.stdout, r.stdout
        say("project conflicts", b, "project", "conflicts", "teamstudie")
        say("wrong password", b, "sync", "-p", "teamstudie", "--server", server.url("bob", "wrong"), code=None)
        say("server out of reach", b, "sync", "-p", "teamstudie", "--server",
            f"postgresql://bob:x@127.0.0.1:{pg_server._free_port()}/fieldkit", code=None)

        # the app on laptop B: the home screen's team overview and the conflict
        with pseudo_language(monkeypatch):
            app = FieldkitApp(data_dir=b, project="teamstudie")
            async with app.run_test(size=(120, 40)) as pilot:
                await until(pilot, lambda: type(app.screen).__name__ == "HomeScreen", "the home screen")
                await settle(app, pilot)
                found["home with the team overview"] = screen_findings(drawn(app), DATA, NAMES)
                screen = ConflictsScreen("teamstudie")
                app.push_screen(screen)
                await until(pilot, lambda: app.screen is screen and screen.rows, "the conflict listed")
                await settle(app, pilot)
                text = drawn(app)
                assert "L01" in text or "leder" in text, text
                found["conflicts screen"] = screen_findings(text, DATA, NAMES)
                if dump:
                    with open(dump, "a", encoding="utf-8") as f:
                        f.write(f"\n===== conflicts screen\n{text}")
        with Workspace(b).open("teamstudie") as h, h.db.session() as s:
            assert s.exec(select(Informant).where(Informant.code == "L01")).one().role in (
                "avdelingsleder", "seksjonsleder")
    finally:
        server.stop()
    assert {k: v for k, v in found.items() if v} == {}
