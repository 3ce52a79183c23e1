"""One file with a project's records (and audio if asked), to carry to another laptop.

A pack is a zip file holding ``pack.json`` (what it is: format version, fieldkit version,
schema, whether it is encrypted) and ``payload``: an inner zip with ``records.json``
(every synced table's rows, the records the packing laptop knows were deleted, and the
versions it last agreed with each peer) and ``audio/...``. When the project is encrypted,
the payload is encrypted with the project's key (AES-256-GCM records, see
:mod:`fieldkit.privacy.crypto`) and ``pack.json`` carries the key parameters (salt and a
check value, never the key), so the same passphrase opens it on the other laptop.

Merging reads and checks the whole pack first, then applies it in one transaction:
a damaged pack, a newer format or a wrong passphrase changes nothing.
"""

from __future__ import annotations

import io
import json
import os
import shutil
import tempfile
import uuid
import zipfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from fieldkit import __version__
from fieldkit.errors import FieldkitError
from fieldkit.i18n import _

PACK_FORMAT = "fieldkit-pack"
#: 2: records carry their versions (version vectors, earlier versions, tombstones)
PACK_VERSION = 2


@dataclass
class PackContents:
    manifest: dict[str, Any]
    records: dict[str, Any]
    audio: dict[str, bytes]


def _laptop_id(conn) -> str:
    from fieldkit.team.state import laptop_id

    return laptop_id(conn)


def write_pack(handle, out: Path, *, with_audio: bool = False) -> dict[str, int]:
    """Write ``handle``'s project to ``out`` (atomically). Returns counts."""
    from sqlalchemy import select

    from fieldkit.privacy import crypto
    from fieldkit.store.dbfile import SCHEMA_HEAD
    from fieldkit.store.models import RecordState, utcnow
    from fieldkit.team.merge import stamp
    from fieldkit.team.records import read_rows, synced_tables
    from fieldkit.team.state import put_peer

    out = Path(out)
    with handle.db.engine.begin() as conn:   # one consistent snapshot
        stamp(conn)
        origin = _laptop_id(conn)
        tables: dict[str, list[dict[str, Any]]] = {}
        for tbl in synced_tables():
            tables[tbl.name] = list(read_rows(conn, tbl))
        rs = RecordState.__table__
        versions: dict[str, dict[str, Any]] = {}
        deleted: dict[str, str] = {}
        for r in conn.execute(select(rs.c.record_id, rs.c.tbl, rs.c.vv, rs.c.anc, rs.c.deleted)):
            versions[str(r.record_id)] = {"tbl": r.tbl, "vv": r.vv, "anc": r.anc, "deleted": r.deleted}
            if r.deleted:
                deleted[str(r.record_id)] = r.tbl
        put_peer(conn, "sent", kind="pack", last_sync_at=utcnow())
    project = tables["project"][0]
    records = {"project_id": project["id"], "origin": origin, "tables": tables,
               "deleted": deleted, "versions": versions}
    audio_files: list[tuple[str, Path]] = []
    if with_audio:
        for rf in tables.get("recordingfile", []):
            p = handle.folder / rf["path"]
            if p.is_file():
                audio_files.append((rf["path"], p))
    counts = {t: len(r) for t, r in tables.items() if r}
    counts["audio_files"] = len(audio_files)

    inner = io.BytesIO()
    with zipfile.ZipFile(inner, "w", zipfile.ZIP_DEFLATED) as z:
        z.writestr("records.json", json.dumps(records, ensure_ascii=False, separators=(",", ":")))
        for rel, p in audio_files:
            data = crypto.read_encrypted(p, handle.key) if handle.key and crypto.is_encrypted_file(p) \
                else p.read_bytes()
            z.writestr(f"audio/{rel}", data, compress_type=zipfile.ZIP_STORED)
    manifest = {"format": PACK_FORMAT, "version": PACK_VERSION, "fieldkit": __version__,
                "schema": SCHEMA_HEAD, "project_id": project["id"], "project": project["name"],
                "slug": project["slug"], "origin": origin, "encrypted": handle.key is not None,
                "counts": counts}
    tmpdir = Path(tempfile.mkdtemp(prefix=".fieldkit-pack-", dir=out.parent if out.parent.exists() else None))
    try:
        payload = tmpdir / "payload"
        if handle.key is not None:
            manifest["key"] = json.loads((handle.folder / crypto.KEYFILE).read_text())
            with crypto.EncryptedWriter(payload, handle.key, fsync=False) as w:
                buf = inner.getbuffer()
                for i in range(0, len(buf), 1 << 20):
                    w.write(bytes(buf[i:i + (1 << 20)]))
        else:
            payload.write_bytes(inner.getbuffer())
        tmp = tmpdir / "pack"
        with zipfile.ZipFile(tmp, "w", zipfile.ZIP_STORED) as z:
            z.writestr("pack.json", json.dumps(manifest, indent=1))
            z.write(payload, "payload")
        with open(tmp, "rb+") as fh:
            os.fsync(fh.fileno())
        os.chmod(tmp, 0o600)
        os.replace(tmp, out)
    finally:
        shutil.rmtree(tmpdir, ignore_errors=True)
    return counts


