"""Speaker attribution of a session's transcript: every segment gets a voice (S1, S2 ...),
a segment is split where the voice changes inside it (by its word timestamps), and the
voices are mapped to the session's people where the evidence allows:

- segments a researcher assigned by hand (``speaker_manual``) are never changed, and a
  voice whose hand-assigned segments mostly belong to one person is that person;
- the lead researcher is the voice whose turns match the guide's questions and probes;
- when one voice and one person are left over, they go together.

Nothing is written unless the attribution succeeds, in one transaction."""

from __future__ import annotations

import re
import uuid
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

import numpy as np

from fieldkit.speakers.diarize import Diarization, SpeakerError
from fieldkit.i18n import N_, Said, _

if TYPE_CHECKING:
    from fieldkit.projects import ProjectHandle

SR = 16000
MIN_SPLIT_MS = 700        # a voice change inside a segment must last this long to split it
MIN_SPLIT_WORDS = 2
MIN_EDGE_MS = 250         # at a segment's start or end a single word can be a turn ("Yes.")


@dataclass
class Person:
    label: str                               # what the transcript shows: informant code or initials
    informant_id: uuid.UUID | None = None
    researcher_id: uuid.UUID | None = None
    role: str = ""                           # lead / observer / participant


@dataclass
class SpeakerResult:
    count: int
    method: str                              # voice / channel
    segments: int                            # segments after splitting
    split: int                               # segments that were split
    manual_kept: int
    mapping: dict[str, str] = field(default_factory=dict)    # "S1" -> "AL" (or "S1" if unknown)
    evidence: dict[str, str] = field(default_factory=dict)   # "S1" -> "guide questions" ...
    talk_ms: dict[str, int] = field(default_factory=dict)
    estimated: bool = False                  # the count came from the audio
    listed: int = 0                          # people listed in the session


#: kinds where someone asks the questions even when the session lists no researcher
#: (an imported phone or dictaphone interview with only the informant named)
INTERVIEW_KINDS = ("individual", "pair", "group", "focus_group", "telephone")


def most_voices(people: list[Person], kind: str) -> int:
    """The most voices a session can hold: its listed people (participants, lead, observer),
    and in an interview at least one more than its participants (the interviewer, listed
    or not). Nobody listed: up to nine. The audio decides how many of them spoke."""
    if not people:
        return 9
    participants = sum(p.role == "participant" for p in people)
    most = len(people)
    if kind in INTERVIEW_KINDS and not any(p.role == "lead" for p in people):
        most = max(most, participants + 1)
    return most


def roster(handle: "ProjectHandle", session_id: uuid.UUID) -> list[Person]:
    """The people of a session who may speak: its participants, then the lead and the observer."""
    from sqlmodel import select

    from fieldkit.store.models import Informant, Researcher, Session, SessionParticipant

    with handle.db.session() as s:
        sess = s.get(Session, session_id)
        if sess is None:
            raise SpeakerError(_("No session {session_id} in this project.").format(session_id=session_id))
        people = [Person(part.speaker_label or inf.code, informant_id=inf.id, role="participant")
                  for part, inf in s.exec(select(SessionParticipant, Informant).join(Informant)
                                          .where(SessionParticipant.session_id == session_id)
                                          .order_by(Informant.code))]
        for rid, role in ((sess.lead_id, "lead"), (sess.observer_id, "observer")):
            if rid is not None:
                r = s.get(Researcher, rid)
                if r is not None:
                    people.append(Person(r.initials, researcher_id=r.id, role=role))
        return people


# --------------------------------------------------------------------------- guide matching

def _tokens(text: str) -> list[str]:
    return re.findall(r"\w+", text.casefold())


