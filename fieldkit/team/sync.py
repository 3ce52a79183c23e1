"""``fieldkit sync``: push this laptop's changes to the team server, pull the team's.

Two steps, each one transaction, in this order:

1. On the server (holding a per-project advisory lock, so two laptops syncing at once
   take turns): read what others changed since this laptop's cursor, push this laptop's
   changes (new and edited records, deletions), commit.
2. On the laptop: apply what others changed (see :mod:`fieldkit.team.merge`), remember
   the new cursor and the agreed versions, commit.

A sync cut off anywhere leaves each side as it was before the unfinished step. Cut off
between the steps, the server already has this laptop's changes and the laptop has not
noted it; the next sync finds the same versions on both sides and simply finishes. No
step depends on the previous sync having completed, so a sync is always safe to repeat.

A laptop's changes since the last sync are found without reading everything: records
whose ``updated_at`` is after the last sync started, or that the server has not seen,
confirmed by their content hash; deletions are agreed records that are no longer here.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy import and_, exists, func, not_, or_, select
from sqlalchemy.engine import Connection

from fieldkit.errors import FieldkitError
from fieldkit.store.models import RecordState, ServerAudio, SyncBase, utcnow
from fieldkit.team.merge import Outcome, informant_clashes, reconcile, set_base
from fieldkit.team.records import (
    Refusal,
    content_hash,
    delete_ids,
    read_rows,
    synced_tables,
    table,
    upsert,
    upsert_each,
)
from fieldkit.team.server import ServerError, engine_for, explain, get_options, public_url, schema_for
from fieldkit.team.guidejoin import join_same_guides
from fieldkit.team.withdrawal import (
    drop_withdrawn,
    purge_server_copies,
    silenced_file_ids,
    vacuum_tables,
    withdrawn_on_server,
)
from fieldkit.team.server import server_revision as _server_revision
from fieldkit.i18n import _

PEER = "server"


@dataclass
class SyncResult:
    pushed: int = 0
    pushed_deletions: int = 0
    pulled: Outcome = field(default_factory=Outcome)
    cursor: int = 0
    audio_up: int = 0
    audio_down: int = 0
    created: bool = False
    #: guides imported here and by the team (same content): joined into the team's
    guides_joined: list[str] = field(default_factory=list)
    #: after pushing a purge: whether this login could VACUUM the tables it touched
    vacuumed: bool | None = None
    #: this laptop's records the team server would not take (left out, tried again next sync)
    refused: list[Refusal] = field(default_factory=list)

    def summary(self) -> str:
        p = self.pulled
        return _("pushed {pushed} changes and {deletions} deletions; "
                 "pulled {inserted} new, {updated} updated, {deleted} deleted; "
                 "{conflicts} conflicts").format(
                     pushed=self.pushed, deletions=self.pushed_deletions, inserted=p.inserted,
                     updated=p.updated, deleted=p.deleted, conflicts=p.conflicts)


# --------------------------------------------------------------------------- laptop side


def local_changes(conn: Connection, mark: datetime | None) -> tuple[dict, dict]:
    """(changed records {id: (table, data)}, deleted records {id: table}) since the
    server last agreed with this laptop.

    Per table: deletions are agreed records no longer here (one indexed anti-join); the
    number of records the server has not seen follows from the counts, and only when it
    is not zero are they looked up; edits are records with ``updated_at`` after the last
    sync started. Every candidate is confirmed by its content hash."""
    sb = SyncBase.__table__
    changed: dict[uuid.UUID, tuple[str, dict[str, Any]]] = {}
    deleted: dict[uuid.UUID, str] = {}
    n_base = dict(conn.execute(select(sb.c.tbl, func.count()).where(sb.c.peer == PEER)
                               .group_by(sb.c.tbl)).all())
    for tbl in synced_tables():
        gone = []
        if n_base.get(tbl.name):
            gone = conn.execute(select(sb.c.record_id).where(
                sb.c.peer == PEER, sb.c.tbl == tbl.name,
                not_(exists().where(tbl.c.id == sb.c.record_id)))).scalars().all()
            for rid in gone:
                deleted[rid] = tbl.name
        count = conn.execute(select(func.count()).select_from(tbl)).scalar()
        unseen_n = count - (n_base.get(tbl.name, 0) - len(gone))
        conds = []
        if unseen_n:
            conds.append(not_(exists().where(and_(sb.c.peer == PEER, sb.c.record_id == tbl.c.id))))
        if mark is not None:
            conds.append(tbl.c.updated_at > mark)
        elif not unseen_n:
            conds.append(tbl.c.id.is_(None))       # nothing to look at
        if not conds:
            continue
        cands = list(read_rows(conn, tbl, where=or_(*conds)))
        if cands:
            ids = [uuid.UUID(d["id"]) for d in cands]
            base = {}
            for i in range(0, len(ids), 500):
                base.update(conn.execute(select(sb.c.record_id, sb.c.hash).where(
                    sb.c.peer == PEER, sb.c.record_id.in_(ids[i:i + 500]))).all())
            for rid, d in zip(ids, cands):
                if base.get(rid) != content_hash(d):
                    changed[rid] = (tbl.name, d)
    return changed, deleted


# --------------------------------------------------------------------------- the sync


def _later(a: dict[str, Any], b: dict[str, Any]) -> bool:
    return (a.get("updated_at") or "") > (b.get("updated_at") or "")


def sync_project(handle, url: str, *, recode: dict[str, str] | None = None,  # noqa: ANN001
                 same: set[str] | None = None) -> SyncResult:
    """Sync the open project with the team server at ``url``. ``recode``: this laptop's
    informant codes to change before syncing (a different person has the code in the
    team); ``same``: codes whose informant here is the team's informant of that code."""
    from sqlalchemy.exc import DBAPIError, IntegrityError

    from fieldkit.store.dbfile import KNOWN_REVISIONS, SCHEMA_HEAD
    from fieldkit.team.ops import purge_arriving_informants, purge_audit_ids, purge_project_if_arrived
    from fieldkit.team.state import get_peer, put_peer

    project = handle.project()
    schema = schema_for(project.slug)
    with handle.db.engine.connect() as lconn:
        peer = get_peer(lconn, PEER) or {"cursor": 0, "mark": None, "options": {}}
        start = utcnow()
        changed, deleted_local = local_changes(lconn, peer["mark"])
    if same:
        _adopt_team_informants(handle, url, schema, same)
    if recode or same:
        if recode:
            _recode_local(handle, recode)
        with handle.db.engine.connect() as lconn:
            changed, deleted_local = local_changes(lconn, peer["mark"])

    res = SyncResult()
    engine = engine_for(url, schema)
    try:
        # ---- step 1: the server
        with engine.connect() as sconn:
            with sconn.begin():
                rev = _server_revision(sconn, schema)
                if rev is None:
                    raise ServerError(
                        _("The project {slug} is not set up on the team server, or "
                            "this login may not read it.").format(slug=project.slug),
                        hint=_("The team's administrator runs: fieldkit server init "
                                 "URL --project {slug} --researcher YOURROLE (see the "
                                 "README).").format(slug=project.slug))
                if rev not in KNOWN_REVISIONS:
                    raise ServerError(
                        _("The team server holds a newer schema ({rev}) than this "
                            "fieldkit ({schema_head}).").format(rev=rev, schema_head=SCHEMA_HEAD),
                        hint=_("Update fieldkit on this laptop (pip install -U "
                                 "fieldkit). Nothing was changed."))
                if rev != SCHEMA_HEAD:
                    raise ServerError(
                        _("The team server's schema ({rev}) is older than this "
                            "fieldkit's ({schema_head}).").format(rev=rev, schema_head=SCHEMA_HEAD),
                        hint=_("The administrator runs `fieldkit server init URL "
                                 "--project SLUG` again to upgrade it. Nothing was "
                                 "changed."))
                sconn.exec_driver_sql("SELECT pg_advisory_xact_lock(hashtext(%(s)s))", {"s": schema})
                rs = RecordState.__table__
                server_project = list(read_rows(sconn, table("project")))
                if server_project and server_project[0]["id"] != str(handle.project_id):
                    raise ServerError(
                        _("The project {slug} on the team server is a different "
                            "project that has the same name.").format(slug=project.slug),
                        hint=_("Nothing was changed. Ask the administrator to set "
                                 "the project up under another name."))
                # a withdrawal reaches this laptop before anything leaves it
                withdrawn = withdrawn_on_server(sconn)
                purged_first = purge_arriving_informants(
                    handle, {i: "informant" for i in withdrawn})
                # the same guide imported on two laptops is one guide
                with handle.db.engine.begin() as lconn:
                    joined, gclashes = join_same_guides(lconn, sconn, PEER)
                    if gclashes:
                        c = gclashes[0]
                        raise FieldkitError(
                            _("The guide {slug} here ({local}) and the team's guide of that "
                              "name ({team}) differ; nothing was synced.").format(
                                  slug=c.slug, local=c.local_title, team=c.team_title),
                            hint=_("Give yours another name: fieldkit guide rename -p {project} "
                                   "{slug} NEWNAME (or, if no session uses it, fieldkit guide "
                                   "remove -p {project} {slug}), then sync again.").format(
                                       project=handle.folder.name, slug=c.slug))
                res.guides_joined = joined
                if purged_first or joined:
                    with handle.db.engine.connect() as lconn:
                        changed, deleted_local = local_changes(lconn, peer["mark"])
                news = conn_rows(sconn, rs, rs.c.seq > peer["cursor"])
                top = sconn.execute(select(func.coalesce(func.max(rs.c.seq), 0))).scalar()
                incoming, deleted_remote = fetch_records(sconn, news)
                with handle.db.engine.connect() as lconn:
                    clashes = [c for c in informant_clashes(lconn, incoming)]
                if clashes:
                    lines = "\n  ".join(c.describe() for c in clashes)
                    raise FieldkitError(
                        _("Informant codes clash with the team's; nothing was "
                            "synced:\n  {lines}").format(lines=lines),
                        hint=_("Say what each is: fieldkit sync -p {slug} --recode "
                                 "{code}=NEWCODE (a different person: ours gets a new "
                                 "code) or --same-person {code} (the same person: ours "
                                 "becomes the team's).").format(slug=project.slug, code=clashes[0].code))
                base = _bases(handle, set(changed) | set(incoming))
                push: dict[uuid.UUID, tuple[str, dict[str, Any]]] = {}
                for rid, (tname, d) in changed.items():
                    if rid in deleted_remote:
                        continue                        # deleted by the team: deletion wins
                    theirs = incoming.get(rid)
                    if theirs is not None:
                        ih = content_hash(theirs[1])
                        if ih == content_hash(d):
                            continue
                        if ih != base.get(rid) and not _later(d, theirs[1]):
                            continue                    # both changed, theirs is later
                    push[rid] = (tname, d)
                with handle.db.engine.connect() as lconn:
                    drop_withdrawn(lconn, push, withdrawn)
                writer = _may_write(sconn)
                if not writer:
                    # a supervisor's login reads only: its own audit (exports it made)
                    # stays in its copy; anything else it changed is refused below
                    push = {rid: v for rid, v in push.items() if v[0] != "auditentry"}
                # deletions the server already has (a purge done there) are not news
                already = _tombstoned(sconn, [r for r in deleted_local if r not in deleted_remote])
                push_del = {rid: t for rid, t in deleted_local.items()
                            if rid not in deleted_remote and rid not in already}
                settled_del = (set(deleted_local) - set(push_del))
                if push or push_del:
                    seq = top + 1
                    res.pushed, res.pushed_deletions, res.refused = _push(sconn, push, push_del, seq)
                    top = seq
                if push_del:
                    purge_server_copies(sconn, set(push_del))
                res.cursor = top
            withdrawal = bool(purged_first) or any(t == "informant" for t in push_del.values())
            res.audio_up, audio_wanted = _audio_up(sconn, handle, upload=writer, silenced=withdrawal)
        if withdrawal:
            res.vacuumed = vacuum_tables(engine, schema)
        # ---- step 2: the laptop
        try:
            purged = purge_arriving_informants(handle, deleted_remote)
            before = purge_audit_ids(handle)
            with handle.db.engine.begin() as lconn:
                out = reconcile(lconn, PEER, incoming, deleted_remote) if incoming or deleted_remote else Outcome()
                if out.refused:
                    # the team's records this laptop would not take come again next time:
                    # the cursor stays before the first of them (what follows it is
                    # pulled again and found unchanged)
                    refused_ids = {uuid.UUID(r.record_id) for r in out.refused}
                    first = min((st["seq"] for st in news if st["record_id"] in refused_ids),
                                default=res.cursor + 1)
                    res.cursor = min(res.cursor, first - 1)
                pushed_base = {}
                by_table: dict[str, dict[uuid.UUID, str]] = {}
                for rid, (tname, d) in push.items():
                    by_table.setdefault(tname, {})[rid] = content_hash(d)
                for tname, hashes in by_table.items():   # still as pushed (not edited meanwhile)
                    for now in read_rows(lconn, table(tname), ids=list(hashes)):
                        rid = uuid.UUID(now["id"])
                        if content_hash(now) == hashes[rid]:
                            pushed_base[rid] = (tname, hashes[rid])
                if pushed_base:
                    set_base(lconn, PEER, pushed_base)
                if push_del or settled_del:
                    sb = SyncBase.__table__
                    ids = list(push_del) + list(settled_del)
                    for i in range(0, len(ids), 500):
                        lconn.execute(sb.delete().where(sb.c.peer == PEER, sb.c.record_id.in_(ids[i:i + 500])))
                put_peer(lconn, PEER, kind="server", url=public_url(url), cursor=res.cursor,
                         mark=start, last_sync_at=utcnow())
        except DBAPIError as exc:
            from fieldkit.store.db import _describe_sqlite_error

            local = _describe_sqlite_error(handle.db.path, exc)
            raise FieldkitError(
                _("{message} The team's changes were not applied here.").format(message=local.message),
                hint=_("Nothing on this laptop was half-applied and the server "
                         "already has this laptop's changes. Close other fieldkit "
                         "windows and run sync again.")) from exc
        out.purged_informants = purged_first + purged
        res.pulled = out
        purge_project_if_arrived(handle, before)
        if audio_wanted:
            res.audio_down = _audio_down(engine, handle)
    except IntegrityError as exc:
        raise ServerError(
            _("The team server refused a record: {value}").format(value=str(exc.orig).splitlines()[0]),
            hint=_("Nothing was half-done. Another laptop may use the same name or "
                     "number for a different record; rename it on one side and sync "
                     "again.")) from exc
    except DBAPIError as exc:
        raise explain(exc, url) from exc
    finally:
        engine.dispose()
    return res


