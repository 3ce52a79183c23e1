"""Bringing another side's records into a laptop's project database.

Used by ``fieldkit project merge`` (the other side is a pack) and ``fieldkit sync`` (the
other side is the team server). Records match by UUID. For each record the *base* is the
version both sides last agreed on (:class:`~fieldkit.store.models.SyncBase`, plus what the
other side says it last agreed with us); then:

* same content on both sides: nothing to do;
* only the other side changed it since the base: take theirs;
* only this side changed it: keep ours (the server gets it at push);
* both changed it: the later change (``updated_at``) is kept and the other version goes
  into the conflict list (:class:`~fieldkit.store.models.SyncConflict`) to be settled;
* deleted on one side: deleted on both (a withdrawal purge must reach every laptop;
  the deleted content is not kept as a conflict).

Informant codes that the other side uses for a *different* person (another UUID) are
never joined silently: :func:`informant_clashes` finds them and the caller asks.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.engine import Connection

from fieldkit.store.models import Informant, SyncBase, SyncConflict, utcnow
from fieldkit.team.records import Refusal, content_hash, delete_ids, read_rows, synced_tables, table, upsert_each
from fieldkit.i18n import _

Record = tuple[str, dict[str, Any]]


@dataclass
class Clash:
    code: str
    local_id: uuid.UUID
    incoming_id: uuid.UUID
    local: dict[str, Any]
    incoming: dict[str, Any]

    def describe(self) -> str:
        def who(d: dict[str, Any]) -> str:
            bits = [d.get("role") or "", d.get("organisation") or "", d.get("site") or ""]
            return ", ".join(b for b in bits if b) or _("no role given")

        return _("Informant code {code} is used for two different people: here "
                 "({here}) and in the incoming records ({incoming}).").format(
                     code=self.code, here=who(self.local), incoming=who(self.incoming))


@dataclass
class Outcome:
    inserted: int = 0
    updated: int = 0
    deleted: int = 0
    conflicts: int = 0
    unchanged: int = 0
    kept_local: int = 0
    purged_informants: list[str] = field(default_factory=list)
    #: ids whose local version must go to the other side (sync pushes them)
    push_ids: set[uuid.UUID] = field(default_factory=set)
    #: incoming records this database would not take (left out; tried again next time)
    refused: list[Refusal] = field(default_factory=list)

    @property
    def changes(self) -> int:
        return self.inserted + self.updated + self.deleted + self.conflicts

    def summary(self) -> str:
        return _("{inserted} new, {updated} updated, {deleted} deleted, "
                 "{conflicts} conflicts, {unchanged} unchanged").format(
                     inserted=self.inserted, updated=self.updated, deleted=self.deleted,
                     conflicts=self.conflicts, unchanged=self.unchanged)


def _when(d: dict[str, Any]) -> datetime:
    try:
        return datetime.fromisoformat(d.get("updated_at") or "")
    except ValueError:
        return datetime.min.replace(tzinfo=utcnow().tzinfo)


def known_bases(conn: Connection, peer: str, ids: list[uuid.UUID]) -> tuple[dict[uuid.UUID, str], set[uuid.UUID]]:
    """For ``ids``: (this peer's base hashes, the ids any exchange has seen)."""
    mine: dict[uuid.UUID, str] = {}
    seen: set[uuid.UUID] = set()
    sb = SyncBase.__table__
    for i in range(0, len(ids), 500):
        for p, rid, h in conn.execute(select(sb.c.peer, sb.c.record_id, sb.c.hash)
                                      .where(sb.c.record_id.in_(ids[i:i + 500]))):
            seen.add(rid)
            if p == peer:
                mine[rid] = h
    return mine, seen


def informant_clashes(conn: Connection, incoming: dict[uuid.UUID, Record],
                      aliases: dict[str, str] | None = None) -> list[Clash]:
    inf = Informant.__table__
    by_code = {d["code"]: d for d in read_rows(conn, inf)}
    aliases = aliases or {}
    out = []
    for rid, (tbl, d) in incoming.items():
        if tbl != "informant" or str(rid) in aliases:
            continue
        local = by_code.get(d.get("code"))
        if local is not None and local["id"] != d["id"]:
            out.append(Clash(d["code"], uuid.UUID(local["id"]), rid, local, d))
    return out


def remap_informants(incoming: dict[uuid.UUID, Record], mapping: dict[uuid.UUID, uuid.UUID]) -> None:
    """The incoming informant ids in ``mapping`` are the same people as local ones: point
    their references at the local ids and drop the incoming informant rows."""
    if not mapping:
        return
    refcols: dict[str, list[str]] = {}
    for t in synced_tables():
        refcols[t.name] = [c.name for c in t.columns for fk in c.foreign_keys
                           if fk.column.table.name == "informant"]
    smap = {str(k): str(v) for k, v in mapping.items()}
    for rid in list(incoming):
        tbl, d = incoming[rid]
        if tbl == "informant" and rid in mapping:
            del incoming[rid]
            continue
        for c in refcols.get(tbl, []):
            if d.get(c) in smap:
                d[c] = smap[d[c]]


def reconcile(conn: Connection, peer: str, incoming: dict[uuid.UUID, Record],
              deleted: dict[uuid.UUID, str], *, hints: dict[uuid.UUID, set[str]] | None = None,
              author_id: uuid.UUID | None = None) -> Outcome:
    """Apply the other side's records to this database on ``conn`` (in the caller's
    transaction). ``deleted``: ids the other side deleted. Returns what changed."""
    hints = hints or {}
    out = Outcome()
    base, seen = known_bases(conn, peer, list(incoming))
    by_table: dict[str, list[uuid.UUID]] = {}
    for rid, (tbl, _d) in incoming.items():
        by_table.setdefault(tbl, []).append(rid)
    local: dict[uuid.UUID, dict[str, Any]] = {}
    for tbl, ids in by_table.items():
        for d in read_rows(conn, table(tbl), ids=ids):
            local[uuid.UUID(d["id"])] = d

    to_write: dict[uuid.UUID, Record] = {}
    written_as: dict[uuid.UUID, str] = {}
    base_set: dict[uuid.UUID, tuple[str, str]] = {}
    conflicts: list[dict[str, Any]] = []
    for rid, (tbl, d) in incoming.items():
        h = content_hash(d)
        mine = local.get(rid)
        if mine is None:
            if rid in seen:          # we had it and deleted it here: the deletion wins
                out.kept_local += 1
                continue
            to_write[rid] = (tbl, d)
            out.inserted += 1
            written_as[rid] = "inserted"
            base_set[rid] = (tbl, h)
            continue
        lh = content_hash(mine)
        if lh == h:
            out.unchanged += 1
            if base.get(rid) != h:
                base_set[rid] = (tbl, h)
            continue
        bases = {base.get(rid)} | hints.get(rid, set())
        if lh in bases:
            to_write[rid] = (tbl, d)
            out.updated += 1
            written_as[rid] = "updated"
            base_set[rid] = (tbl, h)
        elif h in bases:
            out.kept_local += 1
            out.push_ids.add(rid)
        else:
            out.conflicts += 1
            theirs_later = _when(d) > _when(mine)
            kept, other = (d, mine) if theirs_later else (mine, d)
            conflicts.append({"tbl": tbl, "record_id": rid, "peer": peer,
                              "kept_side": "remote" if theirs_later else "local",
                              "kept": kept, "other": other})
            if theirs_later:
                to_write[rid] = (tbl, d)
                written_as[rid] = "conflict"
                base_set[rid] = (tbl, h)
            else:
                out.push_ids.add(rid)
                base_set[rid] = (tbl, h)   # we have seen their version: no second conflict

    # deletions that arrive: children first (the database cascades the rest)
    gone: set[uuid.UUID] = set()
    present_deleted: dict[str, list[uuid.UUID]] = {}
    for rid, tbl in deleted.items():
        present_deleted.setdefault(tbl, []).append(rid)
        gone.add(rid)
    for tbl in reversed(synced_tables()):
        ids = present_deleted.get(tbl.name, [])
        if ids:
            existing = [uuid.UUID(d["id"]) for d in read_rows(conn, tbl, ids=ids)]
            if existing:
                delete_ids(conn, tbl, existing)
                out.deleted += len(existing)
    # rows pointing at something deleted here or there: cascade or unlink, as the schema says
    _fix_references(conn, to_write, gone)

    for tbl in synced_tables():
        rows = [d for rid, (t, d) in to_write.items() if t == tbl.name]
        # a record this database refuses is named and left out; the others are written
        for r in upsert_each(conn, tbl, rows):
            rid = uuid.UUID(r.record_id)
            out.refused.append(r)
            base_set.pop(rid, None)      # not agreed: the next exchange tries it again
            kind = written_as.get(rid)
            if kind == "inserted":
                out.inserted -= 1
            elif kind == "updated":
                out.updated -= 1
            elif kind == "conflict":
                out.conflicts -= 1
                conflicts[:] = [c for c in conflicts if c["record_id"] != rid]
    sb = SyncBase.__table__
    if deleted:
        ids = list(deleted)
        for i in range(0, len(ids), 500):
            conn.execute(sb.delete().where(sb.c.record_id.in_(ids[i:i + 500])))
    if base_set:
        set_base(conn, peer, base_set)
    if conflicts:
        sc = SyncConflict.__table__
        now = utcnow()
        conn.execute(sc.insert(), [{**c, "id": uuid.uuid4(), "created_at": now, "updated_at": now,
                                    "created_by": author_id, "settled_with": ""} for c in conflicts])
    return out


def set_base(conn: Connection, peer: str, items: dict[uuid.UUID, tuple[str, str]]) -> None:
    sb = SyncBase.__table__
    if conn.dialect.name == "postgresql":
        from sqlalchemy.dialects.postgresql import insert
    else:
        from sqlalchemy.dialects.sqlite import insert
    stmt = insert(sb)
    stmt = stmt.on_conflict_do_update(index_elements=["peer", "record_id"],
                                      set_={"hash": stmt.excluded.hash, "tbl": stmt.excluded.tbl})
    rows = [{"peer": peer, "record_id": rid, "tbl": t, "hash": h} for rid, (t, h) in items.items()]
    for i in range(0, len(rows), 2000):
        conn.execute(stmt, rows[i:i + 2000])


def _fix_references(conn: Connection, to_write: dict[uuid.UUID, Record], gone: set[uuid.UUID]) -> None:
    """Incoming rows whose parent exists on neither side (deleted here, or purged there):
    drop them where the schema cascades (ON DELETE CASCADE), unlink them where it says
    SET NULL."""
    if not to_write:
        return
    wanted: dict[str, set[str]] = {}
    plan = []
    for tbl in synced_tables():
        fks = [(c.name, fk) for c in tbl.columns for fk in c.foreign_keys]
        if fks:
            plan.append((tbl, fks))
        for _rid, (t, d) in to_write.items():
            if t == tbl.name:
                for col, fk in fks:
                    if d.get(col) is not None:
                        wanted.setdefault(fk.column.table.name, set()).add(d[col])
    exists: set[str] = set()
    for tname, ids in wanted.items():
        tb = table(tname)
        idl = [uuid.UUID(i) for i in ids if uuid.UUID(i) not in gone]
        for i in range(0, len(idl), 500):
            exists |= {str(r[0]) for r in conn.execute(select(tb.c.id).where(tb.c.id.in_(idl[i:i + 500])))}
    alive = exists | {str(rid) for rid in to_write}
    for tbl, fks in plan:
        for rid, (t, d) in list(to_write.items()):
            if t != tbl.name:
                continue
            for col, fk in fks:
                ref = d.get(col)
                if ref is None or ref in alive:
                    continue
                if (fk.ondelete or "").upper() == "SET NULL":
                    d[col] = None
                else:
                    del to_write[rid]
                    alive.discard(str(rid))
                    break
