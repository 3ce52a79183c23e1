"""Live transcript lag and live suggestion delay in the real app, as it runs in the field:
the lead's `fieldkit` records with live transcription in one tmux window (120x40), the
observer's `fieldkit observe` is open in a second, and an interview is played in real time
through the private virtual microphone (tests/support/audio_env.py).

The interview: the interviewer's questions (espeak-ng: the guide's questions in other
words, and small talk) and the informant's answers (the real speech clips of
tests/data/speech, with their references). Printed:

- per finished utterance, the delay from its end in the audio to its text being stored
  in the database (median, p90, max), while the recording is still running;
- per guide question asked, the delay from the end of the question's turn to the stored
  suggestion (issue 23), and which questions were suggested;
- the recorder's input overflows, the load average while it ran, and a baseline in the
  same run: raw faster-whisper with the live worker's settings on each utterance alone
  (the least any live transcriber could lag with this model on this machine now).

    PYTHONPATH=$PWD .venv/bin/python tests/bench/live_lag_bench.py --rounds 2

fieldkit is imported from PYTHONPATH, so the same script measures another checkout
(before/after).
"""

from __future__ import annotations

import argparse
import os
import shutil
import sys
import tempfile
import time
from datetime import date, timezone
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
sys.path.append(str(ROOT))   # fieldkit from PYTHONPATH first: another checkout can be measured
from tests.support import audio_env  # noqa: E402
from tests.support.real_speech import clip  # noqa: E402
from tests.support.speech import HAVE_TTS, normalise, speak  # noqa: E402
from tests.support.tmux import Tmux  # noqa: E402

FIELDKIT = Path(sys.executable).parent / "fieldkit"
GUIDE = ROOT / "guides" / "en-frontline-professionals.md"

#: the interviewer's turns of the first round: (text, index of the guide question it asks
#: in guide order, or None for small talk), each followed by a real answer clip
QUESTIONS = [
    ("So to begin with, what is your job, and what does an ordinary week look like for you?", 0),
    ("When was the last time you had to ask another service for help with one of your users?", 1),
    ("Would you like some more coffee before we go on?", None),
    ("In your experience, what makes working together with the other services go well?", 2),
    ("How do you bring users and their families into the planning of their services?", 4),
    ("Before we finish, is there anything we have not talked about that you think matters?", 5),
]
ANSWERS = ["en_librivox_sense", "en_jfk", "en_libri260_right", "en_libri61_left", "en_librivox_sense", "en_jfk"]
#: later rounds: the informant goes on talking (real clips only)
MORE = ["en_jfk", "en_libri61_left", "en_librivox_sense", "en_libri260_right"]
SR = 16000


def pct(values: list[float], p: float) -> float:
    v = sorted(values)
    return v[min(len(v) - 1, int(round(p / 100 * (len(v) - 1))))]


def figures(values: list[float]) -> str:
    if not values:
        return "none"
    return (f"n={len(values)}  median {pct(values, 50):.1f} s  p90 {pct(values, 90):.1f} s  "
            f"max {max(values):.1f} s")


def build(tmp: Path, rounds: int, gap_s: float):
    """The played interview: (samples, utterances) with each utterance
    (who, start_s, end_s, reference, guide question index or None)."""
    import numpy as np
    import soundfile as sf

    parts, utts, at = [np.zeros(SR, np.float32)], [], 1.0

    def add(who: str, audio, ref: str, q) -> None:
        nonlocal at
        utts.append((who, at, at + len(audio) / SR, ref, q))
        parts.extend([audio.astype(np.float32), np.zeros(int(gap_s * SR), np.float32)])
        at += len(audio) / SR + gap_s

    for n, (text, q) in enumerate(QUESTIONS):
        wav = speak(text, tmp / f"q{n}.wav", pad_s=0.0)
        a, _sr = sf.read(wav, dtype="float32")
        add("interviewer", a, text, q)
        a, ref = clip(ANSWERS[n])
        add("informant", a, ref, None)
    for _r in range(1, rounds):
        for name in MORE:
            a, ref = clip(name)
            add("informant", a, ref, None)
    audio = np.concatenate(parts)
    return audio, utts


