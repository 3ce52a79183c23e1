"""A new team's first real project, walked through as a test (issue 16).

Not the demo: a project made with ``fieldkit project new``, two researchers and two
guides added with the CLI, informants with site and group, a pair interview planned in
setup and held from two app instances on one database (lead and observer), a debrief
written from both terminals at once, an imported telephone interview and exports, read
back. Every defect the walk found and this branch fixed is asserted on the stored data
or the exported files. The pseudonymisation and coverage-by-guide defects are fixed on
another branch: their assertions are in the last test, marked so it is checked after
merging it.
"""

from __future__ import annotations

import csv
import json
import os
from datetime import datetime, timezone
from pathlib import Path

from sqlmodel import select
from textual.widgets import Checkbox, Input, Select, SelectionList, TextArea

from fieldkit.projects import Workspace
from fieldkit.tui.app import FieldkitApp
from tests.support.cli import fk as cli
from tests.support.wait import settle as _settle
from tests.support.wait import until as _until

REPO = Path(__file__).resolve().parents[2]
GROUP_GUIDE = REPO / "guides" / "no-gruppeintervju-utviklingsnettverk.md"
OBS_GUIDE = REPO / "guides" / "no-observasjon-samarbeidsmote.md"
NAME = "Studie 001"
SLUG = "studie-001"


def read_csv(path: Path) -> list[list[str]]:
    """A CSV export read back with the standard library, comma or semicolon separated
    (Norwegian Excel wants ';')."""
    text = path.read_text(encoding="utf-8-sig")
    dialect = csv.Sniffer().sniff(text.splitlines()[0], delimiters=",;") if text.strip() else csv.excel
    return list(csv.reader(text.splitlines(), dialect))


def phone_recording(path: Path) -> datetime:
    """A short m4a as a phone writes it, with its creation time in the metadata."""
    import av
    import numpy as np

    when = datetime(2026, 2, 10, 14, 5, tzinfo=timezone.utc)
    out = av.open(str(path), "w", format="mp4")
    out.metadata["creation_time"] = when.strftime("%Y-%m-%dT%H:%M:%SZ")
    stream = out.add_stream("aac", rate=16000)
    stream.layout = "mono"
    t = np.arange(16000 * 2) / 16000
    frame = av.AudioFrame.from_ndarray((np.sin(2 * np.pi * 220 * t) * 8000).astype(np.int16).reshape(1, -1),
                                       format="s16", layout="mono")
    frame.sample_rate = 16000
    for packet in stream.encode(frame):
        out.mux(packet)
    for packet in stream.encode(None):
        out.mux(packet)
    out.close()
    os.utime(path, (1_600_000_000, 1_600_000_000))   # a copied file: its mtime says nothing
    return when


def new_team_project(data: Path) -> None:
    """Everything a new team does on the command line before the first interview."""
    r = cli(data, "project", "new", NAME)
    assert SLUG in r.stdout
    cli(data, "project", "set", SLUG, "--sikt", "654321")
    # the deletion deadline is known only later ("one month after grading")
    cli(data, "project", "deadline", NAME, "2027-01-31")
    cli(data, "researcher", "add", "Ingrid Berg", "--initials", "ib", "--institution", "NTNU", "-p", NAME)
    cli(data, "researcher", "add", "Ola Nord", "--initials", "ON", "--institution", "NORCE", "-p", SLUG)
    dup = cli(data, "researcher", "add", "Ivar Bakke", "--initials", "IB", "-p", NAME, ok=False)
    assert dup.returncode != 0 and "IB" in dup.stderr and "Ingrid Berg" in dup.stderr
    cli(data, "researcher", "edit", "ON", "--institution", "NORCE Helse", "-p", NAME)
    cli(data, "guide", "import", str(GROUP_GUIDE), "-p", NAME)
    cli(data, "guide", "import", str(OBS_GUIDE), "-p", NAME)
    for code, name, role, org, site in (("A01", "Per Bruker", "bruker", "Vestby kommune", "Nettverk Sør"),
                                        ("A02", "Jon Leder", "leder", "NAV Vestby", "Nettverk Sør"),
                                        ("A03", "Kari Holm", "ansatt", "DPS Nord", "Nettverk Nord")):
        cli(data, "informant", "add", code, "-p", NAME, "--name", name, "--role", role,
            "--organisation", org, "--site", site, "--group", "lokal")


