"""Project builders the tests share: a realistic exported project (``build_project``, also
used by the export and sync benchmarks), two laptops of a team (``laptop``), the interview
screens' planned project (``interview_project``) and small readers of what was stored."""

from __future__ import annotations

import uuid
import zipfile
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path

import numpy as np
import soundfile as sf

REPO = Path(__file__).resolve().parents[2]


#: the exported project's guide (as stored, parsed)
GUIDE = {
    "title": "Samarbeid i tjenestene", "language": "no", "informant_types": ["leader", "nurse"],
    "header": ["Dato", "Sted"], "intro": "",
    "themes": [
        {"id": "t-bakgrunn", "title": "Bakgrunn og rolle", "minutes": 10, "open": False, "instructions": [],
         "questions": [
             {"id": "q-rolle", "text": "Kan du fortelle om rollen din?", "instructions": [], "examples": [],
              "only_for": [], "probes": [{"id": "p-lenge", "text": "Hvor lenge har du jobbet der?"}]},
             {"id": "q-team", "text": "Hvem jobber du tettest med?", "instructions": [], "examples": [],
              "only_for": [], "probes": []},
         ]},
        {"id": "t-samarbeid", "title": "Samarbeid på tvers", "minutes": 20, "open": False, "instructions": [],
         "questions": [
             {"id": "q-moter", "text": "Hvordan fungerer samarbeidsmøtene?", "instructions": [],
              "examples": [], "only_for": [], "probes": []},
             {"id": "q-hinder", "text": "Hva står i veien for godt samarbeid?", "instructions": [],
              "examples": [], "only_for": [], "probes": []},
         ]},
    ],
    "retired": [],
}


#: every name in the registry; none may appear in a pseudonymised export
REGISTRY_NAMES = ["Kari", "Nordmann", "Bjørn", "Åsheim", "Ståle", "Ødegård", "Ingrid", "Solberg",
                  "Tor", "Bakken", "Vestby", "Tromsø", "Fjellbygda", "Solstrand"]


@dataclass
class Built:
    handle: object
    sessions: list[uuid.UUID] = field(default_factory=list)
    segments: dict[uuid.UUID, list[tuple[int, int, str]]] = field(default_factory=dict)
    note_id: uuid.UUID | None = None
    point_tag: uuid.UUID | None = None
    state_tag: uuid.UUID | None = None


