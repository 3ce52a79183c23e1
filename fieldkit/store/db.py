"""Opening a project database: SQLite pragmas, schema checks, migrations, backups.

Everything SQLite-specific is here. ``open_database`` either returns a ready
:class:`Database` at the current schema or raises :class:`DatabaseError` with a
message naming the file and what to do; it never overwrites or half-migrates a file.
"""

from __future__ import annotations

import contextlib
import os
import sqlite3
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Iterator, Protocol

from sqlalchemy import event
from sqlalchemy.engine import URL, Engine, create_engine
from sqlalchemy.exc import OperationalError
from sqlalchemy.exc import DatabaseError as SADatabaseError
from sqlmodel import Session as DBSession

from fieldkit.errors import DatabaseError

from fieldkit.store.dbfile import KNOWN_REVISIONS, SCHEMA_HEAD, SQLITE_MAGIC, read_header
from fieldkit.i18n import _

MIGRATIONS_DIR = Path(__file__).with_name("migrations")
BUSY_TIMEOUT_MS = 3000


class DatabaseKey(Protocol):
    """What the store needs of a key to open an encrypted (SQLCipher) database.

    The store does not know where keys come from: ``fieldkit.privacy.crypto.ProjectKey``
    (derived from the project's passphrase) is one; the store never imports privacy.
    """

    def sqlcipher_key(self) -> str:
        """The key in the form SQLCipher takes in ``PRAGMA key``."""
        ...


def _on_connect(dbapi_conn: sqlite3.Connection, _record: object) -> None:
    cur = dbapi_conn.cursor()
    cur.execute(f"PRAGMA busy_timeout = {BUSY_TIMEOUT_MS}")
    cur.execute("PRAGMA foreign_keys = ON")
    cur.execute("PRAGMA journal_mode = WAL")
    # FULL: a committed note survives a power cut, not only a crash of fieldkit.
    cur.execute("PRAGMA synchronous = FULL")
    # Deleted content is overwritten with zeros, not left in free pages (purge relies on it).
    cur.execute("PRAGMA secure_delete = ON")
    cur.close()


def make_engine(path: Path, key: DatabaseKey | None = None) -> Engine:
    """An engine on ``path``; with ``key`` through SQLCipher (file and WAL encrypted)."""
    connect_args = {"check_same_thread": False, "timeout": BUSY_TIMEOUT_MS / 1000}
    if key is None:
        url: URL | str = f"sqlite:///{path}"
    else:
        url = URL.create("sqlite+pysqlcipher", password=key.sqlcipher_key(), database=str(path))
    engine = create_engine(url, connect_args=connect_args)
    event.listen(engine, "connect", _on_connect)
    return engine


@dataclass
class Database:
    path: Path
    engine: Engine
    migrated_from: str | None = None   # revision before migration, if one ran
    backup_path: Path | None = None

    def session(self) -> DBSession:
        return DBSession(self.engine, expire_on_commit=False)

    @contextlib.contextmanager
    def transaction(self) -> Iterator[DBSession]:
        """A session that commits on success and rolls back on error. Another program
        holding the database past the busy timeout is a :class:`DatabaseError` naming the
        file (nothing of the transaction is stored), not a SQLAlchemy traceback."""
        with self.session() as s:
            try:
                yield s
                s.commit()
            except OperationalError as exc:
                s.rollback()
                text = str(exc.orig if exc.orig is not None else exc).lower()
                if "locked" in text or "busy" in text:
                    raise _describe_sqlite_error(self.path, exc) from exc
                raise
            except BaseException:
                s.rollback()
                raise

    def close(self) -> None:
        self.engine.dispose()


def _describe_sqlite_error(path: Path, exc: BaseException) -> DatabaseError:
    text = str(getattr(exc, "orig", exc)).lower()
    if "locked" in text or "busy" in text:
        return DatabaseError(
            _("The database {path} is locked by another program.").format(path=path),
            hint=_("Close the other fieldkit window or program using it, then try "
                     "again."),
        )
    if "not a database" in text or "malformed" in text or "file is encrypted" in text:
        return DatabaseError(
            _("The database {path} is damaged or is not a fieldkit database.").format(path=path),
            hint=(
                _("Nothing was changed. Restore it from a backup (files named "
                    "project.db.bak-* beside it), or move it aside and run `fieldkit "
                    "recover`.")
            ),
        )
    if "readonly" in text or "read-only" in text or "unable to open" in text:
        return DatabaseError(
            _("The database {path} cannot be opened for writing.").format(path=path),
            hint=_("Check that the folder and file belong to you and the disk is not "
                     "full."),
        )
    first_line = (str(getattr(exc, "orig", exc)).strip().splitlines() or [_("unknown error")])[0]
    return DatabaseError(_("The database {path} could not be opened: {first_line}").format(path=path, first_line=first_line))


