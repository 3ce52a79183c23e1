"""The team overview of a project (``fieldkit status`` and the home screen's team panel).

* sessions per researcher: led and observed, done and still planned (pilots left out);
* informants per site (the case network or municipality label on each informant) and
  informant group: registered (the plan) against interviewed (took part in a session
  that was recorded or held);
* guide coverage per site: of the guide questions in the sessions where the site's
  informants took part, the share covered or partly covered;
* the last sync with the team server and the open conflicts.
"""

from __future__ import annotations

import uuid
from collections import defaultdict
from dataclasses import dataclass, field
from datetime import datetime


@dataclass
class ResearcherRow:
    initials: str
    name: str
    led: int = 0
    observed: int = 0
    planned: int = 0


@dataclass
class SiteRow:
    site: str
    group: str
    registered: int = 0
    interviewed: int = 0
    sessions: int = 0
    covered: int = 0          # question cells covered or partly covered
    asked: int = 0            # question cells in those sessions' guides

    @property
    def coverage(self) -> float | None:
        return self.covered / self.asked if self.asked else None


@dataclass
class Overview:
    project: str
    researchers: list[ResearcherRow] = field(default_factory=list)
    sites: list[SiteRow] = field(default_factory=list)
    sessions_done: int = 0
    sessions_planned: int = 0
    server: str | None = None
    last_sync: datetime | None = None
    peers: int = 0
    open_conflicts: int = 0

    @property
    def is_team(self) -> bool:
        """Shared with a team server or another laptop (the home screen shows it then)."""
        return self.server is not None or self.peers > 0


def overview(handle) -> Overview:
    from sqlmodel import select

    from fieldkit.instruments.guides.coverage import project_matrix
    from fieldkit.store.models import (
        CoverageStatus,
        Informant,
        Researcher,
        Session,
        SessionParticipant,
        SessionStatus,
        SyncConflict,
        SyncPeer,
    )

    project = handle.project()
    ov = Overview(project.name)
    with handle.db.session() as s:
        researchers = {r.id: ResearcherRow(r.initials, r.name) for r in s.exec(select(Researcher))}
        sessions = [x for x in s.exec(select(Session).where(Session.project_id == handle.project_id))
                    if not x.is_pilot]
        informants = {i.id: i for i in s.exec(select(Informant))}
        parts = s.exec(select(SessionParticipant)).all()
        peers = s.exec(select(SyncPeer)).all()
        ov.open_conflicts = len(s.exec(select(SyncConflict.id).where(SyncConflict.settled_at == None)).all())  # noqa: E711
    for p in peers:
        if p.kind == "server":
            ov.server, ov.last_sync = p.url, p.last_sync_at
        elif p.kind in ("laptop", "pack"):
            ov.peers += 1
    done_ids = set()
    for sess in sessions:
        done = sess.status != SessionStatus.planned
        if done:
            ov.sessions_done += 1
            done_ids.add(sess.id)
        else:
            ov.sessions_planned += 1
        for rid, attr in ((sess.lead_id, "led"), (sess.observer_id, "observed")):
            row = researchers.get(rid)
            if row is None:
                continue
            if done:
                setattr(row, attr, getattr(row, attr) + 1)
            else:
                row.planned += 1
    ov.researchers = sorted(researchers.values(), key=lambda r: (-(r.led + r.observed), r.initials))

    sites: dict[tuple[str, str], SiteRow] = {}

    def site_of(inf) -> tuple[str, str]:
        return (inf.site or "", inf.group_label or "")     # "": no site (worded where shown)

    for inf in informants.values():
        key = site_of(inf)
        sites.setdefault(key, SiteRow(*key)).registered += 1
    session_sites: dict[uuid.UUID, set[tuple[str, str]]] = defaultdict(set)
    interviewed: set[uuid.UUID] = set()
    for p in parts:
        inf = informants.get(p.informant_id)
        if inf is None or p.session_id not in done_ids:
            continue
        interviewed.add(inf.id)
        session_sites[p.session_id].add(site_of(inf))
    for iid in interviewed:
        sites[site_of(informants[iid])].interviewed += 1
    for sid, keys in session_sites.items():
        for key in keys:
            sites[key].sessions += 1
    matrix = project_matrix(handle.db, handle.project_id)
    for row in matrix.rows:
        for sid, status in row.cells.items():
            if status is None or sid not in done_ids:
                continue
            for key in session_sites.get(sid, ()):
                sites[key].asked += 1
                if status in (CoverageStatus.covered, CoverageStatus.partly):
                    sites[key].covered += 1
    ov.sites = sorted(sites.values(), key=lambda r: (r.site == "", r.site, r.group))
    return ov


