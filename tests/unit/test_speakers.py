"""Who spoke: speaker attribution on conversations spliced from real speech with known turns
(tests/support/conversations.py: clips of tests/data/speech equalised to one spectrum and level),
through `fieldkit import`, `fieldkit transcribe` and `fieldkit speakers`; the lead found from
the guide's questions; hand assignments kept across runs; two-channel recordings; bad input
that leaves the transcript untouched."""

from __future__ import annotations

import os
import re
import subprocess
import uuid
from pathlib import Path

import numpy as np
import pytest
import soundfile as sf
from sqlmodel import select

from fieldkit.store.models import TranscriptSegment
from tests.support.shared_files import missing
from tests.support.shared_files import speech_dir as speech_dir_path
from tests.support.conversations import ALL_VOICES, conversation, diarization_error, speech_dir, word_error
from tests.support.speech import needs_tts, speak
from tests.support.cli import fk as run_cli

REPO = Path(__file__).resolve().parents[2]
pytestmark = pytest.mark.skipif(speech_dir() is None, reason=missing(speech_dir_path(), "the real voices the conversations are spliced from"))


def _cli(project, *args: str) -> subprocess.CompletedProcess:
    env = {**os.environ, "FIELDKIT_HOME": str(project.folder.parent.parent)}
    return run_cli(None, *args, ok=False, env=env)


def _segs(project, sid):  # noqa: ANN001, ANN202
    with project.db.session() as s:
        return list(s.exec(select(TranscriptSegment).where(TranscriptSegment.session_id == sid)
                           .order_by(TranscriptSegment.start_ms)))


def _words(project, sid) -> list[tuple[int, int, str]]:  # noqa: ANN001
    return [(int(w["s"]), int(w["e"]), g.speaker_label) for g in _segs(project, sid) for w in g.words]


def _session(project, title: str = "Group", **plan) -> uuid.UUID:  # noqa: ANN001, ANN003
    from fieldkit.sessions.plan import SessionPlan, save_session

    return save_session(project, SessionPlan(title, **plan))


def _import(project, sid, audio: np.ndarray, path: Path, channels: int = 1) -> None:  # noqa: ANN001
    from fieldkit.recording.importer import import_recording

    sf.write(str(path), audio, 16000, subtype="PCM_16")
    import_recording(project, sid, path)


