"""Seed study 004: two researchers switch lead and observer between interviews, write a
debrief after each one (each researcher's first impressions, then a joint one), tag the
pilot interviews alike and check their observer agreement (``fieldkit agreement`` and the
review screen), export the category x interview sheet, and change the deletion deadline
after the fact (``fieldkit project deadline``)."""

from __future__ import annotations

import json
from datetime import date
from pathlib import Path

import pytest
from textual.widgets import OptionList, Static
from tests.support.cli import fk
from tests.support.wait import until as _until

REPO = Path(__file__).resolve().parents[2]
PROJECT = "Samhandling pilot"
pytestmark = pytest.mark.slow   # a whole study: several CLI runs and app sessions


@pytest.fixture(scope="module")
def study(tmp_path_factory: pytest.TempPathFactory):
    root = tmp_path_factory.mktemp("seed004") / "data"
    fk(root, "project", "new", PROJECT, "--language", "no", "--deadline", "2026-12-31")
    fk(root, "researcher", "add", "Kari Lie", "--initials", "KL", "-p", PROJECT)
    fk(root, "researcher", "add", "Ola Berg", "--initials", "OB", "-p", PROJECT)
    for code, role in (("I01", "leder"), ("I02", "koordinator")):
        fk(root, "informant", "add", code, "-p", PROJECT, "--name", f"Person {code}", "--role", role,
           "--organisation", "kommune A", "--letter-sent", "2026-04-01", "--consent", "2026-04-05")
    fk(root, "guide", "import", str(REPO / "guides" / "no-leder-samhandling.md"), "-p", PROJECT)

    from fieldkit.projects import Workspace
    from fieldkit.sessions.live import tag_keys, toggle_tag
    from fieldkit.sessions.plan import SessionPlan, save_session, setup_choices

    ids = {}
    with Workspace(root).open(PROJECT) as h:
        c = setup_choices(h)
        who = {r.label: r.id for r in c.researchers}
        scheme = next(i for i, name in c.schemes if name == "Intervju")
        # lead and observer switch between the two interviews
        for title, lead, obs, inf in (("Intervju 1", "KL", "OB", "I01"), ("Intervju 2", "OB", "KL", "I02")):
            ids[title] = save_session(h, SessionPlan(title, guide_version_id=c.guides[0].version_id,
                                                     tag_scheme_id=scheme, lead_id=who[lead],
                                                     observer_id=who[obs], informants=[inf], is_pilot=True))
        tags = {t.code: t for t in tag_keys(h, ids["Intervju 1"])}
        # both tag the same pilot interview, each in their own terminal, as the live
        # screen does (one keypress = one toggle_tag): a digression each (their own
        # stretches, though they overlap), key quotes close together, and one quote
        # only Kari marked (at 30 s)
        s1 = ids["Intervju 1"]
        for ms, code, by in ((2000, "digression", "KL"), (4000, "digression", "OB"), (9000, "digression", "KL"),
                             (10000, "digression", "OB"), (15000, "key_quote", "KL"), (15400, "key_quote", "OB"),
                             (30000, "key_quote", "KL")):
            toggle_tag(h.db, s1, tags[code], ms, who[by])
        toggle_tag(h.db, ids["Intervju 2"], tags["key_quote"], 5000, who["OB"])
    return root, ids, who