def baseline(audio, utts, model: str, language: str) -> list[float]:
    """Raw faster-whisper with the live worker's settings (one thread) on each utterance
    alone: seconds per utterance."""
    from fieldkit.transcription.engine import load_model, transcribe_array
    from fieldkit.transcription.settings import resolve_settings

    st = resolve_settings(model=model, language=language).for_live()
    st.threads = 1
    m = load_model(st)
    out = []
    for _who, a, b, _ref, _q in utts:
        t = time.perf_counter()
        list(transcribe_array(st, audio[int(a * SR): int(b * SR)], model=m))
        out.append(time.perf_counter() - t)
    return out


def setup_project(home: Path, model: str, language: str):
    from fieldkit.instruments.guides.store import import_guide
    from fieldkit.people.informants import add_informant
    from fieldkit.projects import Workspace
    from fieldkit.sessions.consent import record_session_consent
    from fieldkit.sessions.plan import SessionPlan, save_session, setup_choices
    from fieldkit.store.models import Project, Researcher

    ws = Workspace(home).ensure()
    with ws.create("Lag study", language=language) as h:
        with h.db.transaction() as s:
            s.add(Researcher(project_id=h.project_id, name="Ada Lead", initials="AL"))
            s.add(Researcher(project_id=h.project_id, name="Ola Observer", initials="OO"))
            s.get(Project, h.project_id).transcription = {"model": model}
        import_guide(h.db, h.project_id, GUIDE)
        add_informant(h, "I01", role="professional", info_letter_sent_on=date(2026, 1, 5),
                      written_consent_on=date(2026, 1, 9))
        c = setup_choices(h)
        sid = save_session(h, SessionPlan("Lag interview", guide_version_id=c.guides[0].version_id,
                                          lead_id=c.researchers[0].id, observer_id=c.researchers[1].id,
                                          informants=["I01"]))
        record_session_consent(h, sid, "I01", True)
        slug = h.project().slug
    return ws, slug, sid


def offset_in_recording(handle, session_id, played) -> int:
    """Where (ms on the session clock) the played file begins in the recording: the peak
    of the cross-correlation of its first 30 s with the recording's first minutes."""
    import numpy as np

    from fieldkit.recording.audio import load_audio

    rec = load_audio(handle, session_id, 0, None)
    probe = played[: 30 * SR]
    hay = rec[: len(probe) + 120 * SR]
    n = 1 << int(np.ceil(np.log2(len(hay) + len(probe))))
    corr = np.fft.irfft(np.fft.rfft(hay, n) * np.conj(np.fft.rfft(probe, n)), n)[: len(hay)]
    return int(np.argmax(corr)) * 1000 // SR


