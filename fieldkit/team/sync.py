"""``fieldkit sync``: push this laptop's changes to the team server, pull the team's.

Two steps, each one transaction, in this order:

1. On the server (holding a per-project advisory lock, so two laptops syncing at once
   take turns): first an informant the team has purged (a withdrawal) is purged on this
   laptop too, before anything leaves it, and the same guide imported on two laptops
   is joined; then read what others changed since this laptop's cursor, merge it with
   this laptop's changes (:mod:`fieldkit.team.merge`, the same merge as for packs),
   write the merged versions the server lacks (never a record of a withdrawn
   informant; a record the server refuses is named and left for the next sync), commit.
2. On the laptop: write the merged versions it lacks and this laptop's new versions,
   remember the new cursor, commit.

A sync cut off anywhere leaves each side as it was before the unfinished step. Cut off
between the steps, the server already has the merged versions and the laptop has not
noted it; the next sync works out the same versions of this laptop's changes again, finds
the server's covering them, and simply finishes. So a sync is always safe to repeat.

A laptop's changes since the last sync are found without reading everything (see
:func:`fieldkit.team.merge.stamp`): records with ``updated_at`` after the last stamp, or
without a version, confirmed by their content hash; deletions are versions whose record
is gone.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import exists, func, not_, select
from sqlalchemy.engine import Connection

from fieldkit.errors import FieldkitError
from fieldkit.store.models import RecordState, ServerAudio, utcnow
from fieldkit.team.merge import (
    CONFLICT_TABLE,
    Outcome,
    Version,
    apply_plan,
    apply_versions,
    content_key,
    differs,
    informant_clashes,
    load_for_merge,
    load_versions,
    mark_seq,
    merge_all,
    save_stamp,
    stamp,
)
from fieldkit.team.records import (
    Refusal,
    read_rows,
    synced_tables,
    table,
    upsert,
)
from fieldkit.team.server import ServerError, engine_for, explain, get_options, public_url, schema_for
from fieldkit.team.guidejoin import join_same_guides
from fieldkit.team.sealing import attach
from fieldkit.team.withdrawal import (
    drop_withdrawn,
    purge_server_copies,
    withdrawal_deletions,
    silenced_file_ids,
    vacuum_tables,
    withdrawn_on_server,
)
from fieldkit.team.server import server_revision as _server_revision
from fieldkit.i18n import _, ngettext

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
    #: what the researcher should know about the project's encryption on the server
    notes: list[str] = field(default_factory=list)

    def summary(self) -> str:
        p = self.pulled
        return _("pushed {pushed} and {deletions}; pulled {inserted}, {updated}, {deleted}; {conflicts}").format(
            pushed=ngettext("{n} change", "{n} changes", self.pushed).format(n=self.pushed),
            deletions=ngettext("{n} deletion", "{n} deletions", self.pushed_deletions).format(n=self.pushed_deletions),
            inserted=ngettext("{n} new", "{n} new", p.inserted).format(n=p.inserted),
            updated=ngettext("{n} updated", "{n} updated", p.updated).format(n=p.updated),
            deleted=ngettext("{n} deleted", "{n} deleted", p.deleted).format(n=p.deleted),
            conflicts=ngettext("{n} conflict", "{n} conflicts", p.conflicts).format(n=p.conflicts))


# --------------------------------------------------------------------------- laptop side


def dirty_ids(conn: Connection) -> dict[uuid.UUID, str]:
    """Records whose version here the server does not have yet (after :func:`stamp`)."""
    rs = RecordState.__table__
    return dict(conn.execute(select(rs.c.record_id, rs.c.tbl).where(rs.c.seq == 0)).all())


# --------------------------------------------------------------------------- the sync


def sync_project(handle, url: str, *, recode: dict[str, str] | None = None,
                 same: set[str] | None = None, encrypt_server: bool = False) -> SyncResult:
    """Sync the open project with the team server at ``url``. ``recode``: this laptop's
    informant codes to change before syncing (a different person has the code in the
    team); ``same``: codes whose informant here is the team's informant of that code;
    ``encrypt_server``: this encrypted copy's team project is plain on the server: seal
    it there (see :func:`_settle_encryption`)."""
    from sqlalchemy.exc import DBAPIError, IntegrityError

    from fieldkit.store.dbfile import KNOWN_REVISIONS, SCHEMA_HEAD
    from fieldkit.team.ops import purge_arriving_informants, purge_audit_ids, purge_project_if_arrived
    from fieldkit.team.state import get_peer, put_peer

    project = handle.project()
    schema = schema_for(project.slug)
    with handle.db.engine.connect() as lconn:
        peer = get_peer(lconn, PEER) or {"cursor": 0, "mark": None, "options": {}}
    if same:
        _adopt_team_informants(handle, url, schema, same)
    if recode:
        _recode_local(handle, recode)
    with handle.db.engine.connect() as lconn:
        with lconn.begin():
            stamped = stamp(lconn, persist=False)    # written with the pulled changes
        dirty = {**dirty_ids(lconn), **{k: v.tbl for k, v in stamped.items()}}

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
                # an encrypted project: personal fields and audio sealed on the server
                cipher, rekeyed, seal_all = _settle_encryption(
                    handle, server_project[0] if server_project else None, encrypt_server, res)
                if cipher is not None:
                    attach(engine, cipher)
                if seal_all:
                    _seal_server(sconn)
                if rekeyed:
                    with handle.db.engine.connect() as lconn:
                        with lconn.begin():
                            stamped = stamp(lconn, persist=False)
                        dirty = {**dirty_ids(lconn), **{k: v.tbl for k, v in stamped.items()}}
                # a withdrawal reaches this laptop before anything leaves it
                withdrawn = withdrawn_on_server(sconn)
                purged_first: list[str] = []
                if withdrawn & _local_ids(handle, "informant", withdrawn):
                    # this laptop's new versions first, so that the purge clears their
                    # copies of the content too (the forget_* triggers, the mention scan)
                    with handle.db.engine.begin() as lconn:
                        save_stamp(lconn, stamped)
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
                    # what the purge or the join changed here are new versions too
                    with handle.db.engine.connect() as lconn:
                        with lconn.begin():
                            stamped = stamp(lconn, persist=False)
                        dirty = {**dirty_ids(lconn), **{k: v.tbl for k, v in stamped.items()}}
                unpushed: set[uuid.UUID] = set()
                news = conn_rows(sconn, rs, rs.c.seq > peer["cursor"])
                top = sconn.execute(select(func.coalesce(func.max(rs.c.seq), 0))).scalar()
                deleted_remote = {st["record_id"]: st["tbl"] for st in news if st["deleted"]}
                hint = {**dirty, **{st["record_id"]: st["tbl"] for st in news}}
                theirs = load_versions(sconn, list(hint), hint)
                incoming = {rid: (v.tbl, v.data) for rid, v in theirs.items()
                            if not v.deleted and rid not in dirty}
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
                with handle.db.engine.connect() as lconn:
                    mine = load_for_merge(lconn, theirs, hint, stamped, full=dirty)
                    plan = merge_all(lconn, mine, theirs,
                                     lambda ids: load_versions(sconn, ids), stamped)
                    more = [k for k in plan.results if k not in mine]
                    mine.update(load_versions(lconn, more, {k: plan.results[k].tbl for k in more},
                                              stamped))
                more = [k for k in plan.results if k not in theirs]
                theirs.update(load_versions(sconn, more, {k: plan.results[k].tbl for k in more}))
                # the server needs what it lacks; the same content under a bigger vector
                # (the same record made on two copies) stays with this laptop
                push = {rid: v for rid, v in plan.results.items()
                        if differs(v, theirs.get(rid)) and content_key(v) != content_key(theirs.get(rid))}
                bare = [rid for rid, v in push.items() if not v.deleted and v.data is None]
                if bare:       # versions read without their content (see load_for_merge)
                    with handle.db.engine.connect() as lconn:
                        push.update(load_versions(lconn, bare, {k: push[k].tbl for k in bare}, stamped))
                # nothing of a withdrawn informant leaves this laptop
                with handle.db.engine.connect() as lconn:
                    dropped = drop_withdrawn(
                        lconn, {rid: (v.tbl, v.data) for rid, v in push.items() if not v.deleted},
                        withdrawn)
                for rid in dropped:
                    del push[rid]
                writer = _may_write(sconn)
                if not writer:
                    # a supervisor's login reads only: its own audit (exports it made)
                    # stays in its copy (and unsynced); anything else it changed is
                    # refused below
                    unpushed |= {rid for rid, v in push.items() if v.tbl == "auditentry"}
                    push = {rid: v for rid, v in push.items() if v.tbl != "auditentry"}
                push_del = {rid: v.tbl for rid, v in push.items() if v.deleted}
                # which of them a withdrawal makes (read before the push removes the rows)
                withdrawn_now = withdrawal_deletions(sconn, push_del)
                if push:
                    seq = top + 1
                    res.pushed, res.pushed_deletions, res.refused = _push(sconn, push, seq)
                    unpushed |= {uuid.UUID(r.record_id) for r in res.refused}
                    top = seq
                if push_del:
                    # shared audio of deleted recordings; when the push carries a
                    # withdrawal, the conflict list's copies of what the withdrawal deleted
                    # and of the person (any other conflict about a deleted record stays,
                    # even in the same push: a deletion that met an edit is a conflict
                    # every copy lists)
                    purge_server_copies(sconn, withdrawn_now)
                    # conflict copies it deleted are deletions that travel too
                    _tombstone_lost(sconn, seq, (CONFLICT_TABLE,))
                res.cursor = top
            withdrawal = bool(purged_first) or any(t == "informant" for t in push_del.values())
            res.audio_up, audio_wanted = _audio_up(sconn, handle, upload=writer, silenced=withdrawal)
        if seal_all:
            # the plain text the sealing replaced lingers in dead row versions until vacuumed
            res.vacuumed = vacuum_tables(engine, schema, tuple(
                [t.name for t in synced_tables()] + ["recordstate", "serveraudio"]))
        elif withdrawal:
            res.vacuumed = vacuum_tables(engine, schema)
        # ---- step 2: the laptop
        try:
            with handle.db.engine.begin() as lconn:
                # this laptop's new versions first, so that an arriving purge clears
                # their copies of the content too (the forget_* triggers)
                save_stamp(lconn, stamped)
            purged = purge_arriving_informants(handle, deleted_remote)
            before = purge_audit_ids(handle)
            with handle.db.engine.begin() as lconn:
                out = apply_plan(lconn, plan, mine, seq=res.cursor, written_seq=res.cursor,
                                 only_if=True)
                if unpushed:
                    # the server did not take these: they stay this laptop's news
                    mark_seq(lconn, list(unpushed), 0)
                if out.refused:
                    # the team's records this laptop would not take come again next time:
                    # the cursor stays before the first of them (what follows it is
                    # pulled again and found unchanged)
                    refused_ids = {uuid.UUID(r.record_id) for r in out.refused}
                    first = min((st["seq"] for st in news if st["record_id"] in refused_ids),
                                default=res.cursor + 1)
                    res.cursor = min(res.cursor, first - 1)
                put_peer(lconn, PEER, kind="server", url=public_url(url), cursor=res.cursor,
                         mark=utcnow(), last_sync_at=utcnow())
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


def _local_cipher(handle):
    """The team cipher when this copy belongs to an encrypted team project."""
    if handle.key is None or not (handle.project().encryption or {}):
        return None
    from fieldkit.privacy.crypto import TeamCipher

    return TeamCipher(handle.key)


def _settle_encryption(handle, server_row: dict | None, encrypt_server: bool,
                       res: SyncResult) -> tuple[Any, bool, bool]:
    """Whether the team's project is encrypted, and this copy may take part.

    The team's project is encrypted when its Project row describes a key (``encryption``:
    made with ``--encrypt``, or the first sync of an encrypted project finding the server
    empty, or ``--encrypt-server``). Then the server holds the personal fields and audio
    sealed (:mod:`fieldkit.team.sealing`), every copy is encrypted with the same key, and
    a plain copy, or one with another key, is refused before anything moves. An encrypted
    copy of a plain team project stays encrypted here and leaves the server plain (said in
    ``res.notes``). Returns (the cipher or None, whether this copy's Project row changed,
    whether the server's plain copy must be sealed now)."""
    from fieldkit.privacy import crypto

    local_meta = handle.project().encryption or {}
    team_meta = (server_row or {}).get("encryption") or {}
    if not isinstance(team_meta, dict):
        team_meta = {}
    meta = team_meta or local_meta
    slug = handle.folder.name
    if handle.key is None:
        if meta:
            raise ServerError(
                _("The project {slug} is encrypted, and this laptop's copy of it is not: "
                  "nothing was synced, so no plain copy of the team's data is made "
                  "here.").format(slug=slug),
                hint=_("Copy it again, encrypted with the team's passphrase: fieldkit sync "
                       "-p {slug} --server URL after moving this copy away (its unsynced "
                       "changes can follow as a pack: fieldkit project pack).").format(slug=slug))
        if encrypt_server:
            raise ServerError(_("--encrypt-server needs an encrypted project; {slug} is "
                                "not.").format(slug=slug),
                              hint=_("Encrypt it first: fieldkit project encrypt {slug}.").format(slug=slug))
        return None, False, False
    changed = False
    if not meta:
        if server_row is not None and not encrypt_server:
            res.notes.append(_("This laptop's copy of {slug} is encrypted, but the team's "
                               "copy on the server is not: names, transcripts and audio are "
                               "there in plain text. To encrypt it on the server for the "
                               "whole team: fieldkit sync -p {slug} --encrypt-server (every "
                               "teammate then needs an encrypted copy).").format(slug=slug))
            return None, False, False
        meta = crypto.public_meta(handle.folder)
        from fieldkit.store.models import Project

        with handle.db.transaction() as s:
            p = s.get(Project, handle.project_id)
            p.encryption = meta
            s.add(p)
        changed = True
    if crypto.key_check(handle.key) != meta.get("check"):
        raise ServerError(
            _("This laptop's copy of {slug} is encrypted with another key than the team's "
              "project: nothing was synced.").format(slug=slug),
            hint=_("Copy the project again from the team server with the team's passphrase "
                   "(move this copy away first; its changes can follow as a pack)."))
    if server_row is not None and not team_meta:
        res.notes.append(_("The team's copy of {slug} on the server is now encrypted; "
                           "teammates with a plain copy must copy it again "
                           "encrypted.").format(slug=slug))
    return crypto.TeamCipher(handle.key), changed, server_row is not None and not team_meta


def _seal_server(sconn: Connection) -> None:
    """The server held the team's project in plain text: rewrite every personal field,
    version and audio file sealed (in the sync's transaction)."""
    from fieldkit.team.merge import _upsert_states
    from fieldkit.team.sealing import COPIES, PERSONAL, audio_aad, cipher_of, open_state

    cipher = cipher_of(sconn)
    for tbl in synced_tables():
        if tbl.name in PERSONAL or tbl.name in COPIES:
            rows = list(read_rows(sconn, tbl))      # plain values are read as they are
            for i in range(0, len(rows), 2000):
                upsert(sconn, tbl, rows[i:i + 2000])
    rs = RecordState.__table__
    states = [open_state(cipher, dict(r._mapping)) for r in sconn.execute(select(rs))]
    for i in range(0, len(states), 2000):
        _upsert_states(sconn, states[i:i + 2000])
    sa = ServerAudio.__table__
    for fid in list(sconn.execute(select(sa.c.file_id)).scalars()):
        data = sconn.execute(select(sa.c.data).where(sa.c.file_id == fid)).scalar()
        if data is None or bytes(data).startswith(cipher.BLOB):
            continue
        data = bytes(data)
        sconn.execute(sa.update().where(sa.c.file_id == fid).values(
            sha256=cipher.digest(data), data=cipher.seal_blob(data, audio_aad(fid))))


def _local_ids(handle, tname: str, ids: set[uuid.UUID]) -> set[uuid.UUID]:
    """Which of ``ids`` this laptop holds in table ``tname``."""
    if not ids:
        return set()
    t = table(tname)
    idl = list(ids)
    out: set[uuid.UUID] = set()
    with handle.db.engine.connect() as lconn:
        for i in range(0, len(idl), 500):
            out |= set(lconn.execute(select(t.c.id).where(t.c.id.in_(idl[i:i + 500]))).scalars())
    return out


def _may_write(sconn: Connection) -> bool:
    return bool(sconn.exec_driver_sql("SELECT has_table_privilege('recordstate', 'INSERT')").scalar())


def conn_rows(conn: Connection, tbl, where) -> list[dict[str, Any]]:
    return [dict(r._mapping) for r in conn.execute(select(tbl).where(where))]


def _push(sconn: Connection, push: dict[uuid.UUID, Version], seq: int) -> tuple[int, int, list[Refusal]]:
    """Merged versions onto the server (change number ``seq``); the rows the server's own
    cascades removed become deletions too. A record the server refuses is left out (no
    version written, so it is not taken as agreed) and returned; the rest is written."""
    role = sconn.exec_driver_sql("SELECT current_user").scalar()
    refused: list[Refusal] = []
    written = apply_versions(sconn, push, seq=seq, keep_data=False, by=role, refused=refused)
    dels = sum(1 for rid in written if push[rid].deleted)
    if dels:
        _tombstone_lost(sconn, seq)
    return len(written) - dels, dels, refused


def _tombstone_lost(sconn: Connection, seq: int, tables: tuple[str, ...] | None = None) -> None:
    """Versions on the server whose record is gone (removed by the server's own cascades,
    or a purge's clean-up of conflict copies) become deletions at change ``seq``, so
    that every laptop deletes its copy too."""
    from fieldkit.team.sealing import cipher_of, open_state

    rs = RecordState.__table__
    role = sconn.exec_driver_sql("SELECT current_user").scalar()
    cipher = cipher_of(sconn)
    lost_rows = []
    for tbl in synced_tables():
        if tables is not None and tbl.name not in tables:
            continue
        lost = [open_state(cipher, dict(r._mapping)) if cipher else dict(r._mapping)
                for r in sconn.execute(select(rs).where(
            rs.c.tbl == tbl.name, rs.c.deleted.is_(False),
            not_(exists().where(tbl.c.id == rs.c.record_id))))]
        for st in lost:
            vv = dict(st.get("vv") or {})
            vv["server"] = vv.get("server", 0) + 1
            lost_rows.append({"record_id": st["record_id"], "tbl": st["tbl"], "hash": "",
                              "seq": seq, "deleted": True, "by": role, "vv": vv,
                              "anc": [{"vv": e["vv"], "h": e.get("h", "")}
                                      for e in (st.get("anc") or [])], "data": None})
    if lost_rows:
        from fieldkit.team.merge import _upsert_states

        _upsert_states(sconn, lost_rows)


def _adopt_team_informants(handle, url: str, schema: str, codes: set[str]) -> None:
    """This laptop registered someone the team already has (same code): point everything
    here at the team's informant and drop the local duplicate, keeping local details the
    team's record lacks."""
    from sqlalchemy.exc import DBAPIError

    inf = table("informant")
    engine = engine_for(url, schema)
    cipher = _local_cipher(handle)
    if cipher is not None:
        attach(engine, cipher)
    try:
        with engine.connect() as sconn:
            team = {d["code"]: d for d in read_rows(sconn, inf, where=inf.c.code.in_(list(codes)))}
            team_versions = load_versions(sconn, [uuid.UUID(d["id"]) for d in team.values()],
                                          {uuid.UUID(d["id"]): "informant" for d in team.values()})
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
            if new in team_versions:    # the details added here are a change to the team's version
                from fieldkit.team.merge import _upsert_states, state_row

                _upsert_states(conn, [state_row(team_versions[new], 1, keep_data=True)])


def _recode_local(handle, recode: dict[str, str]) -> None:
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


def _audio_up(sconn: Connection, handle, *, upload: bool = True,
              silenced: bool = False) -> tuple[int, bool]:
    """When the team shares audio for this project: this laptop's files the server lacks;
    with ``silenced`` (this sync carries a withdrawal), also the files a withdrawal purge
    silenced here whose server copy still differs."""
    import hashlib

    from fieldkit.team.sealing import audio_aad, cipher_of

    cipher = cipher_of(sconn)

    def digest(data: bytes) -> str:     # of the plain audio (keyed when sealed)
        return cipher.digest(data) if cipher else hashlib.sha256(data).hexdigest()

    def seal(fid, data: bytes) -> bytes:
        return cipher.seal_blob(data, audio_aad(fid)) if cipher else data

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
                sha = digest(data)
                if sconn.execute(select(sa.c.sha256).where(sa.c.file_id == fid)).scalar() != sha:
                    sconn.execute(sa.update().where(sa.c.file_id == fid).values(
                        sha256=sha, size=len(data), data=seal(fid, data)))
                    n += 1
                continue
            data = _read_audio(handle, p)
            sconn.execute(sa.insert().values(file_id=fid, sha256=digest(data),
                                             size=len(data), data=seal(fid, data)))
            n += 1
    return n, True


def _read_audio(handle, p) -> bytes:
    from fieldkit.privacy import crypto

    if handle.key is not None and crypto.is_encrypted_file(p):
        return crypto.read_encrypted(p, handle.key)
    return p.read_bytes()


def _audio_down(engine, handle) -> int:
    from fieldkit.team.ops import write_audio

    rf = table("recordingfile")
    with handle.db.engine.connect() as lconn:
        missing = {r.id: r.path for r in lconn.execute(select(rf.c.id, rf.c.path))
                   if not (handle.folder / r.path).exists()}
    if not missing:
        return 0
    from fieldkit.team.sealing import audio_aad, cipher_of

    sa = ServerAudio.__table__
    with engine.connect() as sconn:
        cipher = cipher_of(sconn)
        got = {missing[fid]: (cipher.open_blob(bytes(data), audio_aad(fid)) if cipher else data)
               for fid, data in sconn.execute(
                   select(sa.c.file_id, sa.c.data).where(sa.c.file_id.in_(list(missing))))}
    return write_audio(handle, got)


def clone_project(ws, name: str, url: str, passphrase: str | None = None, ask=None):
    """A project that is on the team server but not on this laptop yet: an empty copy
    with the team's Project row (the sync fills it); encrypted with ``passphrase``. An
    encrypted team project makes an encrypted copy with the team's key: the passphrase
    is the team's (``ask()`` gives it when ``passphrase`` is None)."""
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
    row = rows[0]
    if row.get("encryption"):
        from fieldkit.privacy import crypto
        from fieldkit.team.sealing import open_record

        if not passphrase and ask is not None:
            passphrase = ask()
        handle = new_project_with_id(ws, name, row, passphrase)
        # the row's personal fields were read sealed: now that the key is here, open them
        try:
            with handle.db.engine.begin() as conn:
                upsert(conn, table("project"), [open_record(crypto.TeamCipher(handle.key),
                                                            "project", dict(row))])
        except BaseException:
            handle.close()
            import shutil

            shutil.rmtree(handle.folder, ignore_errors=True)
            raise
        return handle
    return new_project_with_id(ws, name, row, passphrase)


def remembered_url(handle) -> str | None:
    from fieldkit.team.state import get_peer

    with handle.db.engine.connect() as conn:
        p = get_peer(conn, PEER)
    return p["url"] if p and p.get("url") else None


__all__ = ["sync_project", "clone_project", "remembered_url", "dirty_ids", "SyncResult"]