async def test_field_walk(tmp_path: Path):
    from fieldkit.sessions.debrief import load_debrief
    from fieldkit.store.models import (
        Event, EventKind, Project, Recording, Researcher, Session, SessionParticipant, SessionStatus,
    )
    from fieldkit.tui.screens.debrief import DebriefScreen
    from fieldkit.tui.screens.interview import InterviewScreen

    data = tmp_path / "data"
    new_team_project(data)

    # -- the CLI shows what was registered
    listed = cli(data, "researcher", "list", "-p", NAME).stdout
    assert "IB" in listed and "Ingrid Berg" in listed and "NTNU" in listed and "NORCE Helse" in listed
    informants = cli(data, "informant", "list", "-p", NAME).stdout
    assert "Nettverk Sør" in informants and "Nettverk Nord" in informants and "lokal" in informants
    assert "Per Bruker" not in informants                       # names stay hidden
    projects = cli(data, "project", "list").stdout
    assert "2027-01-31" in projects and "654321" in projects

    # -- `fieldkit -p` opens the named project or says it does not exist; never another one
    unknown = cli(data, "-p", "Studie 002", ok=False)
    assert unknown.returncode != 0 and "Studie 002" in unknown.stderr and "Traceback" not in unknown.stderr
    assert FieldkitApp(data_dir=data, project=NAME).initial_project == SLUG

    ws = Workspace(data)
    with ws.open(NAME) as h, h.db.session() as s:
        p = s.exec(select(Project)).one()
        assert (p.sikt_reference, str(p.deletion_deadline)) == ("654321", "2027-01-31")
        people = {r.initials: r for r in s.exec(select(Researcher))}
        assert set(people) == {"IB", "ON"} and people["ON"].institution == "NORCE Helse"
        ib, on = people["IB"].id, people["ON"].id

    # -- planned in setup by the lead: guide, lead and observer, informants, consent, date
    lead_app = FieldkitApp(data_dir=data, project=NAME)
    obs_app = FieldkitApp(data_dir=data, project=NAME)
    async with lead_app.run_test(size=(120, 40)) as lp, obs_app.run_test(size=(80, 24)) as op:
        await _settle(lead_app, lp)
        await _settle(obs_app, op)
        assert lead_app.screen.current == SLUG and obs_app.screen.current == SLUG
        await lp.press("n")
        await _settle(lead_app, lp)
        setup = lead_app.screen
        assert type(setup).__name__ == "SetupScreen"
        assert setup.query_one("#lead", Select).value == ib             # the menus are not empty
        assert setup.query_one("#observer", Select).value == on
        setup.query_one("#title", Input).value = "Gruppeintervju Nettverk Sør"
        setup.query_one("#kind", Select).value = "notes_only"
        setup.query_one("#when", Input).value = "2026-03-04 10:00"
        setup.query_one("#place", Input).value = "Vestby rådhus"
        setup.query_one("#informant-search", Input).value = "Nettverk Sør"
        await lp.pause()
        setup.query_one("#select-all", Checkbox).value = True
        await _until(lp, lambda: sorted(setup.query_one("#informants", SelectionList).selected) == ["A01", "A02"], "sorted(setup.query_one('#informants', SelectionList).sele...")
        for code in ("A01", "A02"):
            row = setup.consent_rows[code]
            for box in (".c-letter", ".c-written", ".c-recording"):
                row.query_one(box, Checkbox).value = True
        await lp.press("ctrl+s")                  # kept for later, consent ticks and all
        await _settle(lead_app, lp)
        assert type(lead_app.screen).__name__ == "HomeScreen"
        with ws.open(NAME) as h, h.db.session() as s:
            sess = s.exec(select(Session)).one()
            sid = sess.id
            assert sess.planned_at.replace(tzinfo=timezone.utc).astimezone().strftime("%Y-%m-%d %H:%M") \
                == "2026-03-04 10:00"
            assert (sess.lead_id, sess.observer_id) == (ib, on)
            assert {p.speaker_label: p.recording_consent for p in s.exec(select(SessionParticipant))} == {
                "A01": True, "A02": True}

        # -- the interview: the lead opens the plan and starts; the observer joins
        await lp.press("enter")
        await _settle(lead_app, lp)
        await lp.press("enter")
        await _settle(lead_app, lp)
        assert type(lead_app.screen).__name__ == "SetupScreen"
        assert lead_app.screen.consent_rows["A01"].query_one(".c-recording", Checkbox).value is True
        await lp.press("ctrl+r")
        await _settle(lead_app, lp)
        assert type(lead_app.screen).__name__ == "InterviewScreen"
        obs_app.push_screen(InterviewScreen(SLUG, sid, observer=True))
        await _settle(obs_app, op)
        assert obs_app.screen.author_id == on
        await lp.press("k")                                   # a key quote, by the lead
        await op.press("n", *"Nøler om budsjettet", "enter")   # a note, by the observer
        log = lambda app: str(app.screen.query_one("#event-log").render())  # noqa: E731
        await _until(lp, lambda: "Nøler om budsjettet" in log(lead_app), timeout=15)
        await lp.press("q")
        await _settle(lead_app, lp)
        await lp.press("y")
        await _until(lp, lambda: type(lead_app.screen).__name__ == "DebriefScreen", timeout=15)

        # -- the debrief, written from both terminals at the same time
        obs_app.push_screen(DebriefScreen(SLUG, sid, author_id=on))
        await _settle(obs_app, op)
        lead_joint = lead_app.screen.query_one("#joint", TextArea)
        obs_joint = obs_app.screen.query_one("#joint", TextArea)
        lead_app.screen.query_one("#impressions-0", TextArea).text = "Åpne og engasjerte"
        obs_app.screen.query_one("#impressions-0", TextArea).text = "A02 dominerte"
        lead_joint.focus()
        obs_joint.focus()
        await lp.press(*"Budsjett er et tema")
        await op.press(*"Følg opp NAV-brevet")
        await lp.press("ctrl+s")
        await _settle(lead_app, lp)
        await op.press("ctrl+s")
        await _settle(obs_app, op)
        assert "Budsjett er et tema" in obs_joint.text        # the other's change is shown
        await _until(lp, lambda: "Følg opp NAV-brevet" in lead_joint.text, timeout=15)
        await lp.press("escape")
        await op.press("escape")
        await _settle(lead_app, lp)
        await _settle(obs_app, op)

    with ws.open(NAME) as h:
        debrief = load_debrief(h, sid)
        with h.db.session() as s:
            events = s.exec(select(Event).where(Event.session_id == sid)).all()
            sess = s.get(Session, sid)
    assert "Budsjett er et tema" in debrief[("joint", None)] and "Følg opp NAV-brevet" in debrief[("joint", None)]
    assert debrief[("impressions", ib)] == "Åpne og engasjerte" and debrief[("impressions", on)] == "A02 dominerte"
    authors = {(e.kind, e.created_by) for e in events}
    assert (EventKind.tag, ib) in authors and (EventKind.note, on) in authors
    consent = [e for e in events if e.kind == EventKind.consent]
    assert len(consent) == 2 and len({e.informant_id for e in consent}) == 2    # once each, per person
    assert sess.status == SessionStatus.recorded

    # -- an imported telephone interview: its date comes from the file
    phone = tmp_path / "telefon.m4a"
    when = phone_recording(phone)
    cli(data, "import", str(phone), "-p", NAME, "--title", "Telefonintervju A03")
    with ws.open(NAME) as h, h.db.session() as s:
        tel = s.exec(select(Session).where(Session.title == "Telefonintervju A03")).one()
        rec = s.exec(select(Recording).where(Recording.session_id == tel.id)).one()
        assert tel.starts_at.astimezone(timezone.utc) == when
        assert rec.started_at.astimezone(timezone.utc) == when and rec.info["date_from"] == "metadata"

    # -- exports, read back
    out = tmp_path / "exports"
    cli(data, "export", "-p", NAME, "--all", "-f", "md", "-f", "json", "-f", "csv", "--out", str(out))
    md = {f.name: f.read_text(encoding="utf-8") for f in out.glob("*.md")}
    phone_md = next(text for name, text in md.items() if "Telefonintervju" in text)
    assert "unknown" not in phone_md.split("\n\n")[1] and "2026-02-10" in phone_md
    pair_md = next(text for name, text in md.items() if "Gruppeintervju Nettverk" in text)
    assert "IB" in pair_md and "ON" in pair_md                # both researchers are in the record
    assert "Budsjett er et tema" in pair_md and "Følg opp NAV-brevet" in pair_md
    assert "Per Bruker" not in pair_md and "Jon Leder" not in pair_md
    dumped = [json.loads(f.read_text(encoding="utf-8")) for f in out.glob("*.json")]
    assert dumped
    events_csv = [row for f in out.glob("*events*.csv") for row in read_csv(f)]
    assert any("Nøler om budsjettet" in " ".join(row) for row in events_csv)


