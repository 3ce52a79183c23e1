"""Seed study 003: several researchers, a central and a local guide, group, single and
telephone interviews in full-day blocks across case networks.

The team plans two days in two case networks (a group interview in the morning, single
and telephone interviews after, lead and observer switching between interviews), prints
and writes the day plan, looks at the days on the home screen (80x24 and 120x40), reads
the team overview with ``fieldkit status``, and exports quotes attributed by case network
("NN, nettverk 1"), with the n=1 warning for a network with a single informant."""

from __future__ import annotations

import asyncio
import json
import os
import subprocess
import sys
import zipfile
from datetime import date, datetime
from pathlib import Path

import pytest
from lxml import etree
from textual.widgets import DataTable

from fieldkit.privacy.pseudonym import attribution_label, label_warnings
from tests.support.cli import fk
from tests.support.wait import until as _until

REPO = Path(__file__).resolve().parents[2]
PROJECT = "Utviklingsnettverk"
DAY1, DAY2 = date(2026, 5, 12), date(2026, 5, 13)
pytestmark = pytest.mark.slow   # a whole study: several CLI runs and app sessions


def _at(day: date, hour: int, minute: int = 0) -> datetime:
    return datetime(day.year, day.month, day.day, hour, minute).astimezone()


@pytest.fixture(scope="module")
def study(tmp_path_factory: pytest.TempPathFactory):
    """The study as the team sets it up: CLI for the registry, the setup screen's core
    functions (save_session, set_planned_at) for the day blocks."""
    root = tmp_path_factory.mktemp("seed003") / "data"
    fk(root, "project", "new", PROJECT, "--language", "no")
    for name, initials in (("Kari Lie", "KL"), ("Ola Berg", "OB"), ("Mona Sand", "MS")):
        fk(root, "researcher", "add", name, "--initials", initials, "-p", PROJECT)
    for code, role, org, site, group, consent in (
            ("A01", "nettverksleder", "kommune A", "nettverk 1", "sentral", True),
            ("A02", "deltaker", "DPS Vest", "nettverk 1", "lokal", True),
            ("A03", "brukerrepresentant", "brukerorganisasjon", "nettverk 1", "lokal", False),
            ("B01", "nettverksleder", "kommune B", "nettverk 2", "sentral", True)):
        args = ["informant", "add", code, "-p", PROJECT, "--name", f"Person {code}", "--role", role,
                "--organisation", org, "--site", site, "--group", group, "--letter-sent", "2026-04-20"]
        if consent:
            args += ["--consent", "2026-04-28"]
        fk(root, *args)
    # a central guide (network leaders) and a local guide (group interviews)
    fk(root, "guide", "import", str(REPO / "guides" / "no-leder-samhandling.md"), "-p", PROJECT)
    fk(root, "guide", "import", str(REPO / "guides" / "no-gruppeintervju-utviklingsnettverk.md"), "-p", PROJECT)

    from fieldkit.sessions.plan import set_planned_at
    from fieldkit.projects import Workspace
    from fieldkit.sessions.plan import SessionPlan, save_session, setup_choices

    ws = Workspace(root)
    ids = {}
    with ws.open(PROJECT) as h:
        c = setup_choices(h)
        who = {r.label: r.id for r in c.researchers}
        guide = {g.label.split(" –")[0].split(" (")[0]: g.version_id for g in c.guides}
        central = next(v for k, v in guide.items() if "leder" in k.lower() or "samhandling" in k.lower())
        local = next(v for k, v in guide.items() if "Gruppeintervju" in k)
        for title, kind, when, lead, obs, gv, codes in (
                ("Nettverk 1 gruppe", "group", _at(DAY1, 9), "KL", "OB", local, ["A02", "A03"]),
                ("Nettverk 1 leder", "individual", _at(DAY1, 11, 30), "OB", "KL", central, ["A01"]),
                ("Nettverk 1 telefon", "telephone", _at(DAY1, 14), "MS", None, central, ["A03"]),
                ("Nettverk 2 leder", "individual", _at(DAY2, 10), "KL", "MS", central, ["B01"]),
                ("Nettverk 2 gruppe", "group", _at(DAY2, 13), None, None, None, [])):
            sid = save_session(h, SessionPlan(title, kind=kind, guide_version_id=gv, tag_scheme_id=c.schemes[0][0],
                                              lead_id=who.get(lead), observer_id=who.get(obs) if obs else None,
                                              informants=codes))
            set_planned_at(h, sid, when)
            ids[title] = sid
    return root, ids


