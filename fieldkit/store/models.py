"""The fieldkit data model, in the researchers' words.

One SQLite database per project (``<project folder>/project.db``). Every table has a
UUID primary key (so data from several laptops can be merged later), created/updated
times in UTC and ``created_by``: the id of the Researcher who made the record. That
column is deliberately not a foreign key: a merged record may arrive before its author.

Delete rules, in short: deleting a Project deletes everything in it; deleting a Session
deletes its recordings, events, participants and transcript; deleting an Informant
removes their session participation, and their speaker/attribution links fall back to
NULL (the purge service deletes the content itself first). A GuideVersion used by a
Session cannot be deleted (sessions never lose the guide they used).

Anything SQLite-specific lives in :mod:`fieldkit.store.db`, not here, so the same models
can run on PostgreSQL for a future team server.
"""


import enum
import os
import uuid
from datetime import date, datetime, timedelta, timezone
from typing import Any, Optional

from sqlalchemy import JSON, Column, Enum, Index, LargeBinary, String, Text, UniqueConstraint, event
from sqlalchemy import inspect as sa_inspect
from sqlalchemy.types import TypeDecorator
from sqlalchemy.orm import Mapper
from sqlmodel import Field, Relationship, SQLModel

from fieldkit.text import clean_json, clean_text


def utcnow() -> datetime:
    """Aware UTC now: every stored time is UTC and comes back as aware UTC.

    ``FIELDKIT_CLOCK_SKEW`` (seconds, may be negative) shifts it: tests use it to play a
    laptop whose clock is wrong (merging never trusts clocks, see fieldkit.team.merge)."""
    now = datetime.now(timezone.utc)
    skew = os.environ.get("FIELDKIT_CLOCK_SKEW")
    if skew:
        try:
            now += timedelta(seconds=float(skew))
        except ValueError:
            pass
    return now


def local_day(when: datetime | None) -> str:
    """The calendar date (YYYY-MM-DD) of a stored UTC time in this laptop's zone, as the
    app shows the time ("" for none): an interview at 00:30 in Norway is dated that day,
    not the day before as its UTC date would say."""
    if when is None:
        return ""
    if when.tzinfo is None:                 # sqlite3 reads stored times back naive (UTC)
        when = when.replace(tzinfo=timezone.utc)
    return when.astimezone().date().isoformat()


def _json(default: Any = None) -> Any:
    factory = dict if default is None else default
    return Field(default_factory=factory, sa_column=Column(JSON, nullable=False))


class Stamped(SQLModel):
    id: uuid.UUID = Field(default_factory=uuid.uuid4, primary_key=True)
    created_at: datetime = Field(default_factory=utcnow, nullable=False)
    updated_at: datetime = Field(
        default_factory=utcnow, nullable=False, sa_column_kwargs={"onupdate": utcnow}
    )
    created_by: Optional[uuid.UUID] = Field(default=None, index=True)


# --------------------------------------------------------------------------- enums


class SessionKind(str, enum.Enum):
    individual = "individual"
    pair = "pair"              # a pair interview (parintervju): two informants, seats like a group
    group = "group"
    focus_group = "focus_group"
    observation = "observation"
    telephone = "telephone"
    notes_only = "notes_only"


class SessionStatus(str, enum.Enum):
    planned = "planned"
    recording = "recording"
    recorded = "recorded"
    transcribed = "transcribed"
    reviewed = "reviewed"


class EventKind(str, enum.Enum):
    note = "note"            # free text by a researcher
    tag = "tag"              # a tag from the tag scheme (point or state)
    coverage = "coverage"    # a guide question's coverage changed (value = new status)
    probe = "probe"          # a follow-up probe was used (question_id = the probe's id)
    returned = "returned"    # the informant returned to an earlier theme
    marker = "marker"        # a plain mark on the timeline
    quote = "quote"          # a quote marked in review (session + time is its reference)
    consent = "consent"      # recording consent given/withdrawn at session start
    debrief = "debrief"      # first impressions after the interview (text)
    recording = "recording"  # recording started / paused / resumed / stopped / device lost
    suggest = "suggest"      # the guide listens: a question seemed asked (code = suggested /
    #                            confirmed / dismissed); never coverage by itself


class CoverageStatus(str, enum.Enum):
    not_yet = "not_yet"
    partly = "partly"
    covered = "covered"
    skipped = "skipped"