def _may_write(sconn: Connection) -> bool:
    return bool(sconn.exec_driver_sql("SELECT has_table_privilege('recordstate', 'INSERT')").scalar())


def _tombstoned(sconn: Connection, ids: list[uuid.UUID]) -> set[uuid.UUID]:
    rs = RecordState.__table__
    out: set[uuid.UUID] = set()
    for i in range(0, len(ids), 500):
        out |= set(sconn.execute(select(rs.c.record_id).where(
            rs.c.deleted.is_(True), rs.c.record_id.in_(ids[i:i + 500]))).scalars())
    return out


def conn_rows(conn: Connection, tbl, where) -> list[dict[str, Any]]:  # noqa: ANN001
    return [dict(r._mapping) for r in conn.execute(select(tbl).where(where))]


def fetch_records(sconn: Connection, states: list[dict[str, Any]]) -> tuple[dict, dict]:
    incoming: dict[uuid.UUID, tuple[str, dict[str, Any]]] = {}
    deleted: dict[uuid.UUID, str] = {}
    by_table: dict[str, list[uuid.UUID]] = {}
    for st in states:
        if st["deleted"]:
            deleted[st["record_id"]] = st["tbl"]
        else:
            by_table.setdefault(st["tbl"], []).append(st["record_id"])
    for tname, ids in by_table.items():
        for d in read_rows(sconn, table(tname), ids=ids):
            incoming[uuid.UUID(d["id"])] = (tname, d)
    return incoming, deleted


