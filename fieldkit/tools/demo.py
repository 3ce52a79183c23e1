"""The demo project, made on first run from the bundled sample data in data/demo.

"First run" means: the data folder has no projects and no ``.demo-created`` marker. A
researcher who deletes the demo does not get it back; ``fieldkit demo`` makes it again.
Everything in it is invented: synthetic speech, made-up people.
"""

from __future__ import annotations

import json
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING

from fieldkit.paths import bundled
from fieldkit.i18n import _

if TYPE_CHECKING:
    from fieldkit.projects import ProjectHandle, Workspace

MARKER = ".demo-created"


def _bundled_path(rel: str) -> Path:
    top, _, rest = rel.partition("/")
    return bundled(top) / rest


def ensure_demo(workspace: "Workspace") -> Path | None:
    """Create the demo project on first run; returns its folder if it was created."""
    workspace.ensure()
    marker = workspace.root / MARKER
    if marker.exists() or any(True for _ in workspace.project_folders()):
        return None
    folder = create_demo(workspace)
    marker.write_text("The demo project was created here once; delete this file to get it again.\n")
    return folder


def create_demo(workspace: "Workspace", name: str | None = None) -> Path:
    from fieldkit.errors import FieldkitError

    spec = json.loads((bundled("data") / "demo" / "demo.json").read_text(encoding="utf-8"))
    p = spec["project"]
    handle = workspace.create(
        name or p["name"], language=p["language"], sikt_reference=p["sikt_reference"],
        description=p["description"], vocabulary=p["vocabulary"], redaction_terms=p["redaction_terms"],
        is_demo=True,
    )
    try:
        _fill(handle, spec)
    except BaseException as exc:
        import shutil

        handle.close()
        shutil.rmtree(handle.folder, ignore_errors=True)  # never leave half a demo
        if isinstance(exc, FieldkitError):
            raise
        raise FieldkitError(_("The demo project could not be created: {exc}").format(exc=exc)) from exc
    handle.close()
    return handle.folder


def _fill(handle: "ProjectHandle", spec: dict) -> None:
    from sqlmodel import select

    from fieldkit.instruments.guides.model import Guide
    from fieldkit.instruments.guides.store import import_guide
    from fieldkit.recording.importer import import_recording
    from fieldkit.store.models import (
        Event,
        EventKind,
        Informant,
        RecordingState,
        Researcher,
        RunStatus,
        Session,
        SessionKind,
        SessionParticipant,
        SessionStatus,
        TagCode,
        TranscriptionRun,
        TranscriptSegment,
    )
    from fieldkit.instruments.tags import install_tag_scheme

    pid = handle.project_id
    version, _ = import_guide(handle.db, pid, _bundled_path(spec["guide"]))
    guide = Guide.from_outline(version.outline)
    scheme = install_tag_scheme(handle.db, pid, _bundled_path(spec["tag_scheme"]))
    sess_spec = spec["session"]
    transcript = json.loads((bundled("data") / "demo" / "transcript.json").read_text(encoding="utf-8"))
    with handle.db.transaction() as s:
        researchers = {r["initials"]: Researcher(project_id=pid, **r) for r in spec["researchers"]}
        s.add_all(researchers.values())
        informants = {}
        for inf in spec["informants"]:
            fields = dict(inf)
            for k in ("info_letter_sent_on", "written_consent_on"):
                if fields.get(k):
                    fields[k] = datetime.fromisoformat(fields[k]).date()
            informants[inf["code"]] = Informant(project_id=pid, **fields)
        s.add_all(informants.values())
        s.flush()
        sess = Session(
            project_id=pid, title=sess_spec["title"], kind=SessionKind(sess_spec["kind"]),
            status=SessionStatus.recorded, place=sess_spec["place"],
            starts_at=datetime.fromisoformat(sess_spec["starts_at"]),
            ended_at=datetime.fromisoformat(sess_spec["ended_at"]),
            guide_version_id=version.id, tag_scheme_id=scheme.id,
            lead_id=researchers[sess_spec["lead"]].id, observer_id=researchers[sess_spec["observer"]].id,
            header=sess_spec["header"], created_by=researchers[sess_spec["lead"]].id,
        )
        s.add(sess)
        s.flush()
        for code, inf in informants.items():
            s.add(SessionParticipant(session_id=sess.id, informant_id=inf.id, speaker_label=code,
                                     recording_consent=True, recording_consent_at=sess.starts_at))
    rec = import_recording(handle, sess.id, _bundled_path(sess_spec["audio"]))
    speakers = sess_spec["speakers"]
    questions = [[q.id for q in t.questions] for t in guide.themes]
    with handle.db.transaction() as s:
        r = s.get(type(rec), rec.id)
        r.state = RecordingState.complete  # recorded in the (invented) interview, not imported
        r.info = {**r.info, "demo": True}
        codes = {c.code: c for c in s.exec(select(TagCode).where(TagCode.scheme_id == scheme.id))}
        run = TranscriptionRun(session_id=sess.id, recording_id=rec.id, status=RunStatus.done,
                               model=transcript["model"], language=transcript["language"],
                               settings={"model": transcript["model"], "language": transcript["language"]},
                               done_ms=rec.duration_ms, total_ms=rec.duration_ms)
        s.add(run)
        s.flush()
        for seg in transcript["segments"]:
            who = speakers[seg["speaker"]]
            s.add(TranscriptSegment(
                session_id=sess.id, run_id=run.id, start_ms=seg["start_ms"], end_ms=seg["end_ms"],
                verbatim=seg["text"], words=seg["words"], language=transcript["language"],
                avg_logprob=seg["avg_logprob"], no_speech_prob=seg["no_speech_prob"],
                speaker_label=who,
                speaker_researcher_id=researchers[who].id if who in researchers else None,
                speaker_informant_id=informants[who].id if who in informants else None))
        for ev in spec["events"]:
            fields = {"text": ev.get("text", "")}
            kind = EventKind(ev["kind"])
            if kind == EventKind.tag:
                tag = codes[ev["code"]]
                fields.update(code=tag.code, tag_code_id=tag.id)
            elif kind == EventKind.coverage:
                t, q = ev["question"]
                fields.update(code=ev["status"], question_id=questions[t][q])
            elif kind == EventKind.debrief:
                fields.update(code=ev["author"])
            s.add(Event(session_id=sess.id, kind=kind, position_ms=ev["at_ms"],
                        created_by=researchers[ev["author"]].id, **fields))
        sess_row = s.get(Session, sess.id)
        sess_row.status = SessionStatus.transcribed
