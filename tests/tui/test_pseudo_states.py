"""The states the pseudo-locale walk of every screen (test_pseudo_screens.py) does not reach,
in one app run on a Norwegian project with FIELDKIT_LANG=pseudo (issue 22): crash recovery
at start-up (the "Recovered N s of audio" notice) and the review of a transcript the crash
cut short; an encrypted project that is locked, and a wrong passphrase; the observer's seat
while the lead records and the notice that it moved on to the debrief when the lead stopped;
the stop question with the themes not touched and the debrief after it; and the model
advice and its download on the setup screen (a real local server speaking the hub's
protocol, tests/support/hub_server.py), failing once and then installing. Each state is
drawn (Textual's screenshot) and must have no word outside the markers that is not data,
and no word of the interface's English.

The live recording itself (running, paused, a recorder warning) needs the virtual
microphone: tests/audio/test_pseudo_recording.py."""

from __future__ import annotations

import fcntl
import os
import uuid
from datetime import date
from pathlib import Path

import numpy as np
import pytest

from fieldkit.projects import Workspace
from tests.support.hub_server import HubServer, model_repo
from tests.support.live_feed import FileFeed
from tests.support.pseudo import demo_data, drawn, pseudo_language, screen_findings
from tests.support.wait import settle, until

REPO = Path(__file__).resolve().parents[2]
GUIDE = REPO / "guides" / "no-leder-samhandling.md"
NAMES = ("Word", "NbAiLab", "MB")
PEOPLE = "IB ON nb-whisper-small Studie Låst Ingrid Berg Ola Nord Kari Nordmann enhetsleder Kommunen Bergen Krasj Observert Avsluttes"


def _study(root: Path) -> tuple[Workspace, dict[str, uuid.UUID], uuid.UUID, uuid.UUID]:
    """A Norwegian project with three planned interviews (one per state), and an encrypted
    project beside it."""
    from fieldkit.instruments.guides.store import import_guide
    from fieldkit.people.informants import add_informant
    from fieldkit.sessions.plan import SessionPlan, save_session, setup_choices
    from fieldkit.store.models import Researcher

    ws = Workspace(root).ensure()
    with ws.create("Studie", language="no") as h:
        with h.db.transaction() as s:
            s.add(Researcher(project_id=h.project_id, name="Ingrid Berg", initials="IB"))
            s.add(Researcher(project_id=h.project_id, name="Ola Nord", initials="ON"))
        import_guide(h.db, h.project_id, GUIDE)
        add_informant(h, "L01", name="Kari Nordmann", role="enhetsleder", organisation="Kommunen", site="Bergen",
                      info_letter_sent_on=date(2026, 1, 5), written_consent_on=date(2026, 1, 9))
        c = setup_choices(h)
        lead, observer = c.researchers[0].id, c.researchers[1].id
        sessions = {title: save_session(h, SessionPlan(title, guide_version_id=c.guides[0].version_id,
                                                       tag_scheme_id=c.schemes[0][0], lead_id=lead,
                                                       observer_id=observer, informants=["L01"]))
                    for title in ("Krasj", "Observert", "Avsluttes")}
        # the crash: 6 s of audio left by a recorder that died, the live transcript up to 2 s
        feed = FileFeed(h, sessions["Krasj"])
        t = np.arange(16000 * 6) / 16000
        feed.write((0.2 * np.sin(2 * np.pi * 220 * t)).astype("float32"), speed=0)
        from fieldkit.store.models import TranscriptSegment

        with h.db.transaction() as s:
            s.add(TranscriptSegment(session_id=sessions["Krasj"], start_ms=0, end_ms=2000, verbatim="Ja, det stemmer."))
    with ws.create("Låst", language="no", passphrase="riktig passordfrase"):
        pass
    return ws, sessions, lead, observer


