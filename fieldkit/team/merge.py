"""Merging versions of records: one implementation for ``fieldkit project merge`` (the other
side is a pack) and ``fieldkit sync`` (the other side is the team server).

The model is CouchDB's, with version vectors instead of revision trees:

* Every record has a *version* (:class:`Version`, stored in ``recordstate`` on every
  laptop and on the server): a version vector ``vv`` ({copy id: how many changes that
  copy made to the record}), its content, and a few earlier versions (``anc``).
  A deletion is a version too (a tombstone: ``deleted``, no content).
* A laptop notices its own changes when it next packs or syncs (:func:`stamp`): a record
  whose content differs from its version gets a new one (its own counter + 1).
* Two versions of a record: if one's vector covers the other's, it already contains that
  change and wins outright (an older pack merged after a newer one changes nothing;
  merging twice changes nothing). Otherwise they are *concurrent* and are merged field by
  field against their common base (the latest earlier version both carry): a field only
  one side changed takes that change; a field both changed differently is a conflict.
* A conflict has the same winner on every copy, chosen without clocks: the version with
  more changes in its vector, then the larger content hash (a laptop whose clock is an
  hour fast does not win every conflict). Some fields are *sticky* and win whatever the
  order: a withdrawal (``informant.withdrawn_on``), a "no" to recording
  (``sessionparticipant.recording_consent``), a hand edit of a transcript segment over
  no edit, a settled conflict.
* The losing values are kept as a conflict record (``syncconflict``), itself a record
  that travels: every copy lists it, either side can settle it, and settling travels.
  Its id is derived from the two versions, so two copies finding the same conflict make
  the same record.
* A deletion that meets a change it never saw deletes (the record's content set aside as
  a conflict), except where the deletion is part of a bigger one (its parent is deleted,
  or an informant's withdrawal purge): then nothing is kept. A hand-edited transcript
  segment deleted by a re-transcription gets its edit carried onto the new segment
  whose words match (time overlap and word alignment); if none fits it stays a conflict.

Informant codes that the other side uses for a *different* person (another UUID) are
never joined silently: :func:`informant_clashes` finds them and the caller asks.
"""

from __future__ import annotations

import difflib
import functools
import json
import re
import uuid
from dataclasses import dataclass, field, replace
from typing import Any, Callable, Iterable

from sqlalchemy import and_, exists, not_, or_, select
from sqlalchemy.engine import Connection

from fieldkit.store.models import Informant, RecordState, SyncBase, utcnow
from fieldkit.team.records import Refusal, content_hash, delete_ids, read_rows, synced_tables, table, upsert_each
from fieldkit.i18n import _, ngettext

Record = tuple[str, dict[str, Any]]

#: earlier versions a version carries (the bases of later three-way merges)
ANCESTORS = 3
#: the copy id of changes derived by merging itself (an edit carried onto a new segment)
MERGE_COPY = "merge"
#: deletions that never leave a copy of the record in the conflict list (a withdrawal)
PURGE_TABLES = {"informant"}
CONFLICT_TABLE = "syncconflict"
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
        return _("{inserted}, {updated}, {deleted}, {conflicts}, {unchanged}").format(
            inserted=ngettext("{n} new", "{n} new", self.inserted).format(n=self.inserted),
            updated=ngettext("{n} updated", "{n} updated", self.updated).format(n=self.updated),
            deleted=ngettext("{n} deleted", "{n} deleted", self.deleted).format(n=self.deleted),
            conflicts=ngettext("{n} conflict", "{n} conflicts", self.conflicts).format(n=self.conflicts),
            unchanged=ngettext("{n} unchanged", "{n} unchanged", self.unchanged).format(n=self.unchanged))


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


# --------------------------------------------------------------------------- versions


def vv_le(a: dict[str, int], b: dict[str, int]) -> bool:
    """Every change in ``a`` is in ``b``."""
    return all(n <= b.get(k, 0) for k, n in a.items())


def vv_max(*vvs: dict[str, int]) -> dict[str, int]:
    out: dict[str, int] = {}
    for v in vvs:
        for k, n in v.items():
            if n > out.get(k, 0):
                out[k] = n
    return out