def overview_for(workspace, slug: str) -> Overview | None:
    """For the home screen: the overview of an unlocked project, None if it is locked."""
    import sqlite3

    from fieldkit.errors import FieldkitError
    from fieldkit.projects import Workspace
    from fieldkit.store.dbfile import SQLITE_MAGIC, read_header

    folder = workspace.projects_dir / slug
    db = folder / "project.db"
    try:
        if read_header(db) == SQLITE_MAGIC:   # plain database: a cheap look first
            con = sqlite3.connect(f"file:{db}?mode=ro", uri=True, timeout=3)
            try:
                shared = con.execute("SELECT count(*) FROM syncpeer WHERE kind != 'self'").fetchone()[0]
            finally:
                con.close()
            if not shared:
                return None
    except (OSError, sqlite3.Error):
        pass                                  # older schema or damaged: the full path tells
    quiet = Workspace(workspace.root)         # no second deadline warning on screen
    quiet.keys = workspace.keys
    try:
        with quiet.open(folder) as handle:
            return overview(handle)
    except FieldkitError:
        return None


def render_lines(ov: Overview) -> list[str]:
    """The overview as text lines for the command line, in the user's language."""
    from fieldkit.i18n import _, format_datetime, format_percent, ngettext

    out = [_("{project}: sessions held {done}, planned {planned}").format(
        project=ov.project, done=ov.sessions_done, planned=ov.sessions_planned)]
    if ov.server:
        when = format_datetime(ov.last_sync) if ov.last_sync else _("never")
        out.append(_("Team server {server}, last sync {when}").format(server=ov.server, when=when))
    if ov.open_conflicts:
        out.append(ngettext("{n} conflict to settle (fieldkit project conflicts)",
                            "{n} conflicts to settle (fieldkit project conflicts)", ov.open_conflicts)
                   .format(n=ov.open_conflicts))
    out.append("")
    heads = [_("Researcher"), _("leading"), _("observing"), _("planned")]
    w = [max(19, len(heads[0]) + 1), max(4, len(heads[1])), max(9, len(heads[2])), max(8, len(heads[3]))]
    out.append(f"{heads[0]:{w[0]}}{heads[1]:>{w[1]}} {heads[2]:>{w[2]}} {heads[3]:>{w[3]}}")
    for r in ov.researchers:
        who = f"{r.initials:4} {r.name[:14]:14}"
        out.append(f"{who:{w[0]}}{r.led:>{w[1]}} {r.observed:>{w[2]}} {r.planned:>{w[3]}}")
    out.append("")
    heads = [_("Site / network"), _("Group"), _("interviewed / planned"), _("sessions"), _("coverage")]
    w = [max(20, len(heads[0])), max(10, len(heads[1])), max(21, len(heads[2])), max(8, len(heads[3])),
         max(8, len(heads[4]))]
    out.append(f"{heads[0]:{w[0]}} {heads[1]:{w[1]}} {heads[2]:{w[2]}}  {heads[3]:>{w[3]}}  {heads[4]:>{w[4]}}")
    for s in ov.sites:
        cov = format_percent(s.coverage) if s.coverage is not None else "-"
        counts = f"{s.interviewed:>11} / {s.registered:<7}"
        site = s.site or _("(no site)")
        out.append(f"{site[:20]:{w[0]}} {s.group[:10]:{w[1]}} {counts:{w[2]}}  {s.sessions:>{w[3]}}  {cov:>{w[4]}}")
    return out