def guide_phrases(handle: "ProjectHandle", session_id: uuid.UUID) -> list[list[str]]:
    """The token lists of the session guide's questions and probes."""
    from fieldkit.instruments.guides.model import Guide
    from fieldkit.store.models import GuideVersion, Session

    with handle.db.session() as s:
        sess = s.get(Session, session_id)
        if sess is None or sess.guide_version_id is None:
            return []
        guide = Guide.from_outline(s.get(GuideVersion, sess.guide_version_id).outline)
    return [t for _id, kind, text, _p in guide.iter_items() if kind in ("question", "probe")
            if len(t := _tokens(text)) >= 2]


def guide_match(text: str, phrases: list[list[str]]) -> float:
    """How much of the best-matching guide question or probe this text says (0..1): the
    share of the phrase's word pairs found in the text, so rewording and extra words are
    tolerated but a few shared common words are not enough."""
    toks = _tokens(text)
    if len(toks) < 2 or not phrases:
        return 0.0
    pairs = set(zip(toks, toks[1:]))
    words = set(toks)
    best = 0.0
    for p in phrases:
        pp = list(zip(p, p[1:]))
        score = 0.5 * sum(pr in pairs for pr in pp) / len(pp) + 0.5 * sum(w in words for w in p) / len(p)
        best = max(best, score)
    return best


# --------------------------------------------------------------------------- audio