def vv_key(vv: dict[str, int]) -> str:
    """A vector's canonical text (in conflict ids: the same on every copy and version)."""
    return _vv_key(tuple(sorted(vv.items())))


@functools.lru_cache(maxsize=1 << 16)
def _vv_key(items: tuple) -> str:
    return json.dumps(dict(items), sort_keys=True, separators=(",", ":"))


@dataclass
class Version:
    tbl: str
    id: uuid.UUID
    vv: dict[str, int]
    deleted: bool = False
    data: dict[str, Any] | None = None
    anc: list[dict[str, Any]] = field(default_factory=list)
    hash: str = ""

    def rank(self) -> tuple:
        """The order that picks a conflict's winner on every copy (no clocks in it)."""
        return (sum(self.vv.values()), not self.deleted, self.hash, vv_key(self.vv))

    def same(self, other: "Version | None") -> bool:
        return (other is not None and self.vv == other.vv
                and self.deleted == other.deleted and self.hash == other.hash)

    def entry(self) -> dict[str, Any]:
        e: dict[str, Any] = {"vv": self.vv, "h": self.hash}
        if not self.deleted and self.data is not None:
            e["d"] = self.data
        return e


def live(tbl: str, data: dict[str, Any], vv: dict[str, int], anc: list | None = None) -> Version:
    return Version(tbl, uuid.UUID(str(data["id"])), dict(vv), False, data, list(anc or []),
                   content_hash(data))


def tombstone(v: Version, vv: dict[str, int], anc: list | None = None) -> Version:
    """A deletion of ``v``: earlier versions keep only their vectors (no content survives
    a deletion, so a withdrawal leaves nothing behind in the versions either)."""
    a = anc if anc is not None else [v.entry()] + v.anc
    return Version(v.tbl, v.id, dict(vv), True, None, [_strip(e) for e in a][:ANCESTORS], "")


def _strip(e: dict[str, Any]) -> dict[str, Any]:
    return {"vv": e["vv"], "h": e.get("h", "")}


def _ancestors(result_vv: dict[str, int], *vs: Version) -> list[dict[str, Any]]:
    seen: dict[tuple, dict[str, Any]] = {}
    for v in vs:
        for e in [v.entry()] + list(v.anc):
            k = (vv_key(e["vv"]), e.get("h", ""))
            if vv_key(e["vv"]) == vv_key(result_vv):
                continue
            if k not in seen or ("d" in e and "d" not in seen[k]):
                seen[k] = e
    out = sorted(seen.values(), key=lambda e: (sum(e["vv"].values()), e.get("h", ""), vv_key(e["vv"])),
                 reverse=True)
    return out[:ANCESTORS]


def common_base(a: Version, b: Version) -> dict[str, Any] | None:
    """The content of the latest version both ``a`` and ``b`` descend from (known to
    either), or None."""
    best = None
    for v in (a, b):
        for e in [v.entry()] + list(v.anc):
            if "d" not in e or not (vv_le(e["vv"], a.vv) and vv_le(e["vv"], b.vv)):
                continue
            if vv_key(e["vv"]) in (vv_key(a.vv), vv_key(b.vv)) and a.hash != b.hash:
                continue
            k = (sum(e["vv"].values()), e.get("h", ""), vv_key(e["vv"]))
            if best is None or k > best[0]:
                best = (k, e["d"])
    return best[1] if best else None


def _sticky(tbl: str, col: str, win: Any, lose: Any) -> Any:
    """Which of two values a field conflict keeps (``win`` unless a rule says otherwise)."""
    if tbl == "informant" and col == "withdrawn_on":
        if win is None or lose is None:
            return win if lose is None else lose       # a withdrawal is never lost
        return min(win, lose)
    if tbl == "sessionparticipant" and col == "recording_consent":
        if False in (win, lose):
            return False                                # a "no" to recording stays
    if tbl == "transcriptsegment" and col == "edited" and win is None:
        return lose                                     # a hand edit over none
    if tbl == CONFLICT_TABLE and col in ("settled_at", "settled_with"):
        if not win and lose:
            return lose                                 # settled stays settled
        if win and lose and col == "settled_at":
            return min(win, lose)
    return win