def test_day_plan_per_site_with_switching_roles(study, tmp_path: Path):
    root, _ids = study
    out = fk(root, "plan", "-p", PROJECT, "--day", DAY1.isoformat(), "-o", str(tmp_path / "dag1.md")).stdout
    assert "nettverk 1" in out and "Nettverk 1 gruppe" in out
    md = (tmp_path / "dag1.md").read_text(encoding="utf-8")
    # one site this day; the group interview in the morning, then the single and the phone interview
    assert md.count("\n## nettverk 1") == 1 and "Nettverk 2" not in md
    order = [md.index(t) for t in ("09:00 Nettverk 1 gruppe", "11:30 Nettverk 1 leder", "14:00 Nettverk 1 telefon")]
    assert order == sorted(order)
    group, leader, phone = (md.split(f"### {t}")[1].split("###")[0] for t in
                            ("09:00 Nettverk 1 gruppe", "11:30 Nettverk 1 leder", "14:00 Nettverk 1 telefon"))
    # lead and observer switch between the two interviews
    assert "**Lead:** Kari Lie (KL)" in group and "**Observer:** Ola Berg (OB)" in group
    assert "**Lead:** Ola Berg (OB)" in leader and "**Observer:** Kari Lie (KL)" in leader
    assert "group interview" in group and "telephone interview" in phone
    assert "Gruppeintervju" in group and "leder" in leader.lower()
    # what is still to plan: the phone interview has no observer and A03 no written consent
    todo = md.split("## Still to plan")[1]
    assert "14:00 Nettverk 1 telefon: no observer; written consent from A03" in todo
    assert "written consent from A03" in todo.split("09:00 Nettverk 1 gruppe:")[1].splitlines()[0]
    # the Word file to bring along, read through its XML
    fk(root, "plan", "-p", PROJECT, "--day", DAY2.isoformat(), "-o", str(tmp_path / "dag2.docx"))
    with zipfile.ZipFile(tmp_path / "dag2.docx") as z:
        xml = etree.fromstring(z.read("word/document.xml"))
    text = " ".join(t.text or "" for t in xml.iter("{http://schemas.openxmlformats.org/wordprocessingml/2006/main}t"))
    assert "nettverk 2" in text and "Nettverk 2 leder" in text and "Site not set" in text
    assert "Nettverk 2 gruppe: no lead; no observer; no guide; no informants" in text


