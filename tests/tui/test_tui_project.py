"""Project screens through Textual's Pilot: informants (codes, consent, names hidden,
adding, withdrawal) and the coverage matrix across sessions."""

from __future__ import annotations

from datetime import date, datetime, timezone
import time
from pathlib import Path

import pytest
from sqlmodel import select
from textual.widgets import DataTable, Input

from fieldkit.people.informants import add_informant
from fieldkit.instruments.guides.coverage import set_coverage
from fieldkit.instruments.guides.store import import_guide
from fieldkit.sessions.plan import guide_of
from fieldkit.sessions.plan import SessionPlan, save_session, setup_choices
from fieldkit.projects import Workspace
from fieldkit.store.models import Informant, Session
from fieldkit.tui.app import FieldkitApp
from tests.support.screens import REGISTRY_SLUG as SLUG
from tests.support.screens import REPO
from tests.support.screens import registry_project as _ws
from tests.support.wait import settle as _settle
from tests.support.wait import still, until


def _rows(table: DataTable) -> list[list[str]]:
    return [[str(c) for c in table.get_row_at(i)] for i in range(table.row_count)]


async def test_informants_codes_consent_hidden_names_add_and_withdraw(tmp_path: Path):
    ws = _ws(tmp_path / "data")
    app = FieldkitApp(data_dir=tmp_path / "data", project=SLUG)
    async with app.run_test(size=(120, 30)) as pilot:
        await _settle(app, pilot)
        await pilot.press("i")
        await _settle(app, pilot)
        screen = app.screen
        assert type(screen).__name__ == "InformantsScreen"
        table = screen.query_one("#informant-table", DataTable)
        rows = _rows(table)
        assert [r[0] for r in rows] == ["I01", "I02"]
        assert rows[0][6] == "written consent 2026-01-09" and rows[0][5] == "years=12"
        assert "no written consent yet" in rows[1][6]
        assert not any("Kari" in c or "Nordmann" in c for r in rows for c in r)   # names hidden
        await pilot.press("N")
        await until(pilot, lambda: _rows(table)[0][1] == "Kari Nordmann", "_rows(table)[0][1] == 'Kari Nordmann'")
        await pilot.press("N")
        await pilot.pause()
        # add one: the form suggests the next free code
        await pilot.press("a")
        await pilot.pause()
        form = app.screen
        assert form.query_one("#inf-code", Input).value == "I03"
        form.query_one("#inf-code", Input).value = "I01"           # taken
        form.query_one("#inf-role", Input).value = "relative"
        await pilot.press("ctrl+s")
        await until(pilot, lambda: "already used" in str(form.query_one("#inf-error").render()), "'already used' in str(form.query_one('#inf-error').render())")
        form.query_one("#inf-code", Input).value = "I03"
        form.query_one("#inf-name", Input).value = "Liv Berg"
        form.query_one("#inf-letter").value = True
        await pilot.press("ctrl+s")
        await _settle(app, pilot)
        assert app.screen is screen and [r[0] for r in _rows(table)] == ["I01", "I02", "I03"]
        # withdraw I02 (second row)
        table.move_cursor(row=1)
        await pilot.press("w")
        await pilot.pause()
        await pilot.press("y")
        await _settle(app, pilot)
        assert _rows(table)[1][6] == f"withdrawn {date.today()}"
    with ws.open(SLUG) as h, h.db.session() as s:
        i3 = s.exec(select(Informant).where(Informant.code == "I03")).one()
        assert (i3.name, i3.role, i3.info_letter_sent_on) == ("Liv Berg", "relative", date.today())
        assert s.exec(select(Informant).where(Informant.code == "I02")).one().withdrawn_on == date.today()