@dataclass
class Merged:
    version: Version
    #: field conflicts: {column: (kept value, set-aside value)}
    lost: dict[str, tuple[Any, Any]] = field(default_factory=dict)
    #: a deletion met a change it had not seen: the changed version set aside
    deleted_edit: Version | None = None
    #: a whole version set aside (two different versions with the same vector)
    loser: Version | None = None


def merge_versions(a: Version | None, b: Version | None) -> Merged:
    """The one merge of two versions of a record. Symmetric: merge(a, b) and merge(b, a)
    give the same version, so every copy ends with the same."""
    if a is None or b is None:
        return Merged(a or b)  # type: ignore[arg-type]
    if a.vv == b.vv:
        if a.same(b):
            return Merged(a)
        win, lose = (a, b) if a.rank() > b.rank() else (b, a)
        return Merged(win, loser=None if lose.deleted or win.deleted else lose,
                      deleted_edit=lose if win.deleted and not lose.deleted else None)
    if vv_le(b.vv, a.vv):
        return Merged(a)
    if vv_le(a.vv, b.vv):
        return Merged(b)
    vv = vv_max(a.vv, b.vv)
    anc = _ancestors(vv, a, b)
    if a.deleted and b.deleted:
        return Merged(tombstone(a, vv, anc))
    if a.deleted or b.deleted:
        dead, alive = (a, b) if a.deleted else (b, a)
        return Merged(tombstone(dead, vv, anc), deleted_edit=alive)
    base = common_base(a, b)
    win, lose = (a, b) if a.rank() > b.rank() else (b, a)
    out: dict[str, Any] = {}
    lost: dict[str, tuple[Any, Any]] = {}
    assert a.data is not None and b.data is not None
    for col in sorted(set(a.data) | set(b.data)):
        av, bv = a.data.get(col), b.data.get(col)
        if col == "updated_at":
            out[col] = max(av or "", bv or "") or None
            continue
        if av == bv:
            out[col] = av
            continue
        if base is not None and col in base:
            if av == base[col]:
                out[col] = bv
                continue
            if bv == base[col]:
                out[col] = av
                continue
        wv, lv = win.data.get(col), lose.data.get(col)  # type: ignore[union-attr]
        keep = _sticky(a.tbl, col, wv, lv)
        out[col] = keep
        if a.tbl != CONFLICT_TABLE:
            lost[col] = (keep, lv if keep == wv else wv)
    return Merged(live(a.tbl, out, vv, anc), lost=lost)


# --------------------------------------------------------------------------- stamping


def copy_id(conn: Connection) -> str:
    """This copy's key in version vectors (short: it is in every record's vector)."""
    from fieldkit.team.state import laptop_id

    return laptop_id(conn).removeprefix("laptop-").replace("-", "")[:12]


def _upsert_states(conn: Connection, rows: list[dict[str, Any]]) -> None:
    if not rows:
        return
    from fieldkit.team.sealing import cipher_of, seal_state

    cipher = cipher_of(conn)
    if cipher is not None:      # an encrypted project's team server
        rows = [seal_state(cipher, r) for r in rows]
    rs = RecordState.__table__
    if conn.dialect.name == "postgresql":
        from sqlalchemy.dialects.postgresql import insert
    else:
        from sqlalchemy.dialects.sqlite import insert
    stmt = insert(rs)
    cols = [c.name for c in rs.columns if c.name != "record_id"]
    stmt = stmt.on_conflict_do_update(index_elements=["record_id"],
                                      set_={c: stmt.excluded[c] for c in cols if c in rows[0]})
    for i in range(0, len(rows), 1000):
        conn.execute(stmt, rows[i:i + 1000])


def state_row(v: Version, seq: int, *, keep_data: bool, by: str = "") -> dict[str, Any]:
    return {"record_id": v.id, "tbl": v.tbl, "hash": v.hash, "seq": seq, "deleted": v.deleted,
            "by": by, "vv": v.vv, "anc": v.anc, "data": v.data if keep_data else None}


