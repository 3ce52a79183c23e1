"""Fixtures more than one test module uses (loaded by tests/conftest.py)."""

from __future__ import annotations

import os
import subprocess

import pytest

from tests.support.builders import REPO


@pytest.fixture
def small_disk(tmp_path):
    """A 3 MB filesystem of its own (tmpfs), as a researcher's nearly full laptop disk."""
    if os.geteuid() != 0:
        pytest.skip("mounting a small tmpfs needs root (CI runs as root)")
    where = tmp_path / "small"
    where.mkdir()
    r = subprocess.run(["mount", "-t", "tmpfs", "-o", "size=3m,mode=0700", "tmpfs", str(where)],
                       capture_output=True, text=True)
    if r.returncode != 0:
        pytest.skip(f"cannot mount a tmpfs here: {r.stderr.strip()}")
    try:
        yield where
    finally:
        subprocess.run(["umount", "-l", str(where)], check=False)


@pytest.fixture
def transcript(project):
    """A session of ``project`` with four transcript segments, a covered question and a note:
    (project, session id, lead id, observer id)."""
    from fieldkit.people.informants import add_informant
    from fieldkit.instruments.events import add_event
    from fieldkit.instruments.guides.coverage import set_coverage
    from fieldkit.instruments.guides.store import import_guide
    from fieldkit.sessions.plan import guide_of
    from fieldkit.sessions.plan import SessionPlan, save_session, setup_choices
    from fieldkit.store.models import TranscriptSegment

    import_guide(project.db, project.project_id, REPO / "guides" / "en-frontline-professionals.md")
    add_informant(project, "I01", name="Kari Nordmann")
    c = setup_choices(project)
    lead, observer = c.researchers[0].id, c.researchers[1].id
    sid = save_session(project, SessionPlan("Review me", guide_version_id=c.guides[0].version_id,
                                            lead_id=lead, observer_id=observer, informants=["I01"]))
    texts = ["So what do you do at work?", "I work at the NAV office, mostly with youth.",
             "And who do you call when it gets difficult?", "Usually the nav office or the GP, eh, the doctor."]
    with project.db.transaction() as s:
        for n, t in enumerate(texts):
            s.add(TranscriptSegment(session_id=sid, start_ms=n * 5000, end_ms=n * 5000 + 4500, verbatim=t))
    guide = guide_of(project, sid)
    set_coverage(project.db, sid, guide.themes[1].questions[0].id, "covered", position_ms=11_000, author_id=lead)
    add_event(project.db, sid, "note", position_ms=6_000, author_id=observer, text="Youth team story")
    return project, sid, lead, observer