def _matrix_project(root: Path) -> Workspace:
    ws = _ws(root)
    with ws.open(SLUG) as h:
        import_guide(h.db, h.project_id, REPO / "guides" / "en-frontline-professionals.md")
        c = setup_choices(h)
        ids = []
        for n, title in enumerate(["Interview I01", "Interview I02"]):
            sid = save_session(h, SessionPlan(title, guide_version_id=c.guides[0].version_id))
            with h.db.transaction() as s:
                s.get(Session, sid).starts_at = datetime(2026, 3, 1 + n, 9, tzinfo=timezone.utc)
            ids.append(sid)
        guide = guide_of(h, ids[0])
        qs = [q for _t, q in guide.iter_questions()]
        set_coverage(h.db, ids[0], qs[0].id, "covered", position_ms=1)
        set_coverage(h.db, ids[0], qs[1].id, "partly", position_ms=2)
        set_coverage(h.db, ids[1], qs[0].id, "covered", position_ms=1)
        set_coverage(h.db, ids[1], qs[1].id, "skipped", position_ms=2)
    return ws


async def test_coverage_matrix_across_sessions(tmp_path: Path):
    _matrix_project(tmp_path / "data")
    app = FieldkitApp(data_dir=tmp_path / "data", project=SLUG)
    async with app.run_test(size=(120, 40)) as pilot:
        await _settle(app, pilot)
        await pilot.press("m")
        await _settle(app, pilot)
        screen = app.screen
        rows = _rows(screen.query_one("#matrix", DataTable))
        assert rows[0] == ["Role and everyday work", "", ""]
        assert rows[1][1:] == ["✓", "✓"]
        assert rows[3][1:] == ["½", "–"]     # theme 2, first question
        assert rows[4][1:] == ["·", "·"]
        gaps = str(screen.query_one("#coverage-gaps").render())
        assert "2/2" in gaps and "1/2  Tell me about the last time" in gaps


def _snapshot_project(root: Path) -> Workspace:
    """The matrix project with a researcher pair and a planned session (fixed title and
    time, so setup draws the same every run) with its debrief."""
    from fieldkit.sessions.debrief import save_part
    from fieldkit.sessions.plan import set_planned_at
    from fieldkit.people.researchers import add_researcher

    ws = _matrix_project(root)
    with ws.open(SLUG) as h:
        lead = add_researcher(h, "Ingrid Berg", "IB", "NTNU").id
        obs = add_researcher(h, "Ola Nord", "ON", "NORCE").id
        c = setup_choices(h)
        sid = save_session(h, SessionPlan("Planned group interview", kind="group",
                                          guide_version_id=c.guides[0].version_id, lead_id=lead,
                                          observer_id=obs, place="Town hall", informants=["I01", "I02"]))
        set_planned_at(h, sid, datetime(2026, 3, 9, 10, 0, tzinfo=timezone.utc))
        save_part(h, sid, "impressions", "Open and talkative; the leader hesitated on budgets.", "", lead)
        save_part(h, sid, "joint", "Follow up the NAV letter with I02 in the next interview.", "", obs)
    return ws


SCREENS = ["informants", "coverage", "team", "setup", "debrief", "help"]
SIZES = [(80, 24), (120, 40)]


@pytest.mark.parametrize("size", SIZES, ids=lambda s: f"{s[0]}x{s[1]}")
@pytest.mark.parametrize("name", SCREENS)
def test_project_screen_snapshots(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, snap_compare, name, size):
    """Every main screen this branch owns, at 80x24 and 120x40: nothing cut off that matters
    (Help and Quit in the footer, whole labels)."""
    monkeypatch.setenv("HOME", str(tmp_path))
    monkeypatch.setenv("TZ", "UTC")
    time.tzset()   # times are shown in local time
    _snapshot_project(tmp_path / "data")

    async def open_screen(pilot) -> None:
        from fieldkit.tui.screens.debrief import DebriefScreen

        app = pilot.app
        await _settle(app, pilot)
        if name in ("informants", "coverage", "team"):
            await pilot.press({"informants": "i", "coverage": "m", "team": "t"}[name])
        elif name == "setup":
            home = app.screen
            await pilot.press("enter")
            home.query_one("#sessions", DataTable).move_cursor(row=next(
                i for i, r in enumerate(home.summaries[SLUG].sessions) if r.title == "Planned group interview"))
            await pilot.press("enter")
        elif name == "debrief":
            sid = next(r.id for r in app.screen.summaries[SLUG].sessions if r.title == "Planned group interview")
            app.push_screen(DebriefScreen(SLUG, sid, author_id=None))
        else:
            await pilot.press("i")
            await until(pilot, lambda: type(app.screen).__name__ == "InformantsScreen")
            await until(pilot, lambda: app.screen.query_one("#informant-table").row_count == 2, "the informants")
            # the table below has drawn its final column widths before the help covers it
            await still(pilot)
            await pilot.press("question_mark")
        await _settle(app, pilot)
        if name == "setup":
            title = app.screen.query_one("#title")
            title.focus()                   # where setup puts it, however late the load
            await until(pilot, lambda: title.has_focus, "the title has the focus")
            title.action_end()              # no select-all highlight from an early focus
        await still(pilot)

    assert snap_compare(FieldkitApp(data_dir=tmp_path / "data", project=SLUG), terminal_size=size,
                        run_before=open_screen)


