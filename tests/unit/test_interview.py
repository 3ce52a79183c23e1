"""The interview core without the UI: planning, consent, tags across terminals, the live
view, the event writer and the debrief."""

from __future__ import annotations

import sqlite3
import threading
import time
from datetime import date
from pathlib import Path

import pytest
from sqlmodel import select

from fieldkit.people.informants import add_informant
from fieldkit.errors import FieldkitError
from fieldkit.instruments.guides.coverage import set_coverage
from fieldkit.instruments.guides.store import import_guide
from fieldkit.sessions.consent import ConsentTicks, store_consent_ticks
from fieldkit.sessions.debrief import load_debrief, save_debrief, untouched_themes
from fieldkit.sessions.live import load_live, tag_keys, toggle_tag
from fieldkit.people.researchers import add_researcher
from fieldkit.sessions.plan import SessionPlan, load_plan, save_session, setup_choices
from fieldkit.sessions.writer import EventWriter
from fieldkit.store.models import (
    Event, EventKind, Informant, Researcher, Session, SessionParticipant, SessionStatus, TranscriptSegment,
)

REPO = Path(__file__).resolve().parents[2]
GUIDE = REPO / "guides" / "en-frontline-professionals.md"


@pytest.fixture
def planned(project):
    import_guide(project.db, project.project_id, GUIDE)
    add_informant(project, "I01", name="Kari Nordmann", role="nurse")
    add_informant(project, "I02", name="Per Hansen", role="leader", info_letter_sent_on=date(2026, 1, 5))
    choices = setup_choices(project)
    lead, observer = choices.researchers[0].id, choices.researchers[1].id
    sid = save_session(project, SessionPlan("Interview 1", guide_version_id=choices.guides[0].version_id,
                                            tag_scheme_id=choices.schemes[0][0], lead_id=lead,
                                            observer_id=observer, place="Office",
                                            header={"Role": "nurse", "Years in role": ""},
                                            informants=["I01"]))
    return project, sid, lead, observer


def test_setup_choices_install_tag_schemes_and_list_guides(project):
    import_guide(project.db, project.project_id, GUIDE)
    c = setup_choices(project)
    assert {name for _id, name in c.schemes} == {"Intervju", "Møteobservasjon"}  # a Norwegian project
    assert [g.label for g in c.guides] == ["Interview guide – frontline professionals in welfare services (English) (v1)"]
    assert "Years in role" in c.guides[0].header
    assert [r.label for r in c.researchers] == ["AL", "OO"]
    assert setup_choices(project).schemes == c.schemes  # installing is done once


def test_save_session_and_change_its_plan(planned):
    project, sid, lead, observer = planned
    plan = load_plan(project, sid)
    assert plan.informants == ["I01"] and plan.place == "Office"
    assert plan.header == {"Role": "nurse"}  # empty header fields are not kept
    plan.informants = ["I02"]
    plan.title = "Interview 1b"
    save_session(project, plan, sid)
    with project.db.session() as s:
        parts = s.exec(select(SessionParticipant).where(SessionParticipant.session_id == sid)).all()
        assert [p.speaker_label for p in parts] == ["I02"]
        assert s.get(Session, sid).title == "Interview 1b"
    plan.observer_id = plan.lead_id
    with pytest.raises(FieldkitError, match="two people"):
        save_session(project, plan, sid)
    plan.observer_id = observer
    plan.informants = ["I99"]
    with pytest.raises(FieldkitError, match="I99"):
        save_session(project, plan, sid)
    with project.db.transaction() as s:
        s.get(Session, sid).status = SessionStatus.recorded
    plan.informants = ["I02"]
    with pytest.raises(FieldkitError, match="has started"):
        save_session(project, plan, sid)


def test_add_researcher_refuses_duplicate_initials(project):
    add_researcher(project, "Siri Third", "st")
    with pytest.raises(FieldkitError, match="already used"):
        add_researcher(project, "Someone Else", "ST")
    with project.db.session() as s:
        assert s.exec(select(Researcher).where(Researcher.initials == "ST")).one().name == "Siri Third"