def _bases(handle, ids: set[uuid.UUID]) -> dict[uuid.UUID, str]:  # noqa: ANN001
    sb = SyncBase.__table__
    out: dict[uuid.UUID, str] = {}
    idl = list(ids)
    with handle.db.engine.connect() as conn:
        for i in range(0, len(idl), 500):
            out.update(conn.execute(select(sb.c.record_id, sb.c.hash).where(
                sb.c.peer == PEER, sb.c.record_id.in_(idl[i:i + 500]))).all())
    return out


def _push(sconn: Connection, push: dict, push_del: dict, seq: int) -> tuple[int, int, list[Refusal]]:
    """Write this laptop's changes on the server. A record the server refuses is left out
    of ``push`` (so it is not taken as agreed) and returned; the rest is written."""
    from sqlalchemy.dialects.postgresql import insert

    from fieldkit.team.merge import _fix_references

    rs = RecordState.__table__
    role = sconn.exec_driver_sql("SELECT current_user").scalar()
    # deletions: children first (the database cascades the rest)
    gone = set(push_del)
    for tbl in reversed(synced_tables()):
        ids = [rid for rid, t in push_del.items() if t == tbl.name]
        if ids:
            delete_ids(sconn, tbl, ids)
    _fix_references(sconn, push, gone)
    refused: list[Refusal] = []
    for tbl in synced_tables():
        refused += upsert_each(sconn, tbl, [d for rid, (t, d) in push.items() if t == tbl.name])
    for r in refused:
        push.pop(uuid.UUID(r.record_id), None)
    states = [{"record_id": rid, "tbl": t, "hash": content_hash(d), "seq": seq, "deleted": False, "by": role}
              for rid, (t, d) in push.items()]
    states += [{"record_id": rid, "tbl": t, "hash": "", "seq": seq, "deleted": True, "by": role}
               for rid, t in push_del.items()]
    if push_del:
        # rows the server's own cascades removed are deletions too
        for tbl in synced_tables():
            lost = sconn.execute(select(rs.c.record_id).where(
                rs.c.tbl == tbl.name, rs.c.deleted.is_(False),
                not_(exists().where(tbl.c.id == rs.c.record_id)))).scalars().all()
            states += [{"record_id": rid, "tbl": tbl.name, "hash": "", "seq": seq, "deleted": True,
                        "by": role} for rid in lost if rid not in push_del]
    stmt = insert(rs)
    stmt = stmt.on_conflict_do_update(index_elements=["record_id"], set_={
        c: stmt.excluded[c] for c in ("tbl", "hash", "seq", "deleted", "by")})
    for i in range(0, len(states), 2000):
        sconn.execute(stmt, states[i:i + 2000])
    return len(push), len(push_del), refused


