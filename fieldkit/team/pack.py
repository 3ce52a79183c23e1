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

Packs are signed (Ed25519, :mod:`cryptography`): each copy of a project has its own
signing key (made the first time it packs, kept in its database with its other
bookkeeping, never in a pack), and ``pack.json`` carries its public key (``signer``) and a
signature over ``pack.json`` itself and the SHA-256 of the payload. A pack edited after it
was made (a record, the manifest, the audio) is refused, naming the pack and, where it can
be found, the record. The receiving copy remembers each sender's public key the first time
(trust on first use, as SSH does: the merge prints its fingerprint to compare with the
sender's `fieldkit project pack` output) and refuses a later pack from that sender signed
with another key or not signed. What cannot be known: whether the *first* pack from a
sender was made by that sender (compare the fingerprint). A pack made by an older fieldkit
has no signature: it is merged with a warning, unless its sender has signed before.
An encrypted project's pack is in addition authenticated by its AES-256-GCM records.
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

    @property
    def signer(self) -> str | None:
        """The public key (hex) that signed the pack (checked), None for an unsigned one."""
        return self.manifest.get("signer") if self.manifest.get("signature") else None


SIGNED_AS = b"fieldkit-pack-signature-v1\n"


def _signed_bytes(manifest: dict[str, Any], payload: bytes) -> bytes:
    import hashlib

    body = {k: v for k, v in manifest.items() if k != "signature"}
    return (SIGNED_AS + json.dumps(body, sort_keys=True, separators=(",", ":")).encode("utf-8")
            + b"\n" + hashlib.sha256(payload).digest())


def signing_key(conn):
    """This copy's pack signing key (Ed25519), made the first time; kept with this copy's
    own bookkeeping (the ``self`` peer), which never travels."""
    from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

    from fieldkit.team.state import get_peer, laptop_id, put_peer

    laptop_id(conn)
    opts = dict((get_peer(conn, "self") or {}).get("options") or {})
    raw = opts.get("pack_signing_key")
    if raw:
        return Ed25519PrivateKey.from_private_bytes(bytes.fromhex(raw))
    key = Ed25519PrivateKey.generate()
    opts["pack_signing_key"] = key.private_bytes_raw().hex()
    put_peer(conn, "self", options=opts)
    return key


def fingerprint(public_hex: str) -> str:
    """A short form of a public key for people to compare (16 hex digits in groups)."""
    import hashlib

    h = hashlib.sha256(bytes.fromhex(public_hex)).hexdigest()[:16].upper()
    return " ".join(h[i:i + 4] for i in range(0, 16, 4))


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
        signer = signing_key(conn)
        tables: dict[str, list[dict[str, Any]]] = {}
        for tbl in synced_tables():
            tables[tbl.name] = list(read_rows(conn, tbl))
        rs = RecordState.__table__
        versions: dict[str, dict[str, Any]] = {}
        deleted: dict[str, str] = {}
        for r in conn.execute(select(rs.c.record_id, rs.c.tbl, rs.c.vv, rs.c.anc, rs.c.deleted,
                                     rs.c.hash)):
            versions[str(r.record_id)] = {"tbl": r.tbl, "vv": r.vv, "anc": r.anc, "deleted": r.deleted,
                                          "h": r.hash}
            if r.deleted:
                deleted[str(r.record_id)] = r.tbl
        left_out = _leave_out_withdrawn(conn, tables, versions, deleted)
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
    counts["left_out"] = left_out

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
    from cryptography.hazmat.primitives import serialization

    manifest["signer"] = signer.public_key().public_bytes(
        serialization.Encoding.Raw, serialization.PublicFormat.Raw).hex()
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
        manifest["signature"] = signer.sign(_signed_bytes(manifest, payload.read_bytes())).hex()
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


def _leave_out_withdrawn(conn, tables: dict[str, list[dict[str, Any]]],
                         versions: dict[str, dict[str, Any]], deleted: dict[str, str]) -> int:
    """Nothing of an informant this copy knows has withdrawn leaves it in a pack: one
    purged here or whose purge arrived (a tombstone), whose rows may still be here (a
    restored backup), and one whose withdrawal is recorded but not yet purged. Their
    sessions (where only they took part), participation, speech, events, recordings and
    audio, conflict copies and earlier versions stay out; a recorded withdrawal's registry
    entry goes, with its date, so that the other copy learns of it. Returns how many
    records were left out. (A withdrawal made on another copy that has not reached this
    one cannot be known here: its purge removes what this pack carried when it arrives.)"""
    from fieldkit.team.records import synced_tables
    from fieldkit.team.withdrawal import drop_withdrawn

    purged = {uuid.UUID(k) for k, t in deleted.items() if t == "informant"}
    recorded = {uuid.UUID(d["id"]) for d in tables.get("informant", []) if d.get("withdrawn_on")}
    gone = purged | recorded
    if not gone:
        return 0
    order = [t.name for t in synced_tables()]
    push = {uuid.UUID(d["id"]): (t, d) for t in order for d in tables.get(t, [])
            if not (t == "informant" and uuid.UUID(d["id"]) in recorded)}
    dropped = drop_withdrawn(conn, push, gone)
    ids = {str(i) for i in dropped | gone}
    # conflict copies of what stays out, or naming a withdrawn informant
    for d in list(tables.get("syncconflict", [])):
        text = json.dumps([d.get("kept"), d.get("other")])
        if str(d.get("record_id")) in ids or any(str(i) in text for i in gone):
            dropped.add(uuid.UUID(d["id"]))
    out = {str(i) for i in dropped}
    n = 0
    for t in order:
        rows = tables.get(t, [])
        keep = [d for d in rows if d["id"] not in out]
        n += len(rows) - len(keep)
        tables[t] = keep
    for rid in out:
        versions.pop(rid, None)
    # earlier versions that point at them lose their content
    from fieldkit.team.withdrawal import _informant_cols

    cols = _informant_cols()
    gone_s = {str(i) for i in gone}
    for rid, v in versions.items():
        refs = cols.get(v.get("tbl"), [])
        if v.get("tbl") == "informant":
            refs = [*refs, "id"]
        if refs and any(isinstance(e.get("d"), dict) and any(e["d"].get(c) in gone_s for c in refs)
                        for e in v.get("anc") or []):
            v["anc"] = [{"vv": e["vv"], "h": e.get("h", "")} for e in v["anc"]]
    return n


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
    signed = _signature_holds(manifest, payload)
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
    if signed is False:
        raise _edited(path, records)
    return PackContents(manifest, records, audio)


def _signature_holds(manifest: dict[str, Any], payload: bytes) -> bool | None:
    """Whether the pack's signature holds (None: the pack is not signed)."""
    from cryptography.exceptions import InvalidSignature
    from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey

    sig, signer = manifest.get("signature"), manifest.get("signer")
    if not sig and not signer:
        return None
    try:
        Ed25519PublicKey.from_public_bytes(bytes.fromhex(str(signer))).verify(
            bytes.fromhex(str(sig)), _signed_bytes(manifest, payload))
    except (InvalidSignature, ValueError, TypeError):
        return False
    return True


def _edited(path: Path, records: dict[str, Any]) -> FieldkitError:
    """A pack whose signature does not hold: named, with the first record whose content
    no longer matches the version it was packed with (when one can be found)."""
    from fieldkit.team.records import content_hash, record_label

    versions = records.get("versions") or {}
    what = ""
    for tname, rows in (records.get("tables") or {}).items():
        for r in rows if isinstance(rows, list) else []:
            h = (versions.get(str(r.get("id"))) or {}).get("h")
            if h and content_hash(r) != h:
                label = record_label(r)
                what = _("the {table} record {id}{label} differs from what was packed").format(
                    table=tname, id=r.get("id"), label=f" ({label})" if label else "")
                break
        if what:
            break
    return FieldkitError(
        _("The pack {path} was changed after it was made: its signature does not match "
          "({what}).").format(path=path, what=what or _("its records, audio or description")),
        hint=_("Nothing was changed. Ask the sender for a new pack (fieldkit project pack) "
               "and do not edit it on the way."))


def incoming_from_pack(contents: PackContents) -> tuple[dict, dict]:
    """(versions by id, deleted ids {id: table}). A pack made before versions existed
    gives every record the empty vector (see :func:`fieldkit.team.merge.stamp`)."""
    from fieldkit.team.merge import Version, live
    from fieldkit.team.records import synced_tables

    known = {t.name: t for t in synced_tables()}
    meta = contents.records.get("versions") or {}
    incoming: dict[uuid.UUID, Version] = {}
    for tname, rows in contents.records["tables"].items():
        if tname not in known:
            raise FieldkitError(_("The pack holds records of an unknown kind "
                                    "({tname}).").format(tname=tname),
                                hint=_("It was made by a newer fieldkit; update "
                                         "fieldkit. Nothing was changed."))
        cols = {c.name for c in known[tname].columns}
        for r in rows:
            extra = sorted(set(r) - cols)
            if extra:
                raise FieldkitError(
                    _("The pack holds a {table} record ({id}) with a field this fieldkit does "
                      "not know: {column}.").format(table=tname, id=r.get("id"), column=extra[0]),
                    hint=_("It was made by a newer fieldkit (update fieldkit) or changed by "
                           "hand. Nothing was changed."))
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
