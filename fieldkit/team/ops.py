"""Team operations on a laptop's project: merge a pack, purges that arrive from others,
the conflict list and settling it."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Callable

from fieldkit.errors import FieldkitError
from fieldkit.team.merge import Clash, Outcome, informant_clashes, reconcile, remap_informants, stamp
from fieldkit.i18n import N_, Said, _

#: ask(clash) -> ("rename", "NEWCODE") or ("same", None); None means "cannot ask"
AskClash = Callable[[Clash], tuple[str, str | None]]


@dataclass
class MergeResult:
    folder: Path
    created: bool
    outcome: Outcome
    audio_written: int = 0
    #: the pack's signature: "pinned" (the sender's known key), "new" (the first pack
    #: from this sender: its key is remembered now) or "unsigned" (an older fieldkit's)
    signature: str = "pinned"
    fingerprint: str = ""


def resolve_clashes(clashes: list[Clash], recode: dict[str, str], same: set[str],
                    ask: AskClash | None, where: str) -> dict[str, dict[str, str]]:
    """Decisions per incoming informant id: {"code": NEW} or {"same": local id}."""
    decisions: dict[str, dict[str, str]] = {}
    left = []
    for c in clashes:
        if c.code in recode:
            decisions[str(c.incoming_id)] = {"code": recode[c.code]}
        elif c.code in same:
            decisions[str(c.incoming_id)] = {"same": str(c.local_id)}
        elif ask is not None:
            how, new = ask(c)
            decisions[str(c.incoming_id)] = {"code": new} if how == "rename" and new else {"same": str(c.local_id)}
        else:
            left.append(c)
    if left:
        lines = "\n  ".join(c.describe() for c in left)
        codes = left[0].code
        raise FieldkitError(
            _("Informant codes clash; nothing was merged:\n  {lines}").format(lines=lines),
            hint=_("Say what each is: {where} --recode {codes}=NEWCODE (a different "
                     "person, give the incoming one a new code) or --same-person "
                     "{codes} (the same person registered on both laptops).").format(where=where, codes=codes))
    return decisions


def apply_decisions(incoming: dict, decisions: dict[str, dict[str, str]]) -> None:
    mapping = {}
    for iid, dec in decisions.items():
        rid = uuid.UUID(iid)
        if "same" in dec:
            mapping[rid] = uuid.UUID(dec["same"])
        elif rid in incoming:
            tbl, d = incoming[rid]
            incoming[rid] = (tbl, {**d, "code": dec["code"]})
    remap_informants(incoming, mapping)


def _redecided(incoming: dict, records: dict) -> None:
    """Incoming versions that a clash decision changed (a new code, or pointed at our
    informant) become new versions, so that the decision travels back and an older
    version never undoes it."""
    from fieldkit.team.merge import live

    for rid, v in list(incoming.items()):
        if v.deleted:
            continue
        if rid not in records:
            del incoming[rid]
            continue
        d = records[rid][1]
        if d == v.data:
            continue            # no decision touched it (the usual case): nothing to hash
        nv = live(v.tbl, d, v.vv, [v.entry()] + v.anc)
        if nv.hash != v.hash:
            nv.vv["recode"] = nv.vv.get("recode", 0) + 1
            incoming[rid] = nv


def purge_arriving_informants(handle, deleted: dict[uuid.UUID, str]) -> list[str]:
    """Informants the other side purged: purge them here too, audio included, exactly as a
    withdrawal purge on this laptop would."""
    from sqlmodel import select

    from fieldkit.privacy.purge import execute_purge, plan_informant_purge
    from fieldkit.store.models import Informant

    ids = [rid for rid, t in deleted.items() if t == "informant"]
    if not ids:
        return []
    with handle.db.session() as s:
        codes = [i.code for i in s.exec(select(Informant).where(Informant.id.in_(ids)))]
    for code in codes:
        execute_purge(handle, plan_informant_purge(handle, code))
    return codes


def purge_project_if_arrived(handle, before: set[str]) -> bool:
    """A deadline purge done elsewhere (its audit entry arrived): do it here too when this
    laptop still holds audio or personal data."""
    from sqlmodel import select

    from fieldkit.privacy.purge import execute_project_purge, plan_project_purge
    from fieldkit.store.models import AuditEntry

    with handle.db.session() as s:
        now = {str(a.id) for a in s.exec(select(AuditEntry).where(AuditEntry.action == "purge_project"))}
    if not (now - before):
        return False
    plan = plan_project_purge(handle)
    if not plan.audio_files and not plan.recordings and not plan.extra_files:
        with handle.db.session() as s:
            from fieldkit.store.models import Informant

            if not any(i.name or i.attributes for i in s.exec(select(Informant))):
                return False
    execute_project_purge(handle, plan)
    return True


def purge_audit_ids(handle) -> set[str]:
    from sqlmodel import select

    from fieldkit.store.models import AuditEntry

    with handle.db.session() as s:
        return {str(a.id) for a in s.exec(select(AuditEntry).where(AuditEntry.action == "purge_project"))}


def write_audio(handle, audio: dict[str, bytes]) -> int:
    """Audio files of the project's recordings that this laptop lacks (never overwrites)."""
    from sqlmodel import select

    from fieldkit.privacy import crypto
    from fieldkit.store.models import RecordingFile

    if not audio:
        return 0
    with handle.db.session() as s:
        paths = {rf.path for rf in s.exec(select(RecordingFile))}
    n = 0
    root = handle.folder.resolve()
    for rel, data in audio.items():
        target = (handle.folder / rel).resolve()
        if rel not in paths or target.exists() or root not in target.parents:
            continue
        target.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
        tmp = target.with_name(target.name + ".part")
        if handle.key is not None:
            tmp.unlink(missing_ok=True)
            with crypto.EncryptedWriter(tmp, handle.key, fsync=False) as w:
                for i in range(0, len(data), 1 << 20):
                    w.write(data[i:i + (1 << 20)])
        else:
            tmp.write_bytes(data)
        tmp.replace(target)
        n += 1
    return n


