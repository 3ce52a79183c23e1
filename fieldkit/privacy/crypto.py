"""Encryption at rest for a project: a passphrase, a memory-hard key, and two ciphers.

* ``encryption.json`` in the project folder holds the KDF parameters, a random salt and
  a check value (never the key). ``scrypt`` (memory-hard, in Python's standard library)
  turns the passphrase into 64 bytes: 32 for the database, 32 for the audio.
* The database is SQLCipher 4 (``sqlcipher3``), keyed with the raw 32-byte key, WAL
  included: see :func:`fieldkit.store.db.make_engine`.
* Audio files are sequences of authenticated records (AES-256-GCM), each one
  self-contained: a recorder appends one record per block and fsyncs, so a crash loses
  at most the record being written, exactly as with plaintext audio. Layout::

      b"FKEA1\\n" + 16-byte file id
      then per record: 4-byte big-endian length n, 12-byte nonce, n bytes ciphertext+tag

  The record number and file id are authenticated with each record, so records cannot be
  reordered, dropped from the middle or moved between files unnoticed. Readers decrypt
  into memory only (no plaintext temporary files).
"""

from __future__ import annotations

import hashlib
import hmac
import io
import json
import os
import struct
from dataclasses import dataclass
from pathlib import Path
from typing import BinaryIO, Iterator

from fieldkit.errors import ExitCode, FieldkitError
from fieldkit.i18n import _

KEYFILE = "encryption.json"
MAGIC = b"FKEA1\n"
HEADER_LEN = len(MAGIC) + 16
SCRYPT = {"n": 2**15, "r": 8, "p": 1}  # 32 MiB of memory per derivation, ~0.1 s here


class WrongPassphrase(FieldkitError):
    exit_code = ExitCode.LOCKED


class ProjectLocked(FieldkitError):
    exit_code = ExitCode.LOCKED


@dataclass(frozen=True)
class ProjectKey:
    db: bytes
    audio: bytes

    def sqlcipher_key(self) -> str:
        """The raw-key form SQLCipher takes in ``PRAGMA key`` (no second KDF)."""
        return f"x'{self.db.hex()}'"


def _derive(passphrase: str, salt: bytes, params: dict) -> bytes:
    if not passphrase:
        raise WrongPassphrase(_("An empty passphrase is not allowed."))
    return hashlib.scrypt(
        passphrase.encode("utf-8"), salt=salt, n=params["n"], r=params["r"], p=params["p"],
        maxmem=256 * 1024 * 1024, dklen=64,
    )


def _check_value(key: bytes) -> str:
    return hmac.new(key, b"fieldkit passphrase check", hashlib.sha256).hexdigest()


def is_encrypted(folder: Path) -> bool:
    return (folder / KEYFILE).is_file()


#: the fields of encryption.json a team shares (no secret: the KDF's parameters, its salt
#: and the check value); a copy made from the team's gets the same key from the passphrase
PUBLIC_META = ("version", "kdf", "n", "r", "p", "salt", "check")


def create_key(folder: Path, passphrase: str, meta: dict | None = None) -> ProjectKey:
    """Make a new key for ``folder`` and write its encryption.json (owner-only). With
    ``meta`` (a team's :func:`public_meta`), the key is the team's: derived with its salt
    and parameters, and the passphrase must be the team's (else WrongPassphrase)."""
    if meta:
        try:
            salt = bytes.fromhex(meta["salt"])
            params = {k: int(meta[k]) for k in ("n", "r", "p")}
        except (ValueError, KeyError, TypeError) as exc:
            raise FieldkitError(_("The team's key description is damaged: {exc}").format(exc=exc)) from exc
        raw = _derive(passphrase, salt, params)
        if not hmac.compare_digest(_check_value(raw), str(meta.get("check", ""))):
            raise WrongPassphrase(_("Wrong passphrase for the team's encrypted project."),
                                  hint=_("Use the passphrase the team chose when the project "
                                         "was created. Nothing was copied."))
    else:
        salt, params = os.urandom(16), dict(SCRYPT)
        raw = _derive(passphrase, salt, params)
    meta = {"version": 1, "kdf": "scrypt", **params, "salt": salt.hex(),
            "check": _check_value(raw), "database": "sqlcipher4", "audio": "aes-256-gcm"}
    tmp = folder / (KEYFILE + ".tmp")
    tmp.write_text(json.dumps(meta, indent=1))
    os.chmod(tmp, 0o600)
    os.replace(tmp, folder / KEYFILE)
    return ProjectKey(raw[:32], raw[32:])


