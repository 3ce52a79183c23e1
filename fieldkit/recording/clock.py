"""The session clock: the audio position of "now", from the database alone.

Every event (note, tag, coverage change) carries its position on this clock. The
recorder stores an anchor on its Recording row (``clock_ms`` at wall time ``clock_wall``)
when it starts, pauses, resumes, and every few seconds from the real sample count; any
process, such as the observer's terminal, computes the same position from the anchor:
``clock_ms + (now - clock_wall)`` while recording, ``clock_ms`` while paused (pauses do not
advance the clock). Without a running recording the clock stands at the end of the
audio recorded so far; a session with no recording at all has no position (None).
"""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import TYPE_CHECKING

from sqlmodel import select

from fieldkit.store.models import Recording, RecordingFile, RecordingState, utcnow

if TYPE_CHECKING:
    from fieldkit.store.db import Database


def position_ms(db: "Database", session_id: uuid.UUID, now: datetime | None = None) -> int | None:
    with db.session() as s:
        recs = s.exec(select(Recording).where(Recording.session_id == session_id)
                      .order_by(Recording.started_at)).all()
        if not recs:
            return None
        live = [r for r in recs if r.state in (RecordingState.recording, RecordingState.paused)
                and r.clock_wall is not None]
        if live:
            r = live[-1]
            if r.state == RecordingState.paused:
                return r.clock_ms
            delta = ((now or utcnow()) - r.clock_wall).total_seconds() * 1000
            return r.clock_ms + max(0, int(delta))
        ends = s.exec(select(RecordingFile).join(Recording).where(Recording.session_id == session_id)).all()
        return max((f.offset_ms + f.duration_ms for f in ends), default=0)