# ---------------------------------------------------------------------------- joint debrief, two writers


def _debrief_session(root: Path):
    from fieldkit.people.researchers import add_researcher

    ws = Workspace(root).ensure()
    with ws.create("Pair study") as h:
        lead = add_researcher(h, "Ingrid Berg", "IB", "NTNU").id
        obs = add_researcher(h, "Ola Nord", "ON", "NORCE").id
        sid = save_session(h, SessionPlan("Pair interview", lead_id=lead, observer_id=obs))
    return ws, sid, lead, obs


def test_joint_note_from_two_writers_keeps_both(tmp_path: Path):
    """Two core writers on one database (two open handles, as two terminals have): each
    saves from what it loaded; nothing either typed is lost."""
    from fieldkit.sessions.debrief import load_debrief, save_part

    ws, sid, lead, obs = _debrief_session(tmp_path / "data")
    with ws.open("pair-study") as a, ws.open("pair-study") as b:
        first_a = save_part(a, sid, "joint", "Trust came up early.", "", lead)
        assert not first_a.merged
        # B loaded the empty note before A saved, and saves its own first text
        first_b = save_part(b, sid, "joint", "Ask about the waiting list.", "", obs)
        assert first_b.merged and first_b.conflict
        assert "Trust came up early." in first_b.text and "Ask about the waiting list." in first_b.text
        base = first_b.text
        # both edit different lines of the same note: both edits apply, no duplicate
        mine = base.replace("Trust came up early.", "Trust came up early (twice).")
        theirs = base + "\nCheck the NAV letter."
        save_part(b, sid, "joint", theirs, base, obs)
        got = save_part(a, sid, "joint", mine, base, lead)
        assert got.merged and not got.conflict
        assert got.text.splitlines() == ["Trust came up early (twice).", "Ask about the waiting list.",
                                         "Check the NAV letter."]
        assert load_debrief(a, sid)[("joint", None)] == got.text
        # the same line changed in both: both versions kept, the other's first
        save_part(b, sid, "joint", got.text.replace("(twice)", "(three times)"), got.text, obs)
        both = save_part(a, sid, "joint", got.text.replace("(twice)", "(at least twice)"), got.text, lead)
        assert both.conflict
        assert both.text.splitlines()[:2] == ["Trust came up early (three times).",
                                              "Trust came up early (at least twice)."]
    with ws.open("pair-study") as h, h.db.session() as s:
        from fieldkit.store.models import Event, EventKind

        joint = s.exec(select(Event).where(Event.session_id == sid, Event.kind == EventKind.debrief,
                                           Event.code == "joint")).all()
        assert len(joint) == 1 and joint[0].text == both.text