@pytest.mark.parametrize("size", [(80, 24), (120, 40)])
async def test_home_day_view(study, size):
    from fieldkit.tui.app import FieldkitApp
    from fieldkit.tui.screens.setup import SetupScreen

    root, ids = study
    app = FieldkitApp(data_dir=root, project=PROJECT)
    async with app.run_test(size=size) as pilot:
        home = app.screen
        table = home.query_one("#sessions", DataTable)
        await _until(pilot, lambda: table.row_count == 5, "the session list")
        await pilot.press("d")
        await _until(pilot, lambda: any(str(k.value).startswith("day-2026") for k in table.rows),
                     "the day view")
        rows = [(str(k.value), [str(c) for c in table.get_row(k)]) for k in table.rows]
        # a date and site line before each site's sessions: short date, site, weekday
        headings = [cells[:3] for key, cells in rows if key.startswith("day-")]
        assert headings == [["05-12", "nettverk 1", "Tuesday"], ["05-13", "nettverk 2", "Wednesday"],
                            ["05-13", "Site not set", "Wednesday"]]
        by_title = {cells[1]: cells for key, cells in rows if not key.startswith("day-")}
        assert [c for key, c in rows][1][1] == "Nettverk 1 gruppe"      # the morning's group first
        assert by_title["Nettverk 1 gruppe"][:5] == ["09:00", "Nettverk 1 gruppe", "group", "A02, A03", "KL/OB"]
        assert by_title["Nettverk 1 leder"][4] == "OB/KL"          # the roles switched
        assert by_title["Nettverk 1 telefon"][2:5] == ["phone", "A03", "MS/–"]
        wide = size[0] >= 120
        # what is still to plan: spelt out on a wide terminal, counted on a narrow one
        assert by_title["Nettverk 1 telefon"][5] == (
            "⚠ 2 no observer; written consent from A03" if wide else "⚠ 2")
        assert by_title["Nettverk 1 leder"][5] == "✓"
        assert by_title["Nettverk 2 gruppe"][5] == ("⚠ 4 no lead; no observer; no guide; no informants" if wide
                                                    else "⚠ 4")
        # the day view fits the terminal: no column runs off the screen but the last
        widths = [c.get_render_width(table) for c in table.columns.values()]
        assert sum(widths[:-1]) < table.size.width
        # the whole of the highlighted session under the table (a narrow terminal cuts columns)
        from textual.widgets import Static

        table.focus()
        table.move_cursor(row=table.get_row_index(str(ids["Nettverk 1 telefon"])))
        detail = home.query_one("#day-detail", Static)
        await _until(pilot, lambda: "Nettverk 1 telefon" in str(detail.render()), "the session's details")
        shown = str(detail.render())
        await _until(pilot, lambda: detail.display and detail.region.height == 4, "the four lines laid out")
        assert "Informants: A03 (brukerrepresentant, brukerorganisasjon)" in shown
        assert "Lead: Mona Sand (MS) · Observer: not chosen" in shown
        assert shown.startswith("Tuesday 2026-05-12 14:00 · Nettverk 1 telefon · telephone interview")
        assert "To plan: no observer; written consent from A03" in shown
        # Enter on a date line opens nothing; on a planned session its setup
        table.move_cursor(row=0)
        await pilot.press("enter")
        await _until(pilot, lambda: app.screen is home, "app.screen is home")
        table.move_cursor(row=table.get_row_index(str(ids["Nettverk 1 leder"])))
        await pilot.press("enter")
        await _until(pilot, lambda: isinstance(app.screen, SetupScreen), "the setup screen")
        assert app.screen.session_id == ids["Nettverk 1 leder"]
        await pilot.press("escape")
        await _until(pilot, lambda: app.screen is home, "back home")
        await pilot.press("d")
        await _until(pilot, lambda: table.row_count == 5 and table.columns and
                     [str(c.label) for c in table.columns.values()][0] == "Session", "back to the list")
        assert not home.query_one("#day-detail").display


def test_status_and_attribution_by_network(study, tmp_path: Path):
    root, ids = study
    status = fk(root, "status", "-p", PROJECT).stdout
    assert "nettverk 1" in status and "nettverk 2" in status
    for initials in ("KL", "OB", "MS"):
        assert initials in status
    # the phone interview is transcribed (typed here as the transcriber typed it)
    from fieldkit.projects import Workspace
    from fieldkit.store.models import Informant, SessionStatus, TranscriptSegment, Session
    from sqlmodel import select

    with Workspace(root).open(PROJECT) as h:
        with h.db.transaction() as s:
            a03 = s.exec(select(Informant).where(Informant.code == "A03")).one()
            a02 = s.exec(select(Informant).where(Informant.code == "A02")).one()
            for sid, lines in ((ids["Nettverk 1 telefon"], [(a03.id, "Person A03 her, fra brukerorganisasjonen.")]),
                               (ids["Nettverk 1 gruppe"], [(a02.id, "Vi i DPS Vest møtes hver måned."),
                                                           (a03.id, "Det har hjulpet brukerne.")])):
                for n, (inf, text) in enumerate(lines):
                    s.add(TranscriptSegment(session_id=sid, start_ms=n * 4000, end_ms=n * 4000 + 3500,
                                            verbatim=text, speaker_informant_id=inf))
                s.get(Session, sid).status = SessionStatus.transcribed
    out = tmp_path / "network"
    done = fk(root, "export", "-p", PROJECT, "--session", "Nettverk 1 telefon", "--session", "Nettverk 1 gruppe",
              "-f", "json", "--pseudonymise", "network", "--out", str(out))
    bundle = json.loads(next(out.rglob("*.json")).read_text(encoding="utf-8"))
    speakers = {seg["speaker"] for sess in bundle["sessions"] for seg in sess["segments"]}
    assert speakers == {"NN, nettverk 1"}
    text = json.dumps(bundle, ensure_ascii=False)
    assert "Person A03" not in text and "A03" not in text and "NN her" in text
    # two informants of nettverk 1 in the export: no n=1 warning for that label
    assert "points at one person" not in done.stdout + done.stderr
    # by organisation every label names one person here: each is warned about
    done = fk(root, "export", "-p", PROJECT, "--session", "Nettverk 1 gruppe", "-f", "json",
              "--pseudonymise", "organisation", "--out", str(tmp_path / "org"))
    said = done.stdout + done.stderr
    assert "'NN, DPS Vest'" in said and "'NN, brukerorganisasjon'" in said and "points at one person" in said


