"""The running session: one object that opens, records, pauses, stops and recovers a
session, with its recorder, live transcription, event writer and one clock.

Both front ends drive it and nothing else: the interview screen
(:mod:`fieldkit.tui.screens.interview`, the lead's and the observer's terminal) and
``fieldkit record`` (:mod:`fieldkit.cli.record`). So the order of things is the same
everywhere: the session is marked begun, the recorder starts (consent and free disk are
checked there), then live transcription beside it; stopping stops the recorder first
(every captured second is finished to FLAC), then ends the transcript.

The clock (:meth:`SessionRuntime.position_ms`) is the recorder's own anchor in the
terminal that records, and the same anchor read from the database in any other terminal
(:meth:`fieldkit.sessions.live.LiveView.position_ms`); both go through
:func:`fieldkit.recording.clock.position_at`. A keypress takes its position at the
moment it was pressed; the write happens on the event writer's thread.

Nothing here imports Textual; callbacks (``on_stored``, ``on_news``) run on the
writer's or recorder's threads, and a screen turns them into messages.
"""

from __future__ import annotations

import time
import uuid
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Callable

from fieldkit.errors import FieldkitError
from fieldkit.i18n import N_, Said, _

if TYPE_CHECKING:
    from fieldkit.instruments.guides.model import Guide
    from fieldkit.projects import ProjectHandle
    from fieldkit.recording.recorder import Recorder, Summary
    from fieldkit.sessions.live import LiveView, TagKey
    from fieldkit.sessions.roster import Seat
    from fieldkit.sessions.writer import Stored
    from fieldkit.store.models import Session
    from fieldkit.transcription.live import LiveTranscriber


@dataclass
class News:
    """Something a front end tells the researcher: ``kind`` is started, failed, live
    (no live transcript), stopped, or a recorder warning (clipping, silence,
    device_lost, disk_low, disk_full, stop_failed, and device_back, sound_back,
    clipping_over, which end a warning)."""
    kind: str
    text: str


#: live transcript segments a terminal reads (its pane shows the newest that fit)
TAIL = 30

WARNING_KINDS = ("device_lost", "disk_full", "disk_low", "silence", "clipping", "stop_failed", "behind")
CLEARS_WARNING = ("device_back", "sound_back", "clipping_over")   # the trouble is over


@dataclass
class Opened:
    session: "Session"
    people: dict[uuid.UUID, str]
    guide: "Guide | None"
    tags: "list[TagKey]"
    view: "LiveView"
    roster: "list[Seat]" = field(default_factory=list)   # seat -> participant (groups)


