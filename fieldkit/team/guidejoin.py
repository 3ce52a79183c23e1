"""The same guide imported on two laptops: two guides with one name (``slug``) and
different ids, which the server's unique name would refuse for good.

:func:`join_same_guides` runs in a sync before anything is pushed: a local guide whose
every version (by content hash) is also a version of the team's guide of that name is
the same guide, so this laptop's sessions are pointed at the team's versions and the
local copy goes. A guide with the same name and different content is a real clash: it
is reported (kind and values) and the researcher renames or removes one
(``fieldkit guide rename|remove``).
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass

from sqlalchemy.engine import Connection

from fieldkit.team.records import content_hash, read_rows, table, upsert


@dataclass
class GuideClash:
    slug: str
    local_title: str
    team_title: str


def join_same_guides(lconn: Connection, sconn: Connection, peer: str) -> tuple[list[str], list[GuideClash]]:
    """(slugs joined, clashes left). Changes only the laptop (in ``lconn``'s transaction)."""
    from fieldkit.team.merge import set_base

    g, gv, sess = table("guide"), table("guideversion"), table("session")
    team = {d["slug"]: d for d in read_rows(sconn, g)}
    joined: list[str] = []
    clashes: list[GuideClash] = []
    for mine in list(read_rows(lconn, g)):
        theirs = team.get(mine["slug"])
        if theirs is None or theirs["id"] == mine["id"]:
            continue
        my_versions = list(read_rows(lconn, gv, where=gv.c.guide_id == uuid.UUID(mine["id"])))
        their_versions = list(read_rows(sconn, gv, where=gv.c.guide_id == uuid.UUID(theirs["id"])))
        by_hash = {v["content_hash"]: v for v in their_versions}
        if not all(v["content_hash"] in by_hash for v in my_versions):
            clashes.append(GuideClash(mine["slug"], mine.get("title") or "", theirs.get("title") or ""))
            continue
        # the same guide: take the team's guide and versions, point our sessions at them
        have = {d["id"] for d in read_rows(lconn, gv, ids=[uuid.UUID(v["id"]) for v in their_versions])}
        lconn.execute(g.update().where(g.c.id == uuid.UUID(mine["id"])).values(
            slug=f"{mine['slug']}~{mine['id'][:6]}"))
        upsert(lconn, g, [theirs])
        upsert(lconn, gv, [v for v in their_versions if v["id"] not in have])
        for v in my_versions:
            lconn.execute(sess.update().where(sess.c.guide_version_id == uuid.UUID(v["id"])).values(
                guide_version_id=uuid.UUID(by_hash[v["content_hash"]]["id"])))
        lconn.execute(gv.delete().where(gv.c.guide_id == uuid.UUID(mine["id"])))
        lconn.execute(g.delete().where(g.c.id == uuid.UUID(mine["id"])))
        set_base(lconn, peer, {uuid.UUID(d["id"]): (t, content_hash(d))
                               for t, rows in (("guide", [theirs]), ("guideversion", their_versions))
                               for d in rows})
        joined.append(mine["slug"])
    return joined, clashes