class TagMode(str, enum.Enum):
    point = "point"  # one moment
    state = "state"  # a stretch: the same key starts and stops it


class RecordingState(str, enum.Enum):
    recording = "recording"    # being written now (or crashed while being written)
    paused = "paused"
    complete = "complete"      # stopped cleanly
    recovered = "recovered"    # found unfinished and repaired
    imported = "imported"      # an external file (dictaphone, telephone)


class RunStatus(str, enum.Enum):
    queued = "queued"
    running = "running"
    done = "done"
    failed = "failed"
    cancelled = "cancelled"


# --------------------------------------------------------------------------- project


class Project(Stamped, table=True):
    name: str
    slug: str = Field(index=True, unique=True)
    description: str = Field(default="", sa_column=Column(Text, nullable=False, default=""))
    language: str = "no"                      # default transcription language
    sikt_reference: Optional[str] = None      # notification number at Sikt (formerly NSD)
    deletion_deadline: Optional[date] = None  # raw data and personal data must go by then
    vocabulary: str = Field(default="", sa_column=Column(Text, nullable=False, default=""))
    redaction_terms: list[str] = _json(list)  # extra names/places replaced on export
    transcription: dict[str, Any] = _json()   # project-wide transcription settings
    snippets: dict[str, Any] = _json()        # the team's abbreviations in review (",,i" -> "{informant}")
    is_demo: bool = False
    #: an encrypted project: what its copies share of the key file (KDF parameters, salt,
    #: check value; no secret), so that a copy from the team server or a pack gets the
    #: same key from the passphrase; {} for a plain project (see fieldkit.team.sealing)
    encryption: dict[str, Any] = Field(default_factory=dict, sa_column=Column(
        JSON, nullable=False, server_default="{}"))

    researchers: list["Researcher"] = Relationship(
        back_populates="project", sa_relationship_kwargs={"passive_deletes": True}
    )
    informants: list["Informant"] = Relationship(
        back_populates="project", sa_relationship_kwargs={"passive_deletes": True}
    )
    sessions: list["Session"] = Relationship(
        back_populates="project", sa_relationship_kwargs={"passive_deletes": True}
    )
    guides: list["Guide"] = Relationship(
        back_populates="project", sa_relationship_kwargs={"passive_deletes": True}
    )
    tag_schemes: list["TagScheme"] = Relationship(
        back_populates="project", sa_relationship_kwargs={"passive_deletes": True}
    )


class Researcher(Stamped, table=True):
    __table_args__ = (UniqueConstraint("project_id", "initials"),)
    project_id: uuid.UUID = Field(foreign_key="project.id", ondelete="CASCADE", index=True)
    name: str
    initials: str                 # short label used as speaker and author ("AB")
    institution: str = ""

    project: Project = Relationship(back_populates="researchers")


class Informant(Stamped, table=True):
    """A participant. ``name`` is personal data; ``code`` is what leaves the laptop."""

    __table_args__ = (UniqueConstraint("project_id", "code"),)
    project_id: uuid.UUID = Field(foreign_key="project.id", ondelete="CASCADE", index=True)
    code: str                       # pseudonym code, e.g. "L03"
    name: str = ""                  # real name: never exported
    role: str = ""                  # "leader", "nurse", "relative" ...
    organisation: str = ""          # "DPS", "NAV office" ...
    site: str = ""                  # case network / municipality (pseudonymised label)
    group_label: str = ""           # informant group: "central", "local", "user" ...
    attributes: dict[str, Any] = _json()
    # consent record
    info_letter_sent_on: Optional[date] = None
    written_consent_on: Optional[date] = None
    consent_kept_at: str = ""       # where the signed form is kept
    withdrawn_on: Optional[date] = None

    project: Project = Relationship(back_populates="informants")
    participations: list["SessionParticipant"] = Relationship(
        back_populates="informant", sa_relationship_kwargs={"passive_deletes": True}
    )


# --------------------------------------------------------------------------- guides


class Guide(Stamped, table=True):
    __table_args__ = (UniqueConstraint("project_id", "slug"),)
    project_id: uuid.UUID = Field(foreign_key="project.id", ondelete="CASCADE", index=True)
    slug: str
    title: str
    language: str = "no"

    project: Project = Relationship(back_populates="guides")
    versions: list["GuideVersion"] = Relationship(
        back_populates="guide", sa_relationship_kwargs={"passive_deletes": True}
    )


