"""Transcription with real models on real (synthetic) speech."""

from __future__ import annotations

import os
import signal
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

import jiwer
import numpy as np
import pytest
import soundfile as sf
from sqlmodel import select

from fieldkit.recording.importer import import_recording
from fieldkit.store.models import RunStatus, Session, SessionStatus, TranscriptionRun, TranscriptSegment
from fieldkit.transcription.models import ModelError, check_model_dir, resolve_model
from fieldkit.transcription.service import TranscriptionError, transcribe_session
from fieldkit.transcription.settings import SettingsError, resolve_settings
from tests.support.speech import EN_SENTENCES, needs_tts, normalise, speak, wer

EN = ("The interview took place at the local health centre. The nurse explained how the team "
      "plans each discharge together with the family. She said that the weekly meeting with "
      "the hospital makes the biggest difference.")
NO = "Vi har faste møter hver måned. Kommunen og sykehuset samarbeider godt om pasientene."
# Bounds measured on this machine's espeak-ng voices (see the closing note of issue 5):
# tiny.en on English WER ~0.11; base on espeak's robotic Norwegian WER 0.6-0.77, CER 0.16-0.21
# (CI's CPU decodes a word or two differently from this one, and one word of 13 is 0.077 WER).
# CER carries the check; the WER bound still fails an English translation (WER 1.23, CER 0.79).
EN_MAX_WER = 0.25
NO_MAX_WER = 0.9
NO_MAX_CER = 0.30


def _session_with(project, path: Path, title: str = "S") -> Session:
    with project.db.transaction() as s:
        sess = Session(project_id=project.project_id, title=title)
        s.add(sess)
    import_recording(project, sess.id, path)
    return sess


def _text(project, session_id) -> str:
    with project.db.session() as s:
        segs = s.exec(select(TranscriptSegment).where(TranscriptSegment.session_id == session_id)
                      .order_by(TranscriptSegment.start_ms)).all()
    return " ".join(seg.verbatim for seg in segs)


@needs_tts
@pytest.mark.slow
def test_english_tiny_en(project, tmp_path):
    sess = _session_with(project, speak(EN, tmp_path / "en.wav", "en"))
    settings = resolve_settings(model="tiny.en", language="en")
    run = transcribe_session(project, sess.id, settings)
    assert run.status == RunStatus.done and run.language == "en"
    assert wer(EN, _text(project, sess.id)) <= EN_MAX_WER
    with project.db.session() as s:
        segs = s.exec(select(TranscriptSegment).where(TranscriptSegment.session_id == sess.id)).all()
        assert s.get(Session, sess.id).status == SessionStatus.transcribed
    words = [w for seg in segs for w in seg.words]
    assert words and all(0 <= w["p"] <= 1 and w["s"] <= w["e"] for w in words)
    assert all(seg.edited is None and seg.run_id == run.id for seg in segs)
    # timings lie on the recording: speech begins within the first second, ends inside it
    duration = int(sf.info(str(tmp_path / "en.wav")).duration * 1000)
    assert min(s.start_ms for s in segs) < 1000 and max(s.end_ms for s in segs) <= duration + 100


@needs_tts
@pytest.mark.slow
def test_norwegian_base(project, tmp_path):
    sess = _session_with(project, speak(NO, tmp_path / "no.wav", "nb", speed=110))
    run = transcribe_session(project, sess.id)  # project language "no", default model base
    assert run.model == "base" and run.language == "no"
    hyp = _text(project, sess.id)
    assert wer(NO, hyp) <= NO_MAX_WER, hyp
    assert jiwer.cer(normalise(NO), normalise(hyp)) <= NO_MAX_CER, hyp


@pytest.mark.slow
def test_silence_gives_empty_transcript(project, tmp_path):
    path = tmp_path / "silence.wav"
    sf.write(path, np.zeros(16000 * 5, dtype=np.int16), 16000)
    sess = _session_with(project, path)
    run = transcribe_session(project, sess.id, resolve_settings(model="tiny.en", language="en"))
    assert run.status == RunStatus.done and _text(project, sess.id) == ""


def test_settings_and_languages(project):
    from fieldkit.store.models import Project

    with project.db.transaction() as s:
        p = s.get(Project, project.project_id)
        p.language, p.vocabulary = "nn", "Solvik\nIP-plan\n"
        p.transcription = {"beam_size": 3}
        sess = Session(project_id=project.project_id, title="x", transcription={"language": "nb"})
        s.add(sess)
    with project.db.session() as s:
        st = resolve_settings(s.get(Project, project.project_id), s.get(Session, sess.id), threads=1)
    assert (st.language, st.beam_size, st.threads, st.vad, st.condition_on_previous_text) == ("no", 3, 1, True, False)
    assert st.hotwords() == "Solvik, IP-plan"
    with pytest.raises(SettingsError, match="Unknown language code 'xx'"):
        resolve_settings(language="xx")
    with pytest.raises(SettingsError, match="Unknown transcription setting"):
        resolve_settings(temperature=0.3)
    assert resolve_settings(language="auto").language == "auto"