async def test_joint_note_from_two_app_instances(tmp_path: Path):
    """Lead and observer terminals (two app instances on one database) write the joint note
    at the same time: both texts are stored, and each terminal shows the other's."""
    from textual.widgets import TextArea

    from fieldkit.sessions.debrief import load_debrief
    from fieldkit.tui.screens.debrief import DebriefScreen
    from tests.support.wait import until as _until

    ws, sid, lead, obs = _debrief_session(tmp_path / "data")
    a_app = FieldkitApp(data_dir=tmp_path / "data", project="Pair study")
    b_app = FieldkitApp(data_dir=tmp_path / "data", project="pair-study")
    async with a_app.run_test(size=(100, 40)) as ap, b_app.run_test(size=(100, 40)) as bp:
        await _settle(a_app, ap)
        await _settle(b_app, bp)
        a_app.push_screen(DebriefScreen("pair-study", sid, author_id=lead))
        b_app.push_screen(DebriefScreen("pair-study", sid, author_id=obs))
        await _settle(a_app, ap)
        await _settle(b_app, bp)
        a_joint = a_app.screen.query_one("#joint", TextArea)
        b_joint = b_app.screen.query_one("#joint", TextArea)
        a_joint.focus()
        b_joint.focus()
        await ap.press(*"The leader hesitated on budgets")
        await bp.press(*"Mentioned the GP twice")
        await ap.press("ctrl+s")
        await _settle(a_app, ap)
        await bp.press("ctrl+s")       # B started from the empty note: merged, not overwritten
        await _settle(b_app, bp)
        assert "The leader hesitated on budgets" in b_joint.text and "Mentioned the GP twice" in b_joint.text
        assert "other" in str(b_app.screen.query_one("#debrief-status").render())
        # A has not typed since saving: the merged note appears in A's box by itself
        await _until(ap, lambda: "Mentioned the GP twice" in a_joint.text, timeout=15)
        await ap.press("escape")
        await bp.press("escape")
        await _settle(a_app, ap)
        await _settle(b_app, bp)
    with ws.open("pair-study") as h:
        stored = load_debrief(h, sid)[("joint", None)]
    assert "The leader hesitated on budgets" in stored and "Mentioned the GP twice" in stored


# ---------------------------------------------------------------------------- setup


def _team_project(root: Path, researchers: bool = True) -> Workspace:
    from fieldkit.people.researchers import add_researcher

    ws = Workspace(root).ensure()
    with ws.create("Studie 001") as h:
        if researchers:
            add_researcher(h, "Ingrid Berg", "IB", "NTNU")
            add_researcher(h, "Ola Nord", "ON", "NORCE")
        import_guide(h.db, h.project_id, REPO / "guides" / "no-gruppeintervju-utviklingsnettverk.md")
        for n in range(1, 9):
            add_informant(h, f"L0{n}", name=f"Person {n}", role="leder" if n % 2 else "ansatt",
                          organisation="NAV", site=f"Nettverk {1 + n // 3}", group_label="lokal")
    return ws


async def _setup(app, pilot):
    await _settle(app, pilot)
    await pilot.press("n")
    await _settle(app, pilot)
    await pilot.pause()
    return app.screen