def unlock(folder: Path, passphrase: str) -> ProjectKey:
    """The project's key from its passphrase, or WrongPassphrase."""
    path = folder / KEYFILE
    try:
        meta = json.loads(path.read_text())
        salt = bytes.fromhex(meta["salt"])
        params = {k: int(meta[k]) for k in ("n", "r", "p")}
    except (OSError, ValueError, KeyError) as exc:
        raise FieldkitError(_("The key file {path} is damaged: {exc}").format(path=path, exc=exc)) from exc
    raw = _derive(passphrase, salt, params)
    if not hmac.compare_digest(_check_value(raw), meta.get("check", "")):
        raise WrongPassphrase(_("Wrong passphrase for the project in {folder}.").format(folder=folder))
    return ProjectKey(raw[:32], raw[32:])


def public_meta(folder: Path) -> dict:
    """What a team shares of the project's key file (nothing secret), {} when plain."""
    try:
        meta = json.loads((folder / KEYFILE).read_text())
    except (OSError, ValueError):
        return {}
    return {k: meta[k] for k in PUBLIC_META if k in meta}


def key_check(key: ProjectKey) -> str:
    """The check value of ``key`` (as in encryption.json): two copies with the same check
    have the same key."""
    return _check_value(key.db + key.audio)


# --------------------------------------------------------------------------- team server


class TeamCipher:
    """What an encrypted project's team server holds is sealed with keys derived from the
    project key (HMAC-SHA256 with a label each), so the server's administrator and its
    backups read no interview:

    * a personal field: ``fk1:`` + base64(12-byte nonce + AES-256-GCM ciphertext and tag)
      of its JSON, authenticated with its table, column and record id (a value moved to
      another field or record does not open);
    * a version's content hash (which would let a guessed name be confirmed): AES-256 of
      its 16 bytes, one block, written ``~`` + hex (a permutation, so equal stays equal);
    * an audio file: ``FKSA1`` + nonce + AES-256-GCM of the whole file, authenticated with
      its id; its checksum is an HMAC of the plain audio.
    """

    PREFIX = "fk1:"
    BLOB = b"FKSA1"

    def __init__(self, key: ProjectKey):
        from cryptography.hazmat.primitives.ciphers import Cipher, algorithms, modes
        from cryptography.hazmat.primitives.ciphers.aead import AESGCM

        raw = key.db + key.audio

        def sub(label: bytes) -> bytes:
            return hmac.new(raw, b"fieldkit team server " + label, hashlib.sha256).digest()

        self._aes = AESGCM(sub(b"fields v1"))
        self._blob = AESGCM(sub(b"audio v1"))
        self._mac = sub(b"audio digest v1")
        block = Cipher(algorithms.AES(sub(b"hashes v1")), modes.ECB())
        self._enc, self._dec = block.encryptor(), block.decryptor()

    def seal(self, value: object, aad: bytes) -> str:
        import base64

        raw = json.dumps(value, ensure_ascii=False, separators=(",", ":")).encode("utf-8")
        nonce = os.urandom(12)
        return self.PREFIX + base64.b64encode(nonce + self._aes.encrypt(nonce, raw, aad)).decode("ascii")

    def open(self, value: object, aad: bytes, where: str = "") -> object:
        """A sealed value's content; anything else is returned as it is (a server written
        before the project was encrypted there)."""
        import base64

        from cryptography.exceptions import InvalidTag

        if not isinstance(value, str) or not value.startswith(self.PREFIX):
            return value
        try:
            blob = base64.b64decode(value[len(self.PREFIX):], validate=True)
            return json.loads(self._aes.decrypt(blob[:12], blob[12:], aad).decode("utf-8"))
        except (InvalidTag, ValueError) as exc:
            raise FieldkitError(
                _("The team server's copy of {where} cannot be decrypted with this project's "
                  "key.").format(where=where or "?"),
                hint=_("It was changed on the server, or sealed with another key. Nothing "
                       "was changed here.")) from exc

    def seal_hash(self, h: str) -> str:
        if len(h) != 32 or h.startswith("~"):
            return h
        try:
            return "~" + self._enc.update(bytes.fromhex(h)).hex()
        except ValueError:
            return h

    def open_hash(self, h: str) -> str:
        if not isinstance(h, str) or len(h) != 33 or not h.startswith("~"):
            return h
        return self._dec.update(bytes.fromhex(h[1:])).hex()

    def seal_blob(self, data: bytes, aad: bytes) -> bytes:
        nonce = os.urandom(12)
        return self.BLOB + nonce + self._blob.encrypt(nonce, data, aad)

    def open_blob(self, data: bytes, aad: bytes) -> bytes:
        from cryptography.exceptions import InvalidTag

        if not data.startswith(self.BLOB):
            return data
        n = len(self.BLOB)
        try:
            return self._blob.decrypt(data[n:n + 12], data[n + 12:], aad)
        except InvalidTag as exc:
            raise FieldkitError(_("An audio file on the team server cannot be decrypted with "
                                  "this project's key.")) from exc

    def digest(self, data: bytes) -> str:
        return hmac.new(self._mac, data, hashlib.sha256).hexdigest()