def _transcript_from_turns(project, sid, conv, words_per_s: float = 2.5) -> None:  # noqa: ANN001
    """Transcript rows with word timestamps at the conversation's real speech, as faster-whisper
    stores them; every second segment spans a change of speaker (as whisper's often do)."""
    rows, words = [], []
    for s, e, v in conv.speech:
        n = max(1, int((e - s) / 1000 * words_per_s))
        step = (e - s) / n
        words += [{"w": f" w{v}", "s": int(s + i * step), "e": int(s + (i + 0.8) * step), "p": 0.9}
                  for i in range(n)]
    chunk = max(4, len(words) // 8)
    for i in range(0, len(words), chunk):
        part = words[i:i + chunk]
        rows.append(TranscriptSegment(session_id=sid, start_ms=part[0]["s"], end_ms=part[-1]["e"],
                                      verbatim="".join(w["w"] for w in part).strip(), words=part))
    with project.db.transaction() as s:
        for r in rows:
            s.add(r)


# --------------------------------------------------------------------------- diarization error


@pytest.mark.slow
@pytest.mark.parametrize("voices,bound", [
    (["en_jfk", "no_npsc_medium"], 0.05),
    (["en_librivox_sense", "en_libri61_left", "no_npsc_medium"], 0.05),
    (["en_jfk", "en_librivox_sense", "en_libri61_left", "en_libri260_right"], 0.05),
    (ALL_VOICES, 0.15),
])
def test_diarization_error_on_spliced_conversations(voices, bound):
    from fieldkit.speakers.diarize import diarize

    conv = conversation(voices, seed=3)
    d = diarize(conv.audio, len(voices))
    der = diarization_error(conv.reference(), d.labels)
    assert der <= bound, f"{len(voices)} speakers: diarization error {der:.1%}"
    assert len({t.speaker for t in d.turns()}) == len(voices)


# --------------------------------------------------------------------------- through the CLI


@pytest.mark.slow
def test_import_transcribe_speakers_cli_splits_and_attributes(project, tmp_path):
    # close turns (20-100 ms gaps), so whisper's segments run across speakers and must be split
    conv = conversation(["en_jfk", "en_librivox_sense", "en_libri61_left"], seed=1, gap=(0.02, 0.1))
    wav = conv.write(tmp_path / "group.wav")
    name = project.folder.name
    r = _cli(project, "import", str(wav), "-p", name, "--title", "Group interview")
    assert r.returncode == 0, r.stderr
    r = _cli(project, "transcribe", "Group interview", "-p", name, "--model", "tiny.en", "--language", "en")
    assert r.returncode == 0, r.stderr
    with project.db.session() as s:
        from fieldkit.store.models import Session

        sid = s.exec(select(Session).where(Session.title == "Group interview")).one().id
    before = _segs(project, sid)
    assert all(g.speaker_auto == "" for g in before)      # no roster: nothing ran by itself
    r = _cli(project, "speakers", "Group interview", "-p", name, "--count", "3")
    assert r.returncode == 0, r.stderr
    assert "3 speakers (by voice)" in r.stdout
    after = _segs(project, sid)
    assert {g.speaker_label for g in after} == {"S1", "S2", "S3"}
    err = word_error(conv, _words(project, sid))
    assert err <= 0.05, f"word attribution error {err:.1%}"
    # the words are all still there, in order, and each segment's text is its words
    assert [w["w"] for g in before for w in g.words] == [w["w"] for g in after for w in g.words]
    assert all(g.verbatim == "".join(w["w"] for w in g.words).strip() for g in after if g.words)


def test_splits_a_segment_where_the_voice_changes(project, tmp_path):
    from fieldkit.speakers.attribute import attribute

    conv = conversation(["en_jfk", "en_librivox_sense"], seed=2)
    sid = _session(project)
    _import(project, sid, conv.audio, tmp_path / "c.wav")
    _transcript_from_turns(project, sid, conv)
    n_before = len(_segs(project, sid))
    result = attribute(project, sid, count=2)
    segs = _segs(project, sid)
    assert result.split > 0 and len(segs) > n_before and result.segments == len(segs)
    # after splitting, every segment's words are one voice (w0 / w1 mark the true voice)
    for g in segs:
        assert len({w["w"] for w in g.words}) == 1, g.verbatim
    assert word_error(conv, _words(project, sid)) <= 0.03


# --------------------------------------------------------------------------- who is who


@needs_tts
@pytest.mark.slow
def test_lead_found_from_guide_questions_and_runs_after_transcription(project, tmp_path):
    """The lead (a synthetic voice) asks the guide's questions, the informant (real speech)
    answers; transcription with the session's roster attributes speakers by itself."""
    from fieldkit.people.informants import add_informant
    from fieldkit.instruments.guides.store import import_guide
    from fieldkit.sessions.plan import guide_of
    from fieldkit.sessions.plan import setup_choices
    from fieldkit.transcription.service import transcribe_session
    from fieldkit.transcription.settings import resolve_settings
    from tests.support.conversations import equalise, voice

    import_guide(project.db, project.project_id, REPO / "guides" / "en-frontline-professionals.md")
    add_informant(project, "L03")
    c = setup_choices(project)
    lead = c.researchers[0]
    sid = _session(project, "Interview", guide_version_id=c.guides[0].version_id, lead_id=lead.id,
                   informants=["L03"])
    questions = [q.text for _t, q in guide_of(project, sid).iter_questions()][:3]
    answer = equalise({"a": voice("en_librivox_sense")})["a"]
    parts, cut, asked_at = [], len(answer) // 3, []
    for i, q in enumerate(questions):
        asked, _ = sf.read(str(speak(q, tmp_path / f"q{i}.wav")), dtype="float32")
        start = sum(len(p) for p in parts)
        asked_at.append((start * 1000 // 16000, (start + len(asked)) * 1000 // 16000))
        parts += [asked * 0.5, np.zeros(8000, np.float32), answer[i * cut:(i + 1) * cut], np.zeros(8000, np.float32)]
    _import(project, sid, np.concatenate(parts), tmp_path / "interview.wav")
    transcribe_session(project, sid, resolve_settings(model="tiny.en", language="en"))
    words = [(w, g) for g in _segs(project, sid) for w in g.words]
    right = 0
    for w, g in words:
        mid = (w["s"] + w["e"]) // 2
        lead_speaks = any(a <= mid < b for a, b in asked_at)
        right += (g.speaker_label, g.speaker_researcher_id is not None, g.speaker_informant_id is not None) == (
            (lead.label, True, False) if lead_speaks else ("L03", False, True))
    assert right >= 0.95 * len(words), f"{right} of {len(words)} words attributed to the right person"


def test_hand_assignments_survive_a_rerun(project, tmp_path):
    from fieldkit.people.informants import add_informant
    from fieldkit.sessions.plan import setup_choices
    from fieldkit.speakers.attribute import attribute
    from fieldkit.sessions.review import assign_speaker, assign_voice, load_review

    add_informant(project, "I01")
    add_informant(project, "I02")
    c = setup_choices(project)
    sid = _session(project, lead_id=c.researchers[0].id, informants=["I01", "I02"])
    conv = conversation(["en_jfk", "en_librivox_sense", "no_npsc_medium"], seed=4)
    _import(project, sid, conv.audio, tmp_path / "c.wav")
    _transcript_from_turns(project, sid, conv)
    first = attribute(project, sid)                      # count from the roster: I01, I02, AL
    assert first.count == 3
    data = load_review(project, sid)
    speakers = {sp.label: sp for sp in data.speakers}
    voices = sorted({g.speaker_auto for g in _segs(project, sid)})
    # "S2 is I02" once for all of S2; one other segment by hand to AL
    assign_voice(project, sid, voices[1], speakers["I02"])
    other = next(g for g in _segs(project, sid) if g.speaker_auto == voices[2])
    assign_speaker(project, other.id, speakers["AL"])
    before = {g.id: (g.speaker_label, g.start_ms, g.end_ms, g.verbatim) for g in _segs(project, sid) if g.speaker_manual}
    second = attribute(project, sid)
    after = _segs(project, sid)
    assert second.manual_kept == len(before)
    for g in after:
        if g.id in before:
            assert (g.speaker_label, g.start_ms, g.end_ms, g.verbatim) == before[g.id] and g.speaker_manual
    # the hand-named voice stays named, also for its segments not assigned by hand
    i02_voice = {g.speaker_auto for g in after if g.speaker_label == "I02"}
    assert len(i02_voice) == 1 and second.mapping[i02_voice.pop()] == "I02"


def test_talk_time_counts_voices_named_by_hand(project, tmp_path):
    """Every voice named by hand, then `speakers --count 2` again: each voice still speaks
    for as long as it did (it said "snakker 0:00" for both)."""
    from fieldkit.people.informants import add_informant
    from fieldkit.sessions.plan import setup_choices
    from fieldkit.sessions.review import assign_voice, load_review

    add_informant(project, "I01")
    c = setup_choices(project)
    sid = _session(project, "Named", lead_id=c.researchers[0].id, informants=["I01"])
    conv = conversation(["en_jfk", "en_librivox_sense"], seed=2)
    _import(project, sid, conv.audio, tmp_path / "c.wav")
    _transcript_from_turns(project, sid, conv)
    r = _cli(project, "speakers", "Named", "-p", project.folder.name, "--count", "2")
    assert r.returncode == 0, r.stderr
    speakers = {sp.label: sp for sp in load_review(project, sid).speakers}
    voices = sorted({g.speaker_auto for g in _segs(project, sid)})
    for voice, who in zip(voices, ("I01", "AL")):
        assign_voice(project, sid, voice, speakers[who])
    assert all(g.speaker_manual for g in _segs(project, sid))
    r = run_cli(project.folder.parent.parent, "speakers", "Named", "-p", project.folder.name, "--count", "2",
                ok=False, lang="nb")
    assert r.returncode == 0, r.stderr
    talk = re.findall(r"snakker (\d+):(\d\d)", r.stdout)
    assert len(talk) == 2 and all(int(m) * 60 + int(s) > 0 for m, s in talk), r.stdout
    assert sum(int(m) * 60 + int(s) for m, s in talk) <= len(conv.audio) / 16000 + 1


# --------------------------------------------------------------------------- two channels


def test_two_channel_recording_is_attributed_by_channel(project, tmp_path):
    from fieldkit.recording.importer import import_recording

    conv = conversation(["en_jfk", "en_libri61_left"], seed=5)
    left = np.zeros_like(conv.audio)
    right = np.zeros_like(conv.audio)
    for s, e, v in conv.turns:
        a, b = s * 16, e * 16
        near, far = (left, right) if v == 0 else (right, left)
        near[a:b] = conv.audio[a:b]
        far[a:b] = conv.audio[a:b] * 0.15          # the other microphone hears it too, fainter
    sid = _session(project)
    path = tmp_path / "stereo.wav"
    sf.write(str(path), np.stack([left, right], axis=1), 16000, subtype="PCM_16")
    import_recording(project, sid, path)
    _transcript_from_turns(project, sid, conv)
    r = _cli(project, "speakers", str(sid), "-p", project.folder.name, "--channels", "2", "--count", "2")
    assert r.returncode == 0, r.stderr
    assert "by channel" in r.stdout
    assert word_error(conv, _words(project, sid)) <= 0.03
    r = _cli(project, "speakers", str(sid), "-p", project.folder.name, "--channels", "2", "--count", "3")
    assert r.returncode != 0 and "two speakers apart" in r.stderr


# --------------------------------------------------------------------------- bad input


def test_bad_input_gives_a_message_and_leaves_the_transcript(project, tmp_path):
    conv = conversation(["en_jfk", "en_libri61_left"], seed=6)
    cases = {
        "short": conv.audio[16000 * 1: 16000 * 2],
        "quiet": conv.audio * 1e-4,
        "normal": conv.audio,
    }
    sids = {}
    for name, audio in cases.items():
        sids[name] = _session(project, name)
        _import(project, sids[name], audio, tmp_path / f"{name}.wav")
        with project.db.transaction() as s:
            s.add(TranscriptSegment(session_id=sids[name], start_ms=0, end_ms=900, verbatim="hello there",
                                    words=[{"w": " hello", "s": 0, "e": 400, "p": 0.9},
                                           {"w": " there", "s": 450, "e": 900, "p": 0.9}]))
    empty = _session(project, "no transcript")
    _import(project, empty, conv.audio, tmp_path / "e.wav")
    expect = [
        ("short", ["--count", "2"], "too short"),
        ("quiet", ["--count", "2"], "too quiet"),
        ("normal", ["--count", "0"], "at least one speaker"),
        ("normal", ["--count", "500"], "500 speakers asked for"),
        ("no transcript", ["--count", "2"], "no transcript yet"),
    ]
    for title, args, message in expect:
        before = [(g.id, g.speaker_label, g.verbatim, g.start_ms, g.end_ms) for g in _segs(project, sids.get(title, empty))]
        r = _cli(project, "speakers", title, "-p", project.folder.name, *args)
        assert r.returncode != 0 and message in r.stderr and "Traceback" not in r.stderr, (title, args, r.stderr)
        after = [(g.id, g.speaker_label, g.verbatim, g.start_ms, g.end_ms) for g in _segs(project, sids.get(title, empty))]
        assert after == before
    # nobody listed: the voices are counted in the audio (two here), not refused
    r = _cli(project, "speakers", "normal", "-p", project.folder.name)
    assert r.returncode == 0 and "2 speakers (found in the audio)" in r.stdout, r.stderr