def stamp(conn: Connection, *, persist: bool = True) -> dict[uuid.UUID, Version]:
    """Give this laptop's changes since the last stamp their new versions (in the
    caller's transaction); returns them. ``persist=False``: only work them out (a sync
    writes them with the rest of its changes, see :func:`save_stamp`; worked out again,
    they come out the same). A changed record gets this copy's counter
    + 1 and remembers the version it came from; a record that is gone becomes a
    tombstone. Only records with ``updated_at`` after the last stamp, or without a
    version, are read (each confirmed by its content hash)."""
    from fieldkit.team.state import get_peer, laptop_id

    me = copy_id(conn)
    laptop_id(conn)
    mark = (get_peer(conn, "self") or {}).get("mark")
    start = utcnow()
    rs = RecordState.__table__
    sb = SyncBase.__table__
    new: list[dict[str, Any]] = []
    from sqlalchemy import func

    n_live = dict(conn.execute(select(rs.c.tbl, func.count()).where(rs.c.deleted.is_(False))
                               .group_by(rs.c.tbl)).all())
    for tbl in synced_tables():
        unversioned = not_(exists().where(rs.c.record_id == tbl.c.id))
        n_rows = conn.execute(select(func.count()).select_from(tbl)).scalar() or 0
        n_new = conn.execute(select(func.count()).select_from(tbl).where(unversioned)).scalar() or 0
        # deletions: a live version whose record is gone (looked for only when the counts
        # say there is one)
        gone = []
        if n_live.get(tbl.name, 0) > n_rows - n_new:
            gone = [dict(r._mapping) for r in conn.execute(select(rs).where(
                rs.c.tbl == tbl.name, rs.c.deleted.is_(False),
                not_(exists().where(tbl.c.id == rs.c.record_id))))]
        for st in gone:
            v = _from_state(st, st.get("data"))
            vv = dict(v.vv)
            vv[me] = vv.get(me, 0) + 1
            new.append(state_row(tombstone(v, vv), 0, keep_data=True))
        conds = [unversioned] if n_new else []
        if mark is not None:
            conds.append(tbl.c.updated_at > mark)
        if not conds:
            continue
        cands = list(read_rows(conn, tbl, where=or_(*conds)))
        if not cands:
            continue
        ids = [uuid.UUID(d["id"]) for d in cands]
        states: dict[uuid.UUID, dict[str, Any]] = {}
        agreed: set[tuple[uuid.UUID, str]] = set()
        for i in range(0, len(ids), 500):
            chunk = ids[i:i + 500]
            for r in conn.execute(select(rs).where(rs.c.record_id.in_(chunk))):
                states[r.record_id] = dict(r._mapping)
            agreed |= {(r[0], r[1]) for r in conn.execute(
                select(sb.c.record_id, sb.c.hash).where(sb.c.record_id.in_(chunk)))}
        for rid, d in zip(ids, cands):
            h = content_hash(d)
            st = states.get(rid)
            if st is None:
                # first version; a record agreed with someone before versions existed
                # starts from the shared empty vector, so both copies agree on it
                vv = {} if (rid, h) in agreed else {me: 1}
                new.append(state_row(live(tbl.name, d, vv), 0, keep_data=True))
                continue
            if not st["deleted"] and st["hash"] == h:
                continue
            prev = _from_state(st, st.get("data"))
            vv = dict(prev.vv)
            vv[me] = vv.get(me, 0) + 1
            anc = ([prev.entry()] + prev.anc)[:ANCESTORS]
            new.append(state_row(live(tbl.name, d, vv, anc), 0, keep_data=True))
    versions = {r["record_id"]: _from_state(r, r["data"]) for r in new}
    from datetime import timedelta

    stamped = Stamped(versions, start - timedelta(seconds=2))
    if persist:
        save_stamp(conn, stamped)
    return stamped


class Stamped(dict):
    """New versions from :func:`stamp` (by id), with the time to read changes from next."""

    def __init__(self, versions: dict[uuid.UUID, Version], mark: Any) -> None:
        super().__init__(versions)
        self.mark = mark


def save_stamp(conn: Connection, stamped: "Stamped") -> None:
    from fieldkit.team.state import put_peer

    _upsert_states(conn, [state_row(v, 0, keep_data=True) for v in stamped.values()])
    put_peer(conn, "self", mark=stamped.mark)


