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
PACK_VERSION = 1


@dataclass
class PackContents:
    manifest: dict[str, Any]
    records: dict[str, Any]
    audio: dict[str, bytes]


def _laptop_id(conn) -> str:  # noqa: ANN001
    from fieldkit.team.state import laptop_id

    return laptop_id(conn)


def write_pack(handle, out: Path, *, with_audio: bool = False) -> dict[str, int]:  # noqa: ANN001
    """Write ``handle``'s project to ``out`` (atomically). Returns counts."""
    from sqlalchemy import select

    from fieldkit.privacy import crypto
    from fieldkit.store.models import SyncBase
    from fieldkit.store.dbfile import SCHEMA_HEAD
    from fieldkit.team.merge import set_base
    from fieldkit.team.records import content_hash, read_rows, synced_tables

    out = Path(out)
    with handle.db.engine.begin() as conn:   # one consistent snapshot
        origin = _laptop_id(conn)
        tables: dict[str, list[dict[str, Any]]] = {}
        ids: set[str] = set()
        for tbl in synced_tables():
            rows = list(read_rows(conn, tbl))
            tables[tbl.name] = rows
            ids |= {r["id"] for r in rows}
        sb = SyncBase.__table__
        base: dict[str, dict[str, str]] = {}
        deleted: dict[str, str] = {}
        for peer, rid, tname, h in conn.execute(select(sb.c.peer, sb.c.record_id, sb.c.tbl, sb.c.hash)):
            base.setdefault(peer, {})[str(rid)] = h
            if str(rid) not in ids:
                deleted[str(rid)] = tname
        # what has left this laptop (after reading the earlier versions above): a record
        # deleted here later is then known to be deleted, and travels as a deletion
        set_base(conn, "sent", {uuid.UUID(r["id"]): (t, content_hash(r))
                                for t, rows in tables.items() for r in rows})
        from fieldkit.store.models import utcnow
        from fieldkit.team.state import put_peer

        put_peer(conn, "sent", kind="pack", last_sync_at=utcnow())
    project = tables["project"][0]
    records = {"project_id": project["id"], "origin": origin, "tables": tables,
               "deleted": deleted, "base": base}
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
                raise _damaged(path, f"{bad} fails its checksum")
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
                raise _damaged(path, f"{bad} fails its checksum")
            records = json.loads(z.read("records.json"))
            audio = {n[len("audio/"):]: z.read(n) for n in z.namelist() if n.startswith("audio/")}
    except (zipfile.BadZipFile, KeyError, ValueError, EOFError) as exc:
        raise _damaged(path, str(exc) or type(exc).__name__) from exc
    if not isinstance(records.get("tables"), dict) or not records["tables"].get("project"):
        raise _damaged(path, "no project records")
    return PackContents(manifest, records, audio)


def incoming_from_pack(contents: PackContents) -> tuple[dict, dict, dict]:
    """(records by id, deleted ids, hints: the versions the packer agreed with anyone)."""
    from fieldkit.team.records import synced_tables

    known = {t.name for t in synced_tables()}
    incoming: dict[uuid.UUID, tuple[str, dict[str, Any]]] = {}
    for tname, rows in contents.records["tables"].items():
        if tname not in known:
            raise FieldkitError(_("The pack holds records of an unknown kind "
                                    "({tname}).").format(tname=tname),
                                hint=_("It was made by a newer fieldkit; update "
                                         "fieldkit. Nothing was changed."))
        for r in rows:
            incoming[uuid.UUID(r["id"])] = (tname, r)
    deleted = {uuid.UUID(k): v for k, v in contents.records.get("deleted", {}).items()}
    hints: dict[uuid.UUID, set[str]] = {}
    for _peer, entries in contents.records.get("base", {}).items():
        for rid, h in entries.items():
            hints.setdefault(uuid.UUID(rid), set()).add(h)
    return incoming, deleted, hints