def _adopt_team_informants(handle, url: str, schema: str, codes: set[str]) -> None:  # noqa: ANN001
    """This laptop registered someone the team already has (same code): point everything
    here at the team's informant and drop the local duplicate, keeping local details the
    team's record lacks."""
    from sqlalchemy.exc import DBAPIError

    inf = table("informant")
    engine = engine_for(url, schema)
    try:
        with engine.connect() as sconn:
            team = {d["code"]: d for d in read_rows(sconn, inf, where=inf.c.code.in_(list(codes)))}
    except DBAPIError as exc:
        raise explain(exc, url) from exc
    finally:
        engine.dispose()
    refs = [(t, c.name) for t in synced_tables() for c in t.columns for fk in c.foreign_keys
            if fk.column.table.name == "informant"]
    with handle.db.engine.begin() as conn:
        for code in codes:
            theirs = team.get(code)
            mine = next(iter(read_rows(conn, inf, where=inf.c.code == code)), None)
            if theirs is None or mine is None:
                raise FieldkitError(_("Informant {code} is not both here and in the "
                                        "team's project.").format(code=code))
            if theirs["id"] == mine["id"]:
                continue
            merged = {**theirs, **{k: v for k, v in mine.items()
                                   if k not in ("id", "created_at", "updated_at", "created_by")
                                   and v not in (None, "", {}) and theirs.get(k) in (None, "", {})}}
            merged["updated_at"] = utcnow().isoformat()
            old, new = uuid.UUID(mine["id"]), uuid.UUID(theirs["id"])
            conn.execute(inf.update().where(inf.c.id == old).values(code=f"{code}~{old.hex[:6]}"))
            upsert(conn, inf, [merged])
            for t, col in refs:
                conn.execute(t.update().where(t.c[col] == old).values({col: new}))
            conn.execute(inf.delete().where(inf.c.id == old))


