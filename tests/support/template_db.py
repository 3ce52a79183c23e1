"""New project databases copied from one migrated template per test process.

Migrating an empty database to the head revision runs every Alembic revision (batch table
rebuilds, each with its own DDL and fsyncs): about 0.4 s of CPU and over a second of disk
waits, for every project a test creates. :func:`templated_upgrade` stands in for
:func:`fieldkit.store.db.upgrade` in the tests (tests/conftest.py patches it in): the first
empty plain database of the process is migrated for real and kept as the template; every
later empty one gets the template's pages through SQLite's backup API, which gives the
same schema and the same ``alembic_version`` row in milliseconds.

Only a new, empty, unencrypted database going to ``head`` is copied. A database at an older
revision, a migration to another revision, a SQLCipher database, the PostgreSQL team server
and every fieldkit started as a subprocess migrate for real; tests marked
``real_migrations`` (tests/unit/test_store.py's migration tests) do too.
"""

from __future__ import annotations

import shutil
import sqlite3
import tempfile
import threading
from pathlib import Path

from fieldkit.store import db as dbmod

_real_upgrade = dbmod.upgrade
_lock = threading.Lock()
_template: Path | None = None


def _template_file() -> Path:
    """The migrated template of this process (made on first use)."""
    global _template
    with _lock:
        if _template is None:
            folder = Path(tempfile.mkdtemp(prefix="fieldkit-template-db-"))
            path = folder / "template.db"
            engine = dbmod.make_engine(path)
            try:
                _real_upgrade(engine)
                with engine.connect() as conn:   # everything in the main file, no WAL beside it
                    conn.exec_driver_sql("PRAGMA wal_checkpoint(TRUNCATE)")
            finally:
                engine.dispose()
            _template = path
        return _template


def templated_upgrade(engine, revision: str = "head") -> None:
    if (revision != "head" or engine.url.drivername != "sqlite"
            or dbmod.read_revision(engine) is not None):
        _real_upgrade(engine, revision)
        return
    source = sqlite3.connect(_template_file())
    raw = engine.raw_connection()
    try:
        source.backup(raw.driver_connection)
    finally:
        raw.close()
        source.close()


def remove() -> None:
    """Delete this process's template (end of the test session)."""
    global _template
    with _lock:
        if _template is not None:
            shutil.rmtree(_template.parent, ignore_errors=True)
            _template = None
