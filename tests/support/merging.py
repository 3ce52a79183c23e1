"""Helpers shared by the merge tests (issue 26): data folders exchanging packs through the
CLI or syncing through a throwaway PostgreSQL, and readers of what every copy stores."""

from __future__ import annotations

import os
import sqlite3
import uuid
from pathlib import Path

from tests.support.builders import snapshot
from tests.support.cli import fk

SLUG = "team-study"


# --------------------------------------------------------------------------- helpers


def db_path(root: Path, slug: str = SLUG) -> Path:
    return root / "projects" / slug / "project.db"


def rows(root: Path, sql: str, *args, slug: str = SLUG) -> list[tuple]:
    con = sqlite3.connect(db_path(root, slug))
    try:
        return con.execute(sql, args).fetchall()
    finally:
        con.close()


def conflicts(root: Path, slug: str = SLUG, *, settled: bool = False) -> dict[str, tuple]:
    """The conflict list as stored: {conflict id: (table, record id, kind, kept, other)}."""
    import json

    where = "" if settled else " WHERE settled_at IS NULL"
    return {r[0]: (r[1], r[2], r[3], json.loads(r[4]), json.loads(r[5]))
            for r in rows(root, "SELECT id, tbl, record_id, kept_side, kept, other FROM syncconflict"
                          + where, slug=slug)}


def full_snapshot(root: Path, slug: str = SLUG) -> dict:
    """Every travelling record including the conflict list (snapshot() leaves it out)."""
    import hashlib

    con = sqlite3.connect(db_path(root, slug))
    out = {}
    for (t,) in con.execute("SELECT name FROM sqlite_master WHERE type='table'"):
        if t in {"alembic_version", "syncpeer", "syncbase", "recordstate", "serveraudio"}:
            continue
        cols = [r[1] for r in con.execute(f"PRAGMA table_info({t})") if r[1] != "updated_at"]
        for row in con.execute(f"SELECT {', '.join(cols)} FROM {t}"):
            d = dict(zip(cols, row))
            out[(t, str(d["id"]))] = hashlib.sha1(repr(sorted(d.items())).encode()).hexdigest()
    con.close()
    return out


def hexid(u: uuid.UUID) -> str:
    return u.hex


def pack_merge(src: Path, dst: Path, tmp: Path, name: str, env: dict | None = None) -> str:
    """src packs (CLI), dst merges (CLI); returns the merge's output."""
    out = tmp / f"{name}.fkpack"
    fk_env(src, env, "project", "pack", SLUG, "-o", str(out))
    return fk_env(dst, env, "project", "merge", str(out)).stdout


def fk_env(root: Path, env: dict | None, *args: str, ok: bool = True):
    if not env:
        return fk(root, *args, ok=ok)
    old = {k: os.environ.get(k) for k in env}
    os.environ.update(env)
    try:
        return fk(root, *args, ok=ok)
    finally:
        for k, v in old.items():
            if v is None:
                os.environ.pop(k, None)
            else:
                os.environ[k] = v


def segments(handle) -> list:
    from sqlmodel import select

    from fieldkit.store.models import TranscriptSegment

    with handle.db.session() as s:
        return list(s.exec(select(TranscriptSegment).order_by(TranscriptSegment.session_id,
                                                              TranscriptSegment.start_ms)).all())


def retranscribe(handle, session_id: uuid.UUID, *, split: bool = False) -> list[uuid.UUID]:
    """What a batch transcription does when it finishes (fieldkit.transcription.service):
    a new run, new segments with new ids, the older segments deleted. Here the "model"
    hears the same words with slightly different timings (``split``: every segment in two)."""
    from sqlmodel import select

    from fieldkit.store.models import RunStatus, TranscriptionRun, TranscriptSegment

    new = []
    with handle.db.transaction() as s:
        run = TranscriptionRun(session_id=session_id, model="tiny", status=RunStatus.done)
        s.add(run)
        s.flush()
        olds = s.exec(select(TranscriptSegment).where(TranscriptSegment.session_id == session_id)).all()
        for o in olds:
            parts = [(o.start_ms + 40, o.end_ms - 30, o.verbatim)]
            words = o.verbatim.split()
            if split and len(words) > 3:
                mid = (o.start_ms + o.end_ms) // 2
                parts = [(o.start_ms + 40, mid, " ".join(words[:len(words) // 2])),
                         (mid, o.end_ms - 30, " ".join(words[len(words) // 2:]))]
            for a, e, text in parts:
                seg = TranscriptSegment(session_id=session_id, run_id=run.id, start_ms=a, end_ms=e,
                                        verbatim=text, speaker_label=o.speaker_label)
                s.add(seg)
                new.append(seg.id)
        for o in olds:
            s.delete(o)
    return new


def hand_edit(handle, seg_id: uuid.UUID, text: str) -> None:
    from fieldkit.sessions.review import edit_segment

    edit_segment(handle, seg_id, text)


def snapshot_of(root: Path) -> dict:
    from fieldkit.projects import Workspace

    with Workspace(root).open(SLUG) as h:
        return snapshot(h)


def opened(ws):
    return ws.open(SLUG)


def url(pg, role):
    return pg.url(role, f"{role}-pw")


def drop_schema(pg, slug) -> None:
    import psycopg

    from fieldkit.team.server import schema_for

    with psycopg.connect(pg.url(), autocommit=True) as conn:
        conn.execute(f'DROP SCHEMA IF EXISTS "{schema_for(slug)}" CASCADE')


def server_snapshot(pg, slug):
    """Every record on the server, hashed like the laptops' (read with psycopg directly)."""

    import psycopg

    from fieldkit.team.server import schema_for

    out = {}
    with psycopg.connect(pg.url()) as conn:
        schema = schema_for(slug)
        tables = [r[0] for r in conn.execute(
            "SELECT table_name FROM information_schema.tables WHERE table_schema = %s", (schema,))]
        for t in tables:
            if t in {"alembic_version", "syncpeer", "syncbase", "syncconflict", "recordstate", "serveraudio"}:
                continue
            cols = [r[0] for r in conn.execute(
                "SELECT column_name FROM information_schema.columns WHERE table_schema=%s AND table_name=%s "
                "ORDER BY ordinal_position", (schema, t)) if r[0] != "updated_at"]
            for row in conn.execute(f'SELECT {", ".join(cols)} FROM "{schema}"."{t}"'):
                d = dict(zip(cols, row))
                out[(t, d["id"].hex)] = d
    return out