def load_channels(handle: "ProjectHandle", session_id: uuid.UUID) -> np.ndarray:
    """The session's audio as (samples, 2) at 16 kHz from two-channel recordings: an
    imported recording's original file, or a two-channel recording of fieldkit's own."""
    import io

    from sqlmodel import select

    from fieldkit.recording.audio import _raw_bytes, available_ms
    from fieldkit.store.models import Recording, RecordingFile

    total = available_ms(handle, session_id)
    out = np.zeros((total * SR // 1000, 2), dtype=np.float32)
    found = False
    with handle.db.session() as s:
        rows = s.exec(select(Recording, RecordingFile).join(RecordingFile)
                      .where(Recording.session_id == session_id).order_by(RecordingFile.offset_ms)).all()
    for rec, rf in rows:
        path = handle.folder / (rec.original_path or rf.path)
        if rec.original_path and rf.seq == 0:
            import av

            try:
                with av.open(io.BytesIO(_raw_bytes(path, handle.key))) as container:
                    stream = next(st for st in container.streams if st.type == "audio")
                    if stream.codec_context.channels != 2:
                        continue
                    resampler = av.AudioResampler(format="flt", layout="stereo", rate=SR)
                    chunks = [f.to_ndarray().reshape(-1, 2) for frame in container.decode(stream)
                              for f in resampler.resample(frame)]
                    chunks += [f.to_ndarray().reshape(-1, 2) for f in resampler.resample(None)]
            except Exception as exc:  # noqa: BLE001 - PyAV raises many error types
                raise SpeakerError(_("Cannot read the original recording {path}: "
                                       "{exc}").format(path=path, exc=exc)) from None
            x = np.concatenate(chunks) if chunks else np.zeros((0, 2), np.float32)
        elif rec.channels == 2 and not rec.original_path:
            import soundfile as sf

            from fieldkit.privacy.crypto import open_audio

            if path.suffix == ".pcm":
                raw = _raw_bytes(path, handle.key)
                x = np.frombuffer(raw[: len(raw) - len(raw) % 4], dtype="<i2").reshape(-1, 2) / 32768.0
            else:
                x, _sr = sf.read(open_audio(path, handle.key), dtype="float32", always_2d=True)
            if rec.sample_rate != SR:
                from fieldkit.recording.audio import resample

                x = np.stack([resample(x[:, c].astype(np.float32), rec.sample_rate, SR) for c in range(2)], 1)
        else:
            continue
        found = True
        a = rf.offset_ms * SR // 1000
        n = max(0, min(len(x), len(out) - a))
        out[a:a + n] = x[:n]
    if not found:
        raise SpeakerError(_("--channels 2: this session has no two-channel "
                               "recording."),
                           hint=_("Import the recorder's original two-channel file, "
                                    "or leave out --channels."))
    return out


# --------------------------------------------------------------------------- attribution

def _word_speakers(words: list[dict], d: Diarization) -> list[int | None]:
    labs = [d.speaker_at(int(w["s"]), max(int(w["e"]), int(w["s"]) + 10)) for w in words]
    # a short run of other-voice words inside a segment is more likely an error than a turn
    i = 0
    runs = []
    while i < len(labs):
        j = i
        while j < len(labs) and labs[j] == labs[i]:
            j += 1
        runs.append([i, j, labs[i]])
        i = j
    changed = True
    while changed and len(runs) > 1:
        changed = False
        for k, (a, b, lab) in enumerate(runs):
            dur = int(words[b - 1]["e"]) - int(words[a]["s"])
            edge = k == 0 or k == len(runs) - 1
            short = dur < MIN_EDGE_MS if edge else (b - a < MIN_SPLIT_WORDS or dur < MIN_SPLIT_MS)
            if (short or lab is None) and len(runs) > 1:
                nb = runs[k - 1] if k > 0 else runs[k + 1]
                if k > 0 and k + 1 < len(runs):     # join the longer neighbour
                    left, right = runs[k - 1], runs[k + 1]
                    nb = left if (left[1] - left[0]) >= (right[1] - right[0]) else right
                nb[0], nb[1] = min(nb[0], a), max(nb[1], b)
                del runs[k]
                # merge neighbours that now have the same voice
                merged = [runs[0]]
                for r in runs[1:]:
                    if r[2] == merged[-1][2]:
                        merged[-1][1] = r[1]
                    else:
                        merged.append(r)
                runs = merged
                changed = True
                break
    out: list[int | None] = [None] * len(labs)
    for a, b, lab in runs:
        for i in range(a, b):
            out[i] = lab
    return out


def attribute(handle: "ProjectHandle", session_id: uuid.UUID, count: int | None = None,
              channels: int = 1, on_progress=None, heard: dict | None = None) -> SpeakerResult:
    """Label every transcript segment of a session with a speaker (see the module doc).
    ``on_progress(done_ms, total_ms)`` follows the audio as its voices are taken. ``heard``:
    the voice activity of the windows the transcription just read (next_window)."""
    from sqlmodel import select

    from fieldkit.recording.audio import _spans as file_spans
    from fieldkit.recording.audio import available_ms, load_audio
    from fieldkit.speakers.diarize import channel_separation, diarize, diarize_channels, diarize_stream
    from fieldkit.store.models import Session, TranscriptSegment

    with handle.db.session() as s:
        sess = s.get(Session, session_id)
        if sess is None:
            raise SpeakerError(_("No session {session_id} in this project.").format(session_id=session_id))
        title = sess.title
        kind = sess.kind.value
        n_segs = len(s.exec(select(TranscriptSegment.id).where(TranscriptSegment.session_id == session_id)).all())
    if n_segs == 0:
        raise SpeakerError(_("The session {title!r} has no transcript yet.").format(title=title),
                           hint=_("Transcribe it first: fieldkit transcribe {value} "
                                    "-p ...").format(value=session_id.hex[:8]))
    people = roster(handle, session_id)
    most = None
    if count is None:
        most = most_voices(people, kind)
    if count is not None and count < 1:
        raise SpeakerError(_("--count {count}: a conversation has at least one "
                               "speaker.").format(count=count))
    if channels not in (1, 2):
        raise SpeakerError(_("--channels {channels}: give 1 (voices) or 2 (one "
                               "microphone per side).").format(channels=channels))
    if channels == 2:
        count = 2 if count is None else count
        if count != 2:
            raise SpeakerError(_("--channels 2 tells two speakers apart, not {count}.").format(count=count),
                               hint=_("Leave out --channels for a group, or give "
                                        "--count 2."))
        stereo = load_channels(handle, session_id)
        if channel_separation(stereo) < 3.0:
            d = diarize(stereo.mean(axis=1), 2)      # the channels hardly differ: the voices decide
        else:
            d = diarize_channels(stereo)
    else:
        # window by window (bounded memory); with no --count the voices are counted from the
        # audio, at most the people who could have spoken
        files = file_spans(handle, session_id)
        d = diarize_stream(lambda a, b: load_audio(handle, session_id, a, b, sr=SR, spans=files),
                           available_ms(handle, session_id), count, on_progress=on_progress, most=most,
                           heard=heard)

    # voices numbered in the order they first speak
    first: dict[int, int] = {}
    for i, lab in enumerate(d.labels):
        if lab >= 0 and int(lab) not in first:
            first[int(lab)] = i
    order = {lab: n for n, lab in enumerate(sorted(first, key=first.get))}
    name = {lab: f"S{order.get(lab, lab) + 1}" for lab in range(d.count)}
    phrases = guide_phrases(handle, session_id)

    with handle.db.transaction() as s:
        segs = s.exec(select(TranscriptSegment).where(TranscriptSegment.session_id == session_id)
                      .order_by(TranscriptSegment.start_ms)).all()
        if not segs:
            raise SpeakerError(_("The session {title!r} has no transcript yet.").format(title=title))
        pieces: list[tuple[TranscriptSegment, int | None]] = []
        split = added = 0
        talk_manual: dict[int, int] = {}           # what the voices say in hand-assigned segments
        manual = [g for g in segs if g.speaker_manual]
        for g in segs:
            if g.speaker_manual:
                lab = d.speaker_at(g.start_ms, g.end_ms) if d.count else None
                g.speaker_auto = name.get(lab, "")
                if lab is not None:
                    talk_manual[lab] = talk_manual.get(lab, 0) + g.end_ms - g.start_ms
                s.add(g)
                continue
            words = list(g.words or [])
            if not words or g.edited is not None:
                pieces.append((g, d.speaker_at(g.start_ms, g.end_ms)))
                continue
            labs = _word_speakers(words, d)
            cuts = [i for i in range(1, len(words)) if labs[i] != labs[i - 1]]
            if not cuts:
                pieces.append((g, labs[0]))
                continue
            split += 1
            bounds = [0, *cuts, len(words)]
            end_ms = g.end_ms
            for k in range(len(bounds) - 1):
                part = words[bounds[k]:bounds[k + 1]]
                text = "".join(w["w"] for w in part).strip()
                start = g.start_ms if k == 0 else int(part[0]["s"])
                end = end_ms if k == len(bounds) - 2 else int(words[bounds[k + 1]]["s"])
                if k == 0:
                    g.end_ms, g.verbatim, g.words = end, text, part
                    pieces.append((g, labs[bounds[k]]))
                else:
                    new = TranscriptSegment(
                        session_id=g.session_id, run_id=g.run_id, start_ms=start, end_ms=end, verbatim=text,
                        words=part, language=g.language, avg_logprob=g.avg_logprob,
                        no_speech_prob=g.no_speech_prob)
                    pieces.append((new, labs[bounds[k]]))
                    added += 1

        # who is who
        mapping: dict[int, Person] = {}
        evidence: dict[int, str] = {}
        by_person: dict[tuple, Person] = {(p.informant_id, p.researcher_id): p for p in people}
        for lab in range(d.count):                       # hand assignments carry over
            votes: dict[tuple, int] = {}
            for g in manual:
                n = int(d.votes(g.start_ms, g.end_ms)[lab]) if d.count else 0
                key = (g.speaker_informant_id, g.speaker_researcher_id, g.speaker_label)
                votes[key] = votes.get(key, 0) + n
            total = sum(votes.values())
            if total:
                key, n = max(votes.items(), key=lambda kv: kv[1])
                if n > 0.5 * total and n >= 100:          # at least a second of hand-assigned speech
                    mapping[lab] = by_person.get(key[:2]) or Person(key[2], key[0], key[1])
                    evidence[lab] = Said("assigned", N_("your assignments"))
        talk = {lab: talk_manual.get(lab, 0) for lab in range(d.count)}
        guide_score = {lab: 0.0 for lab in range(d.count)}
        for g, lab in pieces:
            if lab is None:
                continue
            talk[lab] += g.end_ms - g.start_ms
            m = guide_match(g.text, phrases)
            if m >= 0.5:
                guide_score[lab] += m
        lead = next((p for p in people if p.role == "lead"), None)
        if lead is not None and lead not in mapping.values() and d.count > 1:
            ranked = sorted((lab for lab in guide_score if lab not in mapping), key=lambda x: -guide_score[x])
            if ranked and guide_score[ranked[0]] >= 1.0 and (
                    len(ranked) == 1 or guide_score[ranked[0]] >= 2 * guide_score[ranked[1]]):
                mapping[ranked[0]] = lead
                evidence[ranked[0]] = Said("asks_guide", N_("asks the guide's questions"))
        left_labs = [lab for lab in range(d.count) if lab not in mapping and talk[lab] > 0]
        left_people = [p for p in people if p not in mapping.values()]
        if len(left_labs) < len(left_people):      # the observer is silent unless heard
            left_people = [p for p in left_people if p.role != "observer"]
        if len(left_labs) == 1 and len(left_people) == 1 and (mapping or len(people) == 1):
            mapping[left_labs[0]] = left_people[0]
            evidence[left_labs[0]] = Said("only_left", N_("the only one left"))

        for g, lab in pieces:
            g.speaker_auto = name[lab] if lab is not None else ""
            person = mapping.get(lab) if lab is not None else None
            g.speaker_label = person.label if person else g.speaker_auto
            g.speaker_informant_id = person.informant_id if person else None
            g.speaker_researcher_id = person.researcher_id if person else None
            s.add(g)
        n_after = len(segs) + added
    result = SpeakerResult(count=d.count, method=d.method, segments=n_after, split=split, manual_kept=len(manual),
                           estimated=d.estimated, listed=len(people))
    for lab in sorted(range(d.count), key=lambda x: order.get(x, x)):
        result.mapping[name[lab]] = mapping[lab].label if lab in mapping else name[lab]
        if lab in evidence:
            result.evidence[name[lab]] = evidence[lab]
        result.talk_ms[name[lab]] = talk[lab]
    return result


def after_transcription(handle: "ProjectHandle", session_id: uuid.UUID,
                        on_progress=None, heard: dict | None = None) -> SpeakerResult | None:
    """Run by the transcription service when a transcript is complete: attribution with
    the session's roster, if it has one. A recording it cannot attribute (too short, too
    quiet, fewer voices than people) keeps its transcript as it is; None then."""
    import logging

    if not roster(handle, session_id):
        return None
    try:
        return attribute(handle, session_id, on_progress=on_progress, heard=heard)
    except SpeakerError as exc:
        logging.getLogger(__name__).info("speakers not attributed: %s", exc)
    except Exception:
        logging.getLogger(__name__).exception("speaker attribution failed")
    return None


def assign_voice(handle: "ProjectHandle", session_id: uuid.UUID, voice: str, person: Person) -> int:
    """"S2 is L03": every segment of the voice gets the person, as a researcher's choice that
    later runs keep. Returns how many segments changed."""
    from sqlmodel import select

    from fieldkit.store.models import TranscriptSegment

    with handle.db.transaction() as s:
        segs = s.exec(select(TranscriptSegment).where(TranscriptSegment.session_id == session_id,
                                                      TranscriptSegment.speaker_auto == voice)).all()
        if not segs:
            raise SpeakerError(_("No segment of this session is attributed to "
                                   "{voice}.").format(voice=voice),
                               hint=_("Run `fieldkit speakers` first, or pick a "
                                        "voice the transcript shows."))
        for g in segs:
            g.speaker_label = person.label
            g.speaker_informant_id = person.informant_id
            g.speaker_researcher_id = person.researcher_id
            g.speaker_manual = True
            s.add(g)
        return len(segs)
