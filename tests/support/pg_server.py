"""A throwaway PostgreSQL server for the tests and benchmarks: initdb in a temporary
folder, listening on 127.0.0.1 only on a free port, password logins (scram-sha-256).

PostgreSQL refuses to run as root; when the tests run as root (CI), the server runs as the
``postgres`` system user the Debian package creates (through ``runuser``).
"""

from __future__ import annotations

import glob
import os
import shutil
import socket
import subprocess
import tempfile
from dataclasses import dataclass
from pathlib import Path

ADMIN = "fkadmin"
ADMIN_PASSWORD = "admin-secret"


def pg_bindir() -> Path | None:
    found = shutil.which("pg_ctl")
    if found:
        return Path(found).parent
    dirs = sorted(glob.glob("/usr/lib/postgresql/*/bin"), key=lambda p: int(p.split("/")[-2]))
    return Path(dirs[-1]) if dirs else None


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@dataclass
class PgServer:
    folder: Path
    port: int
    bindir: Path
    as_user: list[str]

    def url(self, user: str = ADMIN, password: str = ADMIN_PASSWORD, db: str = "fieldkit") -> str:
        return f"postgresql://{user}:{password}@127.0.0.1:{self.port}/{db}"

    def _run(self, *args: str) -> subprocess.CompletedProcess:
        return subprocess.run([*self.as_user, *args], capture_output=True, text=True, timeout=120)

    def stop(self) -> None:
        self._run(str(self.bindir / "pg_ctl"), "-D", str(self.folder / "data"), "-m", "fast", "-w", "stop")
        shutil.rmtree(self.folder, ignore_errors=True)


def start(settings: dict[str, str] | None = None) -> PgServer:
    """``settings``: extra server settings (``-c name=value``) for the tests that need them."""
    bindir = pg_bindir()
    if bindir is None:
        raise RuntimeError("PostgreSQL is not installed (Debian: apt-get install postgresql)")
    folder = Path(tempfile.mkdtemp(prefix="fieldkit-pg-"))
    as_user: list[str] = []
    if os.geteuid() == 0:
        import pwd

        pw = pwd.getpwnam("postgres")
        os.chown(folder, pw.pw_uid, pw.pw_gid)
        as_user = ["runuser", "-u", "postgres", "--"]
    pwfile = folder / "pw"
    pwfile.write_text(ADMIN_PASSWORD + "\n")
    if as_user:
        os.chown(pwfile, pw.pw_uid, pw.pw_gid)
    server = PgServer(folder, _free_port(), bindir, as_user)
    r = server._run(str(bindir / "initdb"), "-D", str(folder / "data"), "-U", ADMIN,
                    "--pwfile", str(pwfile), "--auth", "scram-sha-256", "-E", "UTF8",
                    "--locale", "C.UTF-8")
    if r.returncode:
        raise RuntimeError(f"initdb failed: {r.stderr}")
    pwfile.unlink()
    opts = (f"-c listen_addresses=127.0.0.1 -c port={server.port} "
            f"-c unix_socket_directories={folder} -c fsync=off -c max_connections=40"
            + "".join(f" -c {k}={v}" for k, v in (settings or {}).items()))
    r = server._run(str(bindir / "pg_ctl"), "-D", str(folder / "data"), "-l", str(folder / "log"),
                    "-o", opts, "-w", "-t", "120", "start")
    if r.returncode:
        log = (folder / "log").read_text() if (folder / "log").exists() else ""
        raise RuntimeError(f"pg_ctl start failed: {r.stderr} {log}")
    import psycopg

    with psycopg.connect(server.url(db="postgres"), autocommit=True) as conn:
        conn.execute("CREATE DATABASE fieldkit")
    return server
