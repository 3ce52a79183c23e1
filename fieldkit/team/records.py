"""Records as plain data: every synced table's rows as JSON-ready dicts with a content hash.

The same SQLModel tables run on SQLite (a laptop) and PostgreSQL (the team server); this
module reads and writes them through SQLAlchemy Core on either. A record is identified by
its UUID alone (UUIDs are unique across tables), its *hash* covers every column except
``updated_at`` so the same edit made twice is not a difference.
"""

from __future__ import annotations

import enum
import hashlib
import json
import uuid
from datetime import date, datetime
from typing import Any, Iterable, Iterator

from sqlalchemy import Table, select
from sqlalchemy.engine import Connection
from sqlmodel import SQLModel

import fieldkit.store.models as m

#: bookkeeping tables that never travel (the conflict list does: every copy keeps it)
LOCAL_ONLY = {"syncpeer", "syncbase", "recordstate", "serveraudio", "alembic_version"}


def synced_tables() -> list[Table]:
    """The tables that travel, parents before children."""
    return [t for t in SQLModel.metadata.sorted_tables if t.name not in LOCAL_ONLY]


def table(name: str) -> Table:
    return SQLModel.metadata.tables[name]


def to_json(value: Any) -> Any:
    if value is None or isinstance(value, (bool, int, float, dict, list)):
        return value
    if isinstance(value, enum.Enum):
        return value.value
    if isinstance(value, (uuid.UUID,)):
        return str(value)
    if isinstance(value, (datetime, date)):
        return value.isoformat()
    if isinstance(value, str):
        return value
    raise TypeError(f"cannot serialise {type(value).__name__}")


def row_dict(row: Any) -> dict[str, Any]:
    return {k: to_json(v) for k, v in row._mapping.items()}


def content_hash(data: dict[str, Any]) -> str:
    body = {k: v for k, v in data.items() if k != "updated_at"}
    raw = json.dumps(body, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    return hashlib.sha256(raw.encode("utf-8")).hexdigest()[:32]


def _from_json(col: Any, value: Any) -> Any:
    if value is None:
        return None
    t = getattr(col.type, "impl", col.type)   # TypeDecorators (UTCDateTime) by their base
    try:
        py = t.python_type
    except NotImplementedError:
        return value
    if py is uuid.UUID:
        return uuid.UUID(value)
    if py is datetime:
        return datetime.fromisoformat(value)
    if py is date:
        return date.fromisoformat(value)
    if isinstance(py, type) and issubclass(py, enum.Enum):
        return py(value)
    return value


def to_db(tbl: Table, data: dict[str, Any]) -> dict[str, Any]:
    """A JSON record back to column values (unknown keys are refused by the caller)."""
    return {c.name: _from_json(c, data.get(c.name)) for c in tbl.columns if c.name in data}


def read_rows(conn: Connection, tbl: Table, where: Any = None,
              ids: Iterable[uuid.UUID] | None = None) -> Iterator[dict[str, Any]]:
    if ids is not None:
        ids = list(ids)
        for i in range(0, len(ids), 500):
            yield from (row_dict(r) for r in conn.execute(select(tbl).where(tbl.c.id.in_(ids[i:i + 500]))))
        return
    stmt = select(tbl) if where is None else select(tbl).where(where)
    for r in conn.execute(stmt):
        yield row_dict(r)


def self_refs(tbl: Table) -> list[str]:
    """Columns pointing at the same table (a session linked to another session)."""
    return [c.name for c in tbl.columns for fk in c.foreign_keys if fk.column.table is tbl]


def upsert(conn: Connection, tbl: Table, rows: list[dict[str, Any]]) -> None:
    """Insert or replace records by id (two passes for links inside the table)."""
    if not rows:
        return
    if conn.dialect.name == "postgresql":
        from sqlalchemy.dialects.postgresql import insert
    else:
        from sqlalchemy.dialects.sqlite import insert
    refs = self_refs(tbl)
    values = [to_db(tbl, r) for r in rows]
    first = [{**v, **{c: None for c in refs}} for v in values] if refs else values
    stmt = insert(tbl)
    cols = [c.name for c in tbl.columns if c.name != "id"]
    stmt = stmt.on_conflict_do_update(index_elements=["id"],
                                      set_={c: stmt.excluded[c] for c in cols})
    for i in range(0, len(first), 1000):
        conn.execute(stmt, first[i:i + 1000])
    if refs:
        from sqlalchemy import bindparam, update

        linked = [v for v in values if any(v.get(c) is not None for c in refs)]
        if linked:
            up = update(tbl).where(tbl.c.id == bindparam("_id")).values(
                {c: bindparam(c) for c in refs})
            conn.execute(up, [{"_id": v["id"], **{c: v.get(c) for c in refs}} for v in linked])


def delete_ids(conn: Connection, tbl: Table, ids: list[uuid.UUID]) -> None:
    for i in range(0, len(ids), 500):
        conn.execute(tbl.delete().where(tbl.c.id.in_(ids[i:i + 500])))


def all_records(conn: Connection) -> dict[uuid.UUID, tuple[str, dict[str, Any]]]:
    out: dict[uuid.UUID, tuple[str, dict[str, Any]]] = {}
    for tbl in synced_tables():
        for d in read_rows(conn, tbl):
            out[uuid.UUID(d["id"])] = (tbl.name, d)
    return out


__all__ = ["LOCAL_ONLY", "synced_tables", "table", "row_dict", "content_hash", "to_db",
           "read_rows", "upsert", "delete_ids", "all_records", "m"]