def test_roles_switch_and_debriefs(study):
    root, ids, who = study
    from fieldkit.projects import Workspace
    from fieldkit.sessions.debrief import load_debrief, save_part
    from fieldkit.sessions.plan import load_plan

    with Workspace(root).open(PROJECT) as h:
        p1, p2 = load_plan(h, ids["Intervju 1"]), load_plan(h, ids["Intervju 2"])
        assert (p1.lead_id, p1.observer_id) == (who["KL"], who["OB"])
        assert (p2.lead_id, p2.observer_id) == (who["OB"], who["KL"])
        # the first debrief, right after the interview: each researcher, then joint
        sid = ids["Intervju 1"]
        save_part(h, sid, "impressions", "Lederen var åpen om konflikten med DPS.", "", who["KL"])
        save_part(h, sid, "impressions", "Mye snakk om økonomi, lite om brukerne.", "", who["OB"])
        save_part(h, sid, "joint", "Følg opp økonomi i neste intervju.", "", who["KL"])
        stored = load_debrief(h, sid)
    assert stored[("impressions", who["KL"])] == "Lederen var åpen om konflikten med DPS."
    assert stored[("impressions", who["OB"])] == "Mye snakk om økonomi, lite om brukerne."
    assert stored[("joint", None)] == "Følg opp økonomi i neste intervju."
    # the second debrief, after the transcript was read: each researcher, then joint,
    # beside the first (round 1 untouched), and both rounds in the export
    from fieldkit.export import run_export

    with Workspace(root).open(PROJECT) as h:
        save_part(h, sid, "impressions2", "Utskriften viser at DPS-konflikten var mindre enn vi trodde.", "", who["KL"])
        save_part(h, sid, "impressions2", "Brukerne nevnes faktisk tre ganger.", "", who["OB"])
        save_part(h, sid, "joint2", "Første inntrykk om økonomi holder; brukerperspektivet var undervurdert.", "",
                  who["OB"])
        both = load_debrief(h, sid)
        written = run_export(h, ["md"], session_ids=[sid], out_dir=root / "out").files
    assert both[("impressions", who["KL"])] == "Lederen var åpen om konflikten med DPS."   # round 1 kept
    assert both[("impressions2", who["KL"])].startswith("Utskriften viser")
    assert both[("joint2", None)].startswith("Første inntrykk om økonomi holder")
    text = "\n".join(p.read_text(encoding="utf-8") for p in written if str(p).endswith(".md"))
    assert "Debrief 1, joint note" in text and "Debrief 2, joint note" in text
    assert text.index("Følg opp økonomi") < text.index("Første inntrykk om økonomi holder")


def test_state_tags_are_per_researcher_and_agreement_in_the_cli(study):
    root, ids, who = study
    from fieldkit.projects import Workspace
    from fieldkit.store.models import Event, EventKind
    from sqlmodel import select

    with Workspace(root).open(PROJECT) as h:
        with h.db.session() as s:
            stretches = sorted((e.created_by, e.position_ms, e.end_ms) for e in s.exec(
                select(Event).where(Event.session_id == ids["Intervju 1"], Event.kind == EventKind.tag,
                                    Event.code == "digression")))
    # Kari's press at 9 s ended her stretch, not Ola's; Ola's at 10 s ended his
    assert sorted(stretches) == sorted([(who["KL"], 2000, 9000), (who["OB"], 4000, 10000)])
    out = fk(root, "agreement", "Intervju 1", "-p", PROJECT).stdout
    assert "KL" in out and "OB" in out and "avsporing" in out.lower() and "godt sitat" in out.lower()
    # the quote only Kari marked (at 30 s; a point tag is a 2 s window centred on it)
    assert any("00:00:28" in line and "Godt sitat" in line and line.split("Godt sitat")[1].split()[:2] == ["KL", "OB"]
               for line in out.splitlines()), out


