"""What the home screen shows: every project in the data folder with its sessions.

Read in a worker: first with sqlite3 alone (``quick_overview``, see fieldkit.store.dbfile)
so the first screen appears before SQLAlchemy is imported, else through the full
storage layer (``load_overview``: encrypted projects, or after the start-up step made the
demo, migrated or repaired, see :mod:`fieldkit.tools.startup`). ``home_list`` is the one
reader the home screen calls. Both only read. No Textual here.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date


@dataclass
class SessionRow:
    id: str
    title: str
    kind: str
    status: str
    when: str
    pilot: bool
    follows: str = ""    # id of the session this one follows (an observation's group interview)

    @classmethod
    def of(cls, sid, title: str, kind: str, status: str, starts_at, pilot,  # noqa: ANN001
           planned_at=None, follows=None) -> "SessionRow":  # noqa: ANN001
        """``when`` is when it began, or for a plan when it is planned (local time)."""
        when = starts_at or planned_at
        return cls(str(sid), title, kind.replace("_", " "), status, local_time(when) if when else "",
                   bool(pilot), str(follows) if follows else "")


def pair_order(rows: list[SessionRow]) -> list[SessionRow]:
    """Sessions in their order, but a session that follows another (the group interview
    after an observed meeting) comes right after it: the home screen shows the pair together."""
    from fieldkit.sessions.linked import follow_order

    by_id = {r.id: r for r in rows}
    return [by_id[i] for i in follow_order([(r.id, r.follows or None) for r in rows])]


def local_time(when) -> str:  # noqa: ANN001
    """A stored UTC time (aware, or naive as sqlite3 reads it) as local 'YYYY-MM-DD HH:MM'."""
    from datetime import timezone

    if when.tzinfo is None:
        when = when.replace(tzinfo=timezone.utc)
    return when.astimezone().strftime("%Y-%m-%d %H:%M")


@dataclass
class ProjectSummary:
    slug: str
    name: str
    language: str
    sikt_reference: str | None
    deletion_deadline: date | None
    sessions: list[SessionRow] = field(default_factory=list)
    locked: bool = False

    def deadline_warning(self, today: date | None = None) -> str | None:
        from fieldkit.privacy.deadline import deadline_warning

        return deadline_warning(self.deletion_deadline, None, today)


def load_overview(workspace) -> tuple[list[ProjectSummary], list[str]]:  # noqa: ANN001
    """Read every project (plain Python, run in a worker). Returns (projects, problems)."""
    from sqlalchemy import func
    from sqlmodel import select

    from fieldkit.errors import FieldkitError
    from fieldkit.privacy.crypto import ProjectLocked
    from fieldkit.store.models import Session

    problems: list[str] = []
    out: list[ProjectSummary] = []
    for folder in workspace.project_folders():
        try:
            with workspace.open(folder) as handle:
                p = handle.project()
                summary = ProjectSummary(
                    p.slug, p.name, p.language, p.sikt_reference, p.deletion_deadline
                )
                with handle.db.session() as s:
                    for sess in s.exec(select(Session).order_by(func.coalesce(Session.starts_at, Session.planned_at),
                                                              Session.created_at)):
                        summary.sessions.append(SessionRow.of(
                            sess.id, sess.title, sess.kind.value, sess.status.value, sess.starts_at,
                            sess.is_pilot, sess.planned_at, sess.related_session_id))
                summary.sessions = pair_order(summary.sessions)
                out.append(summary)
        except ProjectLocked:
            out.append(ProjectSummary(folder.name, folder.name, "", None, None, locked=True))
        except FieldkitError as exc:
            problems.append(f"{folder.name}: {exc.message}")
    return out, problems


def home_list(workspace) -> tuple[list[ProjectSummary], list[str]]:  # noqa: ANN001
    """The home screen's list: the quick read when it can, else the full one."""
    return quick_overview(workspace) or load_overview(workspace)


def quick_overview(workspace) -> tuple[list[ProjectSummary], list[str]] | None:  # noqa: ANN001
    """The same overview read with sqlite3 alone (see fieldkit.store.dbfile), or None when
    any project needs the full path (first run, encrypted, to migrate, to recover)."""
    from fieldkit.store.dbfile import read_project

    folders = list(workspace.project_folders())
    if not folders:
        return None   # the demo may have to be made
    out: list[ProjectSummary] = []
    for folder in folders:
        p = read_project(folder / "project.db")
        if p is None:
            return None
        summary = ProjectSummary(p.slug, p.name, p.language, p.sikt_reference, p.deletion_deadline)
        summary.sessions = pair_order([SessionRow.of(s.id, s.title, s.kind, s.status, s.starts_at, s.is_pilot,
                                                     s.planned_at, s.follows)
                                       for s in p.sessions])
        out.append(summary)
    return out, []