@pytest.mark.slow
async def test_recovery_locked_observer_stop_and_model_download_come_from_the_catalogue(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch):
    from fieldkit.transcription import hub
    from fieldkit.transcription.models import resolve_model
    from fieldkit.tui.app import FieldkitApp
    from fieldkit.tui.screens.debrief import DebriefScreen
    from fieldkit.tui.screens.interview import InterviewScreen
    from fieldkit.tui.screens.review import ReviewScreen
    from fieldkit.tui.screens.setup import SetupScreen

    root = tmp_path / "data"
    ws, sessions, lead, observer = _study(root)
    data = GUIDE.read_text(encoding="utf-8") + "\n" + demo_data() + "\n" + PEOPLE + "\nJa, det stemmer."
    monkeypatch.setenv("FIELDKIT_CACHE", str(tmp_path / "cache"))      # no Norwegian model here
    model_repo(tmp_path / "hub", "NbAiLab/nb-whisper-small", resolve_model("tiny.en"))
    found: dict[str, list[str]] = {}
    dump = os.environ.get("FIELDKIT_PSEUDO_DUMP")   # a file to write every drawn screen to
    with pseudo_language(monkeypatch), HubServer(tmp_path / "hub") as server:
        monkeypatch.setenv(hub.HUB_ENV, server.url)
        app = FieldkitApp(data_dir=root, project="studie")
        async with app.run_test(size=(120, 40)) as pilot:

            async def look(name: str, must: str = "") -> str:
                await settle(app, pilot)
                text = drawn(app)
                found[name] = screen_findings(text, data, NAMES)
                if dump:
                    with open(dump, "a", encoding="utf-8") as f:
                        f.write(f"\n===== {name}\n{text}\n")
                if must:
                    assert must in text, (name, text)
                return text

            # start-up: the crashed recording is repaired and the home screen says so
            await until(pilot, lambda: type(app.screen).__name__ == "HomeScreen"
                        and "6,0" in str(app.screen.query_one("#status").render()), "the recovery notice")
            await look("home, recovered")
            # the review of the recovered session: the transcript stops before the audio ends
            app.push_screen(ReviewScreen("studie", sessions["Krasj"]))
            await until(pilot, lambda: type(app.screen) is ReviewScreen and app.screen.data is not None, "review")
            await look("review, transcript short", must="00:00:02")
            app.pop_screen()

            # the encrypted project, locked: the home screen says so; a wrong passphrase
            home = app.screen
            home.initial_project = None                 # the list's reloads keep the choice below
            home.select_project("last")
            await until(pilot, lambda: "🔒" in str(home.query_one("#project-info").render()), "the locked project")
            await look("home, locked project")
            await home.run_action("unlock")
            await until(pilot, lambda: type(app.screen).__name__ == "UnlockScreen"
                        and app.screen.query_one("#passphrase").has_focus, "the unlock question")
            unlock = app.screen
            await pilot.press(*"feil", "enter")
            await until(pilot, lambda: str(unlock.query_one("#unlock-error").render()).strip(),
                        "the wrong passphrase said", deadline_s=120)
            await look("unlock, wrong passphrase")
            unlock.dismiss(False)
            await until(pilot, lambda: app.screen is home, "home again")
            home.select_project("studie")

            # the observer's seat while the lead records; the lead stops: on to the debrief
            with ws.open("studie") as h:
                feed = FileFeed(h, sessions["Observert"])
                # held as the lead's recorder holds it (recovery leaves a held recording alone)
                lock = open(feed.path.parent / "recorder.lock", "w")
                fcntl.flock(lock, fcntl.LOCK_EX | fcntl.LOCK_NB)
                feed.write(np.zeros(16000 * 2, dtype="float32"), speed=0)
                seat = InterviewScreen("studie", sessions["Observert"], observer=True, author_id=observer)
                app.push_screen(seat)
                await until(pilot, lambda: seat.view is not None and seat.view.recording == "recording",
                            "the observer sees the recording")
                await look("observer, recording")
                await seat.run_action("stop")               # leave the seat? (asked first)
                await until(pilot, lambda: type(app.screen).__name__ == "ConfirmScreen", "leave the seat?")
                await look("observer, leave?")
                await pilot.press("escape")
                await until(pilot, lambda: app.screen is seat, "back in the seat")
                feed.finish()
                lock.close()
            await until(pilot, lambda: isinstance(app.screen, DebriefScreen), "the observer moved to the debrief")
            await look("observer, moved to the debrief", must="00:00:02")
            app.pop_screen()
            await until(pilot, lambda: app.screen is home, "home after the observer")

            # the stop question with the themes not touched, and the debrief after it
            iv = InterviewScreen("studie", sessions["Avsluttes"], record=False, author_id=lead)
            app.push_screen(iv)
            await until(pilot, lambda: iv.view is not None, "the interview screen")
            await iv.run_action("stop")
            await until(pilot, lambda: type(app.screen).__name__ == "ConfirmScreen", "the stop question")
            await look("stop question", must="•")
            await pilot.press("j")                          # Norwegian yes
            await until(pilot, lambda: isinstance(app.screen, DebriefScreen), "the debrief")
            await look("debrief after the stop")
            app.pop_screen()
            await until(pilot, lambda: app.screen is home, "home after the debrief")

            # the setup screen offers a Norwegian model; the download fails once, then installs
            setup = SetupScreen("studie", None)
            app.push_screen(setup)
            from textual.widgets import Button, Static

            await until(pilot, lambda: app.screen is setup and setup.query("#model-download"), "the setup screen")
            button = setup.query_one("#model-download", Button)
            await until(pilot, lambda: button.display, "the download offered")
            button.scroll_visible(animate=False)
            await look("setup, model advice")
            status = setup.query_one("#model-download-status", Static)
            server.corrupt.add("model.bin")
            button.press()
            await until(pilot, lambda: "⚠" in str(status.render()), "the download failed", deadline_s=120)
            setup.query_one("#setup-form").scroll_end(animate=False)
            await look("setup, download failed")
            server.corrupt.clear()
            await until(pilot, lambda: button.display, "the download offered again")
            button.press()
            await until(pilot, lambda: "nb-whisper-small" in str(status.render()) and not setup.query_one(
                "#model-progress").display, "the model installed", deadline_s=120)
            setup.query_one("#setup-form").scroll_end(animate=False)
            await look("setup, model installed")
    # what the states stored: the recovered recording, the observer's session and the stop
    from sqlmodel import select

    from fieldkit.store.models import Recording, RecordingState, Session, SessionStatus

    with ws.open("studie") as h, h.db.session() as s:
        rec = s.exec(select(Recording).where(Recording.session_id == sessions["Krasj"])).one()
        assert rec.state == RecordingState.recovered and 5500 <= rec.duration_ms <= 6500
        assert s.get(Session, sessions["Avsluttes"]).status != SessionStatus.planned
    assert (tmp_path / "cache" / "models" / "nb-whisper-small" / "model.bin").exists()
    assert {k: v for k, v in found.items() if v} == {}
    assert len(found) == 12, sorted(found)