def build_project(handle, *, extra_sessions: int = 0, segs: int = 150, events: int = 40) -> Built:  # noqa: ANN001
    """A project with three hand-made sessions (and ``extra_sessions`` generated ones)."""
    from fieldkit.store.models import (
        Event, EventKind, Guide, GuideVersion, Informant, Project, Researcher, Session, SessionKind,
        SessionParticipant, TagCode, TagMode, TagScheme, TranscriptSegment,
    )

    pid = handle.project_id
    b = Built(handle)
    with handle.db.transaction() as s:
        project = s.get(Project, pid)
        project.redaction_terms = ["Fjellbygda", "Solstrand sykehjem"]
        s.add(project)
        ing = Researcher(project_id=pid, name="Ingrid Solberg", initials="IS")
        tor = Researcher(project_id=pid, name="Tor Bakken", initials="TB")
        kari = Informant(project_id=pid, code="L01", name="Kari Nordmann", role="leader",
                         organisation="NAV office", site="Vestby")
        bjorn = Informant(project_id=pid, code="L02", name="Bjørn Åsheim", role="nurse", organisation="DPS")
        stale = Informant(project_id=pid, code="L03", name="Ståle Ødegård", role="nurse", organisation="DPS")
        guide = Guide(project_id=pid, slug="samarbeid", title="Samarbeid i tjenestene")
        s.add_all([ing, tor, kari, bjorn, stale, guide])
        s.flush()
        gv = GuideVersion(guide_id=guide.id, number=1, content_hash="x" * 64, source_text="...", outline=GUIDE)
        scheme = TagScheme(project_id=pid, name="Interview")
        s.add_all([gv, scheme])
        s.flush()
        quote = TagCode(scheme_id=scheme.id, code="key_quote", label="Key quote", key="k", colour="#e0a800")
        digr = TagCode(scheme_id=scheme.id, code="digression", label="Digression", key="d",
                       mode=TagMode.state, sort=1)
        s.add_all([quote, digr])
        s.flush()

        # session 1: Kari, individual, segments linked to informant/researcher ids
        s1 = Session(project_id=pid, title="Intervju med Kari Nordmann", kind=SessionKind.individual,
                     place="Vestby rådhus", starts_at=datetime(2026, 3, 4, 9, 0, tzinfo=timezone.utc),
                     guide_version_id=gv.id, tag_scheme_id=scheme.id, lead_id=ing.id, observer_id=tor.id,
                     header={"Sted": "Vestby"})
        s.add(s1)
        s.flush()
        s.add(SessionParticipant(session_id=s1.id, informant_id=kari.id, speaker_label="I1"))
        lines = [
            (1234, 5678, ing, "Velkommen, Kari. Kan du fortelle om rollen din?"),
            (5678, 15001, kari, "Ja, jeg er leder her. Karis kontor ligger i Vestby, ved siden av Bjørn."),
            (15001, 20999, ing, "Hvem jobber du tettest med?"),
            (21000, 33333, kari, "Mest med Bjørn Åsheim og Ståle på DPS i Tromsø. Ingrid vet det."),
            (33333, 40007, ing, "Og hvordan fungerer møtene?"),
            (40007, 55555, kari, "Møtene i Fjellbygda er gode, men Solstrand sykehjem kommer sjelden. Nordmann-saken, husker du."),
            (55555, 61000, ing, "Hva står i veien?"),
            (61000, 70123, kari, "Tid. Og KARI'S kalender er full. Det sa Tor også."),
        ]
        segs1 = []
        for a, e, who, text in lines:
            seg = TranscriptSegment(session_id=s1.id, start_ms=a, end_ms=e, verbatim=text,
                                    edited=text.replace("Ja, ", "") if who is kari else None,
                                    speaker_informant_id=kari.id if who is kari else None,
                                    speaker_researcher_id=ing.id if who is ing else None,
                                    speaker_label="I1" if who is kari else "IS")
            s.add(seg)
            segs1.append((a, e, text))
        b.segments[s1.id] = segs1
        note = Event(session_id=s1.id, kind=EventKind.note, position_ms=25000, created_by=tor.id,
                     text="Kari ser på Ingrid før hun svarer om Ståle")
        tag = Event(session_id=s1.id, kind=EventKind.tag, position_ms=6000, created_by=tor.id,
                    tag_code_id=quote.id, code="key_quote")
        state = Event(session_id=s1.id, kind=EventKind.tag, position_ms=42000, end_ms=62000,
                      created_by=tor.id, tag_code_id=digr.id, code="digression", text="om Fjellbygda")
        s.add_all([note, tag, state])
        for pos, kind, qid, code in [(3000, "coverage", "q-rolle", "covered"),
                                     (4000, "probe", "p-lenge", ""),
                                     (18000, "coverage", "q-team", "covered"),
                                     (36000, "coverage", "q-moter", "partly"),
                                     (58000, "returned", "t-bakgrunn", ""),
                                     (60000, "coverage", "q-hinder", "skipped")]:
            s.add(Event(session_id=s1.id, kind=EventKind(kind), position_ms=pos, question_id=qid,
                        code=code, created_by=ing.id))
        s.add(Event(session_id=s1.id, kind=EventKind.note, position_ms=None, created_by=ing.id,
                    text="Etterpå: Kari ringte fra Solstrand sykehjem"))
        s.add(Event(session_id=s1.id, kind=EventKind.consent, position_ms=0, code="given",
                    informant_id=kari.id, created_by=ing.id))
        b.note_id, b.point_tag, b.state_tag = note.id, tag.id, state.id

        # session 2: focus group; speakers only by speaker_label
        s2 = Session(project_id=pid, title="Fokusgruppe DPS", kind=SessionKind.focus_group, place="Tromsø",
                     starts_at=datetime(2026, 3, 11, 12, 0, tzinfo=timezone.utc), guide_version_id=gv.id,
                     lead_id=tor.id)
        s.add(s2)
        s.flush()
        s.add(SessionParticipant(session_id=s2.id, informant_id=bjorn.id, speaker_label="I1"))
        s.add(SessionParticipant(session_id=s2.id, informant_id=stale.id, speaker_label="I2"))
        segs2 = []
        for n in range(12):
            a, e = 1000 + n * 4321, 1000 + n * 4321 + 4000 + n
            who = ("TB", "I1", "I2")[n % 3]
            text = f"Replikk {n}: Bjørns poeng om Åsheims vakter i Tromsø." if who == "I2" else f"Replikk {n} & <svar>"
            s.add(TranscriptSegment(session_id=s2.id, start_ms=a, end_ms=e, verbatim=text, speaker_label=who))
            segs2.append((a, e, text))
        b.segments[s2.id] = segs2
        s.add(Event(session_id=s2.id, kind=EventKind.coverage, position_ms=2000, question_id="q-moter",
                    code="covered", created_by=tor.id))

        # session 3: notes only, no transcript
        s3 = Session(project_id=pid, title="Observasjon Solstrand sykehjem", kind=SessionKind.notes_only,
                     starts_at=datetime(2026, 3, 12, 8, 0, tzinfo=timezone.utc), observer_id=tor.id)
        s.add(s3)
        s.flush()
        s.add(Event(session_id=s3.id, kind=EventKind.note, position_ms=None, created_by=tor.id,
                    text="Ståle Ødegård leder møtet; Bjørn kommer sent."))
        b.sessions = [s1.id, s2.id, s3.id]
    if extra_sessions:
        b.sessions += generate_sessions(handle, extra_sessions, segs=segs, events=events,
                                        guide_version_id=gv.id, codes=[quote.id, digr.id],
                                        informants=[kari.id, bjorn.id, stale.id], researchers=[ing.id, tor.id])
    return b