class GuideVersion(Stamped, table=True):
    """One immutable version of a guide's content. Sessions point at a version."""

    __table_args__ = (UniqueConstraint("guide_id", "number"),)
    guide_id: uuid.UUID = Field(foreign_key="guide.id", ondelete="CASCADE", index=True)
    number: int
    content_hash: str = Field(index=True)   # sha256 of the normalised source
    source_name: str = ""                   # file it was imported from
    source_text: str = Field(sa_column=Column(Text, nullable=False))
    outline: dict[str, Any] = _json()       # parsed guide (themes, questions, ids ...)

    guide: Guide = Relationship(back_populates="versions")


# --------------------------------------------------------------------------- tags


class TagScheme(Stamped, table=True):
    __table_args__ = (UniqueConstraint("project_id", "name"),)
    project_id: uuid.UUID = Field(foreign_key="project.id", ondelete="CASCADE", index=True)
    name: str
    description: str = ""

    project: Project = Relationship(back_populates="tag_schemes")
    codes: list["TagCode"] = Relationship(
        back_populates="scheme", sa_relationship_kwargs={"passive_deletes": True}
    )


class TagCode(Stamped, table=True):
    __table_args__ = (
        UniqueConstraint("scheme_id", "code"),
        UniqueConstraint("scheme_id", "key"),
    )
    scheme_id: uuid.UUID = Field(foreign_key="tagscheme.id", ondelete="CASCADE", index=True)
    code: str                      # stable short name: "key_quote"
    label: str                     # shown to the user: "Key quote"
    key: str                       # the single key that sets it
    colour: str = "#888888"
    mode: TagMode = TagMode.point
    description: str = ""
    sort: int = 0

    scheme: TagScheme = Relationship(back_populates="codes")


# --------------------------------------------------------------------------- sessions


class Session(Stamped, table=True):
    project_id: uuid.UUID = Field(foreign_key="project.id", ondelete="CASCADE", index=True)
    title: str
    kind: SessionKind = SessionKind.individual
    is_pilot: bool = False          # pilot interviews stay out of the dataset
    status: SessionStatus = SessionStatus.planned
    place: str = ""
    starts_at: Optional[datetime] = None
    ended_at: Optional[datetime] = None
    planned_at: Optional[datetime] = None     # when the plan says it will be held
    guide_version_id: Optional[uuid.UUID] = Field(
        default=None, foreign_key="guideversion.id", ondelete="RESTRICT", index=True
    )
    tag_scheme_id: Optional[uuid.UUID] = Field(
        default=None, foreign_key="tagscheme.id", ondelete="SET NULL"
    )
    lead_id: Optional[uuid.UUID] = Field(
        default=None, foreign_key="researcher.id", ondelete="SET NULL"
    )
    observer_id: Optional[uuid.UUID] = Field(
        default=None, foreign_key="researcher.id", ondelete="SET NULL"
    )
    related_session_id: Optional[uuid.UUID] = Field(
        default=None, foreign_key="session.id", ondelete="SET NULL"
    )
    header: dict[str, Any] = _json()          # the guide's header fields, filled in
    transcription: dict[str, Any] = _json()   # overrides of the project's settings

    project: Project = Relationship(back_populates="sessions")
    participants: list["SessionParticipant"] = Relationship(
        back_populates="session", sa_relationship_kwargs={"passive_deletes": True}
    )
    recordings: list["Recording"] = Relationship(
        back_populates="session", sa_relationship_kwargs={"passive_deletes": True}
    )
    events: list["Event"] = Relationship(
        back_populates="session",
        sa_relationship_kwargs={"passive_deletes": True, "order_by": "Event.position_ms"},
    )
    segments: list["TranscriptSegment"] = Relationship(
        back_populates="session",
        sa_relationship_kwargs={
            "passive_deletes": True,
            "order_by": "TranscriptSegment.start_ms",
        },
    )