def test_consent_at_start_blocks_recording_until_given(planned):
    project, sid, lead, _ = planned
    problems = store_consent_ticks(project, sid, {"I01": ConsentTicks(letter=True, written=False, recording=False)},
                               author_id=lead, asked=True)
    assert [(p.text, p.blocks_recording) for p in problems] == [
        ("I01 has not consented to recording", True), ("I01 has no written consent on record", False)]
    with project.db.session() as s:
        inf = s.exec(select(Informant).where(Informant.code == "I01")).one()
        assert inf.info_letter_sent_on == date.today() and inf.written_consent_on is None
    assert store_consent_ticks(project, sid, {"I01": ConsentTicks(True, True, True)}, author_id=lead, asked=True) == []
    with project.db.session() as s:
        consent = s.exec(select(Event).where(Event.kind == EventKind.consent).order_by(Event.wall_time)).all()
        assert [e.code for e in consent] == ["recording_no", "recording_yes"]
        assert {e.created_by for e in consent} == {lead}


def test_state_tag_started_in_one_terminal_ends_in_the_other(planned, workspace):
    """The same researcher's stretch ends from either terminal; another researcher's
    press of the same state tag starts and ends that researcher's own stretch (two
    researchers tagging alike in a pilot do not spoil each other's intervals)."""
    project, sid, lead, observer = planned
    tags = {t.code: t for t in tag_keys(project, sid)}
    digression = tags["digression"]
    assert digression.mode == "state" and tags["key_quote"].mode == "point"
    other = workspace.open(project.folder)  # a second terminal with its own connection
    try:
        ev, what = toggle_tag(project.db, sid, digression, 1000, lead)
        assert what == "started"
        assert load_live(other, sid).open_states == {"digression": ev.id}
        obs_ev, obs_what = toggle_tag(other.db, sid, digression, 2000, observer)
        assert obs_what == "started" and obs_ev.id != ev.id
        # each terminal shows its own researcher's open stretch as open
        assert load_live(project, sid, author_id=lead).open_states == {"digression": ev.id}
        assert load_live(other, sid, author_id=observer).open_states == {"digression": obs_ev.id}
        ev2, what2 = toggle_tag(other.db, sid, digression, 4000, lead)
        assert what2 == "ended" and ev2.id == ev.id
        obs_end, obs_what2 = toggle_tag(project.db, sid, digression, 6000, observer)
        assert obs_what2 == "ended" and obs_end.id == obs_ev.id
        _, what3 = toggle_tag(other.db, sid, tags["key_quote"], 4500, observer)
        assert what3 == "point"
    finally:
        other.close()
    with project.db.session() as s:
        stored = s.get(Event, ev.id)
        assert (stored.position_ms, stored.end_ms, stored.created_by) == (1000, 4000, lead)
        theirs = s.get(Event, obs_ev.id)
        assert (theirs.position_ms, theirs.end_ms, theirs.created_by) == (2000, 6000, observer)
    assert load_live(project, sid).open_states == {}


def test_live_view_reads_coverage_probes_tail_and_changes_its_stamp(planned):
    project, sid, lead, _ = planned
    before = load_live(project, sid)
    assert before.recording == "none" and before.coverage == {}
    guide = project and __import__("fieldkit.sessions.plan", fromlist=["guide_of"]).guide_of(project, sid)
    q1 = guide.themes[0].questions[0]
    set_coverage(project.db, sid, q1.id, "covered", position_ms=500, author_id=lead)
    with project.db.transaction() as s:
        s.add(TranscriptSegment(session_id=sid, start_ms=0, end_ms=2000, verbatim="eh I work as a nurse",
                                edited="I work as a nurse"))
    after = load_live(project, sid)
    assert after.stamp != before.stamp
    assert after.coverage == {q1.id: "covered"}
    assert after.transcript_tail == [(0, "I work as a nurse")]
    assert [e.author for e in after.events] == ["AL"]
    assert untouched_themes(project, sid) == [t.title for t in guide.themes[1:]]