def merge_pack(ws, path: Path, *, into: str | None = None, passphrase: str | None = None,
               recode: dict[str, str] | None = None, same: set[str] | None = None,
               ask: AskClash | None = None) -> MergeResult:
    from fieldkit.projects import slugify
    from fieldkit.store.models import utcnow
    from fieldkit.team.pack import incoming_from_pack, read_pack
    from fieldkit.team.state import get_peer, put_peer

    contents = read_pack(path, passphrase)
    man = contents.manifest
    incoming, deleted = incoming_from_pack(contents)
    name = into or man["project"]
    folder = ws.projects_dir / slugify(name)
    created = False
    if (folder / "project.db").is_file():
        handle = ws.open(folder, passphrase=passphrase)
        if str(handle.project_id) != man["project_id"]:
            handle.close()
            raise FieldkitError(
                _("The project {name} on this laptop is a different project from the "
                    "one in the pack ({project}), though they share a name.").format(name=folder.name, project=man['project']),
                hint=_("Merge it into a new project with --into OTHERNAME. Nothing "
                         "was changed."))
        # an encrypted project (its row describes the key; a copy that only encrypted
        # itself, of a plain team project, is not one: as for sync)
        if handle.key is None and contents.records["tables"]["project"][0].get("encryption"):
            handle.close()
            raise FieldkitError(
                _("The pack {path} is of an encrypted project, and the project {name} on this "
                  "laptop is not encrypted: nothing was merged, so no plain copy of its data "
                  "is made here.").format(path=path, name=folder.name),
                hint=_("Merge it into a new, encrypted copy: fieldkit project merge FILE --into "
                       "OTHERNAME (with the project's passphrase)."))
    else:
        handle = new_project_with_id(ws, name, contents.records["tables"]["project"][0],
                                     passphrase if man.get("encrypted") else None)
        created = True
    try:
        peer = man["origin"]
        with handle.db.engine.begin() as conn:
            known = (get_peer(conn, peer) or {}).get("options") or {}
        signature, known = _check_signer(path, peer, contents.signer, known)
        decisions = dict(known.get("informants", {}))
        records = {rid: (v.tbl, dict(v.data or {})) for rid, v in incoming.items() if not v.deleted}
        clashes = informant_clashes_for(handle, records, decisions)
        decisions.update(resolve_clashes(clashes, recode or {}, same or set(), ask,
                                         "fieldkit project merge FILE"))
        apply_decisions(records, decisions)
        _redecided(incoming, records)
        purged = purge_arriving_informants(handle, deleted)
        before = purge_audit_ids(handle)
        with handle.db.engine.begin() as conn:
            stamp(conn)
            out = reconcile(conn, peer, incoming)
            put_peer(conn, peer, kind="laptop", last_sync_at=utcnow(),
                     options={**known, "informants": decisions})
        out.purged_informants = purged
        purge_project_if_arrived(handle, before)
        written = write_audio(handle, contents.audio)
        from fieldkit.team.pack import fingerprint

        return MergeResult(handle.folder, created, out, written, signature,
                           fingerprint(contents.signer) if contents.signer else "")
    except BaseException:
        handle.close()
        if created:
            import shutil

            shutil.rmtree(handle.folder, ignore_errors=True)   # nothing half-made
        raise
    finally:
        handle.close()


