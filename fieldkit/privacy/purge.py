"""Withdrawal: remove everything about one informant (``fieldkit purge --informant``).

What goes, per session the informant took part in:

* a session where they were the only informant (an individual or telephone interview):
  the whole session: its audio files, transcript, notes, tags, coverage and the session
  row (its header fields describe them);
* a session with other informants (group, focus group, observed meeting): their speech
  (transcript segments spoken by them, and the same time spans of the audio overwritten
  with silence), the events attributed to them, their participation; their name is
  replaced by ``NN`` wherever the others' text still mentions it.

Then their registry entry goes, and so do copies that would still hold their words:
database backups beside the project database and earlier exports (exports can be made
again). The database is written with ``secure_delete`` on (fieldkit always sets it), then
checkpointed and VACUUMed so neither the file nor its WAL keeps the text. An AuditEntry
records counts only, never who.

Order matters for "nothing half-done": audio is changed first (each file rewritten to a
temporary file and renamed), the database second in one transaction. A purge interrupted
between the two can simply be run again.
"""

from __future__ import annotations

import os
import re
import uuid
from dataclasses import dataclass, field
from pathlib import Path

from sqlmodel import select

from fieldkit.errors import FieldkitError
from fieldkit.store.models import (
    AuditEntry,
    Event,
    Informant,
    Recording,
    RecordingFile,
    Session,
    SessionParticipant,
    TranscriptSegment,
)
from fieldkit.i18n import _


@dataclass
class SessionPurge:
    session_id: uuid.UUID
    title: str
    whole: bool                                  # the whole session goes
    segments: int = 0
    events: int = 0
    audio_files: list[Path] = field(default_factory=list)           # deleted
    silence: dict[Path, list[tuple[int, int]]] = field(default_factory=dict)  # ms spans in file
    silenced_ids: list[uuid.UUID] = field(default_factory=list)     # RecordingFile ids silenced


@dataclass
class Mention:
    """A place outside the purged material that names the withdrawn person: the purge
    leaves it for the researcher to decide (the interface words it)."""

    kind: str                     # "segment", "event" (a note, tag ...) or "header"
    session_id: uuid.UUID
    session_title: str
    record_id: uuid.UUID
    position_ms: int | None       # on the session clock (None for a header field)
    term: str                     # the name or alias found
    excerpt: str                  # the words around it


@dataclass
class PurgePlan:
    informant_id: uuid.UUID
    code: str
    names: list[str]
    sessions: list[SessionPurge] = field(default_factory=list)
    extra_files: list[Path] = field(default_factory=list)   # backups, exports, logs
    #: known aliases (the informant's attributes["aliases"] and those given to the purge)
    aliases: list[str] = field(default_factory=list)
    mentions: list[Mention] = field(default_factory=list)
    conflict_copies: int = 0                                 # conflict-list entries that go

    def describe(self) -> list[str]:
        lines = [_("Informant {code}: registry entry and consent record").format(code=self.code)]
        for sp in self.sessions:
            if sp.whole:
                lines.append(
                    _("Session {title!r}: the whole session ({segments} transcript segments, "
                      "{events} events, {files} audio files)").format(
                          title=sp.title, segments=sp.segments, events=sp.events, files=len(sp.audio_files))
                )
            else:
                spans = sum(len(v) for v in sp.silence.values())
                lines.append(
                    _("Session {title!r} (group): {segments} of their transcript segments, "
                      "{events} events attributed to them, {spans} stretches of their speech "
                      "silenced in {files} audio files").format(
                          title=sp.title, segments=sp.segments, events=sp.events, spans=spans,
                          files=len(sp.silence))
                )
        for f in self.extra_files:
            lines.append((_("File {name}: a log that may name them or quote their words") if f.parent.name == "logs"
                          else _("File {name}: a backup or export that may hold their words")).format(name=f.name))
        if self.conflict_copies:
            lines.append(_("{n} copies of their records in the conflict list").format(n=self.conflict_copies))
        return lines


def _name_parts(name: str) -> list[str]:
    parts = [name.strip()] if name.strip() else []
    parts += [p for p in re.split(r"\s+", name.strip()) if len(p) > 1]
    return sorted(set(parts), key=len, reverse=True)


def _scrub(text: str, names: list[str]) -> str:
    for n in names:
        text = re.sub(rf"(?<!\w){re.escape(n)}(?:'?s)?(?!\w)", "NN", text, flags=re.IGNORECASE)
    return text