# --------------------------------------------------------------------------- audio


def _aad(file_id: bytes, index: int) -> bytes:
    return MAGIC + file_id + struct.pack(">Q", index)


class EncryptedWriter:
    """Append-only encrypted file; each :meth:`write` is one durable record."""

    def __init__(self, path: Path, key: ProjectKey, *, fsync: bool = True):
        from cryptography.hazmat.primitives.ciphers.aead import AESGCM

        self._aes = AESGCM(key.audio)
        self.path = Path(path)
        self._fsync = fsync
        exists = self.path.exists() and self.path.stat().st_size >= HEADER_LEN
        self._fh: BinaryIO = open(self.path, "r+b" if exists else "wb")
        if exists:
            header = self._fh.read(HEADER_LEN)
            if header[: len(MAGIC)] != MAGIC:
                raise FieldkitError(_("{path} is not a fieldkit encrypted audio file.").format(path=self.path))
            self.file_id = header[len(MAGIC):]
            # continue after the last complete record (a torn tail is cut off)
            self._index, end = 0, HEADER_LEN
            for _i, _payload, rec_end in _iter_records(self._fh, self.file_id, self._aes):
                self._index, end = self._index + 1, rec_end
            self._fh.seek(end)
            self._fh.truncate()
        else:
            self.file_id = os.urandom(16)
            self._fh.write(MAGIC + self.file_id)
            self._index = 0
            self._sync()

    def _sync(self) -> None:
        self._fh.flush()
        if self._fsync:
            os.fsync(self._fh.fileno())

    def write(self, data: bytes) -> None:
        nonce = os.urandom(12)
        ct = self._aes.encrypt(nonce, data, _aad(self.file_id, self._index))
        self._fh.write(struct.pack(">I", len(ct)) + nonce + ct)
        self._index += 1
        self._sync()

    def close(self) -> None:
        if not self._fh.closed:
            self._sync()
            self._fh.close()

    def __enter__(self) -> "EncryptedWriter":
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def _iter_records(fh: BinaryIO, file_id: bytes, aes) -> Iterator[tuple[int, bytes, int]]:
    from cryptography.exceptions import InvalidTag

    index = 0
    while True:
        head = fh.read(16)
        if len(head) < 16:
            return  # end, or a torn length/nonce: the record never completed
        (n,) = struct.unpack(">I", head[:4])
        ct = fh.read(n)
        if len(ct) < n:
            return  # torn tail after a crash
        try:
            payload = aes.decrypt(head[4:], ct, _aad(file_id, index))
        except InvalidTag:
            if index == 0:
                raise WrongPassphrase(_("The audio key does not fit this file.")) from None
            return
        yield index, payload, fh.tell()
        index += 1