WORDS = ("samarbeid møte tid pasient vakt leder kontor uke avtale kommune tjeneste oppfølging "
         "behov plan ansvar melding telefon rutine").split()


def generate_sessions(handle, n: int, *, segs: int, events: int, guide_version_id, codes, informants,  # noqa: ANN001
                      researchers) -> list[uuid.UUID]:
    """``n`` sessions of realistic size, inserted in bulk (for the benchmark)."""
    import random

    from sqlalchemy import insert

    from fieldkit.store.models import Event, Session, SessionParticipant, TranscriptSegment

    rnd = random.Random(7)
    qids = [q["id"] for t in GUIDE["themes"] for q in t["questions"]]
    ids = []
    for chunk in range(0, n, 50):
        sess_rows, part_rows, seg_rows, ev_rows = [], [], [], []
        for k in range(chunk, min(n, chunk + 50)):
            sid = uuid.uuid4()
            ids.append(sid)
            inf = informants[k % len(informants)]
            sess_rows.append(dict(id=sid, project_id=handle.project_id, title=f"Intervju {k}",
                                  kind="individual", status="transcribed", place="Vestby",
                                  starts_at=datetime(2026, 4, 1, tzinfo=timezone.utc),
                                  guide_version_id=guide_version_id, lead_id=researchers[0],
                                  observer_id=researchers[1], header={}, transcription={}))
            part_rows.append(dict(id=uuid.uuid4(), session_id=sid, informant_id=inf, speaker_label="I1"))
            t = 0
            for j in range(segs):
                dur = rnd.randint(2000, 15000)
                text = " ".join(rnd.choice(WORDS) for _ in range(rnd.randint(8, 40)))
                if j % 10 == 3:
                    text += " sa Kari Nordmann om Bjørn i Tromsø."
                seg_rows.append(dict(id=uuid.uuid4(), session_id=sid, start_ms=t, end_ms=t + dur,
                                     speaker_label="I1" if j % 2 else "IS",
                                     speaker_informant_id=inf if j % 2 else None,
                                     speaker_researcher_id=None if j % 2 else researchers[0],
                                     verbatim=text, edited=None, words=[]))
                t += dur + rnd.randint(0, 800)
            for j in range(events):
                pos = rnd.randint(0, t)
                kind = ("note", "tag", "tag", "coverage")[j % 4]
                row = dict(id=uuid.uuid4(), session_id=sid, kind=kind, position_ms=pos, end_ms=None,
                           created_by=researchers[1], code="", question_id="", text="",
                           wall_time=datetime(2026, 4, 1, tzinfo=timezone.utc))
                if kind == "note":
                    row["text"] = "Kari ser bort; " + " ".join(rnd.choice(WORDS) for _ in range(10))
                elif kind == "tag":
                    row["tag_code_id"] = codes[j % 2]
                    row["code"] = ("key_quote", "digression")[j % 2]
                    if j % 2:
                        row["end_ms"] = pos + 30000
                else:
                    row["question_id"] = qids[j % len(qids)]
                    row["code"] = "covered"
                ev_rows.append(row)
        with handle.db.transaction() as s:
            now = datetime.now(timezone.utc)
            for table, rows in ((Session, sess_rows), (SessionParticipant, part_rows),
                                (TranscriptSegment, seg_rows), (Event, ev_rows)):
                for r in rows:
                    r.setdefault("created_at", now)
                    r.setdefault("updated_at", now)
                s.execute(insert(table), rows)
    return ids