def _from_state(st: dict[str, Any], data: dict[str, Any] | None) -> Version:
    return Version(st["tbl"], uuid.UUID(str(st["record_id"])), dict(st.get("vv") or {}),
                   bool(st["deleted"]), None if st["deleted"] else data,
                   list(st.get("anc") or []), st.get("hash") or "")


def load_versions(conn: Connection, ids: Iterable[uuid.UUID],
                  tbl_hint: dict[uuid.UUID, str] | None = None,
                  overlay: dict[uuid.UUID, Version] | None = None,
                  lazy: bool = False) -> dict[uuid.UUID, Version]:
    """The versions of ``ids`` on this side (laptop or server): the record's current
    content with its version. A record without a version (made before versions
    existed) has the empty vector; a version whose record is gone is a deletion."""
    from fieldkit.team.sealing import cipher_of, open_state

    rs = RecordState.__table__
    cols = [c for c in rs.c if c.name != "data"]    # the record itself holds the content
    idl = list(dict.fromkeys(ids))
    states: dict[uuid.UUID, dict[str, Any]] = {}
    cipher = cipher_of(conn)
    for i in range(0, len(idl), 500):
        for r in conn.execute(select(*cols).where(rs.c.record_id.in_(idl[i:i + 500]))):
            states[r.record_id] = open_state(cipher, dict(r._mapping)) if cipher else dict(r._mapping)
    by_table: dict[str, list[uuid.UUID]] = {}
    for rid in idl:
        t = states[rid]["tbl"] if rid in states else (tbl_hint or {}).get(rid)
        if t:
            by_table.setdefault(t, []).append(rid)
    out: dict[uuid.UUID, Version] = {}
    for t, tids in by_table.items():
        if lazy:      # versions only (after a stamp they describe the records)
            out.update({rid: _from_state(states[rid], None) for rid in tids if rid in states})
            continue
        rows = {uuid.UUID(d["id"]): d for d in read_rows(conn, table(t), ids=tids)}
        for rid in tids:
            st = states.get(rid)
            d = rows.get(rid)
            if st is None:
                if d is not None:
                    out[rid] = live(t, d, {})
                continue
            if d is None:
                v = _from_state(st, st.get("data"))
                out[rid] = v if v.deleted else tombstone(v, v.vv)
                continue
            v = _from_state(st, d)
            if st["deleted"] or st["hash"] != content_hash(d):
                # changed here since its version (not stamped: the server's rows are
                # only written with their versions, so this is a laptop mid-edit)
                v = replace(v, deleted=False, data=d, hash=content_hash(d))
            out[rid] = v
    for rid in idl:
        if overlay and rid in overlay:
            out[rid] = overlay[rid]
    return out


# --------------------------------------------------------------------------- merging sets


@dataclass
class Plan:
    """The merged version of every record either side had to offer."""
    results: dict[uuid.UUID, Version] = field(default_factory=dict)
    #: conflict records found in this merge (also in ``results``)
    conflicts: list[uuid.UUID] = field(default_factory=list)
    fetch_theirs: Any = None
    conn: Any = None
    overlay: Any = None

    def add_conflict(self, cv: Version) -> None:
        """A conflict found here: the record of it unless a copy already holds one
        (perhaps settled)."""
        known = [v for v in (load_versions(self.conn, [cv.id], overlay=self.overlay).get(cv.id),
                             self.fetch_theirs([cv.id]).get(cv.id), self.results.get(cv.id))
                 if v is not None]
        v = cv
        for k in known:
            v = merge_versions(v, k).version
        self.results[cv.id] = v
        if cv.id not in self.conflicts:
            self.conflicts.append(cv.id)