async def test_setup_search_select_all_consent_ticks_plan_time_kept_by_ctrl_s(tmp_path: Path):
    from textual.widgets import Checkbox, SelectionList

    from fieldkit.people.informants import informant_rows
    from fieldkit.store.models import Event, EventKind, SessionParticipant

    ws = _team_project(tmp_path / "data")
    app = FieldkitApp(data_dir=tmp_path / "data", project="Studie 001")
    async with app.run_test(size=(120, 40)) as pilot:
        screen = await _setup(app, pilot)
        assert type(screen).__name__ == "SetupScreen"
        sel = screen.query_one("#informants", SelectionList)
        assert sel.option_count == 8
        screen.query_one("#informant-search", Input).value = "nettverk 2"   # site (case network)
        await pilot.pause()
        shown = [sel.get_option_at_index(i).value for i in range(sel.option_count)]
        assert shown == ["L03", "L04", "L05"]
        screen.query_one("#select-all", Checkbox).value = True
        await pilot.pause()
        screen.query_one("#informant-search", Input).value = "L01"
        await pilot.pause()
        sel.select("L01")
        await pilot.pause()
        screen.query_one("#informant-search", Input).value = ""
        await until(pilot, lambda: sel.option_count == 8 and sorted(sel.selected) == ["L01", "L03", "L04", "L05"], "sel.option_count == 8 and sorted(sel.selected) == ['L01',...")
        assert sorted(screen.consent_rows) == ["L01", "L03", "L04", "L05"]
        for code in ("L01", "L03"):
            row = screen.consent_rows[code]
            row.query_one(".c-recording", Checkbox).value = True
            row.query_one(".c-letter", Checkbox).value = True
        screen.query_one("#title", Input).value = "Gruppeintervju Nettverk 2"
        screen.query_one("#when", Input).value = "2026-03-04 10:00"
        await pilot.press("ctrl+s")
        await _settle(app, pilot)
        assert type(app.screen).__name__ == "HomeScreen"
        table = app.screen.query_one("#sessions", DataTable)
        assert table.get_row_at(0)[0] == "Gruppeintervju Nettverk 2"
        assert table.get_row_at(0)[2] == "2026-03-04 10:00"          # the plan's date and time
    with ws.open("studie-001") as h, h.db.session() as s:
        sess = s.exec(select(Session)).one()
        assert sess.status.value == "planned" and sess.starts_at is None
        parts = {p.speaker_label: p.recording_consent for p in s.exec(select(SessionParticipant))}
        assert parts == {"L01": True, "L03": True, "L04": None, "L05": None}
        consent_events = s.exec(select(Event).where(Event.kind == EventKind.consent)).all()
        assert len(consent_events) == 2
        letters = {r.code: r.consent for r in informant_rows(h)}
        assert letters["L01"].startswith("letter sent") and letters["L04"] == "no information letter recorded"
    # opened again: everything as it was saved, and saving again records no consent twice
    app = FieldkitApp(data_dir=tmp_path / "data", project="Studie 001")
    async with app.run_test(size=(120, 40)) as pilot:
        await _settle(app, pilot)
        await pilot.press("enter")   # to the sessions
        await pilot.press("enter")   # open the planned one in setup
        await _settle(app, pilot)
        screen = app.screen
        assert type(screen).__name__ == "SetupScreen"
        assert screen.query_one("#when", Input).value == "2026-03-04 10:00"
        assert screen.consent_rows["L01"].query_one(".c-recording", Checkbox).value is True
        assert screen.consent_rows["L04"].query_one(".c-recording", Checkbox).value is False
        await pilot.press("ctrl+s")
        await _settle(app, pilot)
    with ws.open("studie-001") as h, h.db.session() as s:
        assert len(s.exec(select(Event).where(Event.kind == EventKind.consent)).all()) == 2


async def test_setup_escape_asks_before_throwing_a_filled_form_away(tmp_path: Path):
    _team_project(tmp_path / "data")
    app = FieldkitApp(data_dir=tmp_path / "data", project="Studie 001")
    async with app.run_test(size=(120, 40)) as pilot:
        screen = await _setup(app, pilot)
        await pilot.press("escape")              # nothing changed: back at once
        await _settle(app, pilot)
        assert type(app.screen).__name__ == "HomeScreen"
        screen = await _setup(app, pilot)
        screen.query_one("#place", Input).value = "Vestby rådhus"
        await pilot.press("escape")
        await until(pilot, lambda: type(app.screen).__name__ == "ConfirmScreen", "type(app.screen).__name__ == 'ConfirmScreen'")
        await pilot.press("n")                   # keep editing
        await _settle(app, pilot)   # then the state must not have changed
        assert app.screen is screen and screen.query_one("#place", Input).value == "Vestby rådhus"
        await pilot.press("escape")
        await pilot.pause()
        await pilot.press("y")                   # throw away
        await _settle(app, pilot)
        assert type(app.screen).__name__ == "HomeScreen"
        assert app.screen.query_one("#sessions", DataTable).row_count == 0