def export(b: Built, fmt, tmp_path: Path, **opts):  # noqa: ANN001, ANN201
    from fieldkit.export import run_export
    from fieldkit.export.collect import ExportOptions

    out = tmp_path / f"out-{'-'.join([fmt] if isinstance(fmt, str) else fmt)}-{opts.get('mode', 'code')}"
    return run_export(b.handle, fmt, None, ExportOptions(**opts), out), out


def all_text(out: Path) -> str:
    """Every byte of every file in the export, unzipped (docx, xlsx, qdpx) and decoded."""
    chunks = []
    for p in sorted(out.rglob("*")):
        if not p.is_file():
            continue
        data = p.read_bytes()
        if zipfile.is_zipfile(p):
            with zipfile.ZipFile(p) as z:
                for name in z.namelist():
                    chunks.append(name)
                    chunks.append(z.read(name).decode("utf-8", "replace"))
        else:
            chunks.append(data.decode("utf-8-sig", "replace"))
        chunks.append(p.name)
    return "\n".join(chunks)


def add_audio(built: Built, tmp_path: Path, seconds: float = 71.0) -> Path:
    """A real FLAC recording of session 1 (a tone), stored the way the importer does."""
    import numpy as np
    import soundfile as sf

    from fieldkit.store.models import Recording, RecordingFile

    rel = Path("audio") / built.sessions[0].hex / "rec"
    folder = built.handle.folder / rel
    folder.mkdir(parents=True)
    t = np.arange(int(seconds * 44100)) / 44100
    sf.write(str(folder / "0.flac"), (0.2 * np.sin(2 * np.pi * 440 * t)).astype("float32"), 44100)
    with built.handle.db.transaction() as s:
        rec = Recording(session_id=built.sessions[0], folder=str(rel), sample_rate=44100, state="imported",
                        duration_ms=int(seconds * 1000), original_path=str(rel / "0.flac"))
        s.add(rec)
        s.flush()
        s.add(RecordingFile(recording_id=rec.id, seq=0, path=str(rel / "0.flac"), offset_ms=500,
                            duration_ms=int(seconds * 1000), complete=True))
    return folder / "0.flac"


def laptop(tmp_path: Path, name: str):
    from fieldkit.projects import Workspace

    return Workspace(tmp_path / name).ensure()


def snapshot(handle) -> dict:  # noqa: ANN001
    """Every synced record's content hash, read back with the standard library's sqlite3
    (independent of the code under test)."""
    import hashlib
    import sqlite3

    con = sqlite3.connect(handle.db.path)
    out = {}
    tables = [r[0] for r in con.execute("SELECT name FROM sqlite_master WHERE type='table'")]
    for t in tables:
        if t in {"alembic_version", "syncpeer", "syncbase", "syncconflict", "recordstate", "serveraudio"}:
            continue
        cols = [r[1] for r in con.execute(f"PRAGMA table_info({t})") if r[1] != "updated_at"]
        for row in con.execute(f"SELECT {', '.join(cols)} FROM {t}"):
            d = dict(zip(cols, row))
            out[(t, str(d["id"]))] = hashlib.sha1(repr(sorted(d.items())).encode()).hexdigest()
    con.close()
    return out