def read_revision(engine: Engine) -> str | None:
    """The schema revision stored in the database (None for an empty database)."""
    with engine.connect() as conn:
        tables = {
            r[0]
            for r in conn.exec_driver_sql(
                "SELECT name FROM sqlite_master WHERE type = 'table'"
            )
        }
        if "alembic_version" not in tables:
            if tables - {"sqlite_sequence"}:
                raise DatabaseError(
                    _("The database holds tables but no fieldkit schema version."),
                    hint=_("It was not made by fieldkit; nothing was changed."),
                )
            return None
        row = conn.exec_driver_sql("SELECT version_num FROM alembic_version").first()
        return row[0] if row else None


def _alembic_config(engine_conn: object):
    from alembic.config import Config

    cfg = Config()
    cfg.set_main_option("script_location", str(MIGRATIONS_DIR))
    cfg.attributes["connection"] = engine_conn
    return cfg


def upgrade(engine: Engine, revision: str = "head") -> None:
    from alembic import command

    with engine.begin() as conn:
        command.upgrade(_alembic_config(conn), revision)


def backup_sqlite(path: Path, revision: str | None, engine: Engine) -> Path:
    """A consistent copy (WAL content included), encrypted like the original."""
    stamp = datetime.now().strftime("%Y%m%d-%H%M%S")
    target = path.with_name(f"{path.name}.bak-{revision or 'empty'}-{stamp}")
    with engine.connect() as conn:
        # VACUUM INTO writes a compact copy through the same (possibly SQLCipher) codec
        conn.exec_driver_sql("VACUUM INTO ?", (str(target),))
    os.chmod(target, 0o600)
    return target


def open_database(path: Path, *, create: bool = False, key: DatabaseKey | None = None) -> Database:
    """Open (or with ``create`` make) a project database at the current schema.

    An older schema is backed up beside the file and migrated; a newer one is refused.
    With ``key`` the database is a SQLCipher one (a :class:`DatabaseKey`, such as the
    project key of fieldkit.privacy.crypto).
    """
    path = Path(path)
    if not path.exists():
        if not create:
            raise DatabaseError(_("There is no fieldkit database at {path}.").format(path=path))
        if not os.access(path.parent, os.W_OK):
            raise DatabaseError(_("Cannot create {path}: the folder is not writable.").format(path=path))
    elif not os.access(path, os.R_OK | os.W_OK):
        raise DatabaseError(
            _("The database {path} cannot be opened for writing.").format(path=path),
            hint=_("Check that the file belongs to you."),
        )
    elif path.stat().st_size > 0:
        plain = read_header(path) == SQLITE_MAGIC
        if key is None and not plain:
            raise _describe_sqlite_error(path, Exception("file is not a database"))
        if key is not None and plain:
            raise DatabaseError(_("The database {path} is not encrypted, but a key "
                                    "was given.").format(path=path))

    engine = make_engine(path, key)
    try:
        revision = read_revision(engine)
        db = Database(path=path, engine=engine)
        if revision == SCHEMA_HEAD:
            return db
        if revision is not None and revision not in KNOWN_REVISIONS:
            raise DatabaseError(
                _("The database {path} was made by a newer fieldkit (schema "
                    "{revision}; this fieldkit knows up to {schema_head}).").format(path=path, revision=revision, schema_head=SCHEMA_HEAD),
                hint=_("Update fieldkit (pip install -U fieldkit) to open it. "
                         "Nothing was changed."),
            )
        if revision is not None:
            db.backup_path = backup_sqlite(path, revision, engine)
            db.migrated_from = revision
        upgrade(engine)
        return db
    except DatabaseError:
        engine.dispose()
        raise
    except (OperationalError, SADatabaseError, sqlite3.DatabaseError) as exc:
        engine.dispose()
        raise _describe_sqlite_error(path, exc) from exc