async def test_setup_adds_researchers_on_the_spot_and_nothing_is_clipped(tmp_path: Path):
    from textual.widgets import Button, Label, Select

    from fieldkit.people.researchers import list_researchers

    _team_project(tmp_path / "data", researchers=False)
    app = FieldkitApp(data_dir=tmp_path / "data", project="Studie 001")
    async with app.run_test(size=(120, 40)) as pilot:
        screen = await _setup(app, pilot)
        assert screen.query_one("#lead", Select).is_blank()
        for name, initials in (("Ingrid Berg", "IB"), ("Ola Nord", "ON")):
            await pilot.press("ctrl+n")
            await until(pilot, lambda: type(app.screen).__name__ == "ResearcherForm", "type(app.screen).__name__ == 'ResearcherForm'")
            await pilot.press(*name)
            app.screen.query_one("#res-institution", Input).value = "NTNU"
            await until(pilot, lambda: app.screen.query_one("#res-initials", Input).value == initials, "app.screen.query_one('#res-initials', Input).value == ini...")  # suggested
            await pilot.press("ctrl+s")
            await _settle(app, pilot)
        assert app.screen is screen
        lead, observer = screen.query_one("#lead", Select), screen.query_one("#observer", Select)
        people = {r.initials: r.id for r in list_researchers(screen.handle)}
        assert lead.value == people["IB"] and observer.value == people["ON"]
        # Ctrl+A works even while a text box has the focus (its own Ctrl+A is "start of line")
        screen.query_one("#place", Input).focus()
        await pilot.press("ctrl+a")
        await until(pilot, lambda: type(app.screen).__name__ == "InformantForm", "type(app.screen).__name__ == 'InformantForm'")
        await pilot.press("escape")
        await pilot.pause()
        # the guide's header labels are shown whole, and the microphone test has a visible line
        for label in screen.query(".header-label").results(Label):
            text = str(label.render())
            assert label.region.width >= len(text), text
        assert {str(x.render()) for x in screen.query(".header-label").results(Label)} >= {
            "Organisasjoner", "Annen informasjon"}
        button, level = screen.query_one("#test-mic", Button), screen.query_one("#mic-level")
        button.scroll_visible(animate=False)
        await until(pilot, lambda: button.region.height >= 1 and level.region.height >= 1 and level.region.width >= 30, "button.region.height >= 1 and level.region.height >= 1 an...")
        assert "Test microphone" in str(button.label)


async def test_team_screen_adds_edits_researchers_and_changes_the_deadline(tmp_path: Path):
    from fieldkit.people.researchers import list_researchers

    ws = _team_project(tmp_path / "data", researchers=False)
    app = FieldkitApp(data_dir=tmp_path / "data", project="Studie 001")
    async with app.run_test(size=(100, 30)) as pilot:
        await _settle(app, pilot)
        await pilot.press("t")
        await _settle(app, pilot)
        screen = app.screen
        assert type(screen).__name__ == "TeamScreen"
        await pilot.press("a")
        await pilot.pause()
        await pilot.press(*"Ingrid Berg")
        app.screen.query_one("#res-institution", Input).value = "NTNU"
        await pilot.press("ctrl+s")
        await _settle(app, pilot)
        assert app.screen is screen and screen.query_one("#team-table", DataTable).row_count == 1
        await pilot.press("e")
        await pilot.pause()
        app.screen.query_one("#res-initials", Input).value = "IBE"
        await pilot.press("ctrl+s")
        await _settle(app, pilot)
        screen.query_one("#team-deadline", Input).value = "2027-02-28"
        screen.query_one("#team-sikt", Input).value = "777777"
        await pilot.press("ctrl+s")
        await _settle(app, pilot)
        assert "2027-02-28" in str(screen.query_one("#team-status").render())
        screen.query_one("#team-deadline", Input).value = "28.02"
        await pilot.press("ctrl+s")
        await until(pilot, lambda: "not a date" in str(screen.query_one("#team-status").render()), "'not a date' in str(screen.query_one('#team-status').rend...")
    with ws.open("studie-001") as h:
        p = h.project()
        assert (str(p.deletion_deadline), p.sikt_reference) == ("2027-02-28", "777777")
        assert [(r.initials, r.name, r.institution) for r in list_researchers(h)] == [("IBE", "Ingrid Berg", "NTNU")]
