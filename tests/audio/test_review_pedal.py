"""The review screen's transcription pedal (issue 24) playing for real into the test run's
private PulseAudio: space plays from the cursor's segment and the playhead (the row and
the word being played) follows; space pauses; space again goes on from the rewind before
where it paused; the arrows skip 5 s; minus plays slower (stretched: it lasts longer)."""

from __future__ import annotations

import numpy as np
import pytest
import soundfile as sf
from textual.widgets import OptionList

from fieldkit.store.models import Session, TranscriptSegment
from fieldkit.tui.app import FieldkitApp
from fieldkit.tui.screens.review import ReviewScreen
from tests.support.wait import settle, until


@pytest.mark.slow
async def test_space_plays_pauses_and_resumes_with_the_rewind(virtual_mic, workspace, tmp_path, monkeypatch):
    from fieldkit.recording.importer import import_recording
    from fieldkit.recording.playback import ENV_PLAYBACK, save_rewind_ms

    monkeypatch.setenv(ENV_PLAYBACK, str(tmp_path / "playback.toml"))
    save_rewind_ms(1000)
    sr = 16000
    tone = (0.2 * np.sin(2 * np.pi * 300 * np.arange(sr * 20) / sr)).astype(np.float32)
    sf.write(tmp_path / "tone.wav", tone, sr)
    project = workspace.create("Pedal", language="en")
    with project.db.transaction() as s:
        sess = Session(project_id=project.project_id, title="Twenty seconds")
        s.add(sess)
    import_recording(project, sess.id, tmp_path / "tone.wav")
    with project.db.transaction() as s:
        for k in range(10):        # a segment every 2 s, a word every 500 ms
            s.add(TranscriptSegment(session_id=sess.id, start_ms=k * 2000, end_ms=k * 2000 + 2000,
                                    verbatim=f"one two three {k}",
                                    words=[{"w": f" {w}", "s": k * 2000 + i * 500, "e": k * 2000 + i * 500 + 450,
                                            "p": 0.95} for i, w in enumerate(["one", "two", "three", str(k)])]))
    slug = project.project().slug
    app = FieldkitApp(data_dir=workspace.root, project=slug)
    async with app.run_test(size=(120, 30)) as pilot:
        await settle(app, pilot)
        screen = ReviewScreen(slug, sess.id)
        app.push_screen(screen)
        await until(pilot, lambda: screen.data is not None and screen.rows, "the review")
        lst = screen.query_one("#review-list", OptionList)
        screen._goto(1)                                  # the segment at 0:02
        await pilot.press("space")
        await until(pilot, lambda: screen.play_at is not None and screen.transport.at_now() > 2600,
                    "playing on from 0:02", timeout=10)
        assert not any(n.severity == "error" for n in app._notifications), [n.message for n in app._notifications]
        # the playhead follows into the next segment: its row and the cursor
        await until(pilot, lambda: screen.play_at is not None and screen.play_at[0] == screen.data.segments[2].id,
                    "the playhead in 0:04", timeout=10)
        assert screen.rows[lst.highlighted][1].id == screen.data.segments[2].id
        assert "▶" in str(lst.get_option_at_index(2).prompt)
        await pilot.press("space")                       # pause
        paused = screen.transport.position_ms
        assert not screen.transport.playing and 4000 <= paused < 6500
        assert "Paused" in str(screen.query_one("#review-playing").render())
        await pilot.press("space")                       # on from a second before
        assert screen.transport.playing and abs(screen.transport.position_ms - (paused - 1000)) <= 50
        await pilot.press("left")                        # 5 s back
        assert abs(screen.transport.position_ms - max(0, paused - 1000 - 5000)) <= 300
        await pilot.press("minus")
        assert screen.transport.rate == 0.9
        screen.last_played = None
        await pilot.press("minus")
        await until(pilot, lambda: screen.last_played is not None, "the slower playback starts", timeout=10)
        start, end, seconds = screen.last_played
        assert screen.transport.rate == 0.75
        assert abs(seconds - (end - start) / 1000 / 0.75) < 0.2, screen.last_played     # longer, not lower
        await pilot.press("space")
        assert not screen.transport.playing
        # moved while paused: playing starts exactly there (no rewind on top of the jump)
        here = screen.transport.position_ms
        await pilot.press("f3")
        assert screen.transport.position_ms == min(here + 5000, 20_000)
        await pilot.press("space")
        assert screen.transport.playing and screen.transport.position_ms == min(here + 5000, 20_000)
        await pilot.press("space")