def _conflict_version(rid: uuid.UUID, tbl: str, a: Version, b: Version, kept: dict[str, Any],
                      other: dict[str, Any], kind: str, settled: str = "") -> Version:
    pair = sorted([vv_key(a.vv) + a.hash, vv_key(b.vv) + b.hash])
    cid = uuid.uuid5(uuid.NAMESPACE_URL, f"fieldkit-conflict:{rid}:{pair[0]}:{pair[1]}")
    when = max((a.data or {}).get("updated_at") or "", (b.data or {}).get("updated_at") or "",
               (kept or {}).get("updated_at") or "", (other or {}).get("updated_at") or "") \
        or utcnow().isoformat()
    d = {"id": str(cid), "created_at": when, "updated_at": when, "created_by": None,
         "tbl": tbl, "record_id": str(rid), "peer": "", "kept_side": kind,
         "kept": kept, "other": other, "settled_at": when if settled else None,
         "settled_with": settled}
    return live(CONFLICT_TABLE, d, {})


def _parents(tbl: str) -> list[tuple[str, str]]:
    t = table(tbl)
    return [(c.name, fk.column.table.name) for c in t.columns for fk in c.foreign_keys
            if (fk.ondelete or "").upper() == "CASCADE"]


def merge_all(conn: Connection, mine: dict[uuid.UUID, Version],
              theirs: dict[uuid.UUID, Version],
              fetch_theirs: Callable[[list[uuid.UUID]], dict[uuid.UUID, Version]] | None = None,
              overlay: dict[uuid.UUID, Version] | None = None) -> Plan:
    """Merge two sides' versions of a set of records (``conn``: this laptop's database,
    read for what a re-transcription left in place; ``fetch_theirs``: more of the other
    side's versions, for conflicts it may hold already)."""
    plan = Plan(conn=conn, overlay=overlay or {})
    plan.fetch_theirs = fetch_theirs or (lambda ids: {k: theirs[k] for k in ids if k in theirs})
    pending: list[tuple[Version, Version]] = []   # (the deletion, the change it did not see)
    pairs: dict[uuid.UUID, tuple[Version | None, Version | None]] = {}
    for rid in sorted(set(mine) | set(theirs)):
        a, b = mine.get(rid), theirs.get(rid)
        pairs[rid] = (a, b)
        m = merge_versions(a, b)
        plan.results[rid] = m.version
        if m.lost:
            kept = m.version.data or {}
            other = {**kept, **{c: v[1] for c, v in m.lost.items()}}
            plan.add_conflict(_conflict_version(rid, m.version.tbl, a, b, kept, other,  # type: ignore[arg-type]
                                                "merged"))
        elif m.loser is not None:
            plan.add_conflict(_conflict_version(rid, m.version.tbl, a, b,  # type: ignore[arg-type]
                                                m.version.data or {}, m.loser.data or {}, "merged"))
        if m.deleted_edit is not None:
            pending.append((m.version, m.deleted_edit))
    for tomb, alive in pending:
        _deleted_edit(conn, plan, mine, tomb, alive)
    return plan


def _deleted_edit(conn: Connection, plan: Plan, mine: dict[uuid.UUID, Version],
                  tomb: Version, alive: Version) -> None:
    """A deletion met a change it had not seen (the deletion stands)."""
    if tomb.tbl in PURGE_TABLES or tomb.tbl == CONFLICT_TABLE:
        return
    d = alive.data or {}
    for col, parent in _parents(tomb.tbl):
        pid = d.get(col)
        if pid is None:
            continue
        pv = plan.results.get(uuid.UUID(pid))
        if pv is not None and pv.deleted:
            return                              # part of its parent's deletion
        if pv is None and not list(read_rows(conn, table(parent), ids=[uuid.UUID(pid)])):
            return
    kind, settled = "deleted", ""
    if tomb.tbl == "transcriptsegment" and d.get("edited") is not None:
        carried = _carry_edit(conn, plan, mine, alive)
        if carried is not None:
            kind, settled = "carried", "carried"
    plan.add_conflict(_conflict_version(tomb.id, tomb.tbl, tomb, alive, {}, d, kind, settled))


_WORD = re.compile(r"\w+", re.UNICODE)


def _words(text: str) -> list[str]:
    return [w.lower() for w in _WORD.findall(text or "")]