def test_model_resolution_errors(tmp_path):
    assert (resolve_model("tiny.en") / "model.bin").is_file()
    with pytest.raises(ModelError, match="does not exist"):
        resolve_model(str(tmp_path / "nowhere"))
    empty = tmp_path / "empty"
    empty.mkdir()
    with pytest.raises(ModelError, match="has no model.bin"):
        resolve_model(str(empty))
    bad = tmp_path / "bad"
    bad.mkdir()
    (bad / "model.bin").write_bytes(b"\0" * 4096)
    (bad / "config.json").write_text("{not json")
    (bad / "tokenizer.json").write_text("{}")
    with pytest.raises(ModelError, match="config.json is damaged"):
        check_model_dir(bad)
    with pytest.raises(ModelError, match="No model called 'large-v9'"):
        resolve_model("large-v9")


def test_english_only_model_refuses_norwegian(project, tmp_path):
    path = tmp_path / "t.wav"
    sf.write(path, (np.sin(np.arange(16000) / 5) * 3000).astype(np.int16), 16000)
    sess = _session_with(project, path)
    with pytest.raises(ModelError, match="English only"):
        transcribe_session(project, sess.id, resolve_settings(model="tiny.en", language="no"))
    with project.db.session() as s:
        assert s.exec(select(TranscriptionRun)).one().status == RunStatus.failed


def test_refuses_session_still_recording(project, tmp_path):
    from fieldkit.store.models import Recording, RecordingState

    with project.db.transaction() as s:
        sess = Session(project_id=project.project_id, title="Live")
        s.add(sess)
        s.flush()
        s.add(Recording(session_id=sess.id, folder="audio/x", state=RecordingState.recording))
    with pytest.raises(TranscriptionError, match="still being recorded"):
        transcribe_session(project, sess.id)


@pytest.mark.slow
@needs_tts
def test_failed_job_keeps_earlier_transcript_and_edits_are_protected(project, tmp_path):
    sess = _session_with(project, speak(EN, tmp_path / "en.wav", "en"))
    transcribe_session(project, sess.id, resolve_settings(model="tiny.en", language="en"))
    before = _text(project, sess.id)
    with pytest.raises(ModelError):
        transcribe_session(project, sess.id, resolve_settings(model=str(tmp_path / "missing"), language="en"))
    assert _text(project, sess.id) == before
    with project.db.transaction() as s:
        seg = s.exec(select(TranscriptSegment)).first()
        seg.edited = "Edited by a researcher."
    with pytest.raises(TranscriptionError, match="has edits"):
        transcribe_session(project, sess.id, resolve_settings(model="tiny.en", language="en", beam_size=1))


@pytest.mark.slow
@needs_tts
def test_resume_after_kill(project, tmp_path):
    parts = [speak(text, tmp_path / f"p{i}.wav", "en") for i, text in enumerate(EN_SENTENCES)]
    long = tmp_path / "long.wav"
    sf.write(long, np.concatenate([sf.read(p, dtype="int16")[0] for p in parts]), 16000)
    sess = _session_with(project, long, title="Long")
    env = {**os.environ, "FIELDKIT_HOME": str(project.folder.parent.parent)}
    cmd = [sys.executable, "-m", "fieldkit", "transcribe", "Long", "-p", project.folder.name,
           "--model", "tiny.en", "--language", "en", "--threads", "1"]
    errlog = open(tmp_path / "first-run.err", "w+")
    proc = subprocess.Popen(cmd, env=env, stdout=errlog, stderr=errlog)
    db = project.folder / "project.db"
    deadline = time.time() + 120
    n = 0
    while time.time() < deadline:
        con = sqlite3.connect(db)
        n = con.execute("SELECT count(*) FROM transcriptsegment").fetchone()[0]
        con.close()
        if n >= 2 or proc.poll() is not None:
            break
        time.sleep(0.05)
    proc.send_signal(signal.SIGKILL)
    proc.wait()
    errlog.seek(0)
    assert n >= 2, f"the job stored no segment before the kill: {errlog.read()[-2000:]}"
    with project.db.session() as s:
        run = s.exec(select(TranscriptionRun)).one()
        kept = {seg.id for seg in s.exec(select(TranscriptSegment))}
        assert run.status == RunStatus.running and 0 < run.done_ms < run.total_ms
    r = subprocess.run(cmd, env=env, capture_output=True, text=True, timeout=300)
    assert r.returncode == 0, r.stderr
    with project.db.session() as s:
        runs = s.exec(select(TranscriptionRun)).all()
        segs = s.exec(select(TranscriptSegment).order_by(TranscriptSegment.start_ms)).all()
    assert len(runs) == 1 and runs[0].status == RunStatus.done
    assert kept <= {seg.id for seg in segs}, "segments finished before the kill were kept"
    assert all(a.end_ms <= b.start_ms + 50 for a, b in zip(segs, segs[1:])), "no duplicated stretch"
    assert wer(" ".join(EN_SENTENCES), " ".join(s.verbatim for s in segs)) <= EN_MAX_WER
