"""Finding a session from what a researcher types: its id, an id prefix, or its title."""

from __future__ import annotations

import uuid

from sqlmodel import select

from fieldkit.errors import FieldkitError
from fieldkit.store.models import Session


def find_session(handle, ref: str) -> Session:  # noqa: ANN001 - ProjectHandle
    ref = ref.strip()
    with handle.db.session() as s:
        sessions = s.exec(select(Session).where(Session.project_id == handle.project_id)).all()
    try:
        exact = uuid.UUID(ref)
        matches = [x for x in sessions if x.id == exact]
    except ValueError:
        key = ref.lower().replace("-", "")
        matches = [x for x in sessions if x.id.hex.startswith(key)] if len(key) >= 4 else []
        matches = matches or [x for x in sessions if x.title.lower() == ref.lower()]
    if len(matches) == 1:
        return matches[0]
    if not matches:
        raise FieldkitError(f"No session {ref!r} in this project.",
                            hint="Give its id (or the first 6+ characters) or its exact title.")
    raise FieldkitError(f"{ref!r} matches {len(matches)} sessions.", hint="Give more of the id.")