def _recode_local(handle, recode: dict[str, str]) -> None:  # noqa: ANN001
    from sqlmodel import select as sselect

    from fieldkit.store.models import Informant

    with handle.db.transaction() as s:
        for old, new in recode.items():
            inf = s.exec(sselect(Informant).where(Informant.code == old)).first()
            if inf is None:
                raise FieldkitError(_("No informant {old!r} on this laptop to give a "
                                        "new code.").format(old=old))
            inf.code = new
            s.add(inf)


# --------------------------------------------------------------------------- audio


def _audio_up(sconn: Connection, handle, *, upload: bool = True,  # noqa: ANN001
              silenced: bool = False) -> tuple[int, bool]:
    """When the team shares audio for this project: this laptop's files the server lacks;
    with ``silenced`` (this sync carries a withdrawal), also the files a withdrawal purge
    silenced here whose server copy still differs."""
    import hashlib

    with sconn.begin():
        if not get_options(sconn).get("audio"):
            return 0, False
        if not upload:
            return 0, True
        sa = ServerAudio.__table__
        have = set(sconn.execute(select(sa.c.file_id)).scalars())
        rf = table("recordingfile")
        n = 0
        with handle.db.engine.connect() as lconn:
            files = [(r.id, r.path) for r in lconn.execute(select(rf.c.id, rf.c.path))]
            silenced = silenced_file_ids(lconn) if silenced else set()
        server_files = set(sconn.execute(select(rf.c.id)).scalars())
        for fid, rel in files:
            p = handle.folder / rel
            if fid not in server_files or not p.is_file():
                continue
            if fid in have:
                if fid not in silenced:
                    continue
                # a withdrawal silenced their speech in this file: the server's copy follows
                data = _read_audio(handle, p)
                sha = hashlib.sha256(data).hexdigest()
                if sconn.execute(select(sa.c.sha256).where(sa.c.file_id == fid)).scalar() != sha:
                    sconn.execute(sa.update().where(sa.c.file_id == fid).values(
                        sha256=sha, size=len(data), data=data))
                    n += 1
                continue
            data = _read_audio(handle, p)
            sconn.execute(sa.insert().values(file_id=fid, sha256=hashlib.sha256(data).hexdigest(),
                                             size=len(data), data=data))
            n += 1
    return n, True