class SessionParticipant(Stamped, table=True):
    __table_args__ = (UniqueConstraint("session_id", "informant_id"),)
    session_id: uuid.UUID = Field(foreign_key="session.id", ondelete="CASCADE", index=True)
    informant_id: uuid.UUID = Field(foreign_key="informant.id", ondelete="CASCADE", index=True)
    speaker_label: str = ""                   # label used in the transcript ("I1")
    recording_consent: Optional[bool] = None  # asked at the start of the session
    recording_consent_at: Optional[datetime] = None
    seat: Optional[int] = None                # seat number in a group (1-9), for the roster

    session: Session = Relationship(back_populates="participants")
    informant: Informant = Relationship(back_populates="participations")


# --------------------------------------------------------------------------- audio


class Recording(Stamped, table=True):
    """Audio of a session: captured here or imported. Its files are listed in
    RecordingFile; pauses are gaps in wall time between files (see RecordingPause)."""

    session_id: uuid.UUID = Field(foreign_key="session.id", ondelete="CASCADE", index=True)
    state: RecordingState = RecordingState.recording
    folder: str                      # relative to the project folder
    sample_rate: int = 16000
    channels: int = 1
    device: str = ""
    started_at: datetime = Field(default_factory=utcnow)
    ended_at: Optional[datetime] = None
    duration_ms: int = 0             # audio time stored, over all files
    original_path: str = ""          # an imported original, kept unchanged
    info: dict[str, Any] = _json()   # anything else (recovery report, import codec ...)
    # The session clock's anchor, so any process reading the database knows the audio
    # position: while recording it is clock_ms + (now - clock_wall); paused, clock_ms.
    clock_ms: int = 0
    clock_wall: Optional[datetime] = None
    recorder_pid: Optional[int] = None  # the process writing it (recovery checks it is gone)

    session: Session = Relationship(back_populates="recordings")
    files: list["RecordingFile"] = Relationship(
        back_populates="recording",
        sa_relationship_kwargs={"passive_deletes": True, "order_by": "RecordingFile.seq"},
    )
    pauses: list["RecordingPause"] = Relationship(
        back_populates="recording", sa_relationship_kwargs={"passive_deletes": True}
    )


class RecordingFile(Stamped, table=True):
    __table_args__ = (UniqueConstraint("recording_id", "seq"),)
    recording_id: uuid.UUID = Field(foreign_key="recording.id", ondelete="CASCADE", index=True)
    seq: int
    path: str                        # relative to the project folder
    offset_ms: int                   # where this file starts on the session clock
    duration_ms: int = 0
    complete: bool = False

    recording: Recording = Relationship(back_populates="files")


class RecordingPause(Stamped, table=True):
    recording_id: uuid.UUID = Field(foreign_key="recording.id", ondelete="CASCADE", index=True)
    at_ms: int                       # session clock position where it paused
    paused_at: datetime = Field(default_factory=utcnow)
    resumed_at: Optional[datetime] = None
    reason: str = "pause"            # pause / device_lost / disk_full

    recording: Recording = Relationship(back_populates="pauses")


# --------------------------------------------------------------------------- events


class Event(Stamped, table=True):
    """Something a researcher marked: a note, tag, coverage change, marker ...

    ``position_ms`` is the audio position on the session clock (None in a session
    without recording); ``end_ms`` closes a state tag. ``created_by`` is the author.
    """

    session_id: uuid.UUID = Field(foreign_key="session.id", ondelete="CASCADE", index=True)
    kind: EventKind = Field(index=True)
    position_ms: Optional[int] = Field(default=None, index=True)
    end_ms: Optional[int] = None
    wall_time: datetime = Field(default_factory=utcnow)
    tag_code_id: Optional[uuid.UUID] = Field(
        default=None, foreign_key="tagcode.id", ondelete="SET NULL"
    )
    code: str = ""                   # tag code, or coverage status, or sub-kind
    question_id: str = ""            # stable guide item id (theme, question or probe)
    text: str = Field(default="", sa_column=Column(Text, nullable=False, default=""))
    informant_id: Optional[uuid.UUID] = Field(   # the person the event is about/by
        default=None, foreign_key="informant.id", ondelete="SET NULL", index=True
    )

    session: Session = Relationship(back_populates="events")


# --------------------------------------------------------------------------- transcripts