def test_event_writer_keeps_order_reports_errors_and_waits_out_a_lock(planned):
    project, sid, lead, _ = planned
    from fieldkit.instruments.events import add_event

    done = []
    ready = threading.Event()

    def stored(s) -> None:
        done.append(s)
        if len(done) == 4:
            ready.set()

    writer = EventWriter(stored, retry_s=10)
    # another process holds the write lock for 1.5 s (a long transaction elsewhere)
    con = sqlite3.connect(project.folder / "project.db", timeout=0)
    con.execute("BEGIN IMMEDIATE")
    t0 = time.monotonic()
    for n in range(3):
        writer.submit(f"note {n}", lambda n=n: add_event(project.db, sid, "note", position_ms=n, author_id=lead,
                                                          text=f"note {n}"))
    writer.submit("bad", lambda: set_coverage(project.db, sid, "no-such-question", "covered", position_ms=9))
    time.sleep(1.5)
    con.rollback()
    con.close()
    assert ready.wait(30)
    writer.close()
    assert [d.label for d in done] == ["note 0", "note 1", "note 2", "bad"]
    assert all(d.error is None for d in done[:3]) and isinstance(done[3].error, FieldkitError)
    assert done[0].stored_at - t0 >= 1.4  # it waited for the lock instead of failing
    with project.db.session() as s:
        notes = s.exec(select(Event).where(Event.kind == EventKind.note).order_by(Event.wall_time)).all()
        assert [n.text for n in notes] == ["note 0", "note 1", "note 2"]


@pytest.mark.slow
def test_keys_not_saved_behind_a_locked_database_are_named_in_the_users_language(planned):
    """A database another program keeps locked past the writer's retries (issue 22): the
    screen's "Not saved (what): why" names the key and the lock in Norwegian, never the
    driver's English ("database is locked [SQL: ...]")."""
    from fieldkit.errors import DatabaseError
    from fieldkit.sessions.runtime import SessionRuntime
    from tests.support.pseudo import pseudo_language, unmarked

    project, sid, lead, _ = planned
    done = []
    ready = threading.Event()

    def stored(s) -> None:
        done.append(s)
        if len(done) == 2:
            ready.set()

    with pseudo_language():
        rt = SessionRuntime(project, sid, record=False, author_id=lead, on_stored=stored)
        opened = rt.open()
        rt.writer.retry_s = 0.3
        question = next(q for _t, q in opened.guide.iter_questions())
        con = sqlite3.connect(project.folder / "project.db", timeout=0)
        con.execute("BEGIN IMMEDIATE")   # another program holds the write lock
        try:
            # each write waits out the database's busy timeout (3 s) before a retry: two keys
            rt.note("Et notat", 100)
            rt.cover(question.id, "covered", label=question.text)
            assert ready.wait(30)
        finally:
            con.rollback()
            con.close()
            rt.close()
        labels = [str(d.label) for d in done]
        errors = [f"{d.error.message} {d.error.hint}" for d in done]
    assert all(isinstance(d.error, DatabaseError) for d in done), [repr(d.error) for d in done]
    assert [unmarked(x, f"Et notat {question.text}") for x in labels + errors] == [[]] * 4, labels + errors
    assert "SQL" not in " ".join(errors)


def test_debrief_parts_per_researcher_and_joint(planned):
    project, sid, lead, observer = planned
    save_debrief(project, sid, "impressions", "Open and talkative.", lead)
    save_debrief(project, sid, "impressions", "Nervous at first.", observer)
    save_debrief(project, sid, "impressions", "Open and talkative; tired at the end.", lead)
    save_debrief(project, sid, "joint", "Follow up on the NAV story.", lead)
    assert save_debrief(project, sid, "joint", "   ", observer) is not None  # kept, not blanked
    got = load_debrief(project, sid)
    assert got == {("impressions", lead): "Open and talkative; tired at the end.",
                   ("impressions", observer): "Nervous at first.",
                   ("joint", None): "Follow up on the NAV story."}
    with pytest.raises(FieldkitError):
        save_debrief(project, sid, "other", "x", lead)


# ---------------------------------------------------------------------------- the runtime


