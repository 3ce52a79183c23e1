"""The project database as a file, read with the standard library alone.

What is here needs neither SQLAlchemy nor SQLModel:

* the schema revisions this fieldkit knows (``SCHEMA_HEAD``, ``KNOWN_REVISIONS``);
* the file's header (``read_header``: plain SQLite or not), read through one descriptor per
  file that is never closed, so that reading it never drops SQLite's POSIX locks;
* ``read_project``: the quick read of a project and its sessions for the first screen.

Importing SQLAlchemy and SQLModel costs about half a second on a two-core laptop, more
while Textual starts beside it. The home screen only lists projects and their sessions,
so it reads those rows here and leaves the full storage layer to load in the background.
``read_project`` answers ``None`` whenever the full path must run instead: an encrypted
project, a schema that is not the current one (it needs migrating), a recording left
unfinished (it needs recovering), or any error (the full path explains it properly).
Nothing is written.
"""

from __future__ import annotations

import os
import sqlite3
import uuid
from dataclasses import dataclass
from datetime import date, datetime
from pathlib import Path

#: The newest schema revision this fieldkit knows (tests check it against Alembic's head).
SCHEMA_HEAD = "0011_s2crypt"
#: Older revisions this fieldkit can migrate from.
KNOWN_REVISIONS = ("0001", "0002", "0003_sync", "0004_speakers", "0005_planned_at", "0006_seats",
                   "0007_i21_results_pair_kind", "0007_i29_clean_text", "0008_i23_suggest_event_kind",
                   "0009_i26merge", "0010_s2review_snippets", "0011_s2crypt")

SQLITE_MAGIC = b"SQLite format 3\x00"

_HEADER_FDS: dict[tuple[int, int], int] = {}


def read_header(path: Path, size: int = 16) -> bytes:
    """The first bytes of a database file, read through a descriptor that is never closed.

    POSIX advisory locks belong to the process: closing *any* descriptor of a file drops
    every lock this process holds on it, SQLite's included ("How To Corrupt An SQLite
    Database File", 2.2). A plain ``open(...).close()`` of project.db while another screen
    of the same app has it open let a second fieldkit (the observer) take the database as
    unused, checkpoint and remove the write-ahead log, and a debrief saved afterwards was
    lost. One descriptor per file, kept for the life of the process, avoids that.
    """
    st = os.stat(path)
    key = (st.st_dev, st.st_ino)
    fd = _HEADER_FDS.get(key)
    if fd is None:
        fd = _HEADER_FDS[key] = os.open(path, os.O_RDONLY | getattr(os, "O_CLOEXEC", 0))
    return os.pread(fd, size, 0)


@dataclass
class QuickSession:
    id: str
    title: str
    kind: str
    status: str
    starts_at: datetime | None
    is_pilot: bool
    planned_at: datetime | None = None
    follows: str = ""          # the session this one follows (related_session_id), or ""


@dataclass
class QuickProject:
    slug: str
    name: str
    language: str
    sikt_reference: str | None
    deletion_deadline: date | None
    sessions: list[QuickSession]


def read_project(db_path: Path) -> QuickProject | None:
    try:
        if read_header(db_path) != SQLITE_MAGIC:
            return None   # encrypted (SQLCipher) or damaged: the full path handles both
        con = sqlite3.connect(f"file:{db_path}?mode=ro", uri=True, timeout=3)
    except (OSError, sqlite3.Error):
        return None
    try:
        (revision,) = con.execute("SELECT version_num FROM alembic_version").fetchone() or (None,)
        if revision != SCHEMA_HEAD:
            return None
        # an unfinished recording, or a live transcription still marked running (done
        # seconds after a stop, or dead with a crash): the full path recovers what is dead
        unfinished = con.execute(
            "SELECT count(*) FROM recording WHERE state IN ('recording', 'paused')").fetchone()[0] \
            + con.execute("SELECT count(*) FROM transcriptionrun WHERE mode = 'live' "
                          "AND status = 'running'").fetchone()[0]
        if unfinished:
            return None
        rows = con.execute("SELECT id, slug, name, language, sikt_reference, deletion_deadline "
                           "FROM project").fetchall()
        if len(rows) != 1:
            return None
        pid, slug, name, language, sikt, deadline = rows[0]
        sessions = [
            QuickSession(str(uuid.UUID(str(sid))), title, kind, status,
                         datetime.fromisoformat(starts) if starts else None, bool(pilot),
                         datetime.fromisoformat(planned) if planned else None,
                         str(uuid.UUID(str(rel))) if rel else "")
            for sid, title, kind, status, starts, pilot, planned, rel in con.execute(
                "SELECT id, title, kind, status, starts_at, is_pilot, planned_at, related_session_id FROM session "
                "WHERE project_id = ? ORDER BY coalesce(starts_at, planned_at), created_at", (pid,))
        ]
        return QuickProject(slug, name, language, sikt,
                            date.fromisoformat(deadline) if deadline else None, sessions)
    except (sqlite3.Error, ValueError, TypeError):
        return None
    finally:
        con.close()
