"""The demo project a newcomer finds on first run."""

from __future__ import annotations

from pathlib import Path

from sqlmodel import select

from fieldkit.tools.demo import MARKER, ensure_demo
from fieldkit.instruments.guides.coverage import session_coverage
from fieldkit.projects import Workspace
from fieldkit.recording.audio import available_ms, load_audio
from fieldkit.store.models import Event, EventKind, Session, SessionStatus, TagScheme, TranscriptSegment


def test_demo_created_once_and_complete(tmp_path: Path):
    ws = Workspace(tmp_path / "data")
    folder = ensure_demo(ws)
    assert folder is not None and (ws.root / MARKER).exists()
    assert ensure_demo(ws) is None
    with ws.open("demo") as h:
        assert h.project().is_demo
        with h.db.session() as s:
            sess = s.exec(select(Session)).one()
            assert sess.status == SessionStatus.transcribed and sess.guide_version_id
            segs = s.exec(select(TranscriptSegment)).all()
            events = s.exec(select(Event)).all()
            assert s.exec(select(TagScheme)).one().name == "Intervju"
        assert len(segs) >= 8 and {seg.speaker_label for seg in segs} == {"AL", "L01"}
        kinds = {e.kind for e in events}
        assert {EventKind.note, EventKind.tag, EventKind.coverage, EventKind.debrief} <= kinds
        assert 39_000 < available_ms(h, sess.id) < 41_000
        assert float(abs(load_audio(h, sess.id, 4000, 9000)).max()) > 0.05  # speech is there
        cov = session_coverage(h.db, sess.id)
        assert cov.counts()["covered"] == 1 and cov.counts()["partly"] == 1


def test_no_demo_when_projects_exist(tmp_path: Path):
    ws = Workspace(tmp_path / "data")
    ws.create("Real study").close()
    assert ensure_demo(ws) is None
    assert [f.name for f in ws.project_folders()] == ["real-study"]


def test_first_run_opens_the_demo_by_name(tmp_path):
    """The quickstart's `fieldkit --project demo` on a machine that has never run fieldkit:
    the demo is made before the name is looked up (an unknown name stays an error)."""
    import pytest

    from fieldkit.errors import FieldkitError
    from fieldkit.tui.app import FieldkitApp

    app = FieldkitApp(data_dir=tmp_path / "fresh", project="demo")
    assert app.initial_project == "demo"
    with pytest.raises(FieldkitError):
        FieldkitApp(data_dir=tmp_path / "fresh", project="no-such-study")
