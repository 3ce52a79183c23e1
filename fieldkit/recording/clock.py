"""The session clock: the audio position of "now", and how it is written.

Every event (note, tag, coverage change) carries its position on this clock. The
recorder stores an anchor on its Recording row (``clock_ms`` at wall time ``clock_wall``)
when it starts, pauses, resumes, and every few seconds from the real sample count; any
process, such as the observer's terminal, computes the same position from the anchor:
``clock_ms + (now - clock_wall)`` while recording, ``clock_ms`` while paused (pauses do not
advance the clock). Without a running recording the clock stands at the end of the
audio recorded so far; a session with no recording at all has no position (None).

:func:`position_at` is that rule, the one place it is computed (the recorder, the live
view and :func:`position_ms` all call it); :func:`hms` is the one way a position is
written (``01:02:03``). This module imports nothing heavy at the top.
"""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from fieldkit.store.db import Database


def _epoch(t: datetime | float) -> float:
    return t.timestamp() if isinstance(t, datetime) else float(t)


def position_at(state: str, clock_ms: int, clock_wall: datetime | float | None,
                now: datetime | float) -> int:
    """The clock at ``now`` from an anchor: ``clock_ms`` at ``clock_wall`` (a datetime or
    epoch seconds). It runs only while ``state`` is "recording"."""
    if state != "recording" or clock_wall is None:
        return clock_ms
    return clock_ms + max(0, int((_epoch(now) - _epoch(clock_wall)) * 1000))


def hms(ms: int | None) -> str:
    """A position as hh:mm:ss ("--:--:--" for none)."""
    if ms is None:
        return "--:--:--"
    s = max(0, int(ms)) // 1000
    return f"{s // 3600:02d}:{s // 60 % 60:02d}:{s % 60:02d}"


def duration_text(seconds: float) -> str:
    """A stretch of time in words: "40 seconds", "1 minute", "12 minutes", "2 hours"."""
    from fieldkit.i18n import ngettext

    seconds = max(0.0, seconds)
    if seconds < 60:
        n = int(seconds)
        return ngettext("{n} second", "{n} seconds", n).format(n=n)
    if seconds < 2 * 3600:
        n = int(seconds // 60)
        return ngettext("{n} minute", "{n} minutes", n).format(n=n)
    n = int(seconds // 3600)
    return ngettext("{n} hour", "{n} hours", n).format(n=n)


def position_ms(db: "Database", session_id: uuid.UUID, now: datetime | None = None) -> int | None:
    from sqlmodel import select

    from fieldkit.store.models import Recording, RecordingFile, RecordingState, utcnow

    with db.session() as s:
        recs = s.exec(select(Recording).where(Recording.session_id == session_id)
                      .order_by(Recording.started_at)).all()
        if not recs:
            return None
        live = [r for r in recs if r.state in (RecordingState.recording, RecordingState.paused)
                and r.clock_wall is not None]
        if live:
            r = live[-1]
            return position_at(r.state.value, r.clock_ms, r.clock_wall, now or utcnow())
        ends = s.exec(select(RecordingFile).join(Recording).where(Recording.session_id == session_id)).all()
        return max((f.offset_ms + f.duration_ms for f in ends), default=0)