def epoch(dt) -> float:
    return (dt if dt.tzinfo else dt.replace(tzinfo=timezone.utc)).timestamp()


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--rounds", type=int, default=2, help="1: the interview with questions; more: the informant "
                                                          "goes on talking")
    ap.add_argument("--model", default="base")
    ap.add_argument("--gap", type=float, default=1.5, help="seconds of silence between utterances")
    ap.add_argument("--grace", type=float, default=60, help="seconds to keep recording after the audio ends, "
                                                             "waiting for the last utterance")
    ap.add_argument("--no-baseline", action="store_true")
    ap.add_argument("--dump", type=Path, help="write the raw timings here (JSON)")
    args = ap.parse_args()
    if shutil.which("tmux") is None or not HAVE_TTS:
        sys.exit("tmux, espeak-ng and sox are needed (scripts/test installs them)")
    problem = audio_env.start()
    if problem:
        sys.exit(problem)
    import soundfile as sf
    from sqlmodel import select

    from fieldkit.instruments.guides.coverage import session_guide
    from fieldkit.store.models import Event, EventKind, Recording, TranscriptionRun, TranscriptSegment

    load_before = os.getloadavg()
    with tempfile.TemporaryDirectory() as tmp:
        tmp = Path(tmp)
        audio, utts = build(tmp, args.rounds, args.gap)
        wav = tmp / "interview.wav"
        sf.write(wav, audio, SR)
        base = [] if args.no_baseline else baseline(audio, utts, args.model, "en")
        ws, slug, sid = setup_project(tmp / "home", args.model, "en")
        env = {"FIELDKIT_HOME": str(tmp / "home"), "FIELDKIT_DEVICE": audio_env.DEVICE, "TERM": "xterm-256color",
               "HOME": os.environ.get("HOME", "/root"), "PYTHONPATH": os.environ.get("PYTHONPATH", ""),
               **audio_env.client_env()}
        tmux = Tmux(f"fieldkit-lag-{os.getpid()}", {k: v for k, v in env.items() if v})
        try:
            tmux.start("lead", f"{FIELDKIT} --project {slug}")
            tmux.run("resize-window", "-t", "fk:lead", "-x", "120", "-y", "40")
            tmux.wait_for("lead", "Lag interview", timeout=60)
            for _try in range(20):   # under load a key can come before the list has focus
                if "Start interview" in tmux.screen("lead"):
                    break
                tmux.keys("lead", "Enter")
                time.sleep(3)
            tmux.wait_for("lead", "Start interview", timeout=60)
            tmux.wait_for("lead", "I01", timeout=60)
            tmux.keys("lead", "C-r")
            tmux.wait_for("lead", "● REC", timeout=60)
            tmux.start("observer", f"{FIELDKIT} observe --project {slug}")
            tmux.wait_for("observer", "Follow lead", timeout=60)
            with ws.open(slug) as h:
                t0 = time.monotonic()
                while True:   # the live worker has loaded its model
                    with h.db.session() as s:
                        if s.exec(select(TranscriptionRun).where(TranscriptionRun.mode == "live")).first():
                            break
                    if time.monotonic() - t0 > 120:
                        sys.exit("the live transcriber did not start:\n" + tmux.screen("lead"))
                    time.sleep(0.2)
                started = time.monotonic() - t0
                played_at = time.time()
                player = audio_env.play(wav)
                loads = []
                while player.poll() is None:
                    loads.append(os.getloadavg()[0])
                    time.sleep(5)
                end_wall = played_at + len(audio) / SR
                # keep recording until every utterance is in (or the grace runs out)
                with h.db.session() as s:
                    rec = s.exec(select(Recording).where(Recording.session_id == sid)).one()
                    clock = (rec.state.value, rec.clock_ms, rec.clock_wall)
                    # the recorder's clock counts the samples it received: behind the wall
                    # clock, audio was lost on the way (the virtual microphone under load)
                    behind = epoch(rec.clock_wall) - epoch(rec.started_at) - rec.clock_ms / 1000

                anchor = epoch(clock[2]) - clock[1] / 1000     # the wall time of position 0

                def wall_of(ms: float) -> float:
                    """When the recorder's clock passed position ``ms``."""
                    return anchor + ms / 1000

                # until aligned (after stop), assume the file starts where it was played
                last_end = int((played_at - anchor + utts[-1][2]) * 1000)
                while time.time() < end_wall + args.grace:
                    with h.db.session() as s:
                        if s.exec(select(TranscriptSegment).where(TranscriptSegment.session_id == sid,
                                                                  TranscriptSegment.end_ms >= last_end - 1500)).first():
                            break
                    time.sleep(0.5)
                stopped_at = time.time()
                tmux.keys("lead", "q")
                tmux.wait_for("lead", "Stop the recording", timeout=30)
                tmux.keys("lead", "y")
                tmux.wait_for("lead", "First impressions", timeout=60)
                t1 = time.monotonic()
                while not any(w in tmux.screen("lead") for w in ("Live transcript: complete", "unfinished")):
                    if time.monotonic() - t1 > 300:
                        break
                    time.sleep(1)
                tail_after_stop = time.monotonic() - t1
                tail_done = "Live transcript: complete" in tmux.screen("lead")
                with h.db.session() as s:
                    rec = s.exec(select(Recording).where(Recording.session_id == sid)).one()
                    overflows = rec.info.get("overflows")
                    segs = s.exec(select(TranscriptSegment).where(TranscriptSegment.session_id == sid)
                                  .order_by(TranscriptSegment.start_ms)).all()
                    segs = [(g.start_ms, g.end_ms, g.verbatim, epoch(g.created_at)) for g in segs]
                    sugg = s.exec(select(Event).where(Event.session_id == sid, Event.kind == EventKind.suggest,
                                                      Event.code == "suggested")).all()
                    sugg = [(e.question_id, e.position_ms, epoch(e.created_at)) for e in sugg]
                guide = session_guide(h.db, sid)
                offset = offset_in_recording(h, sid, audio)
                qids = [q.id for _t, q in guide.iter_questions()]
            tmux.keys("lead", "Escape")
            tmux.keys("lead", "C-q")
            tmux.keys("observer", "C-q")
        finally:
            tmux.kill()
    load_after = os.getloadavg()

    if args.dump:
        import json

        args.dump.write_text(json.dumps({"played_at": played_at, "stopped_at": stopped_at, "clock": [
            clock[0], clock[1], epoch(clock[2]) if clock[2] else None], "offset": offset, "utts": [u[:3] + u[4:] for u in utts],
            "segs": segs, "sugg": sugg, "qids": qids}, indent=1))
    lags, missing = [], []
    for who, a, b, ref, _q in utts:
        end = offset + b * 1000
        hits = [t for (s0, s1, _txt, t) in segs if s0 < end and s1 >= end - 1500]
        if hits and min(hits) <= stopped_at:
            lags.append(min(hits) - wall_of(end))
        else:
            lags.append(None)
            missing.append(f"{who} {a:.0f}-{b:.0f} s")
    real = [lag for lag, u in zip(lags, utts) if u[0] == "informant" and lag is not None]
    per = "  ".join("-" if lag is None else f"{lag:.1f}" for lag in lags)
    lags = [lag for lag in lags if lag is not None]
    print(f"live transcript lag ({args.model}; {len(audio) / SR:.0f} s of audio, {len(utts)} utterances; "
          f"the lead's app at 120x40 and the observer's open)")
    print(f"  live worker ready {started:.1f} s after recording started (model load)")
    print(f"  the virtual microphone's delay (played -> on the recorder's clock): "
          f"{wall_of(offset) - played_at:.1f} s (left out of the figures below)")
    print(f"  utterance end -> its text stored: {figures(lags)}")
    print(f"    each, in order: {per}")
    print(f"    real-speech answers only: {figures(real)}")
    if missing:
        print(f"  not stored before stop: {', '.join(missing)}")
    print(f"  recorder overflows: {overflows}; the recorder's clock {behind:.1f} s behind the wall clock"
          + (" (AUDIO LOST on the way from the virtual microphone: figures not valid)" if behind > 3 else ""))
    print(f"  after stop: the transcript {'complete' if tail_done else 'NOT complete (the debrief gave up)'} "
          f"{tail_after_stop:.0f} s later")
    if base:
        print(f"  baseline, raw faster-whisper (live settings, 1 thread) per utterance alone: {figures(base)}")
    ref = normalise(" ".join(u[3] for u in utts))
    hyp = normalise(" ".join(x[2] for x in segs))
    try:
        import jiwer

        print(f"  live transcript WER against the references: {jiwer.wer(ref, hyp):.2f}")
    except ImportError:
        pass
    delays, asked = [], {}
    for who, a, b, _ref, q in utts:
        if q is not None:
            asked[qids[q]] = wall_of(offset + b * 1000)
    for qid, pos, made in sugg:
        if qid in asked:
            delays.append(made - asked[qid])
    wrong = sorted(q for q, _p, _m in sugg if q not in asked)
    print(f"guide suggestions while recording: {len(set(q for q, *_x in sugg) & set(asked))} of {len(asked)} "
          f"questions asked suggested; wrong: {wrong or 'none'}")
    print(f"  end of the question's turn -> suggestion stored: {figures(delays)}")
    print(f"load average: before {load_before[0]:.2f}, while playing {min(loads, default=0):.2f}-"
          f"{max(loads, default=0):.2f}, after {load_after[0]:.2f} (2 cores)")


if __name__ == "__main__":
    main()
