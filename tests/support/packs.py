"""Changing a plain pack on the way, as someone with the file could (tests of the checks
a merge makes): its records, its description, and its signature (kept, dropped, or made
again with another key)."""

from __future__ import annotations

import io
import json
import zipfile
from pathlib import Path
from typing import Any, Callable


def rewrite_pack(src: Path, dst: Path, *, records: Callable[[dict[str, Any]], None] | None = None,
                 manifest: Callable[[dict[str, Any]], None] | None = None,
                 sign: str = "keep") -> Path:
    """Copy pack ``src`` to ``dst`` with ``records(records_json)`` and ``manifest(pack_json)``
    applied in place. ``sign``: "keep" (the old signature, now wrong), "drop" (no
    signature), "new" (signed again with a fresh key, as a newer fieldkit would)."""
    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

    from fieldkit.team.pack import _signed_bytes

    with zipfile.ZipFile(src) as zin:
        man, payload = json.loads(zin.read("pack.json")), zin.read("payload")
    if records is not None:
        with zipfile.ZipFile(io.BytesIO(payload)) as z:
            recs = json.loads(z.read("records.json"))
            others = {n: z.read(n) for n in z.namelist() if n != "records.json"}
        records(recs)
        buf = io.BytesIO()
        with zipfile.ZipFile(buf, "w") as z:
            z.writestr("records.json", json.dumps(recs))
            for n, data in others.items():
                z.writestr(n, data)
        payload = buf.getvalue()
    if manifest is not None:
        manifest(man)
    if sign == "drop":
        man.pop("signature", None)
        man.pop("signer", None)
    elif sign == "new":
        key = Ed25519PrivateKey.generate()
        man["signer"] = key.public_key().public_bytes(serialization.Encoding.Raw,
                                                      serialization.PublicFormat.Raw).hex()
        man["signature"] = key.sign(_signed_bytes(man, payload)).hex()
    with zipfile.ZipFile(dst, "w") as zout:
        zout.writestr("pack.json", json.dumps(man))
        zout.writestr("payload", payload)
    return dst
