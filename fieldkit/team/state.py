"""This laptop's identity and what it remembers about its peers (SyncPeer rows)."""

from __future__ import annotations

import uuid
from typing import Any

from sqlalchemy import select
from sqlalchemy.engine import Connection

from fieldkit.store.models import SyncPeer


def laptop_id(conn: Connection) -> str:
    """A random id for this copy of the project, made the first time it is needed."""
    sp = SyncPeer.__table__
    row = conn.execute(select(sp.c.url).where(sp.c.peer == "self")).first()
    if row:
        return row[0]
    lid = f"laptop-{uuid.uuid4()}"
    conn.execute(sp.insert().values(peer="self", kind="self", url=lid, cursor=0, options={}))
    return lid


def get_peer(conn: Connection, peer: str) -> dict[str, Any] | None:
    sp = SyncPeer.__table__
    row = conn.execute(select(sp).where(sp.c.peer == peer)).first()
    return dict(row._mapping) if row else None


def put_peer(conn: Connection, peer: str, **values: Any) -> None:
    sp = SyncPeer.__table__
    if get_peer(conn, peer) is None:
        base = {"kind": "laptop", "url": "", "cursor": 0, "options": {}}
        conn.execute(sp.insert().values(peer=peer, **{**base, **values}))
    elif values:
        conn.execute(sp.update().where(sp.c.peer == peer).values(**values))