def test_attribution_labels_and_single_member_warning():
    assert attribution_label("organisation", "leder", "kommune A", "nettverk 1", "sentral") == "NN, kommune A"
    assert attribution_label("network", "leder", "kommune A", "nettverk 1", "sentral") == "NN, nettverk 1"
    assert attribution_label("network", "leder", "kommune A", "", "sentral") == "NN, sentral"
    assert attribution_label("organisation", "leder") == "NN"
    assert attribution_label("role", "leder", "kommune A") == "leder, kommune A"
    warned = label_warnings([("A01", "NN, nettverk 1"), ("A02", "NN, nettverk 1"), ("B01", "NN, nettverk 2")])
    assert len(warned) == 1 and "(B01)" in warned[0] and "'NN, nettverk 2'" in warned[0]


async def test_home_day_view_in_norwegian(study):
    """The day view as a Norwegian team sees it: Norwegian words and dates."""
    from fieldkit.i18n import set_language
    from fieldkit.tui.app import FieldkitApp

    root, _ids = study
    set_language("nb")
    try:
        app = FieldkitApp(data_dir=root, project=PROJECT)
        async with app.run_test(size=(120, 40)) as pilot:
            table = app.screen.query_one("#sessions", DataTable)
            await _until(pilot, lambda: table.row_count == 5, "the session list")
            await pilot.press("d")
            await _until(pilot, lambda: any(str(k.value).startswith("day-2026") for k in table.rows),
                         "the day view")
            assert [str(c.label) for c in table.columns.values()] == [
                "Tid", "Økt", "Type", "Informanter", "Int./obs.", "Å planlegge"]
            rows = {str(k.value): [str(c) for c in table.get_row(k)] for k in table.rows}
            headings = [cells[:3] for key, cells in rows.items() if key.startswith("day-")]
            assert headings == [["12.05", "nettverk 1", "tirsdag"], ["13.05", "nettverk 2", "onsdag"],
                                ["13.05", "Sted ikke satt", "onsdag"]]
            phone = next(cells for cells in rows.values() if cells[1] == "Nettverk 1 telefon")
            assert phone[2] == "telefon"
            assert phone[5] == "⚠ 2 ingen observatør; skriftlig samtykke fra A03"
            app.screen.query_one("#sessions", DataTable).move_cursor(row=list(rows).index(
                next(k for k, c in rows.items() if c[1] == "Nettverk 1 telefon")))
            detail = app.screen.query_one("#day-detail")
            await _until(pilot, lambda: "tirsdag 12.05.2026 14:00" in str(detail.render()), "the details")
            assert "telefonintervju" in str(detail.render())
            title = str(app.screen.query_one("#sessions-title").render())
            assert title == f"Feltdager — {PROJECT}"
    finally:
        set_language("en")
