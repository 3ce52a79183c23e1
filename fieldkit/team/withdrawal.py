"""A withdrawal on the team server: what keeps a purged informant's data from coming back.

* :func:`withdrawn_on_server`: the informants the team has purged (their tombstones);
  a laptop that still holds one of them purges it before it pushes anything
  (:func:`fieldkit.team.sync.sync_project`).
* :func:`drop_withdrawn`: the push never carries a record of a withdrawn informant, even
  when such rows exist on the laptop (restored from a backup, made while the purge was on
  its way): their informant row, rows pointing at them, sessions whose only participants
  they were and everything in those sessions.
* :func:`purge_server_copies`: after deletions are pushed, the server's own copies of
  what went: shared audio of deleted recording files and conflict copies of deleted
  records; audio a purge silenced is replaced by the silenced file.
* :func:`vacuum_tables`: dead row versions of what a purge touched are vacuumed away.
"""

from __future__ import annotations

import uuid
from typing import Any

from sqlalchemy import exists, not_, select
from sqlalchemy.engine import Connection

from fieldkit.store.models import RecordState, ServerAudio, SyncConflict
from fieldkit.team.records import read_rows, synced_tables, table

Record = tuple[str, dict[str, Any]]


def withdrawn_on_server(sconn: Connection) -> set[uuid.UUID]:
    """Ids of informants deleted on the server (a withdrawal purge deletes the informant)."""
    rs = RecordState.__table__
    return set(sconn.execute(select(rs.c.record_id).where(
        rs.c.tbl == "informant", rs.c.deleted.is_(True))).scalars())


def _informant_cols() -> dict[str, list[str]]:
    return {t.name: [c.name for c in t.columns for fk in c.foreign_keys
                     if fk.column.table.name == "informant"] for t in synced_tables()}


def drop_withdrawn(lconn: Connection, push: dict[uuid.UUID, Record],
                   withdrawn: set[uuid.UUID]) -> set[uuid.UUID]:
    """Remove from ``push`` every record that belongs to a withdrawn informant; returns
    the ids dropped."""
    if not withdrawn or not push:
        return set()
    w = {str(i) for i in withdrawn}
    cols = _informant_cols()
    dropped: set[str] = set()
    for _rid, (tname, d) in push.items():
        if (tname == "informant" and d["id"] in w) or any(d.get(c) in w for c in cols.get(tname, [])):
            dropped.add(d["id"])         # them, their participation, speech and events
    # sessions whose participants are all withdrawn (here or in the push)
    sp = table("sessionparticipant")
    parts: dict[str, set[str]] = {}
    for d in read_rows(lconn, sp):
        parts.setdefault(d["session_id"], set()).add(d["informant_id"])
    for rid, (tname, d) in push.items():
        if tname == "sessionparticipant":
            parts.setdefault(d["session_id"], set()).add(d["informant_id"])
    gone_sessions = {s for s, infs in parts.items() if infs and infs <= w}
    # and everything under a dropped record (children point at their parents)
    fks = {t.name: [(c.name, fk.column.table.name) for c in t.columns for fk in c.foreign_keys
                    if (fk.ondelete or "").upper() == "CASCADE"] for t in synced_tables()}
    dead = dropped | gone_sessions
    changed = True
    while changed:
        changed = False
        for rid, (tname, d) in push.items():
            if d["id"] in dead:
                continue
            if any(d.get(c) in dead for c, _p in fks.get(tname, [])):
                dead.add(d["id"])
                changed = True
    # children of a dropped session that are only on this laptop and reach it through a
    # parent not in the push (a recording file under a recording of that session)
    rec = table("recording")
    recs = {d["id"] for d in read_rows(lconn, rec) if d["session_id"] in dead}
    dead |= recs
    out = set()
    for rid in list(push):
        tname, d = push[rid]
        if d["id"] in dead or any(d.get(c) in dead for c, _p in fks.get(tname, [])):
            del push[rid]
            out.add(rid)
    return out


