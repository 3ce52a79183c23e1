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
from dataclasses import dataclass
from typing import Any, Iterable, Iterator

from sqlalchemy import Table, select
from sqlalchemy.engine import Connection
from sqlmodel import SQLModel

import fieldkit.store.models as m
from fieldkit.text import clean_json

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
    """A JSON record back to column values (unknown keys are refused by the caller). Its
    user text is cleaned by fieldkit.text's rule on the way, whichever side it comes
    from (a pack or a server written by an older fieldkit may hold any character). A
    value that does not fit its column (a kind this fieldkit does not know, a date that
    is not one) is a FieldkitError naming the record, not a traceback."""
    text = _text_columns(tbl)
    out = {}
    for c in tbl.columns:
        if c.name not in data:
            continue
        try:
            v = _from_json(c, data.get(c.name))
        except (ValueError, TypeError, AttributeError) as exc:
            from fieldkit.errors import FieldkitError
            from fieldkit.i18n import _

            raise FieldkitError(
                _("The {table} record {id} has {column} = {value!r}, which this fieldkit "
                  "cannot read.").format(table=tbl.name, id=data.get("id"), column=c.name,
                                         value=data.get(c.name)),
                hint=_("It was made by a newer fieldkit, or the file was changed by hand. "
                       "Nothing was changed.")) from exc
        out[c.name] = clean_json(v) if c.name in text else v
    return out


_TEXT_COLS: dict[str, frozenset[str]] = {}


def _text_columns(tbl: Table) -> frozenset[str]:
    cols = _TEXT_COLS.get(tbl.name)
    if cols is None:
        cols = _TEXT_COLS[tbl.name] = frozenset(m.text_columns(tbl))
    return cols


def read_rows(conn: Connection, tbl: Table, where: Any = None,
              ids: Iterable[uuid.UUID] | None = None) -> Iterator[dict[str, Any]]:
    """Rows as JSON-ready dicts; from an encrypted project's team server, opened (see
    :mod:`fieldkit.team.sealing`)."""
    from fieldkit.team.sealing import cipher_of, open_record

    cipher = cipher_of(conn)
    if ids is not None:
        ids = list(ids)
        for i in range(0, len(ids), 500):
            for r in conn.execute(select(tbl).where(tbl.c.id.in_(ids[i:i + 500]))):
                yield open_record(cipher, tbl.name, row_dict(r)) if cipher else row_dict(r)
        return
    stmt = select(tbl) if where is None else select(tbl).where(where)
    for r in conn.execute(stmt):
        yield open_record(cipher, tbl.name, row_dict(r)) if cipher else row_dict(r)


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
    from fieldkit.team.sealing import cipher_of, seal_record

    cipher = cipher_of(conn)
    if cipher is not None:     # an encrypted project's team server: personal fields sealed
        rows = [seal_record(cipher, tbl.name, to_json_row(tbl, r)) for r in rows]
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


def to_json_row(tbl: Table, data: dict[str, Any]) -> dict[str, Any]:
    """Text cleaned by fieldkit.text's rule before a row is sealed (the sealed form is
    what :func:`to_db` would otherwise clean)."""
    text = _text_columns(tbl)
    return {k: (clean_json(v) if k in text and isinstance(v, (str, list, dict)) else v)
            for k, v in data.items()}


@dataclass
class Refusal:
    """A record the other side's database would not take (the rest of the exchange went
    on without it): which record, and the database's reason."""

    tbl: str
    record_id: str
    label: str        # what a researcher knows it by: a code, a title, the start of a text
    reason: str


#: columns that name a record for a researcher, best first
_LABEL_COLS = ("code", "title", "name", "slug", "label", "text", "verbatim", "path")


def record_label(data: dict[str, Any]) -> str:
    for col in _LABEL_COLS:
        v = data.get(col)
        if isinstance(v, str) and v.strip():
            v = " ".join(v.split())
            return v if len(v) <= 40 else v[:39] + "…"
    return ""


def _refusal(exc: Exception) -> bool:
    """Whether the database refused a record for its content (a constraint, a value it
    cannot hold, a check of the team's own: PostgreSQL's SQLSTATE classes 22, 23 and P0),
    rather than failing as a whole (a lost connection, a locked file, missing rights),
    which stops the exchange as before."""
    from sqlalchemy.exc import DataError, IntegrityError

    if isinstance(exc, (IntegrityError, DataError)):
        return True
    state = getattr(getattr(exc, "orig", None), "sqlstate", None) or ""
    return state[:2] in ("22", "23", "P0")


def upsert_each(conn: Connection, tbl: Table, rows: list[dict[str, Any]]) -> list[Refusal]:
    """:func:`upsert` in a savepoint; if the database refuses the batch, record by record,
    so that one refused record (a constraint, a value the server cannot hold) is named and
    left out while every other one is written. Returns the refused records."""
    if not rows:
        return []
    from sqlalchemy.exc import DBAPIError

    try:
        with conn.begin_nested():
            upsert(conn, tbl, rows)
        return []
    except DBAPIError as exc:
        if not _refusal(exc):
            raise
    refused = []
    for r in rows:
        try:
            with conn.begin_nested():
                upsert(conn, tbl, [r])
        except DBAPIError as exc:
            if not _refusal(exc):
                raise
            reason = (str(getattr(exc, "orig", exc)).strip().splitlines() or [type(exc).__name__])[0]
            refused.append(Refusal(tbl.name, str(r.get("id")), record_label(r), reason))
    return refused


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
           "read_rows", "upsert", "upsert_each", "Refusal", "record_label", "delete_ids", "all_records", "m"]
