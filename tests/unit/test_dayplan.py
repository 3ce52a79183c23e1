"""A day in the field: `fieldkit plan` per site with roles, guide and what is still to
plan; Markdown and Word files read back (the Word file through its XML, not python-docx)."""

from __future__ import annotations

import os
import re
import subprocess
import zipfile
from datetime import date, datetime, timezone
from pathlib import Path

from lxml import etree

from fieldkit.people.informants import add_informant
from fieldkit.instruments.guides.store import import_guide
from fieldkit.sessions.dayplan import day_plan, to_markdown
from fieldkit.projects import Workspace
from fieldkit.store.models import Researcher, Session, SessionKind, SessionParticipant
from tests.support.cli import fk as run_cli

REPO = Path(__file__).resolve().parents[2]
DAY = date(2026, 3, 10)


def _at(hour: int, minute: int = 0, day: date = DAY) -> datetime:
    """A local wall time (as a researcher plans it), stored as UTC by the data model."""
    return datetime(day.year, day.month, day.day, hour, minute).astimezone()


def _project(root: Path) -> Workspace:
    ws = Workspace(root).ensure()
    with ws.create("Nettverksstudien") as h:
        for code, site, role, org, letter, written in [
            ("L01", "kommune A", "leder", "NAV", True, True),
            ("L02", "kommune A", "fagperson", "DPS", True, False),
            ("L03", "kommune A", "koordinator", "kommune", True, True),
            ("N01", "kommune B", "leder", "helsetjenesten", False, False),
        ]:
            add_informant(h, code, name=f"Navn {code}", role=role, organisation=org, site=site,
                          info_letter_sent_on=date(2026, 2, 1) if letter else None,
                          written_consent_on=date(2026, 2, 10) if written else None)
        version, _ = import_guide(h.db, h.project_id, REPO / "guides" / "no-leder-samhandling.md")
        with h.db.transaction() as s:
            kl = Researcher(project_id=h.project_id, name="Kari Lie", initials="KL")
            ob = Researcher(project_id=h.project_id, name="Ola Berg", initials="OB")
            s.add_all([kl, ob])
            s.flush()
            from sqlmodel import select

            from fieldkit.store.models import Informant

            inf = {i.code: i.id for i in s.exec(select(Informant))}

            def session(title, kind, when, lead, observer, guide, codes, place=""):  # noqa: ANN001, ANN202
                sess = Session(project_id=h.project_id, title=title, kind=kind, starts_at=when,
                               lead_id=lead, observer_id=observer, place=place,
                               guide_version_id=version.id if guide else None)
                s.add(sess)
                s.flush()
                for c in codes:
                    s.add(SessionParticipant(session_id=sess.id, informant_id=inf[c], speaker_label=c))
                return sess

            session("Gruppeintervju ledere", SessionKind.group, _at(9), kl.id, ob.id, True, ["L01", "L02"])
            session("Koordinator", SessionKind.individual, _at(11, 30), ob.id, kl.id, True, ["L03"])
            session("Telefon N01", SessionKind.telephone, _at(14), kl.id, None, False, ["N01"])
            session("Samarbeidsmøte", SessionKind.observation, _at(8), None, None, True, [], place="Rådhuset")
            session("Neste dag", SessionKind.individual, _at(9, day=date(2026, 3, 11)), kl.id, ob.id, True, ["L01"])
    return ws


def test_day_plan_groups_by_site_in_time_order(tmp_path: Path):
    ws = _project(tmp_path / "data")
    with ws.open("Nettverksstudien") as h:
        dp = day_plan(h, DAY)
    assert [s.site for s in dp.sites] == ["Rådhuset", "kommune A", "kommune B"]
    a = dp.sites[1].sessions
    assert [(p.when, p.title) for p in a] == [("09:00", "Gruppeintervju ledere"), ("11:30", "Koordinator")]
    # roles switch between the two interviews
    assert (a[0].lead, a[0].observer) == ("Kari Lie (KL)", "Ola Berg (OB)")
    assert (a[1].lead, a[1].observer) == ("Ola Berg (OB)", "Kari Lie (KL)")
    assert a[0].guide and a[0].guide.endswith(" v1")
    assert a[0].informants == ["L01 (leder, NAV)", "L02 (fagperson, DPS)"]
    assert a[0].to_plan == ["written consent from L02"] and a[1].to_plan == []
    phone = dp.sites[2].sessions[0]
    assert phone.to_plan == ["no observer", "no guide", "information letter to N01"]
    meeting = dp.sites[0].sessions[0]
    assert meeting.to_plan == ["no lead", "no observer", "no informants"]
    assert "Neste dag" not in [p.title for p in dp.sessions]
    assert not any("Navn" in i for p in dp.sessions for i in p.informants)   # codes only by default