def _check_signer(path: Path, peer: str, signer: str | None,
                  known: dict[str, Any]) -> tuple[str, dict[str, Any]]:
    """The sender's key against the one this copy remembers for it (trust on first use);
    returns how the pack is signed and the peer's options to keep."""
    from fieldkit.team.pack import fingerprint

    pinned = known.get("pack_key")
    if pinned and signer != pinned:
        raise FieldkitError(
            (_("The pack {path} is not signed, but earlier packs from its sender were.")
             if signer is None else
             _("The pack {path} is signed with another key ({got}) than earlier packs from its "
               "sender ({pinned}).")).format(path=path, got=fingerprint(signer) if signer else "",
                                            pinned=fingerprint(pinned)),
            hint=_("Nothing was changed. It may have been made or changed by someone else: ask "
                   "the sender for a new pack and compare the key it shows."))
    if signer is None:
        return "unsigned", known
    if pinned:
        return "pinned", known
    return "new", {**known, "pack_key": signer}


def informant_clashes_for(handle, incoming: dict, decisions: dict) -> list[Clash]:
    with handle.db.engine.begin() as conn:
        return informant_clashes(conn, incoming, decisions)


def new_project_with_id(ws, name: str, project_row: dict[str, Any], passphrase: str | None):
    """An empty project whose Project row is the team's (the rest comes with the merge/sync).
    The team's project is encrypted (its row describes the key): the copy is too, with the
    team's key, and needs the team's passphrase."""
    from fieldkit.store.models import Project
    from fieldkit.team.records import upsert

    meta = project_row.get("encryption") or None
    if meta and not passphrase:
        from fieldkit.privacy.crypto import ProjectLocked

        raise ProjectLocked(
            _("The project {name} is encrypted; its copy here will be encrypted too and needs "
              "the team's passphrase.").format(name=project_row.get("slug") or name),
            hint=_("Type it when asked, or set $FIELDKIT_PASSPHRASE. Nothing was copied."))
    handle = ws.create(name, passphrase=passphrase, key_meta=meta)
    try:
        with handle.db.engine.begin() as conn:
            t = Project.__table__
            conn.execute(t.delete().where(t.c.id == handle.project_id))
            upsert(conn, t, [project_row])
    except BaseException:
        handle.close()
        import shutil

        shutil.rmtree(handle.folder, ignore_errors=True)
        raise
    handle.project_id = uuid.UUID(project_row["id"])
    return handle


# --------------------------------------------------------------------------- conflicts


def list_conflicts(handle, *, include_settled: bool = False) -> list[dict[str, Any]]:
    from sqlalchemy import select

    from fieldkit.store.models import SyncConflict

    sc = SyncConflict.__table__
    stmt = select(sc).order_by(sc.c.created_at)
    if not include_settled:
        stmt = stmt.where(sc.c.settled_at.is_(None))
    with handle.db.engine.connect() as conn:
        return [dict(r._mapping) for r in conn.execute(stmt)]


#: what each kind of record is called (a conflict names the record's table)
RECORD_KINDS = {"transcriptsegment": N_("Transcript segment"), "event": N_("Note or tag"), "session": N_("Session"),
                "informant": N_("Informant"), "guide": N_("Guide"), "guideversion": N_("Guide version"),
                "tagcode": N_("Tag"), "tagscheme": N_("Tag scheme"), "researcher": N_("Researcher"),
                "project": N_("Project"), "sessionparticipant": N_("Participant"), "recording": N_("Recording")}

