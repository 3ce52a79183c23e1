"""The project's deletion deadline (agreed with Sikt): warnings from 30 days before."""

from __future__ import annotations

from datetime import date

WARN_DAYS = 30


def deadline_warning(deadline: date | None, sikt_reference: str | None = None,
                     today: date | None = None) -> str | None:
    """A sentence for the user when the deadline is near or past, else None."""
    if deadline is None:
        return None
    days = (deadline - (today or date.today())).days
    ref = f" (Sikt ref. {sikt_reference})" if sikt_reference else ""
    if days < 0:
        return (f"The deletion deadline{ref} passed {-days} days ago ({deadline}): "
                "remove raw audio and personal data now.")
    if days <= WARN_DAYS:
        return f"Deletion deadline{ref} in {days} days ({deadline})."
    return None