def _read_audio(handle, p) -> bytes:  # noqa: ANN001
    from fieldkit.privacy import crypto

    if handle.key is not None and crypto.is_encrypted_file(p):
        return crypto.read_encrypted(p, handle.key)
    return p.read_bytes()


def _audio_down(engine, handle) -> int:  # noqa: ANN001
    from fieldkit.team.ops import write_audio

    rf = table("recordingfile")
    with handle.db.engine.connect() as lconn:
        missing = {r.id: r.path for r in lconn.execute(select(rf.c.id, rf.c.path))
                   if not (handle.folder / r.path).exists()}
    if not missing:
        return 0
    sa = ServerAudio.__table__
    with engine.connect() as sconn:
        got = {missing[fid]: data for fid, data in sconn.execute(
            select(sa.c.file_id, sa.c.data).where(sa.c.file_id.in_(list(missing))))}
    return write_audio(handle, got)


def clone_project(ws, name: str, url: str, passphrase: str | None = None):  # noqa: ANN001, ANN201
    """A project that is on the team server but not on this laptop yet: an empty copy
    with the team's Project row (the sync fills it); encrypted with ``passphrase``."""
    from sqlalchemy.exc import DBAPIError

    from fieldkit.projects import slugify
    from fieldkit.team.ops import new_project_with_id

    schema = schema_for(slugify(name))
    engine = engine_for(url, schema)
    try:
        with engine.connect() as sconn:
            if _server_revision(sconn, schema) is None:
                raise ServerError(
                    _("There is no project {slugify!r} on the team server (or this "
                        "login may not read it).").format(slugify=slugify(name)),
                    hint=_("Check the name, or ask the administrator to set it up "
                             "(fieldkit server init)."))
            rows = list(read_rows(sconn, table("project")))
    except DBAPIError as exc:
        raise explain(exc, url) from exc
    finally:
        engine.dispose()
    if not rows:
        raise ServerError(_("The project {slugify!r} on the team server is still "
                              "empty.").format(slugify=slugify(name)),
                          hint=_("The first researcher syncs it from their laptop "
                                   "first."))
    if rows[0].get("slug") != slugify(name):
        raise ServerError(
            _("The project on the team server under {slug!r} is another project "
              "({other!r}).").format(slug=slugify(name), other=rows[0].get("slug")),
            hint=_("Nothing was copied. Check the name with the team's administrator."))
    return new_project_with_id(ws, name, rows[0], passphrase)


def remembered_url(handle) -> str | None:  # noqa: ANN001
    from fieldkit.team.state import get_peer

    with handle.db.engine.connect() as conn:
        p = get_peer(conn, PEER)
    return p["url"] if p and p.get("url") else None


__all__ = ["sync_project", "clone_project", "remembered_url", "local_changes", "SyncResult"]