class TranscriptionRun(Stamped, table=True):
    session_id: uuid.UUID = Field(foreign_key="session.id", ondelete="CASCADE", index=True)
    recording_id: Optional[uuid.UUID] = Field(
        default=None, foreign_key="recording.id", ondelete="SET NULL"
    )
    status: RunStatus = RunStatus.queued
    mode: str = "batch"              # batch / live
    model: str = ""
    language: str = ""
    settings: dict[str, Any] = _json()
    done_ms: int = 0                 # audio transcribed so far (resume from here)
    total_ms: int = 0
    error: str = ""
    finished_at: Optional[datetime] = None


class TranscriptSegment(Stamped, table=True):
    """A stretch of speech. ``verbatim`` is what the model (or the transcriber) heard
    and is never overwritten by editing; ``edited`` is the readable layer (None until
    someone edits)."""

    session_id: uuid.UUID = Field(foreign_key="session.id", ondelete="CASCADE", index=True)
    run_id: Optional[uuid.UUID] = Field(
        default=None, foreign_key="transcriptionrun.id", ondelete="SET NULL", index=True
    )
    start_ms: int = Field(index=True)
    end_ms: int
    speaker_label: str = ""
    speaker_informant_id: Optional[uuid.UUID] = Field(
        default=None, foreign_key="informant.id", ondelete="SET NULL", index=True
    )
    speaker_researcher_id: Optional[uuid.UUID] = Field(
        default=None, foreign_key="researcher.id", ondelete="SET NULL"
    )
    speaker_auto: str = ""           # the voice found by speaker attribution ("S2"), "" if none
    speaker_manual: bool = False     # a researcher chose this speaker: attribution leaves it
    verbatim: str = Field(sa_column=Column(Text, nullable=False))
    edited: Optional[str] = Field(default=None, sa_column=Column(Text, nullable=True))
    words: list[dict[str, Any]] = _json(list)   # [{"w": str, "s": ms, "e": ms, "p": prob}]
    language: str = ""
    avg_logprob: Optional[float] = None
    no_speech_prob: Optional[float] = None

    session: Session = Relationship(back_populates="segments")

    @property
    def text(self) -> str:
        """The edited layer where there is one, else the verbatim text."""
        return self.edited if self.edited is not None else self.verbatim


# --------------------------------------------------------------------------- audit


class AuditEntry(Stamped, table=True):
    """What was done to the data (purges, migrations, exports), without personal data."""

    action: str = Field(index=True)
    detail: dict[str, Any] = _json()
    at: datetime = Field(default_factory=utcnow)


# --------------------------------------------------------------------------- team sync
# Bookkeeping for pack/merge and the team server (fieldkit.team). Not Stamped: these rows
# describe other rows and never travel themselves (SyncConflict, Stamped, does travel).


class SyncPeer(SQLModel, table=True):
    """Someone this project has exchanged records with: the team server ("server"), another
    laptop (its id, from a pack) or this laptop itself ("self": its own id in ``url``)."""

    peer: str = Field(primary_key=True)
    kind: str = "laptop"                   # self / server / laptop
    url: str = ""                          # server address without password; own id for self
    cursor: int = 0                        # server: last change number pulled
    mark: Optional[datetime] = None        # local time the last exchange started
    last_sync_at: Optional[datetime] = None
    options: dict[str, Any] = _json()


class SyncBase(SQLModel, table=True):
    """The version of a record both sides last agreed on (a hash of its content): a record
    whose hash differs from it has changed since they last met."""

    __table_args__ = (Index("ix_syncbase_peer_tbl", "peer", "tbl"),)
    peer: str = Field(primary_key=True)
    record_id: uuid.UUID = Field(primary_key=True)
    tbl: str
    hash: str


class SyncConflict(Stamped, table=True):
    """A record changed on two copies: ``kept`` is the version every copy keeps, ``other``
    the values set aside until someone settles it (``kept_side``: merged, or deleted when a
    deletion met a change it had not seen, or carried when a hand edit went onto a new
    segment). It travels like any record, so every copy lists it (see
    fieldkit.team.merge)."""

    tbl: str
    record_id: uuid.UUID = Field(index=True)
    peer: str = ""
    kept_side: str = ""                    # merged / deleted / carried (local / remote: older)
    kept: dict[str, Any] = _json()
    other: dict[str, Any] = _json()
    settled_at: Optional[datetime] = None
    settled_with: str = ""                 # kept / other