def test_markdown_is_readable(tmp_path: Path):
    ws = _project(tmp_path / "data")
    with ws.open("Nettverksstudien") as h:
        md = to_markdown(day_plan(h, DAY))
    assert md.startswith("# Day in the field: Nettverksstudien, Tuesday 2026-03-10\n")
    assert "## kommune A\n\n### 09:00 Gruppeintervju ledere\n" in md
    assert "- **Lead:** Ola Berg (OB)" in md
    todo = md.split("## Still to plan\n", 1)[1]
    assert "- 14:00 Telefon N01: no observer; no guide; information letter to N01" in todo
    assert "Koordinator" not in todo


def _run(root: Path, *args: str) -> subprocess.CompletedProcess:
    env = {**os.environ, "FIELDKIT_HOME": str(root), "COLUMNS": "200"}
    return run_cli(None, "plan", "-p", "Nettverksstudien", *args, ok=False, env=env)


def _docx_text(path: Path) -> list[str]:
    with zipfile.ZipFile(path) as z:
        root = etree.fromstring(z.read("word/document.xml"))
    ns = {"w": "http://schemas.openxmlformats.org/wordprocessingml/2006/main"}
    return ["".join(p.itertext()) for p in root.iterfind(".//w:p", ns)]


def test_cli_prints_and_writes_markdown_and_word(tmp_path: Path):
    _project(tmp_path / "data")
    r = _run(tmp_path / "data", "--day", "2026-03-10")
    assert r.returncode == 0, r.stderr
    assert "kommune A" in r.stdout and "Gruppeintervju ledere" in r.stdout
    assert "4 sessions at 3 sites; 3 still to plan." in r.stdout
    md = tmp_path / "dag.md"
    r = _run(tmp_path / "data", "--day", "2026-03-10", "-o", str(md))
    assert r.returncode == 0 and md.read_text(encoding="utf-8").count("### ") == 4, r.stderr
    r = _run(tmp_path / "data", "--day", "2026-03-10", "-o", str(md))
    assert r.returncode == 9 and "already exists" in r.stderr and "Traceback" not in r.stderr
    docx_path = tmp_path / "dag.docx"
    r = _run(tmp_path / "data", "--day", "2026-03-10", "-o", str(docx_path), "--names")
    assert r.returncode == 0, r.stderr
    text = _docx_text(docx_path)
    assert text[0] == "Day in the field: Nettverksstudien, Tuesday 2026-03-10"
    assert "Holds personal data" in text[1]
    assert "kommune A" in text and "09:00 Gruppeintervju ledere" in text
    assert "L01 Navn L01 (leder, NAV), L02 Navn L02 (fagperson, DPS)" in text
    assert any(re.fullmatch(r"14:00 Telefon N01: no observer; no guide; information letter to N01", t) for t in text)
    r = _run(tmp_path / "data", "--day", "2026-03-12")
    assert r.returncode == 0 and "No sessions on this day." in r.stdout
    r = _run(tmp_path / "data", "--day", "2026-03-10", "-o", str(tmp_path / "dag.pdf"))
    assert r.returncode == 1 and ".md or .docx" in r.stderr


def test_a_planned_time_comes_before_the_start_time():
    """Where the data model has Session.planned_at (set in setup), that is the session's
    day; else its start time. Stored times are UTC; the plan is in local time."""
    from types import SimpleNamespace

    from fieldkit.sessions.dayplan import planned_time

    planned = _at(9).astimezone(timezone.utc)
    held = _at(10, 15, day=date(2026, 3, 11)).astimezone(timezone.utc)
    assert planned_time(SimpleNamespace(planned_at=planned, starts_at=held)) == _at(9)
    assert planned_time(SimpleNamespace(planned_at=None, starts_at=held)).date() == date(2026, 3, 11)
    assert planned_time(SimpleNamespace(starts_at=None)) is None
    naive_utc = planned.replace(tzinfo=None)
    assert planned_time(SimpleNamespace(planned_at=naive_utc, starts_at=None)) == _at(9)