class SessionRuntime:
    """One session being held, in this process. ``record``: this terminal records (the
    lead's); ``observer``: attached to a session another terminal records."""

    def __init__(self, handle: "ProjectHandle", session_id: uuid.UUID, *, record: bool = True,
                 observer: bool = False, device: str | int | None = None, live: bool = False,
                 author_id: uuid.UUID | None = None, samplerate: int = 16000, channels: int = 1,
                 on_stored: Callable[["Stored"], None] | None = None,
                 on_news: Callable[[News], None] | None = None) -> None:
        self.handle, self.session_id = handle, session_id
        self.observer = observer
        self.record = record and not observer
        self.device, self.live = device, live
        self.samplerate, self.channels = samplerate, channels
        self.author_id = author_id
        self.on_stored, self.on_news = on_stored, on_news
        self.recorder: Recorder | None = None
        self.transcriber: LiveTranscriber | None = None
        self.writer = None
        self.view: LiveView | None = None
        self.summary: Summary | None = None
        self.latencies: list[float] = []      # keypress-to-stored, ms (benchmarks)
        self.warning = ""                     # the warning standing now ("" once it is over)
        self.stopping = False
        self._stamp: tuple | None = None
        self.listener = None                  # suggestions.LiveListener: the guide listens
        self.listen_ms: list[float] = []      # time to match new live segments, ms (benchmarks)

    # ------------------------------------------------------------------ opening

    def open(self) -> Opened:
        """Read what the session needs and start the event writer. The lead's terminal
        marks the session begun (a notes-only session gets its times from here)."""
        from fieldkit.sessions.live import load_live, tag_keys
        from fieldkit.sessions.plan import begin_session, guide_of, session_people
        from fieldkit.sessions.writer import EventWriter

        if not self.observer:
            begin_session(self.handle, self.session_id)
        sess, people = session_people(self.handle, self.session_id)
        if self.author_id is None:
            self.author_id = sess.observer_id if self.observer else sess.lead_id
        guide = guide_of(self.handle, self.session_id)
        if not self.observer and guide is not None and self.listener is None:
            # the lead's terminal listens for the guide's questions in the live transcript
            from fieldkit.sessions.suggestions import LiveListener

            try:
                self.listener = LiveListener(self.handle.db, self.session_id, author_id=None)
            except FieldkitError:
                self.listener = None
        tags = tag_keys(self.handle, self.session_id)
        self.view = load_live(self.handle, self.session_id, tail=TAIL, author_id=self.author_id)
        self._stamp = self.view.stamp
        if self.writer is None:
            self.writer = EventWriter(self._stored)
        from fieldkit.sessions.roster import roster

        return Opened(sess, people, guide, tags, self.view, roster(self.handle, self.session_id))

    def start_recording(self) -> None:
        """Start the recorder, then live transcription beside it. Raises FieldkitError
        when recording cannot start (consent, microphone, disk); a live transcriber that
        cannot start is news, and the recording goes on without it."""
        from fieldkit.recording.recorder import Recorder

        rec = Recorder(self.handle, self.session_id, device=self.device, samplerate=self.samplerate,
                       channels=self.channels, author_id=self.author_id, on_warning=self._recorder_warning)
        rec.start()
        self.recorder = rec
        if self.live:
            try:
                from fieldkit.transcription.live import LiveTranscriber
                from fieldkit.transcription.service import session_settings

                from fieldkit.sessions.live import mark_live_transcript

                self.transcriber = LiveTranscriber(self.handle, self.session_id,
                                                   session_settings(self.handle, self.session_id), quiet=True).start()
                mark_live_transcript(self.handle, rec.recording_id)
            except FieldkitError as exc:
                self._news("live", Said("no_live", N_("No live transcript: {reason}"), reason=exc.message))
            except Exception as exc:  # noqa: BLE001 - the recording goes on without it
                self._news("live", Said("no_live", N_("No live transcript: {reason}"), reason=str(exc)))
        self._news("started", Said("started", N_("Recording started.")))

    # ------------------------------------------------------------------ the clock

    @property
    def state(self) -> str:
        """recording, paused, stopping, stopped, starting (about to record) or none."""
        if self.recorder is not None:
            return {"recording": "recording", "paused": "paused", "stopping": "stopping",
                    "stopped": "stopped"}.get(self.recorder.state, "starting")
        if self.record and not self.stopping:
            return "starting"
        return self.view.recording if self.view is not None else "none"

    def position_ms(self, wall: float | None = None) -> int | None:
        """The session clock at wall time ``wall`` (epoch seconds; default now)."""
        if self.recorder is not None and self.recorder.state in ("recording", "paused", "stopping", "stopped"):
            return self.recorder.clock_ms(wall)
        if self.view is None:
            return None
        return self.view.position_ms(wall)

    def position_at_key(self, pressed: float | None) -> int | None:
        """The clock when a key was pressed (``pressed``: time.monotonic() of the key)."""
        if pressed is None:
            return self.position_ms()
        return self.position_ms(time.time() - (time.monotonic() - pressed))

    @property
    def level_db(self) -> float | None:
        rec = self.recorder
        return rec.peak_db if rec is not None and rec.state == "recording" else None

    def disk_left_s(self) -> float | None:
        rec = self.recorder
        return rec.disk_left_s() if rec is not None and rec.state in ("recording", "paused") else None

    @property
    def can_pause(self) -> bool:
        return self.recorder is not None and self.recorder.state in ("recording", "paused")

    # ------------------------------------------------------------------ the view

    def read_view(self, force: bool = False) -> "LiveView | None":
        """The live view if anything changed since the last read (or ``force``)."""
        from fieldkit.sessions.live import live_stamp, load_live

        stamp = live_stamp(self.handle.db, self.session_id)
        if stamp == self._stamp and not force:
            return None
        if self.listener is not None and stamp[1] != (self._stamp or (None, None))[1]:
            self.listen()
        self.view = load_live(self.handle, self.session_id, tail=TAIL, author_id=self.author_id)
        self._stamp = self.view.stamp
        return self.view

    def listen(self) -> list:
        """Match the live transcript's new segments against the guide and store the
        suggestions (on the caller's thread: the screen's view worker or `record`'s loop,
        never the audio thread). A failure here never touches the recording."""
        if self.listener is None:
            return []
        t0 = time.perf_counter()
        try:
            made = self.listener.poll(self.position_ms())
        except Exception:  # noqa: BLE001 - suggestions are a help; the recording goes on
            return []
        self.listen_ms.append((time.perf_counter() - t0) * 1000)
        return made

    # ------------------------------------------------------------------ keypresses

    def _submit(self, label: Said, fn: Callable[[], Any], pressed: float | None) -> bool:
        if self.stopping or self.writer is None:
            return False
        self.writer.submit(label, fn, pressed)
        return True

    def tag(self, tag: "TagKey", pressed: float | None = None) -> bool:
        from fieldkit.sessions.live import toggle_tag

        pos = self.position_at_key(pressed)
        db, sid, author = self.handle.db, self.session_id, self.author_id
        return self._submit(Said("tag", N_("tag {label}"), label=tag.label), lambda: self._remember(toggle_tag(db, sid, tag, pos, author)[0]),
                            pressed)

    def _remember(self, event):
        """(writer thread) The last tag or note stored: a seat digit typed next is about it."""
        self._last_event_id = event.id
        return event

    def about(self, seat: int, pressed: float | None = None) -> bool:
        """The seat digit typed right after a tag or note: the event just stored is about
        the participant in that seat. Queued behind the event's own write (the writer runs
        in order), so the event is always stored first, at its keypress time."""
        from fieldkit.sessions.roster import set_event_informant

        handle, sid = self.handle, self.session_id

        def job():
            event_id = getattr(self, "_last_event_id", None)
            return set_event_informant(handle, sid, event_id, seat) if event_id is not None else None

        return self._submit(Said("seat", N_("seat {n}"), n=seat), job, pressed)

    def cover(self, question_id: str, status: str, pressed: float | None = None, label: str = "") -> bool:
        from fieldkit.instruments.guides.coverage import set_coverage

        pos = self.position_at_key(pressed)
        db, sid, author = self.handle.db, self.session_id, self.author_id
        return self._submit(_written(status, label),
                            lambda: set_coverage(db, sid, question_id, status, position_ms=pos, author_id=author),
                            pressed)

    def answer_suggestion(self, suggestion_id: uuid.UUID, state: str, pressed: float | None = None,
                          label: str = "") -> bool:
        """Confirm or dismiss one of the guide's suggestions (through the event writer)."""
        from fieldkit.sessions.suggestions import answer

        db, sid, author = self.handle.db, self.session_id, self.author_id
        return self._submit(_written(state, label),
                            lambda: answer(db, sid, suggestion_id, state, author_id=author), pressed)

    def probe(self, probe_id: str, number: int, pressed: float | None = None) -> bool:
        from fieldkit.instruments.guides.coverage import probe_used

        pos = self.position_at_key(pressed)
        db, sid, author = self.handle.db, self.session_id, self.author_id
        return self._submit(Said("probe", N_("probe {n}"), n=number),
                            lambda: probe_used(db, sid, probe_id, position_ms=pos, author_id=author), pressed)

    def returned(self, theme_id: str, pressed: float | None = None) -> bool:
        from fieldkit.instruments.guides.coverage import returned_to

        pos = self.position_at_key(pressed)
        db, sid, author = self.handle.db, self.session_id, self.author_id
        return self._submit(Said("went_back", N_("went back")),
                            lambda: returned_to(db, sid, theme_id, position_ms=pos, author_id=author), pressed)

    def marker(self, pressed: float | None = None) -> bool:
        from fieldkit.instruments.events import add_event

        pos = self.position_at_key(pressed)
        db, sid, author = self.handle.db, self.session_id, self.author_id
        return self._submit(Said("mark", N_("mark")), lambda: add_event(db, sid, "marker", position_ms=pos, author_id=author),
                            pressed)

    def note(self, text: str, position_ms: int | None, pressed: float | None = None) -> bool:
        """A note whose time was taken when the researcher began it (``position_ms``)."""
        from fieldkit.instruments.events import add_event

        pos = position_ms if position_ms is not None else self.position_ms()
        db, sid, author = self.handle.db, self.session_id, self.author_id
        return self._submit(Said("note", N_("note")), lambda: self._remember(add_event(db, sid, "note", position_ms=pos,
                                                                     author_id=author, text=text)), pressed)

    def pending(self) -> int:
        return self.writer.pending() if self.writer is not None else 0

    # ------------------------------------------------------------------ pause / stop

    def toggle_pause(self) -> str:
        """Pause or resume the recording of this terminal; returns the new state."""
        if not self.can_pause:
            raise FieldkitError(_("Only the terminal that records can pause.") if self.observer
                                else _("Not recording."))
        if self.recorder.state == "recording":
            self.recorder.pause()
        else:
            self.recorder.resume()
        return self.recorder.state

    def stop(self) -> str:
        """End the interview: stop the recorder (finishing every captured second) or end
        a notes-only session. Returns what to tell the researcher. Safe after the
        recorder stopped itself (a full disk). Live transcription keeps going until
        :meth:`finish_transcript` (or the debrief screen waits for it)."""
        from fieldkit.sessions.plan import end_notes_only

        self.stopping = True
        if self.recorder is not None:
            if self.recorder.state == "idle":
                return Said("not_recording", N_("Not recording."))
            self.summary = self.recorder.stop()
            message = self.summary.message
        else:
            end_notes_only(self.handle, self.session_id)
            message = Said("ended", N_("The interview has ended."))
        self._news("stopped", message)
        return message

    def take_transcriber(self) -> "LiveTranscriber | None":
        """Hand the live transcriber over (the debrief screen waits for it to finish)."""
        transcriber, self.transcriber = self.transcriber, None
        return transcriber

    def finish_transcript(self, timeout: float = 600) -> bool:
        transcriber = self.take_transcriber()
        return transcriber.stop(timeout=timeout) if transcriber is not None else True

    def close(self) -> None:
        """Leaving: every queued keypress is stored, a recording still running is stopped
        cleanly (never dropped), live transcription is stopped."""
        if self.writer is not None:
            self.writer.close()
        if self.recorder is not None and self.recorder.state in ("recording", "paused"):
            try:
                self.recorder.stop()
            except FieldkitError:
                pass  # recovery finds it on the next start
        if self.transcriber is not None:
            self.transcriber.stop(timeout=5)
            self.transcriber = None

    @staticmethod
    def recover(handle: "ProjectHandle") -> list:
        """Finish every recording left unfinished (a crash, a kill, a full disk), and close
        the live transcription that died with it (its session is queued for the final
        pass). Each item has a ``message``."""
        from fieldkit.recording.recovery import recover_all
        from fieldkit.transcription.final import close_dead_live_runs

        return [*recover_all(handle), *close_dead_live_runs(handle)]

    # ------------------------------------------------------------------ callbacks

    def _stored(self, stored: "Stored") -> None:
        if stored.error is None:
            self.latencies.append(stored.latency_ms)
        if self.on_stored is not None:
            self.on_stored(stored)

    def _recorder_warning(self, w) -> None:
        if w.kind in WARNING_KINDS:
            self.warning = w.message.split(":")[0]   # the message's first part, already in the user's language
        elif w.kind in CLEARS_WARNING:
            self.warning = ""
        self._news(w.kind, w.message)

    def _news(self, kind: str, text: str) -> None:
        if self.on_news is not None:
            try:
                self.on_news(News(kind, text))
            except Exception:  # noqa: BLE001 - a closed screen must not stop the recorder
                pass


#: what a coverage key or a suggestion's answer stored, where a failed write names it
WRITTEN = {"covered": N_("covered"), "partly": N_("partly"), "skipped": N_("skipped"), "not_yet": N_("not yet"),
           "confirmed": N_("confirmed"), "dismissed": N_("dismissed")}


def _written(state: str, label: str) -> Said:
    """A coverage mark or a suggestion's answer (``state``) about a guide item (``label``),
    named where a write that failed is reported."""
    what = Said(state, WRITTEN[state]) if state in WRITTEN else state
    return Said("written", N_("{state}: {label}"), state=what, label=label[:40]) if label else what