def _aliases(attributes: dict, extra: list[str]) -> list[str]:
    raw = (attributes or {}).get("aliases") or []
    if isinstance(raw, str):
        raw = raw.split(",")
    return sorted({a.strip() for a in [*raw, *extra] if isinstance(a, str) and len(a.strip()) > 1},
                  key=len, reverse=True)


def _excerpt(text: str, start: int, end: int, room: int = 40) -> str:
    a, b = max(0, start - room), min(len(text), end + room)
    return ("…" if a else "") + text[a:b].replace("\n", " ") + ("…" if b < len(text) else "")


def find_mentions(s, terms: list[str], skip_sessions: set[uuid.UUID]) -> list[Mention]:
    """Transcript segments, notes/events and header fields of sessions outside
    ``skip_sessions`` that name one of ``terms`` (whole words, any case)."""
    if not terms:
        return []
    pat = re.compile("|".join(rf"(?<!\w){re.escape(t)}(?!\w)" for t in terms), re.IGNORECASE)
    titles = {x.id: x.title for x in s.exec(select(Session))}
    out: list[Mention] = []

    def hit(kind, sid, rid, pos, text):
        m = pat.search(text or "")
        if m and sid not in skip_sessions:
            out.append(Mention(kind, sid, titles.get(sid, ""), rid, pos, m.group(0),
                               _excerpt(text, m.start(), m.end())))

    for seg in s.exec(select(TranscriptSegment).order_by(TranscriptSegment.start_ms)):
        hit("segment", seg.session_id, seg.id, seg.start_ms, seg.text)
    for ev in s.exec(select(Event).order_by(Event.position_ms)):
        hit("event", ev.session_id, ev.id, ev.position_ms, ev.text)
    for sess in s.exec(select(Session)):
        for v in (sess.header or {}).values():
            hit("header", sess.id, sess.id, None, str(v))
    out.sort(key=lambda m: (m.session_title, m.position_ms if m.position_ms is not None else -1))
    return out


def _conflict_copies(conn, informant_id: uuid.UUID, sessions: set[uuid.UUID],
                     record_ids: set[uuid.UUID]) -> list[uuid.UUID]:
    """Conflict-list entries holding a copy of the withdrawn person's records: the
    informant row itself, anything pointing at them, anything of a session that goes
    whole, and any of ``record_ids`` (records the purge deletes)."""
    from sqlalchemy import select as core_select

    from fieldkit.store.models import SyncConflict

    sc = SyncConflict.__table__
    me, sess = str(informant_id), {str(x) for x in sessions}
    out = []
    for row in conn.execute(core_select(sc.c.id, sc.c.record_id, sc.c.kept, sc.c.other)):
        vals = [v for side in (row.kept or {}, row.other or {}) for v in side.values()]
        if (row.record_id == informant_id or row.record_id in record_ids
                or str(row.record_id) in sess or me in vals
                or any((side or {}).get("session_id") in sess for side in (row.kept, row.other))):
            out.append(row.id)
    return out


def _session_record_ids(s, session_ids: set[uuid.UUID]) -> set[uuid.UUID]:
    """Every record under the given sessions (what deleting them cascades to)."""
    from fieldkit.store.models import RecordingPause, TranscriptionRun

    out: set[uuid.UUID] = set(session_ids)
    if not session_ids:
        return out
    ids = list(session_ids)
    for model in (TranscriptSegment, Event, SessionParticipant, Recording, TranscriptionRun):
        out |= set(s.exec(select(model.id).where(model.session_id.in_(ids))).all())
    recs = list(s.exec(select(Recording.id).where(Recording.session_id.in_(ids))).all())
    if recs:
        out |= set(s.exec(select(RecordingFile.id).where(RecordingFile.recording_id.in_(recs))).all())
        out |= set(s.exec(select(RecordingPause.id).where(RecordingPause.recording_id.in_(recs))).all())
    return out