async def test_field_walk_exports_pseudonymisation_and_coverage(tmp_path: Path):
    """Issue 16's export defects, asserted on the same kind of project: common words in
    names are not replaced, one policy per name, coverage keyed by guide."""
    from fieldkit.instruments.guides.coverage import set_coverage
    from fieldkit.instruments.guides.model import Guide as GuideModel  # noqa: F401 - the outline model
    from fieldkit.sessions.plan import SessionPlan, save_session, setup_choices
    from fieldkit.store.models import GuideVersion

    data = tmp_path / "data"
    new_team_project(data)
    ws = Workspace(data)
    with ws.open(NAME) as h:
        c = setup_choices(h)
        by_title = {g.label.split(" (v")[0]: g.version_id for g in c.guides}
        obs_v = next(v for t, v in by_title.items() if t.startswith("Observasjon"))
        grp_v = next(v for t, v in by_title.items() if t.startswith("Gruppeintervju"))
        obs_sid = save_session(h, SessionPlan("Observasjon", kind="observation", guide_version_id=obs_v,
                                              lead_id=c.researchers[0].id, informants=["A01", "A02"]))
        obs2_sid = save_session(h, SessionPlan("Observasjon", kind="observation", guide_version_id=obs_v,
                                               lead_id=c.researchers[0].id, informants=["A01"]))
        grp_sid = save_session(h, SessionPlan("Gruppeintervju", kind="group", guide_version_id=grp_v,
                                              lead_id=c.researchers[0].id, informants=["A02"]))
        with h.db.session() as s:
            obs_outline = s.get(GuideVersion, obs_v).outline
            grp_outline = s.get(GuideVersion, grp_v).outline
        obs_q = obs_outline["themes"][0]["questions"][0]
        set_coverage(h.db, obs_sid, obs_q["id"], "covered", position_ms=None)
        grp_first = grp_outline["themes"][0]["questions"][0]["text"]
    out = tmp_path / "exports"
    cli(data, "export", "-p", NAME, "--all", "-f", "md", "-f", "csv", "--out", str(out))
    cli(data, "export", "-p", NAME, "--all", "-f", "md", "--pseudonymise", "nn", "--out", str(out / "nn"))
    # a name that is also a common word replaces the name, never the word
    obs_md = "\n".join(f.read_text(encoding="utf-8") for f in out.glob("*.md"))
    assert "samarbeidsmøte om en bruker" in obs_md and "om en A01" not in obs_md
    # NN: an organisation is one NN, and codes do not leak into NN exports
    nn_md = "\n".join(f.read_text(encoding="utf-8") for f in (out / "nn").glob("*.md"))
    assert "NN NN" not in nn_md and "A01" not in nn_md and "A02" not in nn_md
    # coverage keyed by guide: the observation question is not reported under the group guide's
    sheet = [row for f in out.glob("*coverage*.csv") for row in read_csv(f)]
    assert sheet, "a coverage sheet is exported"
    header = sheet[0]
    assert len([h for h in header if h.startswith("Observasjon")]) == len(set(
        h for h in header if h.startswith("Observasjon")))          # two sessions, two distinct headers
    grp_rows = [r for r in sheet if grp_first in " ".join(r)]
    assert grp_rows, f"the group guide's question {grp_first!r} has its own row"
    assert not any(cell.strip() in ("✓", "covered", "✔") for r in grp_rows for cell in r[1:]), grp_rows
    assert obs_sid and obs2_sid and grp_sid
    cov = cli(data, "coverage", "-p", NAME).stdout
    assert cov.count("Observasjon") >= 2