def _wait(check, timeout: float = 30.0, what: str = "a condition") -> None:
    deadline = time.monotonic() + timeout
    while not check():
        assert time.monotonic() < deadline, f"timed out waiting for {what}"
        time.sleep(0.02)


def test_runtime_notes_only_session_has_one_clock_and_stores_every_key(planned):
    """The runtime without a recording (notes only): the clock runs from the session's
    start, every key is stored in order with its keypress time, stop ends the session."""
    from fieldkit.sessions.runtime import SessionRuntime

    project, sid, lead, observer = planned
    stored, news = [], []
    rt = SessionRuntime(project, sid, record=False, on_stored=stored.append, on_news=news.append)
    opened = rt.open()
    assert rt.author_id == lead and opened.guide is not None and rt.state == "none"
    q1 = next(opened.guide.iter_questions())[1]
    tags = {t.code: t for t in opened.tags}
    t0 = rt.position_ms()
    _wait(lambda: rt.position_ms() > t0, what="the clock to run")
    pressed = time.monotonic()
    at_press = rt.position_at_key(pressed)
    assert rt.tag(tags["key_quote"], pressed)
    assert rt.cover(q1.id, "partly", None, q1.text)
    assert rt.probe(q1.probes[0].id, 1)
    assert rt.marker()
    assert rt.note("a note begun earlier", at_press)
    _wait(lambda: len(stored) == 5, what="five writes")
    assert [s.error for s in stored] == [None] * 5 and len(rt.latencies) == 5
    view = rt.read_view()
    assert view is not None and rt.read_view() is None  # nothing new, nothing read
    kinds = [(e.kind, e.author_id) for e in view.events]
    assert kinds == [("tag", lead), ("coverage", lead), ("probe", lead), ("marker", lead), ("note", lead)]
    assert view.events[0].position_ms == at_press == view.events[-1].position_ms
    assert view.coverage == {q1.id: "partly"}
    assert rt.stop() == "The interview has ended." and news[-1].kind == "stopped"
    assert not rt.tag(tags["key_quote"])  # the interview is over: nothing more is taken
    rt.close()
    with project.db.session() as s:
        assert s.get(Session, sid).status == SessionStatus.recorded


def test_runtime_observer_follows_the_lead_and_sees_consent_for_whom(planned):
    from fieldkit.sessions.live import lead_question
    from fieldkit.sessions.runtime import SessionRuntime

    project, sid, lead, observer = planned
    store_consent_ticks(project, sid, {"I01": ConsentTicks(True, True, True)}, author_id=lead, asked=True)
    lead_rt = SessionRuntime(project, sid, record=False)
    obs_rt = SessionRuntime(project, sid, observer=True)
    opened = lead_rt.open()
    obs_rt.open()
    assert obs_rt.author_id == observer and not obs_rt.can_pause
    with pytest.raises(FieldkitError, match="Only the terminal that records can pause"):
        obs_rt.toggle_pause()
    items = list(opened.guide.iter_questions())
    assert lead_question(obs_rt.read_view(force=True), items) is None  # the lead marked nothing yet
    lead_rt.cover(items[0][1].id, "covered")
    obs_rt.cover(items[3][1].id, "partly")   # the observer's own marks do not move the lead
    lead_rt.writer.close()
    obs_rt.writer.close()
    view = obs_rt.read_view()
    assert lead_question(view, items) == 1
    consent = [e for e in view.events if e.kind == "consent"]
    assert [(e.subject, e.code) for e in consent] == [("I01", "recording_yes")]
    from fieldkit.tui.widgets.live import describe

    assert "consent I01: recording yes" in describe(consent[0], {}, None).plain