class RecordState(SQLModel, table=True):
    """One row per record ever seen, on the team server and on every laptop: its version
    (see :mod:`fieldkit.team.merge`). On the server ``seq`` is the change number of its
    last change; on a laptop 0 means "not on the server yet". Deleted records stay as
    tombstones without content."""

    record_id: uuid.UUID = Field(primary_key=True)
    tbl: str
    hash: str = ""
    seq: int = Field(index=True)
    deleted: bool = False
    by: str = ""                           # the database role that pushed it
    #: version vector: {copy id: number of changes that copy made}
    vv: dict[str, Any] = Field(default_factory=dict, sa_column=Column(
        JSON, nullable=False, server_default="{}"))
    #: a few earlier versions [{"vv", "h", "d"}] (the base of a three-way merge)
    anc: list[Any] = Field(default_factory=list, sa_column=Column(
        JSON, nullable=False, server_default="[]"))
    #: laptops: the content of this version (the base of the next change)
    data: Optional[dict[str, Any]] = Field(default=None, sa_column=Column(JSON, nullable=True))


class ServerAudio(SQLModel, table=True):
    """On the team server, when the team chose to share audio: one audio file's bytes."""

    file_id: uuid.UUID = Field(primary_key=True)   # RecordingFile.id
    sha256: str
    size: int = 0
    data: bytes = Field(sa_column=Column(LargeBinary, nullable=False))


# --------------------------------------------------------------------------- user text
# Every text a person types or pastes goes through fieldkit.text.clean_text on its way in.
# It is done here, on the ORM's flush, rather than in each screen and command: a field added
# later is covered without anyone remembering it. Records written through SQLAlchemy Core
# (pack merge, sync) are cleaned in fieldkit.team.records.to_db; text stored by older
# versions is cleaned by the migration 0007_i29_clean_text.

#: (table, column) holding file paths or machine settings, kept byte for byte: a file name
#: in another normal form is another file on Linux
NOT_USER_TEXT = frozenset({
    ("recording", "folder"), ("recording", "original_path"), ("recording", "info"),
    ("recording", "device"), ("recordingfile", "path"), ("transcriptionrun", "model"),
    ("transcriptionrun", "settings"), ("syncpeer", "url"), ("serveraudio", "sha256"),
})


def text_columns(table: Any) -> list[str]:
    """The columns of ``table`` (a Table) that hold user text: strings and JSON."""
    out = []
    for col in table.columns:
        t = col.type
        if isinstance(t, TypeDecorator):     # sqlmodel's AutoString is one: by its base type
            t = t.impl_instance
        if (table.name, col.name) in NOT_USER_TEXT or isinstance(t, Enum):
            continue
        if isinstance(t, (String, JSON)):
            out.append(col.name)
    return out


_TEXT_ATTRS: dict[type, list[tuple[str, Any]]] = {}


def _clean_row(mapper: Mapper, target: Any, changed_only: bool) -> None:
    cls = type(target)
    attrs = _TEXT_ATTRS.get(cls)
    if attrs is None:
        cols = set(text_columns(mapper.local_table))
        attrs = _TEXT_ATTRS[cls] = [
            (p.key, clean_json if isinstance(p.columns[0].type, JSON) else clean_text)
            for p in mapper.column_attrs if p.columns[0].name in cols]
    state = sa_inspect(target)
    loaded = state.dict
    for key, clean in attrs:
        if key in loaded:
            if changed_only and not state.attrs[key].history.has_changes():
                continue      # an update: only what it changes (a segment's words stay as they are)
            value = loaded[key]
            if value is None:
                continue
            cleaned = clean(value)
            if cleaned is not value:
                setattr(target, key, cleaned)


def clean_on_insert(mapper: Mapper, _conn: Any, target: Any) -> None:
    if type(target).__module__ == __name__:
        _clean_row(mapper, target, changed_only=False)


def clean_on_update(mapper: Mapper, _conn: Any, target: Any) -> None:
    if type(target).__module__ == __name__:
        _clean_row(mapper, target, changed_only=True)


event.listen(Mapper, "before_insert", clean_on_insert)
event.listen(Mapper, "before_update", clean_on_update)


__all__ = [
    name
    for name, obj in list(globals().items())
    if isinstance(obj, type) and issubclass(obj, (SQLModel, enum.Enum)) and obj.__module__ == __name__
] + ["utcnow", "text_columns", "NOT_USER_TEXT"]