def plan_informant_purge(handle, code: str, *, aliases: list[str] = ()) -> PurgePlan:
    folder: Path = handle.folder
    with handle.db.session() as s:
        inf = s.exec(
            select(Informant).where(
                Informant.project_id == handle.project_id, Informant.code == code
            )
        ).first()
        if inf is None:
            raise FieldkitError(
                _("No informant with code {code!r} in this project.").format(code=code),
                hint=_("`fieldkit purge --informant CODE` takes the pseudonym code, "
                         "e.g. L03."),
            )
        plan = PurgePlan(inf.id, inf.code, _name_parts(inf.name),
                         aliases=_aliases(inf.attributes, list(aliases)))
        parts = s.exec(
            select(SessionParticipant).where(SessionParticipant.informant_id == inf.id)
        ).all()
        session_ids = {p.session_id for p in parts}
        # sessions where they spoke or were mentioned by an event, even without participation
        session_ids |= set(
            s.exec(
                select(TranscriptSegment.session_id).where(
                    TranscriptSegment.speaker_informant_id == inf.id
                )
            ).all()
        )
        session_ids |= set(s.exec(select(Event.session_id).where(Event.informant_id == inf.id)).all())
        for sid in sorted(session_ids, key=str):
            sess = s.get(Session, sid)
            others = [
                p for p in s.exec(select(SessionParticipant).where(SessionParticipant.session_id == sid))
                if p.informant_id != inf.id
            ]
            files = [
                (rf, rec)
                for rec in s.exec(select(Recording).where(Recording.session_id == sid))
                for rf in s.exec(select(RecordingFile).where(RecordingFile.recording_id == rec.id))
            ]
            if not others:
                sp = SessionPurge(sid, sess.title, whole=True)
                sp.segments = len(s.exec(select(TranscriptSegment.id).where(TranscriptSegment.session_id == sid)).all())
                sp.events = len(s.exec(select(Event.id).where(Event.session_id == sid)).all())
                sp.audio_files = [folder / rf.path for rf, _ in files]
                for rec in {rec.id: rec for _, rec in files}.values():
                    if rec.original_path:
                        sp.audio_files.append(folder / rec.original_path)
            else:
                sp = SessionPurge(sid, sess.title, whole=False)
                segs = s.exec(
                    select(TranscriptSegment).where(
                        TranscriptSegment.session_id == sid,
                        TranscriptSegment.speaker_informant_id == inf.id,
                    )
                ).all()
                sp.segments = len(segs)
                sp.events = len(
                    s.exec(select(Event.id).where(Event.session_id == sid, Event.informant_id == inf.id)).all()
                )
                for rf, _rec in files:
                    spans = [
                        (max(seg.start_ms, rf.offset_ms) - rf.offset_ms, min(seg.end_ms, rf.offset_ms + rf.duration_ms) - rf.offset_ms)
                        for seg in segs
                        if seg.end_ms > rf.offset_ms and seg.start_ms < rf.offset_ms + rf.duration_ms
                    ]
                    if spans:
                        sp.silence[folder / rf.path] = spans
                        sp.silenced_ids.append(rf.id)
            plan.sessions.append(sp)
        whole = {sp.session_id for sp in plan.sessions if sp.whole}
        gone = _session_record_ids(s, whole)
        for sp in plan.sessions:
            if not sp.whole:
                gone |= set(s.exec(select(TranscriptSegment.id).where(
                    TranscriptSegment.session_id == sp.session_id,
                    TranscriptSegment.speaker_informant_id == inf.id)).all())
                gone |= set(s.exec(select(Event.id).where(
                    Event.session_id == sp.session_id, Event.informant_id == inf.id)).all())
        plan.conflict_copies = len(_conflict_copies(s.connection(), inf.id, whole, gone))
        # the person named elsewhere: sessions that stay (group sessions get NN instead)
        terms = sorted(set(plan.names) | set(plan.aliases), key=len, reverse=True)
        plan.mentions = find_mentions(s, terms, {sp.session_id for sp in plan.sessions})
    db_path = handle.db.path
    plan.extra_files = sorted(db_path.parent.glob(db_path.name + ".bak-*"))
    exports = folder / "exports"
    if exports.is_dir():
        plan.extra_files += sorted(p for p in exports.rglob("*") if p.is_file())
    plan.extra_files += _logs(folder)
    return plan


def _logs(folder: Path) -> list[Path]:
    """The project's logs (the final pass and live transcription): they name sessions by
    title and an error in them may quote stored text; they are only diagnostics."""
    logs = folder / "logs"
    return sorted(logs.glob("*.log")) if logs.is_dir() else []