#: what a field of a record is called where a conflict lists the differences (a field not
#: named here is shown by its column name)
FIELD_LABELS = {
    "text": N_("text"), "edited": N_("edited text"), "verbatim": N_("verbatim text"),
    "speaker_label": N_("speaker"), "speaker_informant_id": N_("speaker"), "speaker_researcher_id": N_("speaker"),
    "start_ms": N_("start time"), "end_ms": N_("end time"), "position_ms": N_("time"), "code": N_("code"),
    "label": N_("label"), "name": N_("name"), "title": N_("title"), "role": N_("role"),
    "organisation": N_("organisation"), "site": N_("site"), "group_label": N_("informant group"),
    "attributes": N_("attributes"), "info_letter_sent_on": N_("information letter sent"),
    "written_consent_on": N_("written consent"), "consent_kept_at": N_("consent form kept at"),
    "withdrawn_on": N_("withdrawn"), "initials": N_("initials"), "institution": N_("institution"),
    "place": N_("place"), "starts_at": N_("planned time"), "status": N_("status"), "kind": N_("kind"),
    "header": N_("header fields"), "key": N_("key"), "colour": N_("colour"), "description": N_("description"),
    "recording_consent": N_("recording consent"), "seat": N_("seat"), "is_pilot": N_("pilot"),
    "tag_code_id": N_("tag"), "question_id": N_("question"), "informant_id": N_("informant"),
    "lead_id": N_("lead"), "observer_id": N_("observer"), "guide_version_id": N_("guide"),
    "tag_scheme_id": N_("tag scheme"), "deletion_deadline": N_("deletion deadline"),
    "sikt_reference": N_("Sikt reference"), "language": N_("language"), "vocabulary": N_("word list"),
    "snippets": N_("snippets"), "source_text": N_("guide text"),
}


def _field(name: str) -> str:
    return _(FIELD_LABELS[name]) if name in FIELD_LABELS else name


def describe_conflict(c: dict[str, Any]) -> list[Said]:
    """What differs between the kept and the other version, field by field (a deleted
    record: what the set-aside version holds); each line a message with the field's name
    and the two values."""
    skip = {"updated_at", "created_at"}
    if c.get("kept_side") in ("deleted", "carried"):
        return [Said("conflict_set_aside", N_("{field}: set aside {other}"), field=_field(k), other=repr(v))
                for k, v in sorted((c["other"] or {}).items())
                if k not in skip | {"id", "words"} and v not in (None, "", [], {})]
    keys = sorted((set(c["kept"]) | set(c["other"])) - skip)
    return [Said("conflict_field", N_("{field}: kept {kept}, other {other}"), field=_field(k),
                 kept=repr(c["kept"].get(k)), other=repr(c["other"].get(k)))
            for k in keys if c["kept"].get(k) != c["other"].get(k)]


def settle(handle, conflict_id: str, keep: str) -> dict[str, Any]:
    """Settle one conflict: keep="kept" leaves the record as it is; keep="other" puts the
    set-aside version back (as a new change, so it travels at the next sync or pack)."""
    from sqlalchemy import select

    from fieldkit.store.models import SyncConflict, utcnow
    from fieldkit.team.records import read_rows, table, upsert

    if keep not in ("kept", "other"):
        raise FieldkitError(_("Settle a conflict with --keep kept or --keep other."))
    sc = SyncConflict.__table__
    with handle.db.engine.begin() as conn:
        rows = [dict(r._mapping) for r in conn.execute(select(sc).where(sc.c.settled_at.is_(None)))]
        match = [r for r in rows if str(r["id"]).startswith(conflict_id.lower())]
        if len(match) != 1:
            raise FieldkitError(
                _("No open conflict {conflict_id!r}").format(conflict_id=conflict_id) if not match
                else _("{conflict_id!r} fits several conflicts.").format(conflict_id=conflict_id),
                hint=_("`fieldkit project conflicts -p NAME` lists them with their "
                         "ids."))
        c = match[0]
        if keep == "other":
            tbl = table(c["tbl"])
            now = list(read_rows(conn, tbl, ids=[c["record_id"]]))
            other = dict(c["other"] or {})
            if now:
                # put back the fields that were set aside (the rest may have moved on)
                changed = {k: v for k, v in other.items()
                           if k not in ("updated_at",) and (c["kept"] or {}).get(k) != v}
                upsert(conn, tbl, [{**now[0], **changed, "updated_at": utcnow().isoformat()}])
            elif other:
                from fieldkit.team.merge import _fix_references

                rows = {c["record_id"]: (c["tbl"], {**other, "updated_at": utcnow().isoformat()})}
                _fix_references(conn, rows, set())
                if not rows:
                    raise FieldkitError(_("That record belonged to something deleted since; "
                                            "there is nothing to put it back into."))
                upsert(conn, tbl, [rows[c["record_id"]][1]])
            else:
                raise FieldkitError(_("That record was deleted since; there is "
                                        "nothing to put back."))
        conn.execute(sc.update().where(sc.c.id == c["id"]).values(settled_at=utcnow(), settled_with=keep))
    return c
