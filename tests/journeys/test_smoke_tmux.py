"""End to end: the real ``fieldkit`` in tmux, driven with send-keys like a person would,
while the virtual microphone plays speech; the observer attaches from a second tmux
window with ``fieldkit observe``. Afterwards the database must hold the recording, the
keypresses of both terminals, the live transcript and the debrief."""

from __future__ import annotations

import os
import shutil
import sys
from datetime import date
from pathlib import Path

import pytest
from sqlmodel import select

from tests.support import audio_env
from tests.support.speech import EN_SENTENCES, HAVE_TTS, speak
from tests.support.tmux import Tmux

pytestmark = [pytest.mark.audio, pytest.mark.slow]

REPO = Path(__file__).resolve().parents[2]
FIELDKIT = Path(sys.executable).parent / "fieldkit"




@pytest.fixture
def field(tmp_path: Path):
    from fieldkit.people.informants import add_informant
    from fieldkit.sessions.consent import record_session_consent
    from fieldkit.instruments.guides.store import import_guide
    from fieldkit.sessions.plan import SessionPlan, save_session, setup_choices
    from fieldkit.projects import Workspace
    from fieldkit.store.models import Project, Researcher

    if shutil.which("tmux") is None or not HAVE_TTS:
        pytest.skip("tmux, espeak-ng or sox missing (scripts/test installs them)")
    problem = audio_env.start()
    if problem:
        pytest.skip(f"virtual microphone unavailable: {problem}")
    home = tmp_path / "home"
    ws = Workspace(home).ensure()
    with ws.create("Smoke study", language="en") as h:
        with h.db.transaction() as s:
            s.add(Researcher(project_id=h.project_id, name="Ada Lead", initials="AL"))
            s.add(Researcher(project_id=h.project_id, name="Ola Observer", initials="OO"))
            s.get(Project, h.project_id).transcription = {"model": "tiny.en"}
        import_guide(h.db, h.project_id, REPO / "guides" / "en-frontline-professionals.md")
        add_informant(h, "I01", role="nurse", info_letter_sent_on=date(2026, 1, 5),
                      written_consent_on=date(2026, 1, 9))
        c = setup_choices(h)
        sid = save_session(h, SessionPlan("Smoke interview", guide_version_id=c.guides[0].version_id,
                                          lead_id=c.researchers[0].id, observer_id=c.researchers[1].id,
                                          informants=["I01"]))
        record_session_consent(h, sid, "I01", True)
    speech = speak(" ".join(EN_SENTENCES[:4]), tmp_path / "speech.wav")
    env = {"FIELDKIT_HOME": str(home), "FIELDKIT_DEVICE": audio_env.DEVICE, "TERM": "xterm-256color",
           "HOME": os.environ.get("HOME", "/root"), **audio_env.client_env()}   # the run's private server
    tmux = Tmux(f"fieldkit-smoke-{os.getpid()}", {k: v for k, v in env.items() if v})
    yield ws, sid, tmux, speech
    tmux.kill()


def test_fieldkit_in_tmux_records_a_short_interview_with_an_observer(field):
    from fieldkit.store.models import (
        Event, EventKind, Recording, RecordingState, Researcher, Session, SessionStatus, TranscriptSegment,
    )

    ws, sid, tmux, speech = field
    tmux.start("lead", f"{FIELDKIT} --project smoke-study")
    tmux.wait_for("lead", "Smoke interview")
    tmux.keys("lead", "Enter")
    tmux.keys("lead", "Enter")            # the planned session opens in setup
    tmux.wait_for("lead", "Start interview")
    tmux.wait_for("lead", "I01  nurse")   # the form has read the project
    tmux.keys("lead", "C-r")              # consent was given: recording starts
    tmux.wait_for("lead", "● REC", timeout=30)
    player = audio_env.play(speech)
    tmux.start("observer", f"{FIELDKIT} observe --project smoke-study")
    tmux.wait_for("observer", "observer")
    seat = tmux.wait_for("observer", "^f Follow")  # the observer's seat offers what it can do (80 columns
    # cut the footer's "Follow lead" short) ...
    assert "Pause" not in seat and "q Leave" in seat  # ... and nothing it would refuse
    tmux.keys("lead", "k")                # key quote, by the lead
    tmux.keys("observer", "f")            # follow up, by the observer
    tmux.keys("observer", "n")
    tmux.keys("observer", "Talks about cooperation", literal=True)
    tmux.keys("observer", "Enter")
    tmux.keys("lead", "c")                # the first question covered
    # (how soon each terminal shows the other's keys: tests/bench/observer_bench.py)
    tmux.wait_for("observer", "Key quote", timeout=30)
    tmux.wait_for("lead", "✎ Talks about", timeout=30)
    assert "No live transcript" not in tmux.screen("observer")  # the lead transcribes live
    player.wait(timeout=120)
    tmux.keys("lead", "q")
    tmux.wait_for("lead", "These themes were not touched")
    tmux.keys("lead", "y")
    tmux.wait_for("lead", "First impressions", timeout=30)
    tmux.wait_for("observer", "First impressions", timeout=30)  # the observer follows to the debrief
    tmux.keys("lead", "Calm and open", literal=True)
    tmux.keys("observer", "Mentioned the GP twice", literal=True)
    tmux.wait_for("lead", "Calm and open", timeout=30)   # both see what they typed
    tmux.wait_for("observer", "Mentioned the GP twice", timeout=30)
    tmux.keys("observer", "Escape")
    tmux.wait_for("lead", "Live transcript: complete", timeout=180)
    tmux.keys("lead", "Escape")
    tmux.wait_for("lead", "Sessions")
    tmux.keys("lead", "C-q")
    tmux.keys("observer", "C-q")

    with ws.open("smoke-study") as h, h.db.session() as s:
        sess = s.get(Session, sid)
        assert sess.status in (SessionStatus.recorded, SessionStatus.transcribed)
        rec = s.exec(select(Recording).where(Recording.session_id == sid)).one()
        assert rec.state == RecordingState.complete
        audio_s = rec.duration_ms / 1000
        assert audio_s >= 10, audio_s
        initials = {r.id: r.initials for r in s.exec(select(Researcher))}
        events = s.exec(select(Event).where(Event.session_id == sid)).all()
        by = {(e.kind, e.code): (initials.get(e.created_by), e.position_ms, e.text) for e in events}
        assert by[(EventKind.tag, "key_quote")][0] == "AL"
        assert by[(EventKind.tag, "follow_up")][0] == "OO"
        assert by[(EventKind.note, "")][:1] == ("OO",) and by[(EventKind.note, "")][2] == "Talks about cooperation"
        assert by[(EventKind.coverage, "covered")][0] == "AL"
        for kind, code in [(EventKind.tag, "key_quote"), (EventKind.tag, "follow_up"), (EventKind.note, "")]:
            assert 500 <= by[(kind, code)][1] <= rec.duration_ms
        debrief = {(initials.get(e.created_by), e.text) for e in events if e.kind == EventKind.debrief}
        assert debrief == {("AL", "Calm and open"), ("OO", "Mentioned the GP twice")}
        text = " ".join(g.text for g in s.exec(select(TranscriptSegment).where(TranscriptSegment.session_id == sid)))
        assert "cooperation" in text.lower() or len(text.split()) >= 10, text