def _carry_edit(conn: Connection, plan: Plan, mine: dict[uuid.UUID, Version],
                old: Version) -> uuid.UUID | None:
    """Put the hand edit of deleted segment ``old`` onto the new segment that holds its
    words (overlapping in time, at least 80% of its words in order). Returns the new
    segment's id, or None when no single segment fits."""
    od = old.data or {}
    ow = _words(od.get("verbatim", ""))
    if not ow:
        return None
    seg = table("transcriptsegment")
    cands: dict[uuid.UUID, Version] = {}
    local_ids = [r[0] for r in conn.execute(select(seg.c.id).where(
        and_(seg.c.session_id == uuid.UUID(od["session_id"]),
             seg.c.start_ms < od["end_ms"], seg.c.end_ms > od["start_ms"])))]
    cands.update({k: v for k, v in load_versions(conn, local_ids, overlay=plan.overlay).items()
                  if k not in plan.results})
    for rid, v in plan.results.items():
        if v.tbl == "transcriptsegment" and not v.deleted and v.data \
                and v.data.get("session_id") == od["session_id"] \
                and v.data["start_ms"] < od["end_ms"] and v.data["end_ms"] > od["start_ms"]:
            cands[rid] = v
    cands.pop(old.id, None)
    for rid in sorted(cands, key=lambda r: (cands[r].data["start_ms"], str(r))):  # type: ignore[index]
        n = cands[rid]
        nd = n.data or {}
        raw = (nd.get("verbatim") or "").split()
        nw = [(_words(t) or [""])[0] for t in raw]
        sm = difflib.SequenceMatcher(None, ow, nw, autojunk=False)
        blocks = [bk for bk in sm.get_matching_blocks() if bk.size]
        if not blocks or sum(bk.size for bk in blocks) < 0.8 * len(ow):
            continue
        i0, i1 = blocks[0].b, blocks[-1].b + blocks[-1].size
        if i0 == 0 and i1 == len(raw):
            text = od["edited"]
        else:
            text = " ".join(raw[:i0] + [od["edited"]] + raw[i1:])
        if nd.get("edited") not in (None, text):
            continue                             # edited there too: the researcher decides
        vv = vv_max(n.vv, old.vv)
        vv[MERGE_COPY] = vv.get(MERGE_COPY, 0) + 1
        newd = {**nd, "edited": text}
        plan.results[rid] = live("transcriptsegment", newd, vv, _ancestors(vv, n))
        return rid
    return None


def apply_versions(conn: Connection, versions: dict[uuid.UUID, Version], *, seq: int,
                   keep_data: bool, by: str = "",
                   only_if: dict[uuid.UUID, Version] | None = None,
                   refused: list[Refusal] | None = None) -> set[uuid.UUID]:
    """Write ``versions`` to this side (records and their versions) in the caller's
    transaction: deletions children first, then records parents first; a record whose
    parent exists on neither side is dropped (the schema's cascade) or unlinked (SET NULL).
    ``only_if``: write a record only while this side still holds that version of it (a
    laptop edited meanwhile keeps its edit; it merges at the next exchange). A record
    this database refuses (a constraint, a value it cannot hold) is named in ``refused``
    and left out, version and all, so the next exchange tries it again; the others are
    written. Returns the ids written."""
    if only_if is not None:
        now = load_versions(conn, list(versions), {k: v.tbl for k, v in versions.items()})
        skip = {rid for rid in versions if _content(now.get(rid)) != _content(only_if.get(rid))}
        versions = {k: v for k, v in versions.items() if k not in skip}
    dels = {rid: v.tbl for rid, v in versions.items() if v.deleted}
    for tbl in reversed(synced_tables()):
        ids = [rid for rid, t in dels.items() if t == tbl.name]
        if ids:
            delete_ids(conn, tbl, ids)
    to_write = {rid: (v.tbl, dict(v.data or {})) for rid, v in versions.items() if not v.deleted}
    _fix_references(conn, to_write, set(dels))
    for tbl in synced_tables():
        rows = [d for rid, (t, d) in to_write.items() if t == tbl.name]
        for r in upsert_each(conn, tbl, rows):
            to_write.pop(uuid.UUID(r.record_id), None)
            if refused is not None:
                refused.append(r)
    written = {rid for rid, v in versions.items() if v.deleted or rid in to_write}
    _upsert_states(conn, [state_row(versions[rid], seq, keep_data=keep_data, by=by)
                          for rid in written])
    return written