def _damaged(path: Path, why: str) -> FieldkitError:
    return FieldkitError(_("The pack {path} is damaged or incomplete ({why}).").format(path=path, why=why),
                         hint=_("Nothing was changed. Make the pack again (fieldkit "
                                  "project pack) and copy it once more."))


def read_manifest(path: Path) -> dict[str, Any]:
    path = Path(path)
    if not path.is_file():
        raise FieldkitError(_("There is no pack at {path}.").format(path=path))
    try:
        with zipfile.ZipFile(path) as z:
            manifest = json.loads(z.read("pack.json"))
    except (zipfile.BadZipFile, KeyError, ValueError, OSError, EOFError) as exc:
        raise _damaged(path, str(exc) or type(exc).__name__) from exc
    if manifest.get("format") != PACK_FORMAT:
        raise FieldkitError(_("{path} is not a fieldkit pack.").format(path=path))
    from fieldkit.store.dbfile import KNOWN_REVISIONS

    if int(manifest.get("version", 0)) > PACK_VERSION or manifest.get("schema") not in KNOWN_REVISIONS:
        raise FieldkitError(
            _("The pack {path} was made by a newer fieldkit ({get}, schema {get2}; "
                "this is fieldkit {version}).").format(path=path, get=manifest.get('fieldkit'), get2=manifest.get('schema'), version=__version__),
            hint=_("Update fieldkit on this laptop (pip install -U fieldkit), then "
                     "merge again. Nothing was changed."))
    return manifest


def read_pack(path: Path, passphrase: str | None = None) -> PackContents:
    """Everything in the pack, checked (CRCs, authentication, format) before any use."""
    from fieldkit.privacy import crypto

    path = Path(path)
    manifest = read_manifest(path)
    try:
        with zipfile.ZipFile(path) as z:
            bad = z.testzip()
            if bad is not None:
                raise _damaged(path, _("{name} fails its checksum").format(name=bad))
            payload = z.read("payload")
    except (zipfile.BadZipFile, KeyError, OSError, EOFError) as exc:
        raise _damaged(path, str(exc) or type(exc).__name__) from exc
    if manifest.get("encrypted"):
        if not passphrase:
            raise crypto.ProjectLocked(
                _("The pack {path} is encrypted.").format(path=path),
                hint=_("Give the project's passphrase (prompt or "
                         "$FIELDKIT_PASSPHRASE)."))
        with tempfile.TemporaryDirectory(prefix=".fieldkit-unpack-") as td:
            (Path(td) / crypto.KEYFILE).write_text(json.dumps(manifest.get("key", {})))
            try:
                key = crypto.unlock(Path(td), passphrase)
            except crypto.WrongPassphrase as exc:       # named by the pack, not the temp folder
                raise crypto.WrongPassphrase(
                    _("Wrong passphrase for the pack {path}.").format(path=path),
                    hint=_("Give the passphrase of the project the pack was made from. "
                           "Nothing was changed.")) from exc
            (Path(td) / "payload").write_bytes(payload)
            payload = crypto.read_encrypted(Path(td) / "payload", key)
    try:
        with zipfile.ZipFile(io.BytesIO(payload)) as z:
            bad = z.testzip()
            if bad is not None:
                raise _damaged(path, _("{name} fails its checksum").format(name=bad))
            records = json.loads(z.read("records.json"))
            audio = {n[len("audio/"):]: z.read(n) for n in z.namelist() if n.startswith("audio/")}
    except (zipfile.BadZipFile, KeyError, ValueError, EOFError) as exc:
        raise _damaged(path, str(exc) or type(exc).__name__) from exc
    if not isinstance(records.get("tables"), dict) or not records["tables"].get("project"):
        raise _damaged(path, "no project records")
    return PackContents(manifest, records, audio)


def incoming_from_pack(contents: PackContents) -> tuple[dict, dict]:
    """(versions by id, deleted ids {id: table}). A pack made before versions existed
    gives every record the empty vector (see :func:`fieldkit.team.merge.stamp`)."""
    from fieldkit.team.merge import Version, live
    from fieldkit.team.records import synced_tables

    known = {t.name for t in synced_tables()}
    meta = contents.records.get("versions") or {}
    incoming: dict[uuid.UUID, Version] = {}
    for tname, rows in contents.records["tables"].items():
        if tname not in known:
            raise FieldkitError(_("The pack holds records of an unknown kind "
                                    "({tname}).").format(tname=tname),
                                hint=_("It was made by a newer fieldkit; update "
                                         "fieldkit. Nothing was changed."))
        for r in rows:
            m = meta.get(r["id"]) or {}
            incoming[uuid.UUID(r["id"])] = live(tname, r, m.get("vv") or {}, m.get("anc") or [])
    deleted = {uuid.UUID(k): v for k, v in contents.records.get("deleted", {}).items()}
    for k, m in meta.items():
        rid = uuid.UUID(k)
        if m.get("deleted") and rid not in incoming and m.get("tbl") in known:
            incoming[rid] = Version(m["tbl"], rid, m.get("vv") or {}, True, None,
                                    m.get("anc") or [], "")
    for rid, tname in deleted.items():
        if rid not in incoming and tname in known:
            incoming[rid] = Version(tname, rid, {"legacy-deletion": 1}, True, None, [], "")
    return incoming, deleted