def withdrawal_deletions(sconn: Connection, deletions: dict[uuid.UUID, str]) -> set[uuid.UUID]:
    """Of the deletions a push carries, those that are part of a withdrawal (read from the
    server's rows before the push removes them): the informants themselves, rows pointing
    at them, sessions they took part in that go whole and everything under those. Other
    deletions in the same push (a segment deleted on its own that met an edit) are not:
    their conflict copies stay on the server."""
    gone = {rid for rid, t in deletions.items() if t == "informant"}
    if not gone:
        return set()
    w = {str(i) for i in gone}
    cols = _informant_cols()
    sessions = [rid for rid, t in deletions.items() if t == "session"]
    sp = table("sessionparticipant")
    whole: set[str] = set()
    for i in range(0, len(sessions), 500):
        whole |= {d["session_id"] for d in read_rows(sconn, sp, where=sp.c.session_id.in_(sessions[i:i + 500]))
                  if d["informant_id"] in w}
    out = {str(i) for i in gone} | whole
    fks = {t.name: [c.name for c in t.columns for fk in c.foreign_keys
                    if (fk.ondelete or "").upper() == "CASCADE"] for t in synced_tables()}
    for tbl in synced_tables():           # parents first: a child of a related row is related
        ids = [rid for rid, t in deletions.items() if t == tbl.name]
        if not ids or tbl.name == "informant":
            continue
        for d in read_rows(sconn, tbl, ids=ids):
            if d["id"] in out or any(d.get(c) in w for c in cols.get(tbl.name, [])) \
                    or any(d.get(c) in out for c in fks.get(tbl.name, [])):
                out.add(d["id"])
    return {uuid.UUID(i) for i in out}


def purge_server_copies(sconn: Connection, deleted: set[uuid.UUID]) -> dict[str, int]:
    """On the server, after deletions were pushed: shared audio whose recording file is
    gone, conflict copies of deleted records. Returns counts."""
    sa = ServerAudio.__table__
    rf = table("recordingfile")
    sc = SyncConflict.__table__
    n_audio = sconn.execute(sa.delete().where(
        not_(exists().where(rf.c.id == sa.c.file_id)))).rowcount
    n_conf = 0
    ids = list(deleted)
    for i in range(0, len(ids), 500):
        n_conf += sconn.execute(sc.delete().where(sc.c.record_id.in_(ids[i:i + 500]))).rowcount
    # copies of other records that point at an informant deleted now (a withdrawal)
    rs = RecordState.__table__
    gone_informants = set(sconn.execute(select(rs.c.record_id).where(
        rs.c.tbl == "informant", rs.c.deleted.is_(True), rs.c.record_id.in_(ids))).scalars()) if ids else set()
    for inf in gone_informants:
        n_conf += sconn.exec_driver_sql(
            "DELETE FROM syncconflict WHERE strpos(kept::text, %(i)s) > 0 OR strpos(other::text, %(i)s) > 0",
            {"i": str(inf)}).rowcount
        # earlier versions kept as merge bases that point at them lose their content
        sconn.exec_driver_sql(
            "UPDATE recordstate SET anc = '[]', data = NULL "
            "WHERE strpos(anc::text, %(i)s) > 0 OR strpos(coalesce(data::text, ''), %(i)s) > 0",
            {"i": str(inf)})
    return {"audio": n_audio or 0, "conflicts": n_conf or 0}


def silenced_file_ids(lconn: Connection) -> set[uuid.UUID]:
    """Recording files a withdrawal purge silenced (listed, as ids only, in its audit)."""
    at = table("auditentry")
    out: set[uuid.UUID] = set()
    for d in read_rows(lconn, at, where=at.c.action == "purge_informant"):
        for fid in (d.get("detail") or {}).get("silenced_files", []):
            try:
                out.add(uuid.UUID(fid))
            except ValueError:
                continue
    return out


#: what a purge touches on the server (vacuumed after a purge is pushed)
PURGE_TABLES = ("informant", "session", "sessionparticipant", "event", "transcriptsegment",
                "recording", "recordingfile", "serveraudio", "syncconflict", "recordstate")


def vacuum_tables(engine, schema: str, tables: tuple[str, ...] = PURGE_TABLES) -> bool:
    """VACUUM the tables a purge touched, outside any transaction. Returns whether the
    login could (PostgreSQL lets a table's owner, a superuser or, from version 17, a
    role with MAINTAIN do it; otherwise the tables' autovacuum settings, set by
    ``fieldkit server init``, clean them within a minute)."""
    ok = True
    with engine.connect() as conn:
        conn = conn.execution_options(isolation_level="AUTOCOMMIT")
        for t in tables:
            allowed = conn.exec_driver_sql(
                "SELECT pg_has_role(current_user, c.relowner, 'USAGE') "
                "OR (SELECT rolsuper FROM pg_roles WHERE rolname = current_user) "
                + ("OR has_table_privilege(c.oid, 'MAINTAIN') "
                   if conn.dialect.server_version_info >= (17,) else "")
                + "FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace "
                "WHERE n.nspname = %(s)s AND c.relname = %(t)s", {"s": schema, "t": t}).scalar()
            if not allowed:
                ok = False
                continue
            conn.exec_driver_sql(f'VACUUM "{schema}"."{t}"')
    return ok
