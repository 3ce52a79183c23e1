"""Issue 17, the parts behind the seed-study scenario: linked sessions (order, carried
participants, observation defaults), seats and the seat digit, the second debrief round
merged from two terminals, notes at a moment, and the setup screen in Norwegian."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import pytest
from sqlmodel import select

from fieldkit.errors import FieldkitError
from fieldkit.instruments.guides.store import import_guide
from fieldkit.projects import Workspace
from fieldkit.store.models import Event, Researcher, SessionParticipant
from fieldkit.tui.app import FieldkitApp
from tests.support.wait import settle as _settle

REPO = Path(__file__).resolve().parents[2]
OBS_GUIDE = REPO / "guides" / "no-observasjon-samarbeidsmote.md"
GROUP_GUIDE = REPO / "guides" / "no-gruppeintervju-utviklingsnettverk.md"


def _study(root: Path) -> Workspace:
    from fieldkit.people.informants import add_informant

    ws = Workspace(root).ensure()
    with ws.create("Studie", language="no") as h:
        with h.db.transaction() as s:
            s.add(Researcher(project_id=h.project_id, name="Ingrid Berg", initials="IB"))
            s.add(Researcher(project_id=h.project_id, name="Ola Nord", initials="ON"))
        import_guide(h.db, h.project_id, GROUP_GUIDE)
        import_guide(h.db, h.project_id, OBS_GUIDE)
        for n in range(1, 10):
            add_informant(h, f"F0{n}", name=f"Person {n}", role=f"rolle {n}",
                          info_letter_sent_on=date(2026, 1, 5), written_consent_on=date(2026, 1, 9))
    return ws


def test_follow_order_keeps_pairs_together_and_survives_a_loop():
    from fieldkit.sessions.linked import follow_order

    items = [("obs", None), ("other", None), ("tel", None), ("grp", "obs"), ("grp2", "grp")]
    assert follow_order(items) == ["obs", "grp", "grp2", "other", "tel"]
    assert sorted(follow_order([("a", "b"), ("b", "a")])) == ["a", "b"]   # never loses one
    assert follow_order([("x", "gone")]) == ["x"]                       # follows a session not listed


def test_linked_session_carries_participants_and_observation_defaults(tmp_path: Path):
    from fieldkit.sessions.linked import (
        carried_participants, link_label, linked_session, linked_sessions, observation_defaults,
    )
    from fieldkit.sessions.plan import SessionPlan, load_plan, save_session, setup_choices

    ws = _study(tmp_path / "data")
    with ws.open("studie") as h:
        c = setup_choices(h)
        guide, scheme = observation_defaults(c)
        assert next(g.label for g in c.guides if g.version_id == guide).startswith("Observasjonsskjema")
        assert dict((i, n) for i, n in c.schemes)[scheme] == "Møteobservasjon"
        obs = save_session(h, SessionPlan("Møte", kind="observation", guide_version_id=guide, tag_scheme_id=scheme,
                                          informants=["F03", "F01", "F02"]))
        codes = carried_participants(h, obs)
        assert codes == ["F03", "F01", "F02"]          # seat order: as chosen (seats 1, 2, 3)
        grp = save_session(h, SessionPlan("Gruppeintervju", kind="group", informants=codes, follows_id=obs))
        assert load_plan(h, grp).follows_id == obs
        assert linked_session(h, obs) == grp and linked_session(h, grp) == obs
        assert [r.id for r in linked_sessions(h, obs).followed_by] == [grp]
        assert link_label(h, grp) == "follows: Møte"
        with pytest.raises(FieldkitError):
            save_session(h, SessionPlan("Gruppeintervju", kind="group", follows_id=grp), grp)


def test_seats_roster_and_seat_digit_sets_the_events_informant(tmp_path: Path):
    from fieldkit.instruments.events import add_event
    from fieldkit.sessions.plan import SessionPlan, save_session
    from fieldkit.sessions.roster import roster, set_event_informant, set_seats

    ws = _study(tmp_path / "data")
    with ws.open("studie") as h:
        sid = save_session(h, SessionPlan("Fokusgruppe", kind="focus_group",
                                          informants=[f"F0{n}" for n in range(1, 10)]))
        seats = roster(h, sid)
        assert [(x.seat, x.code) for x in seats] == [(n, f"F0{n}") for n in range(1, 10)]
        set_seats(h, sid, {"F09": 1})                  # swapping a seat frees it from F01
        by_code = {x.code: x.seat for x in roster(h, sid)}
        assert by_code["F09"] == 1 and by_code["F01"] == 0   # 0: no seat (listed last)
        with pytest.raises(FieldkitError):
            set_seats(h, sid, {"F02": 10})
        with pytest.raises(FieldkitError):
            set_seats(h, sid, {"F02": 4, "F03": 4})
        ev = add_event(h.db, sid, "tag", position_ms=1000, code="key_quote")
        assert set_event_informant(h, sid, ev.id, 1) == "F09"
        assert set_event_informant(h, sid, ev.id, 1) == "F09"
        with h.db.session() as s:
            stored = s.get(Event, ev.id)
            f09 = next(p for p in s.exec(select(SessionParticipant).where(SessionParticipant.session_id == sid))
                       if p.seat == 1)
            assert stored.informant_id == f09.informant_id and stored.position_ms == 1000
        # nobody in the seat: the event is left as it was
        set_seats(h, sid, {"F01": 1})                  # F09 loses seat 1: seat 9 is free now
        before = stored.informant_id
        free = next(n for n in range(1, 10) if n not in {x.seat for x in roster(h, sid)})
        assert set_event_informant(h, sid, ev.id, free) is None
        with h.db.session() as s:
            assert s.get(Event, ev.id).informant_id == before


def test_second_debrief_round_merges_two_terminals_and_keeps_round_one(tmp_path: Path):
    from fieldkit.sessions.debrief import load_debrief, part_code, part_round, save_part
    from fieldkit.sessions.notes import add_note
    from fieldkit.sessions.plan import SessionPlan, save_session

    ws = _study(tmp_path / "data")
    with ws.open("studie") as h:
        with h.db.session() as s:
            ib, on = [r.id for r in s.exec(select(Researcher).order_by(Researcher.initials))]
        sid = save_session(h, SessionPlan("Intervju", lead_id=ib, observer_id=on, informants=["F01"]))
        assert part_code("joint", 2) == "joint2" and part_round("impressions2") == 2
        save_part(h, sid, "impressions", "Nervøs", "", ib)
        save_part(h, sid, "joint", "Runde en", "", ib)
        # two terminals start round 2 from the same (empty) joint note
        a = save_part(h, sid, "joint2", "Linje fra IB", "", ib)
        b = save_part(h, sid, "joint2", "Linje fra ON", "", on)
        assert not a.merged and b.merged
        assert "Linje fra IB" in b.text and "Linje fra ON" in b.text
        save_part(h, sid, "impressions2", "Roligere enn jeg trodde", "", ib)
        texts = load_debrief(h, sid)
        assert texts[("impressions", ib)] == "Nervøs" and texts[("joint", None)] == "Runde en"
        assert texts[("impressions2", ib)] == "Roligere enn jeg trodde"
        assert ("impressions2", on) not in texts
        note = add_note(h, sid, 61_000, "  Her snur det  ", ib)
        assert (note.position_ms, note.text, note.created_by) == (61_000, "Her snur det", ib)
        with pytest.raises(FieldkitError):
            add_note(h, sid, 1000, "   ")


async def test_setup_in_norwegian_follows_and_kind_labels(tmp_path: Path):
    from textual.widgets import Label, Select

    from fieldkit.i18n import set_language

    ws = _study(tmp_path / "data")
    set_language("nb")
    try:
        app = FieldkitApp(data_dir=tmp_path / "data", project="studie")
        async with app.run_test(size=(120, 40)) as pilot:
            await _settle(app, pilot)
            await pilot.press("n")
            await _settle(app, pilot)
            setup = app.screen
            labels = [str(x.render()) for x in setup.query(Label)]
            assert "Følger etter" in labels and "Intervjuguide" in labels and "Ny økt" in labels
            kinds = [str(prompt) for prompt, _v in setup.query_one("#kind", Select)._options]
            assert "Fokusgruppe" in kinds and "Observasjon" in kinds
    finally:
        set_language("en")
    assert ws