class RecordReader:
    """Random access to an append-only encrypted file that may still be growing (a
    recording's raw .pcm): an index of its records (where each starts in the file and in
    the plaintext), extended as the file grows by reading their 16-byte heads only; a read
    decrypts only the records it touches. Memory is the index (a few numbers per record),
    not the plaintext: the live transcriber follows a 3-hour encrypted recording with it."""

    TAG = 16   # AES-GCM's tag: a record's plaintext is its ciphertext less this

    def __init__(self, path: Path, key: ProjectKey) -> None:
        from cryptography.hazmat.primitives.ciphers.aead import AESGCM

        self.path = Path(path)
        self._aes = AESGCM(key.audio)
        with open(self.path, "rb") as fh:
            header = fh.read(HEADER_LEN)
        if len(header) < HEADER_LEN or header[: len(MAGIC)] != MAGIC:
            raise FieldkitError(_("{path} is not a fieldkit encrypted audio file.").format(path=self.path))
        self.file_id = header[len(MAGIC):]
        self._pos: list[int] = []      # where each record's head starts in the file
        self._plain: list[int] = []    # where its plaintext starts
        self._end, self.plain_len, self._size = HEADER_LEN, 0, -1

    def refresh(self) -> int:
        """Index the records appended since the last call; returns the plaintext length."""
        size = self.path.stat().st_size
        if size == self._size:
            return self.plain_len
        if size < self._end:   # cut back (a torn tail removed on reopening): index it again
            self._pos, self._plain, self._end, self.plain_len = [], [], HEADER_LEN, 0
        with open(self.path, "rb") as fh:
            fh.seek(self._end)
            while True:
                head = fh.read(16)
                if len(head) < 16:
                    break
                (n,) = struct.unpack(">I", head[:4])
                if self._end + 16 + n > size or n < self.TAG:
                    break   # still being written (or torn): next time
                self._pos.append(self._end)
                self._plain.append(self.plain_len)
                self.plain_len += n - self.TAG
                self._end += 16 + n
                fh.seek(self._end)
        self._size = size
        return self.plain_len

    def read(self, start: int, count: int) -> bytes:
        """Plaintext bytes [start, start + count) of the complete records."""
        import bisect

        from cryptography.exceptions import InvalidTag

        self.refresh()
        end = min(start + count, self.plain_len)
        if start >= end:
            return b""
        first = bisect.bisect_right(self._plain, start) - 1
        out = []
        with open(self.path, "rb") as fh:
            i = first
            while i < len(self._pos) and self._plain[i] < end:
                fh.seek(self._pos[i])
                head = fh.read(16)
                (n,) = struct.unpack(">I", head[:4])
                try:
                    out.append(self._aes.decrypt(head[4:], fh.read(n), _aad(self.file_id, i)))
                except InvalidTag:
                    if i == 0:
                        raise WrongPassphrase(_("The audio key does not fit this file.")) from None
                    break
                i += 1
        data = b"".join(out)
        lo = start - self._plain[first]
        return data[lo: lo + end - start]


def is_encrypted_file(path: Path) -> bool:
    with open(path, "rb") as fh:
        return fh.read(len(MAGIC)) == MAGIC