def content_key(v: Version | None) -> str | None:
    """What a version holds, whatever its vector (None: nothing, or deleted)."""
    return None if v is None or v.deleted else v.hash


_content = content_key


def mark_seq(conn: Connection, ids: list[uuid.UUID], seq: int) -> None:
    """These records' versions here are the server's (change number ``seq``)."""
    rs = RecordState.__table__
    for i in range(0, len(ids), 500):
        conn.execute(rs.update().where(rs.c.record_id.in_(ids[i:i + 500])).values(seq=seq))


def differs(v: Version, other: Version | None) -> bool:
    return other is None or not v.same(other)


def load_for_merge(conn: Connection, theirs: dict[uuid.UUID, Version],
                   hint: dict[uuid.UUID, str] | None = None,
                   overlay: dict[uuid.UUID, Version] | None = None,
                   full: Iterable[uuid.UUID] = ()) -> dict[uuid.UUID, Version]:
    """This laptop's versions of ``theirs`` (and ``full``) for :func:`merge_all`, after a
    stamp: the content is read only where a merge needs it (the two versions are
    concurrent) and for ``full`` (what goes out)."""
    ids = list(dict.fromkeys([*theirs, *full]))
    mine = load_versions(conn, ids, hint, overlay, lazy=True)
    need = set(full)
    for rid, b in theirs.items():
        a = mine.get(rid)
        if a is None or a.deleted or (overlay and rid in overlay):
            continue
        if a.vv == b.vv:
            if a.hash != b.hash:
                need.add(rid)
        elif not vv_le(a.vv, b.vv) and not vv_le(b.vv, a.vv):
            need.add(rid)
    need -= set(overlay or ())
    if need:
        mine.update(load_versions(conn, list(need), hint, overlay))
    return mine


def reconcile(conn: Connection, peer: str, incoming: dict[uuid.UUID, Version],
              *, author_id: uuid.UUID | None = None) -> Outcome:
    """A pack's versions into this laptop's database on ``conn`` (in the caller's
    transaction, after :func:`stamp`). Returns what changed here."""
    tbls = {k: v.tbl for k, v in incoming.items()}
    mine = load_for_merge(conn, incoming, tbls)
    plan = merge_all(conn, mine, incoming)
    mine.update(load_versions(conn, [k for k in plan.results if k not in mine],
                              {k: v.tbl for k, v in plan.results.items()}))
    return apply_plan(conn, plan, mine, seq=0)


def apply_plan(conn: Connection, plan: Plan, mine: dict[uuid.UUID, Version], *, seq: int,
               written_seq: int | None = None, only_if: bool = False) -> Outcome:
    """Write a plan's results that differ from this laptop's versions; count them."""
    out = Outcome()
    change = {rid: v for rid, v in plan.results.items() if differs(v, mine.get(rid))}
    before_open = _open_conflicts(conn, [rid for rid, v in change.items() if v.tbl == CONFLICT_TABLE])
    written = apply_versions(conn, change, seq=seq, keep_data=True,
                             only_if=mine if only_if else None, refused=out.refused)
    for rid in written:
        v, old = change[rid], mine.get(rid)
        if v.tbl == CONFLICT_TABLE:
            if not v.deleted and v.data and not v.data.get("settled_at") and rid not in before_open:
                out.conflicts += 1
            continue
        if v.deleted:
            if old is not None and not old.deleted:
                out.deleted += 1
        elif old is None or old.deleted:
            out.inserted += 1
        elif old.hash != v.hash:
            out.updated += 1
    out.unchanged = len(plan.results) - len(change)
    if written_seq is not None:
        mark_seq(conn, [rid for rid in plan.results if rid not in change], written_seq)
    return out


def _open_conflicts(conn: Connection, ids: list[uuid.UUID]) -> set[uuid.UUID]:
    sc = table(CONFLICT_TABLE)
    out: set[uuid.UUID] = set()
    for i in range(0, len(ids), 500):
        out |= {r[0] for r in conn.execute(select(sc.c.id).where(
            sc.c.id.in_(ids[i:i + 500]), sc.c.settled_at.is_(None)))}
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