def segment(handle, seg_id):  # noqa: ANN001
    from fieldkit.store.models import TranscriptSegment

    with handle.db.session() as s:
        return s.get(TranscriptSegment, seg_id)


def edit_segment(handle, seg_id, text):  # noqa: ANN001
    from fieldkit.store.models import TranscriptSegment

    with handle.db.transaction() as s:
        seg = s.get(TranscriptSegment, seg_id)
        seg.edited = text
        s.add(seg)


def segment_ids(handle, n=3):  # noqa: ANN001
    from sqlmodel import select

    from fieldkit.store.models import TranscriptSegment

    with handle.db.session() as s:
        return [x.id for x in s.exec(select(TranscriptSegment).order_by(TranscriptSegment.id)).all()[:n]]


def add_recording(handle, seconds: float = 0.5):  # noqa: ANN001
    """A real (short) FLAC file and its Recording/RecordingFile rows."""
    import numpy as np
    import soundfile as sf

    from fieldkit.store.models import Recording, RecordingFile, RecordingState, Session

    with handle.db.transaction() as s:
        sess = Session(project_id=handle.project_id, title="Opptak")
        s.add(sess)
        s.flush()
        rec = Recording(session_id=sess.id, state=RecordingState.complete, folder=f"audio/{sess.id}")
        s.add(rec)
        s.flush()
        rel = f"audio/{sess.id}/part-001.flac"
        (handle.folder / rel).parent.mkdir(parents=True, exist_ok=True)
        tone = (np.sin(np.arange(int(16000 * seconds)) / 5) * 8000).astype("int16")
        sf.write(str(handle.folder / rel), tone, 16000)
        s.add(RecordingFile(recording_id=rec.id, seq=1, path=rel, offset_ms=0,
                            duration_ms=int(seconds * 1000), complete=True))
    return rel


def words(text: str, start: int, probs: list[float]) -> list[dict]:
    toks = text.split()
    assert len(toks) == len(probs)
    return [{"w": (" " if i else "") + t, "s": start + 400 * i, "e": start + 400 * i + 350, "p": p}
            for i, (t, p) in enumerate(zip(toks, probs))]


def encode_audio(path: Path, codec: str, data: np.ndarray, sr: int = 44100) -> Path:
    """Write a file in another codec (what a dictaphone would give us)."""
    if codec == "vorbis":  # libsndfile writes Ogg Vorbis; PyAV's wheel has no encoder
        sf.write(path, data, sr, format="OGG", subtype="VORBIS")
        return path
    import av

    with av.open(str(path), "w") as out:
        stream = out.add_stream(codec, rate=sr)
        stream.layout = "stereo"
        frame_size = 1024
        pts = 0
        for i in range(0, len(data), frame_size):
            chunk = np.ascontiguousarray(data[i:i + frame_size].T)
            fmt = "fltp"
            frame = av.AudioFrame.from_ndarray(chunk, format=fmt, layout="stereo")
            frame.sample_rate, frame.pts = sr, pts
            pts += chunk.shape[1]
            for packet in stream.encode(frame):
                out.mux(packet)
        for packet in stream.encode(None):
            out.mux(packet)
    return path


#: a small interview guide in the guide format (the guide parser and importer tests)
GUIDE_TEXT = """\
---
title: Test guide
language: no
informant types: leder, fagperson
header: Intervjuer; Sted og dato
---
> Husk samtykke.

## Bakgrunn (10 min)
> Tema-instruks.
- Hva er rollen din?
  - Hvor lenge har du hatt den?
  > Få fram nivået.
  + eksempel en
  + eksempel to
- Hvem samarbeider du med? [only: leder]

## Samarbeid
- Hvordan fungerer møtene?
  - Hvem deltar?
  - Hvor ofte?
- Hva skjer ved uenighet?

## Avslutning [open] (5 min)
- Noe mer?
"""
