"""A live recording in the pseudo-locale (issue 22): the interview screen recording through
the private virtual microphone (tests/support/audio_env.py), paused, warned about digital
silence (the virtual microphone delivers zeros, as a muted microphone does) and about a lost
device (the private audio server killed: an unplugged microphone) and its return, then the
stop question while recording and the debrief with the recorder's summary. Each state is
drawn and must have no word outside the ``⟦ ⟧`` markers that is not data, and no word of the
interface's English. About 30 s (15 s of it real-time recording)."""

from __future__ import annotations

import os
from datetime import date
from pathlib import Path

import pytest
from sqlmodel import select

from fieldkit.projects import Workspace
from tests.support import audio_env
from tests.support.pseudo import demo_data, drawn, pseudo_language, screen_findings
from tests.support.wait import settle, until

REPO = Path(__file__).resolve().parents[2]
GUIDE = REPO / "guides" / "no-leder-samhandling.md"
DATA = "Opptak Ingrid Berg IB Ola Nord ON L01 Kari Nordmann enhetsleder pulse"


@pytest.mark.slow
async def test_recording_paused_warned_and_stopped_come_from_the_catalogue(tmp_path: Path, monkeypatch):
    problem = audio_env.start()
    if problem:
        pytest.skip(f"virtual microphone unavailable: {problem}")
    from fieldkit.instruments.guides.store import import_guide
    from fieldkit.people.informants import add_informant
    from fieldkit.sessions.consent import ConsentTicks, store_consent_ticks
    from fieldkit.sessions.plan import SessionPlan, save_session, setup_choices
    from fieldkit.store.models import Recording, RecordingState, Researcher, Session, SessionStatus
    from fieldkit.tui.app import FieldkitApp
    from fieldkit.tui.screens.debrief import DebriefScreen
    from fieldkit.tui.screens.interview import InterviewScreen

    root = tmp_path / "data"
    ws = Workspace(root).ensure()
    with ws.create("Opptak", language="no") as h:
        with h.db.transaction() as s:
            s.add(Researcher(project_id=h.project_id, name="Ingrid Berg", initials="IB"))
            s.add(Researcher(project_id=h.project_id, name="Ola Nord", initials="ON"))
        import_guide(h.db, h.project_id, GUIDE)
        add_informant(h, "L01", name="Kari Nordmann", role="enhetsleder",
                      info_letter_sent_on=date(2026, 1, 5), written_consent_on=date(2026, 1, 9))
        c = setup_choices(h)
        lead = c.researchers[0].id
        sid = save_session(h, SessionPlan("Opptak", guide_version_id=c.guides[0].version_id,
                                          tag_scheme_id=c.schemes[0][0], lead_id=lead,
                                          observer_id=c.researchers[1].id, informants=["L01"]))
        store_consent_ticks(h, sid, {"L01": ConsentTicks(True, True, True)}, author_id=lead, asked=True)
    data = GUIDE.read_text(encoding="utf-8") + "\n" + demo_data() + "\n" + DATA
    found: dict[str, list[str]] = {}
    dump = os.environ.get("FIELDKIT_PSEUDO_DUMP")
    with pseudo_language(monkeypatch):
        app = FieldkitApp(data_dir=root, project="opptak")
        async with app.run_test(size=(120, 40)) as pilot:

            async def look(name: str) -> str:
                await settle(app, pilot)
                text = drawn(app)
                found[name] = screen_findings(text, data)
                if dump:
                    with open(dump, "a", encoding="utf-8") as f:
                        f.write(f"\n===== {name}\n{text}\n")
                return text

            def warned(kind: str) -> bool:
                return any(w.kind == kind for w in iv.recorder.warnings)

            await until(pilot, lambda: type(app.screen).__name__ == "HomeScreen", "the home screen")
            await settle(app, pilot)
            iv = InterviewScreen("opptak", sid, device=audio_env.DEVICE, author_id=lead)
            app.push_screen(iv)
            await until(pilot, lambda: iv.recorder is not None and iv.recorder.state == "recording"
                        or any(n.severity == "error" for n in app._notifications), "recording", deadline_s=60)
            assert iv.recorder is not None and iv.recorder.state == "recording", \
                [f"{n.title}: {n.message}" for n in app._notifications]
            await look("recording")
            # the virtual microphone delivers digital silence: after a few seconds, the warning
            await until(pilot, lambda: warned("silence"), "the silence warning", deadline_s=30)
            await look("recording, digital silence")
            app.clear_notifications()
            await pilot.press("p")
            await until(pilot, lambda: iv.recorder.state == "paused", "paused")
            await look("paused")
            await pilot.press("p")
            await until(pilot, lambda: iv.recorder.state == "recording", "recording again")
            app.clear_notifications()
            audio_env.kill_server()   # the run's private server, never the machine's: a lost microphone
            try:
                await until(pilot, lambda: warned("device_lost"), "the lost device", deadline_s=30)
                await look("recording, device lost")
            finally:
                assert audio_env.start() is None
            await until(pilot, lambda: warned("device_back"), "the device back", deadline_s=30)
            await look("recording, device back")
            app.clear_notifications()
            await pilot.press("q")
            await until(pilot, lambda: type(app.screen).__name__ == "ConfirmScreen", "the stop question")
            await look("stop question while recording")
            await pilot.press("j")
            await until(pilot, lambda: isinstance(app.screen, DebriefScreen), "the debrief", deadline_s=60)
            await until(pilot, lambda: bool(app._notifications), "the recorder's summary")
            await look("debrief with the summary")
    with ws.open("opptak") as h, h.db.session() as s:
        rec = s.exec(select(Recording).where(Recording.session_id == sid)).one()
        assert rec.state == RecordingState.complete and rec.duration_ms > 3000
        assert s.get(Session, sid).status == SessionStatus.recorded
    assert {k: v for k, v in found.items() if v} == {}
    assert len(found) == 7
