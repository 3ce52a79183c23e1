"""Seed study 002: a single interviewer (a master's student) records on a dictaphone,
imports the MP3 file, transcribes it on the laptop (real faster-whisper, the bundled
tiny.en model), corrects the transcript in review (the edited layer; what was heard stays
as the verbatim layer) and exports both layers.

English speech so the bundled small model hears it reliably (espeak-ng); the study's own
interviews were Norwegian, which takes the larger model and longer."""

from __future__ import annotations

import asyncio
import os
import subprocess
import sys
import zipfile
from pathlib import Path

import numpy as np
import pytest
import soundfile as sf
from lxml import etree
from sqlmodel import select
from textual.widgets import Input, OptionList

from tests.support.speech import needs_tts, normalise, speak
from tests.support.cli import fk
from tests.support.wait import until as _until

PROJECT = "Masteroppgave"
SAID = ("The nurse explained how the team plans each discharge together with the family. "
        "The interview took place at the local health centre on a rainy Tuesday morning.")
W = "{http://schemas.openxmlformats.org/wordprocessingml/2006/main}"


def _mp3(wav: Path, mp3: Path) -> Path:
    """The dictaphone's file: MP3, stereo (PyAV's LAME encoder, as test_import encodes)."""
    import numpy as np

    from tests.support.builders import encode_audio as _encode

    data, sr = sf.read(wav, dtype="float32")
    return _encode(mp3, "libmp3lame", np.stack([data, data], axis=1), sr)


def _docx_text(path: Path) -> str:
    with zipfile.ZipFile(path) as z:
        xml = etree.fromstring(z.read("word/document.xml"))
    return " ".join(t.text or "" for t in xml.iter(f"{W}t"))


@needs_tts
@pytest.mark.slow
async def test_dictaphone_recording_to_verbatim_and_edited_exports(tmp_path: Path):
    root = tmp_path / "data"
    fk(root, "project", "new", PROJECT, "--language", "en")
    fk(root, "researcher", "add", "Siri Student", "--initials", "SS", "-p", PROJECT)
    fk(root, "informant", "add", "S01", "-p", PROJECT, "--name", "Hanne Hansen", "--role", "nurse",
       "--letter-sent", "2026-03-01", "--consent", "2026-03-02")
    rec = _mp3(speak(SAID, tmp_path / "said.wav", "en"), tmp_path / "REC0001.MP3")
    fk(root, "import", str(rec), "-p", PROJECT, "--title", "Intervju S01", "--kind", "individual")
    fk(root, "transcribe", "Intervju S01", "-p", PROJECT, "--model", "tiny.en", "--language", "en")

    from fieldkit.projects import Workspace
    from fieldkit.store.models import Recording, Session, SessionStatus, TranscriptSegment

    with Workspace(root).open(PROJECT) as h:
        with h.db.session() as s:
            sess = s.exec(select(Session).where(Session.title == "Intervju S01")).one()
            sid, slug = sess.id, h.project().slug
            assert sess.status == SessionStatus.transcribed
            recording = s.exec(select(Recording).where(Recording.session_id == sid)).one()
            # the original file is kept as it came from the dictaphone
            assert (h.folder / recording.original_path).read_bytes() == rec.read_bytes()
            segs = list(s.exec(select(TranscriptSegment).where(TranscriptSegment.session_id == sid)
                               .order_by(TranscriptSegment.start_ms)))
    heard = " ".join(x.verbatim for x in segs)
    assert "discharge" in normalise(heard) and "health centre" in normalise(heard).replace("center", "centre")
    first = segs[0].verbatim.strip()

    # review: correct the first segment, see both layers
    from fieldkit.tui.app import FieldkitApp
    from fieldkit.tui.screens.review import ReviewScreen

    fixed = "The nurse explained how the team plans each discharge together with the family [corrected]."
    app = FieldkitApp(data_dir=root, project=slug)
    async with app.run_test(size=(100, 30)) as pilot:
        await _until(pilot, lambda: getattr(app.screen, "summaries", None), "home")
        review = ReviewScreen(slug, sid)
        app.push_screen(review)
        await _until(pilot, lambda: review.data is not None and review.data.segments, "the transcript")
        options = review.query_one("#review-list", OptionList)
        first_row = next(i for i, (k, _o) in enumerate(review.rows) if k == "segment")
        options.highlighted = first_row
        await pilot.press("e")
        inp = review.query_one("#review-input", Input)
        await _until(pilot, lambda: inp.has_focus, "the edit line")
        inp.value = fixed
        await pilot.press("enter")
        await _until(pilot, lambda: review.data.segments[0].edited == fixed, "the edit to be stored")
        assert "[corrected]" in str(options.get_option_at_index(first_row).prompt)
        await pilot.press("v")          # what was heard
        await _until(pilot, lambda: "showing verbatim" in str(review.query_one("#review-title").render()),
                     "the verbatim layer")
        row = str(options.get_option_at_index(first_row).prompt)
        assert "[corrected]" not in row and first[:20] in row
    with Workspace(root).open(PROJECT) as h:
        with h.db.session() as s:
            seg = s.get(TranscriptSegment, segs[0].id)
            assert (seg.verbatim.strip(), seg.edited) == (first, fixed)

    # export both layers; read them back with zipfile + lxml and as plain text
    for layer in ("edited", "verbatim"):
        fk(root, "export", "-p", PROJECT, "--session", "Intervju S01", "-f", "docx", "-f", "txt",
           "--layer", layer, "--out", str(tmp_path / layer))
    edited_txt = next((tmp_path / "edited").rglob("*.txt")).read_text(encoding="utf-8")
    verbatim_txt = next((tmp_path / "verbatim").rglob("*.txt")).read_text(encoding="utf-8")
    assert "[corrected]" in edited_txt and "[corrected]" not in verbatim_txt
    assert first in verbatim_txt
    edited_doc = _docx_text(next((tmp_path / "edited").rglob("*.docx")))
    verbatim_doc = _docx_text(next((tmp_path / "verbatim").rglob("*.docx")))
    assert "[corrected]" in edited_doc and "[corrected]" not in verbatim_doc
    # the informant's real name never leaves in the (pseudonymised) exports
    for text in (edited_txt, verbatim_txt, edited_doc, verbatim_doc):
        assert "Hanne" not in text
