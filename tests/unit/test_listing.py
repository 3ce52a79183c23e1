"""What the project screens list, read for them by core functions: sessions in one order
for the full and the quick read (fieldkit.sessions.overview), informants with their session counts
and the next free code (fieldkit.people.informants)."""

from __future__ import annotations

from datetime import datetime, timezone
from pathlib import Path

from fieldkit.people.informants import add_informant, informant_rows, next_code
from fieldkit.sessions.overview import load_overview, quick_overview
from fieldkit.projects import Workspace
from fieldkit.store.models import Researcher, Session, SessionParticipant


def test_lists_match_the_database(tmp_path: Path):
    ws = Workspace(tmp_path).ensure()
    with ws.create("Lists") as h:
        i1 = add_informant(h, "I01", role="nurse")
        add_informant(h, "I03")
        with h.db.transaction() as s:
            lead = Researcher(project_id=h.project_id, name="Kari Lie", initials="KL")
            s.add(lead)
            s.flush()
            # two planned sessions without a time (made in this order), one with a time
            for title, when in [("Planned B", None), ("Planned A", None),
                                ("Held", datetime(2026, 3, 1, 9, 0, tzinfo=timezone.utc))]:
                sess = Session(project_id=h.project_id, title=title, starts_at=when, lead_id=lead.id)
                s.add(sess)
                s.flush()
            s.add(SessionParticipant(session_id=sess.id, informant_id=i1.id, speaker_label="I01"))
        rows = [r for r in informant_rows(h)]
        assert [(r.code, r.sessions) for r in rows] == [("I01", 1), ("I03", 0)]
        assert next_code(h) == "I02"
        add_informant(h, "I02")
        assert next_code(h) == "I04"
    full, problems = load_overview(ws)
    quick = quick_overview(ws)
    assert quick is not None
    lists = {p.slug: [r.title for r in p.sessions] for p in full}
    assert lists["lists"] == ["Planned B", "Planned A", "Held"]
    assert {p.slug: [r.title for r in p.sessions] for p in quick[0]} == lists


def test_home_list_only_reads_and_the_start_up_step_makes_the_demo(tmp_path):
    """Reading the home list makes nothing: the demo project (and migrations, crash repair)
    are the start-up step's, which the home screen runs before it reads."""
    from fieldkit.sessions.overview import home_list
    from fieldkit.tools.startup import prepare

    ws = Workspace(tmp_path / "data")
    assert load_overview(ws) == ([], []) and home_list(ws) == ([], [])
    assert not (tmp_path / "data" / "projects").exists() or list(ws.project_folders()) == []
    assert prepare(ws) == []
    [demo] = list(ws.project_folders())
    projects, problems = home_list(ws)
    assert problems == [] and [p.slug for p in projects] == [demo.name]
    assert quick_overview(ws) is not None and prepare(ws) == []    # nothing left to do