async def test_agreement_in_review_jumps_to_a_difference(study):
    from fieldkit.sessions.agreement import session_agreement
    from fieldkit.projects import Workspace
    from fieldkit.tui.app import FieldkitApp
    from fieldkit.tui.screens.agreement import AgreementScreen
    from fieldkit.tui.screens.review import ReviewScreen

    root, ids, _who = study
    with Workspace(root).open(PROJECT) as h:
        expected = session_agreement(h, ids["Intervju 1"])
    app = FieldkitApp(data_dir=root, project=PROJECT)
    async with app.run_test(size=(120, 40)) as pilot:
        await _until(pilot, lambda: getattr(app.screen, "summaries", None), "home")
        review = ReviewScreen(app.screen.current, ids["Intervju 1"])
        app.push_screen(review)
        await _until(pilot, lambda: review.data is not None, "the review to load")
        await pilot.press("K")
        await _until(pilot, lambda: isinstance(app.screen, AgreementScreen), "the agreement panel")
        panel = app.screen
        kappa = str(panel.query_one("#agreement-kappa", Static).render())
        for row in expected.codes:
            assert row.label in kappa
            assert (f"κ {row.kappa:.2f}" if row.kappa is not None else "κ —") in kappa
        assert "All codes" in kappa
        diffs = panel.query_one("#agreement-differences", OptionList)
        assert diffs.option_count == len(expected.differences) > 0
        last = expected.differences[-1]
        assert last.start_ms <= 30000 < last.end_ms and last.tagged_by == "KL"
        diffs.focus()
        diffs.highlighted = diffs.option_count - 1
        await pilot.press("enter")
        await _until(pilot, lambda: app.screen is review, "back in review")
        kind, obj = review.rows[review._cursor()]
        # the cursor is on Kari's lone key quote at 0:30
        assert kind == "marker" and obj.position_ms == 30000 and obj.author == "KL"


async def test_agreement_with_one_researcher_says_why(study):
    from fieldkit.tui.app import FieldkitApp
    from fieldkit.tui.screens.review import ReviewScreen

    root, ids, _who = study
    app = FieldkitApp(data_dir=root, project=PROJECT)
    async with app.run_test(size=(100, 30)) as pilot:
        await _until(pilot, lambda: getattr(app.screen, "summaries", None), "home")
        review = ReviewScreen(app.screen.current, ids["Intervju 2"])
        app.push_screen(review)
        await _until(pilot, lambda: review.data is not None, "the review to load")
        await pilot.press("K")
        await _until(pilot, lambda: any("only OB" in str(n.message) for n in app._notifications),
                     "the reason")
        assert app.screen is review


def test_category_sheet_and_deadline_changed_after_the_fact(study, tmp_path: Path):
    from openpyxl import load_workbook

    root, ids, _who = study
    fk(root, "export", "-p", PROJECT, "--all", "-f", "xlsx", "-f", "json", "--out", str(tmp_path))
    wb = load_workbook(next(tmp_path.rglob("*.xlsx")), read_only=True)
    rows = [list(r) for r in wb["Tags x sessions"].iter_rows(values_only=True)]
    header = rows[0]
    i1 = next(i for i, h in enumerate(header) if h and "Intervju 1" in str(h))
    i2 = next(i for i, h in enumerate(header) if h and "Intervju 2" in str(h))
    by_code = {r[1]: r for r in rows[1:]}
    assert by_code["digression"][i1] == 2 and by_code["digression"][i2] == 0
    assert by_code["key_quote"][i1] == 3 and by_code["key_quote"][i2] == 1
    assert by_code["key_quote"][header.index("total")] == 4
    # the debrief goes out with the session (pseudonymised: no registry names)
    bundle = json.loads(next(tmp_path.rglob("*.json")).read_text(encoding="utf-8"))
    s1 = next(s for s in bundle["sessions"] if s["title"] == "Intervju 1")
    debriefs = sorted(e["text"] for e in s1["events"] if e["kind"] == "debrief")
    from fieldkit.projects import Workspace
    from fieldkit.sessions.debrief import load_debrief

    with Workspace(root).open(PROJECT) as h:   # written by test_roles_switch_and_debriefs when it ran
        assert debriefs == sorted(load_debrief(h, ids["Intervju 1"]).values())
    # the deletion deadline changed after the fact (grading was later than planned)
    fk(root, "project", "deadline", PROJECT, "2027-06-30")
    from fieldkit.projects import Workspace

    with Workspace(root).open(PROJECT) as h:
        assert h.project().deletion_deadline == date(2027, 6, 30)
    listed = fk(root, "project", "list").stdout
    assert "2027-06-30" in listed
    bad = fk(root, "project", "deadline", PROJECT, "30.06.2027", ok=False)
    assert bad.returncode != 0 and "Traceback" not in bad.stderr
