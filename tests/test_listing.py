"""What the project screens list (fieldkit.listing), read for them: sessions in one
order for the full and the quick read, informants with their session counts, codes."""

from __future__ import annotations

from datetime import datetime, timezone
from pathlib import Path

from fieldkit.consent import add_informant
from fieldkit.listing import (informants_with_session_counts, next_informant_code, project_sessions,
                              session_lead_id)
from fieldkit.projects import Workspace
from fieldkit.store.dbfile import read_project
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
            lead_id, held_id = lead.id, sess.id
        rows = project_sessions(h)
        assert [r.title for r in rows] == ["Planned B", "Planned A", "Held"]
        assert rows[2].starts_at == datetime(2026, 3, 1, 9, 0, tzinfo=timezone.utc)
        quick = read_project(h.folder / "project.db")
        assert quick is not None and [q.title for q in quick.sessions] == [r.title for r in rows]
        assert session_lead_id(h, held_id) == lead_id
        counts = [(i.code, n) for i, n in informants_with_session_counts(h)]
        assert counts == [("I01", 1), ("I03", 0)]
        assert next_informant_code(h) == "I02"
        add_informant(h, "I02")
        assert next_informant_code(h) == "I04"