def read_encrypted(path: Path, key: ProjectKey) -> bytes:
    """All complete records of an encrypted file, decrypted, joined (in memory)."""
    from cryptography.hazmat.primitives.ciphers.aead import AESGCM

    aes = AESGCM(key.audio)
    with open(path, "rb") as fh:
        header = fh.read(HEADER_LEN)
        if len(header) < HEADER_LEN or header[: len(MAGIC)] != MAGIC:
            raise FieldkitError(_("{path} is not a fieldkit encrypted audio file.").format(path=path))
        return b"".join(p for _i, p, _e in _iter_records(fh, header[len(MAGIC):], aes))


def open_audio(path: Path, key: ProjectKey | None) -> BinaryIO | str:
    """Something soundfile can read: the path itself, or decrypted bytes in memory."""
    if key is not None and is_encrypted_file(path):
        return io.BytesIO(read_encrypted(path, key))
    return str(path)


def encrypt_file_in_place(path: Path, key: ProjectKey, record_size: int = 1 << 20) -> None:
    """Replace a plaintext file by its encrypted form (temp file + rename); the old
    content is overwritten with zeros before the rename so it does not linger."""
    tmp = path.with_name(path.name + ".enc-tmp")
    with open(path, "rb") as src, EncryptedWriter(tmp, key, fsync=False) as dst:
        while chunk := src.read(record_size):
            dst.write(chunk)
    with open(tmp, "rb+") as fh:
        os.fsync(fh.fileno())
    size = path.stat().st_size
    with open(path, "r+b") as fh:
        fh.write(b"\0" * size)
        fh.flush()
        os.fsync(fh.fileno())
    os.replace(tmp, path)


# --------------------------------------------------------------------------- conversion

PENDING = KEYFILE + ".pending"


def _sqlcipher_export(src: Path, dst: Path, key: ProjectKey) -> None:
    import sqlcipher3

    dst.unlink(missing_ok=True)
    con = sqlcipher3.connect(str(src))  # no key: reads the plaintext database
    try:
        con.execute("PRAGMA wal_checkpoint(TRUNCATE)")
        con.execute(f"ATTACH DATABASE ? AS enc KEY \"{key.sqlcipher_key()}\"", (str(dst),))
        con.execute("SELECT sqlcipher_export('enc')")
        con.execute("DETACH DATABASE enc")
    finally:
        con.close()
    os.chmod(dst, 0o600)


def encrypt_project(folder: Path, passphrase: str, db_name: str = "project.db") -> list[Path]:
    """Encrypt an existing plaintext project in place (fieldkit must not be using it).

    Steps are ordered so an interruption can be finished by running it again: the key
    is kept in ``encryption.json.pending`` until the database has been swapped.
    Returns plaintext files it did not touch (earlier exports) for the user to review.
    """
    if is_encrypted(folder):
        raise FieldkitError(_("The project in {folder} is already encrypted.").format(folder=folder))
    pending = folder / PENDING
    if pending.exists():  # an interrupted run: reuse its key so finished files stay valid
        os.replace(pending, folder / KEYFILE)
        key = unlock(folder, passphrase)
        os.replace(folder / KEYFILE, pending)
    else:
        key = create_key(folder, passphrase)
        os.replace(folder / KEYFILE, pending)
    db = folder / db_name
    with open(db, "rb") as fh:
        plain = fh.read(16) == b"SQLite format 3\x00"
    if plain:
        for backup in sorted(folder.glob(db_name + ".bak-*")):
            tmp = backup.with_name(backup.name + ".enc-tmp")
            _sqlcipher_export(backup, tmp, key)
            os.replace(tmp, backup)
        tmp = folder / (db_name + ".enc-tmp")
        _sqlcipher_export(db, tmp, key)
        for side in ("-wal", "-shm"):
            (folder / (db_name + side)).unlink(missing_ok=True)
        os.replace(tmp, db)
    audio = folder / "audio"
    if audio.is_dir():
        for path in sorted(p for p in audio.rglob("*") if p.is_file()):
            if not is_encrypted_file(path):
                encrypt_file_in_place(path, key)
    os.replace(pending, folder / KEYFILE)
    exports = folder / "exports"
    return sorted(p for p in exports.rglob("*") if p.is_file()) if exports.is_dir() else []