def _silence_file(path: Path, spans: list[tuple[int, int]]) -> None:
    import soundfile as sf

    try:
        info = sf.info(str(path))
        data, sr = sf.read(str(path), dtype="int16", always_2d=True)
    except Exception as exc:
        raise FieldkitError(
            _("Cannot rewrite the audio file {path} to remove the informant's "
                "speech: {exc}").format(path=path, exc=exc),
            hint=_("Nothing was deleted. Check the file (fieldkit recover) and run "
                     "the purge again."),
        ) from exc
    for start, end in spans:
        data[max(0, start * sr // 1000) : max(0, end * sr // 1000)] = 0
    tmp = path.with_name(path.name + ".purge-tmp")
    sf.write(str(tmp), data, sr, format=info.format, subtype=info.subtype)
    with open(tmp, "rb+") as fh:
        os.fsync(fh.fileno())
    os.replace(tmp, path)


def execute_purge(handle, plan: PurgePlan, *, author_id: uuid.UUID | None = None) -> dict[str, int]:
    """Carry out a plan from :func:`plan_informant_purge`. Returns the counts audited."""
    counts = {"sessions_deleted": 0, "segments_deleted": 0, "events_deleted": 0,
              "audio_files_deleted": 0, "audio_spans_silenced": 0, "files_deleted": 0}
    # 1. audio and copies (each step complete on its own; rerunnable)
    for sp in plan.sessions:
        for path, spans in sp.silence.items():
            if path.exists():
                _silence_file(path, spans)
                counts["audio_spans_silenced"] += len(spans)
        for path in sp.audio_files:
            if path.exists():
                path.unlink()
                counts["audio_files_deleted"] += 1
    for path in plan.extra_files:
        if path.exists():
            path.unlink()
            counts["files_deleted"] += 1
    # 2. the database, in one transaction
    with handle.db.transaction() as s:
        whole = {sp.session_id for sp in plan.sessions if sp.whole}
        gone = _session_record_ids(s, whole)
        for sp in plan.sessions:
            if not sp.whole:
                gone |= set(s.exec(select(TranscriptSegment.id).where(
                    TranscriptSegment.session_id == sp.session_id,
                    TranscriptSegment.speaker_informant_id == plan.informant_id)).all())
                gone |= set(s.exec(select(Event.id).where(
                    Event.session_id == sp.session_id, Event.informant_id == plan.informant_id)).all())
        copies = _conflict_copies(s.connection(), plan.informant_id, whole, gone)
        if copies:
            from fieldkit.store.models import SyncConflict

            sc = SyncConflict.__table__
            s.connection().execute(sc.delete().where(sc.c.id.in_(copies)))
            counts["conflict_copies_deleted"] = len(copies)
        _scrub_conflicts(s.connection(), {sp.session_id for sp in plan.sessions if not sp.whole},
                         plan.names + plan.aliases)
        for sp in plan.sessions:
            if sp.whole:
                sess = s.get(Session, sp.session_id)
                if sess is not None:
                    for seg in s.exec(select(TranscriptSegment).where(TranscriptSegment.session_id == sp.session_id)):
                        s.delete(seg)  # explicit: secure_delete zeroes each row's page content
                    for ev in s.exec(select(Event).where(Event.session_id == sp.session_id)):
                        s.delete(ev)
                    s.delete(sess)
                    counts["sessions_deleted"] += 1
                counts["segments_deleted"] += sp.segments
                counts["events_deleted"] += sp.events
                continue
            for seg in s.exec(
                select(TranscriptSegment).where(
                    TranscriptSegment.session_id == sp.session_id,
                    TranscriptSegment.speaker_informant_id == plan.informant_id,
                )
            ):
                s.delete(seg)
                counts["segments_deleted"] += 1
            for ev in s.exec(
                select(Event).where(Event.session_id == sp.session_id, Event.informant_id == plan.informant_id)
            ):
                s.delete(ev)
                counts["events_deleted"] += 1
            if plan.names:
                for seg in s.exec(select(TranscriptSegment).where(TranscriptSegment.session_id == sp.session_id)):
                    seg.verbatim = _scrub(seg.verbatim, plan.names)
                    if seg.edited is not None:
                        seg.edited = _scrub(seg.edited, plan.names)
                    seg.words = [
                        {**w, "w": _scrub(w.get("w", ""), plan.names)} for w in seg.words
                    ]
                    s.add(seg)
                for ev in s.exec(select(Event).where(Event.session_id == sp.session_id)):
                    ev.text = _scrub(ev.text, plan.names)
                    s.add(ev)
                sess = s.get(Session, sp.session_id)
                sess.header = {k: _scrub(str(v), plan.names) for k, v in sess.header.items()}
                s.add(sess)
        inf = s.get(Informant, plan.informant_id)
        if inf is not None:
            s.delete(inf)
        n_versions = _forget_versions(s.connection(), plan.informant_id, plan.names + plan.aliases)
        if n_versions:
            counts["saved_versions_cleared"] = n_versions
        silenced = sorted(str(i) for sp in plan.sessions for i in sp.silenced_ids)
        detail = {**counts, "silenced_files": silenced} if silenced else counts
        s.add(AuditEntry(action="purge_informant", detail=detail, created_by=author_id))
    compact(handle.db)
    return counts


def _forget_versions(conn, informant_id: uuid.UUID, names: list[str]) -> int:
    """The mention scan over the saved versions (``recordstate``: the content of a
    record's version and of the earlier versions a merge uses as its base): any that
    name the withdrawn person, or point at them, lose their content (the versions' vectors
    stay, so merging still works; a later merge of such a record may list a conflict
    where it could have merged). Deleted rows lose theirs by the ``forget_*`` triggers
    already. Returns how many versions were cleared."""
    import json

    from sqlalchemy import select as core_select

    from fieldkit.store.models import RecordState

    rs = RecordState.__table__
    terms = sorted({t for t in names if t and t.strip()}, key=len, reverse=True)
    pat = re.compile("|".join([re.escape(str(informant_id))]
                              + [rf"(?<!\w){re.escape(t)}(?!\w)" for t in terms]), re.IGNORECASE)
    hit = []
    for row in conn.execute(core_select(rs.c.record_id, rs.c.data, rs.c.anc)):
        if row.data is None and not row.anc:
            continue
        text = json.dumps([row.data, row.anc], ensure_ascii=False, default=str)
        if pat.search(text):
            hit.append(row.record_id)
    for i in range(0, len(hit), 500):
        conn.execute(rs.update().where(rs.c.record_id.in_(hit[i:i + 500])).values(data=None, anc=[]))
    return len(hit)


def _clear_conflict_copies(conn, names: list[str]) -> None:
    """At the deadline: the conflict list's copies lose what the records themselves lose
    (informants' names, consent places and attributes; sessions' headers and places;
    recordings) and names in their text become NN."""
    from sqlalchemy import select as core_select

    from fieldkit.store.models import SyncConflict

    sc = SyncConflict.__table__
    blank = {"informant": {"name": "", "consent_kept_at": "", "attributes": {}},
             "session": {"header": {}, "place": ""}, "project": {"redaction_terms": []}}
    names = sorted(set(names), key=len, reverse=True)

    def clean(v):
        if isinstance(v, str):
            return _scrub(v, names) if names else v
        if isinstance(v, dict):
            return {k: clean(x) for k, x in v.items()}
        if isinstance(v, list):
            return [clean(x) for x in v]
        return v

    for row in conn.execute(core_select(sc.c.id, sc.c.tbl, sc.c.kept, sc.c.other)).all():
        if row.tbl in ("recording", "recordingfile", "recordingpause"):
            conn.execute(sc.delete().where(sc.c.id == row.id))
            continue
        over = blank.get(row.tbl, {})
        kept = clean({**(row.kept or {}), **{k: v for k, v in over.items() if k in (row.kept or {})}})
        other = clean({**(row.other or {}), **{k: v for k, v in over.items() if k in (row.other or {})}})
        conn.execute(sc.update().where(sc.c.id == row.id).values(kept=kept, other=other))


def _scrub_conflicts(conn, sessions: set[uuid.UUID], names: list[str]) -> None:
    """Conflict copies of records in the group sessions the purge scrubs: NN there too."""
    from sqlalchemy import select as core_select

    from fieldkit.store.models import SyncConflict

    if not sessions or not names:
        return
    sc = SyncConflict.__table__
    sess = {str(x) for x in sessions}
    names = sorted(set(names), key=len, reverse=True)

    def clean(v):
        if isinstance(v, str):
            return _scrub(v, names)
        if isinstance(v, dict):
            return {k: clean(x) for k, x in v.items()}
        if isinstance(v, list):
            return [clean(x) for x in v]
        return v

    for row in conn.execute(core_select(sc.c.id, sc.c.record_id, sc.c.kept, sc.c.other)).all():
        if str(row.record_id) in sess or any((side or {}).get("session_id") in sess
                                             for side in (row.kept, row.other)):
            conn.execute(sc.update().where(sc.c.id == row.id).values(
                kept=clean(row.kept or {}), other=clean(row.other or {})))


def compact(db) -> None:
    """Leave no deleted text in the database file or its WAL."""
    with db.engine.connect() as conn:
        conn.exec_driver_sql("PRAGMA wal_checkpoint(TRUNCATE)")
        conn.exec_driver_sql("VACUUM")
        conn.exec_driver_sql("PRAGMA wal_checkpoint(TRUNCATE)")


# --------------------------------------------------------------------------- project


@dataclass
class ProjectPurgePlan:
    audio_files: list[Path]
    extra_files: list[Path]
    informants: int
    recordings: int
    names: list[str]

    def describe(self) -> list[str]:
        return [
            _("{n} audio files ({recordings} recordings)").format(
                n=len(self.audio_files), recordings=self.recordings),
            _("names, consent records and attributes of {n} informants "
              "(pseudonym codes, roles and organisations stay)").format(n=self.informants),
            _("session header fields and places; names in transcripts and notes become NN"),
            _("{n} backups and exports").format(n=len(self.extra_files)),
        ]


def plan_project_purge(handle) -> ProjectPurgePlan:
    from fieldkit.store.models import Project

    folder: Path = handle.folder
    with handle.db.session() as s:
        informants = s.exec(select(Informant).where(Informant.project_id == handle.project_id)).all()
        names = sorted({n for i in informants for n in _name_parts(i.name)}, key=len, reverse=True)
        project = s.get(Project, handle.project_id)
        names += [t for t in project.redaction_terms if t.strip()]
        recordings = s.exec(select(Recording.id)).all()
    audio = folder / "audio"
    db_path = handle.db.path
    extra = sorted(db_path.parent.glob(db_path.name + ".bak-*"))
    if (folder / "exports").is_dir():
        extra += sorted(p for p in (folder / "exports").rglob("*") if p.is_file())
    extra += _logs(folder)
    return ProjectPurgePlan(
        audio_files=sorted(p for p in audio.rglob("*") if p.is_file()) if audio.is_dir() else [],
        extra_files=extra, informants=len(informants), recordings=len(recordings), names=names,
    )


def execute_project_purge(handle, plan: ProjectPurgePlan, *, author_id: uuid.UUID | None = None) -> dict[str, int]:
    """At the deletion deadline: raw audio and personal data go, pseudonymised text stays."""
    for path in plan.audio_files + plan.extra_files:
        path.unlink(missing_ok=True)
    counts = {"audio_files_deleted": len(plan.audio_files), "files_deleted": len(plan.extra_files),
              "informants_anonymised": plan.informants, "recordings_deleted": plan.recordings}
    from fieldkit.store.models import Project

    with handle.db.transaction() as s:
        project = s.get(Project, handle.project_id)
        project.redaction_terms = []  # the list itself names people and places
        s.add(project)
        for rec in s.exec(select(Recording)):
            s.delete(rec)
        for inf in s.exec(select(Informant).where(Informant.project_id == handle.project_id)):
            inf.name, inf.consent_kept_at, inf.attributes = "", "", {}
            s.add(inf)
        for sess in s.exec(select(Session).where(Session.project_id == handle.project_id)):
            sess.header, sess.place = {}, ""
            s.add(sess)
        if plan.names:
            for seg in s.exec(select(TranscriptSegment)):
                seg.verbatim = _scrub(seg.verbatim, plan.names)
                seg.edited = _scrub(seg.edited, plan.names) if seg.edited is not None else None
                seg.words = [{**w, "w": _scrub(w.get("w", ""), plan.names)} for w in seg.words]
                s.add(seg)
            for ev in s.exec(select(Event)):
                ev.text = _scrub(ev.text, plan.names)
                s.add(ev)
        _clear_conflict_copies(s.connection(), plan.names)
        s.add(AuditEntry(action="purge_project", detail=counts, created_by=author_id))
    compact(handle.db)
    return counts