@pytest.mark.audio
@pytest.mark.slow
def test_runtime_records_pauses_stops_and_clears_a_warning_when_the_sound_is_back(planned, tmp_path):
    """The runtime with the real recorder through the virtual microphone: digital silence
    raises a warning, sound clears it; pause, tags on one clock, a clean stop."""
    import numpy as np
    import soundfile as sf

    from fieldkit.sessions.runtime import SessionRuntime
    from tests.support import audio_env

    problem = audio_env.start()
    if problem:
        pytest.skip(f"virtual microphone unavailable: {problem}")
    project, sid, lead, _observer = planned
    store_consent_ticks(project, sid, {"I01": ConsentTicks(True, True, True)}, author_id=lead, asked=True)
    news = []
    rt = SessionRuntime(project, sid, device=audio_env.DEVICE, on_news=news.append)
    opened = rt.open()
    rt.start_recording()
    rt_block_ms = rt.recorder.blocksize * 1000 // rt.recorder.samplerate
    try:
        assert rt.state == "recording" and news[-1].kind == "started"
        # nothing plays into the virtual microphone: digital silence, a warning
        _wait(lambda: any(n.kind == "silence" for n in news), what="the silence warning")
        assert rt.warning
        tone = tmp_path / "tone.wav"
        sf.write(tone, 0.3 * np.sin(np.arange(16000 * 2) / 4), 16000, subtype="PCM_16")
        audio_env.play(tone).wait()
        _wait(lambda: any(n.kind == "sound_back" for n in news), what="the sound to be back")
        assert rt.warning == ""
        tags = {t.code: t for t in opened.tags}
        rt.tag(tags["key_quote"])
        assert rt.toggle_pause() == "paused"
        paused_at = rt.position_ms()
        rt.tag(tags["follow_up"])
        assert rt.toggle_pause() == "recording"
        message = rt.stop()
    finally:
        rt.close()
    assert message.startswith("Stopped: 00:00:") and rt.summary.raw_kept == 0
    with project.db.session() as s:
        evs = {e.code: e.position_ms for e in s.exec(select(Event).where(Event.kind == EventKind.tag))}
    # the tag's clock runs on between audio blocks; the pause stops at the last block
    # captured, so a tag pressed just before it may lie up to one block after that point
    assert evs["key_quote"] <= paused_at + rt_block_ms and evs["follow_up"] == paused_at


def test_setup_saves_plan_time_and_consent_in_one_transaction(planned):
    """The setup screen keeps the plan, its time and the consent ticks together: a consent
    write that fails (here a tick for a code the project does not have) leaves nothing of
    the plan stored, neither a new session nor a change to an existing one."""
    from fieldkit.sessions.plan import save_setup

    project, sid, lead, observer = planned
    with project.db.session() as s:
        before = {x.id: (x.title, x.planned_at) for x in s.exec(select(Session))}
    plan = SessionPlan("Interview 2", lead_id=lead, observer_id=observer, informants=["I02"])
    bad = {"I02": ConsentTicks(True, True, True), "Z99": ConsentTicks(True, False, False)}
    with pytest.raises(FieldkitError, match="Z99"):
        save_setup(project, plan, None, when=date(2026, 3, 4), consents=bad, author_id=lead)
    changed = load_plan(project, sid)
    changed.title, changed.informants = "Interview 1 renamed", ["I01", "I02"]
    with pytest.raises(FieldkitError, match="Z99"):
        save_setup(project, changed, sid, when=date(2026, 3, 5), consents=bad, author_id=lead)
    with project.db.session() as s:
        assert {x.id: (x.title, x.planned_at) for x in s.exec(select(Session))} == before
        assert [p.speaker_label for p in s.exec(select(SessionParticipant))] == ["I01"]
        i02 = s.exec(select(Informant).where(Informant.code == "I02")).one()
        assert i02.written_consent_on is None           # the tick of the failed save is not kept
        assert s.exec(select(Event).where(Event.kind == EventKind.consent)).all() == []

    new_id, missing = save_setup(project, plan, None, when=date(2026, 3, 4),
                                 consents={"I02": ConsentTicks(True, True, True)}, author_id=lead)
    with project.db.session() as s:
        sess = s.get(Session, new_id)
        assert sess.title == "Interview 2" and sess.planned_at is not None
        part = s.exec(select(SessionParticipant).where(SessionParticipant.session_id == new_id)).one()
        assert part.recording_consent is True
        assert len(s.exec(select(Event).where(Event.kind == EventKind.consent)).all()) == 1
    assert missing == []
