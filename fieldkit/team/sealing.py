"""What the team server of an encrypted project holds in the clear, and what it holds sealed.

A project created with ``--encrypt`` is encrypted on the team server too: the laptop seals
every personal field before it leaves (and the audio, when the team shares it) with keys
derived from the project key (:class:`fieldkit.privacy.crypto.TeamCipher`), and opens them
when they arrive. Merging happens on the laptop, on plain values, exactly as for a plain
project; the server stores and hands back what it is given.

In the clear stay what the server and a withdrawal purge need: ids and the links between
records (so a purge finds a withdrawn informant's rows, conflict copies and earlier
versions), times and dates, version vectors and change numbers, informant codes,
researcher initials, speaker labels, enum-like fields (kinds, states, tag codes), numbers,
guides and tag schemes (the instruments, not the interviews) and the project's name. The
content hash of each version is sealed too (it could confirm a guessed name).

:data:`PERSONAL` lists the sealed fields per table. A copy of a record kept by a conflict
(``syncconflict.kept``/``other``) or as an earlier version (``recordstate.anc``) is sealed
field by field with the same list, so its ids stay readable for a purge.

The cipher is attached to a server engine (:func:`attach`); :mod:`fieldkit.team.records`
(rows) and :mod:`fieldkit.team.merge` (versions) seal on writing and open on reading
through any connection of it.
"""

from __future__ import annotations

from typing import Any

#: personal fields, sealed on an encrypted project's team server
PERSONAL: dict[str, tuple[str, ...]] = {
    "project": ("description", "vocabulary", "redaction_terms"),
    "researcher": ("name", "institution"),
    "informant": ("name", "role", "organisation", "site", "group_label", "attributes",
                  "consent_kept_at"),
    "session": ("title", "place", "header"),
    "recording": ("original_path", "info", "device"),
    "event": ("text",),
    "transcriptsegment": ("verbatim", "edited", "words"),
    "auditentry": ("detail",),
}
#: tables whose columns hold whole copies of other records (sealed field by field)
COPIES = {"syncconflict": ("kept", "other")}


def attach(engine, cipher) -> None:
    """Every connection of ``engine`` (the team server) seals and opens with ``cipher``."""
    engine.fieldkit_cipher = cipher


def cipher_of(conn) -> Any:
    return getattr(getattr(conn, "engine", None), "fieldkit_cipher", None)


def _aad(tbl: str, col: str, rid: Any) -> bytes:
    return f"{tbl}/{col}/{rid or ''}".encode("utf-8")


def seal_record(cipher, tbl: str, d: dict[str, Any]) -> dict[str, Any]:
    cols = PERSONAL.get(tbl)
    copies = COPIES.get(tbl)
    if not cols and not copies:
        return d
    out = dict(d)
    rid = d.get("id")
    for c in cols or ():
        if out.get(c) is not None:
            out[c] = cipher.seal(out[c], _aad(tbl, c, rid))
    for c in copies or ():
        inner = out.get(c)
        if isinstance(inner, dict) and inner:
            out[c] = seal_record(cipher, str(d.get("tbl") or ""), inner)
    return out


def open_record(cipher, tbl: str, d: dict[str, Any]) -> dict[str, Any]:
    cols = PERSONAL.get(tbl)
    copies = COPIES.get(tbl)
    if not cols and not copies:
        return d
    rid = d.get("id")
    for c in cols or ():
        if c in d:
            d[c] = cipher.open(d[c], _aad(tbl, c, rid), f"{tbl} {rid} ({c})")
    for c in copies or ():
        inner = d.get(c)
        if isinstance(inner, dict) and inner:
            d[c] = open_record(cipher, str(d.get("tbl") or ""), dict(inner))
    return d


def seal_state(cipher, row: dict[str, Any]) -> dict[str, Any]:
    """A ``recordstate`` row (hash, earlier versions) as the server keeps it."""
    out = dict(row)
    if "hash" in out and out["hash"]:
        out["hash"] = cipher.seal_hash(out["hash"])
    if out.get("anc"):
        out["anc"] = [_seal_entry(cipher, row["tbl"], e) for e in out["anc"]]
    return out


def _seal_entry(cipher, tbl: str, e: dict[str, Any]) -> dict[str, Any]:
    e = dict(e)
    if e.get("h"):
        e["h"] = cipher.seal_hash(e["h"])
    if isinstance(e.get("d"), dict):
        e["d"] = seal_record(cipher, tbl, e["d"])
    return e


def open_state(cipher, st: dict[str, Any]) -> dict[str, Any]:
    if st.get("hash"):
        st["hash"] = cipher.open_hash(st["hash"])
    if st.get("anc"):
        st["anc"] = [_open_entry(cipher, st["tbl"], e) for e in st["anc"]]
    return st


def _open_entry(cipher, tbl: str, e: dict[str, Any]) -> dict[str, Any]:
    e = dict(e)
    if e.get("h"):
        e["h"] = cipher.open_hash(e["h"])
    if isinstance(e.get("d"), dict):
        e["d"] = open_record(cipher, tbl, dict(e["d"]))
    return e


def audio_aad(file_id: Any) -> bytes:
    return f"serveraudio/{file_id}".encode("utf-8")
