"""The project's deletion deadline (agreed with Sikt): warnings from 30 days before."""

from __future__ import annotations

from datetime import date

from fieldkit.i18n import N_plural, Said

WARN_DAYS = 30

#: (with a Sikt reference, without): the deadline has passed / is near
_PASSED = (N_plural("The deletion deadline (Sikt ref. {ref}) passed {n} day ago ({deadline}): "
                    "remove raw audio and personal data now.",
                    "The deletion deadline (Sikt ref. {ref}) passed {n} days ago ({deadline}): "
                    "remove raw audio and personal data now."),
           N_plural("The deletion deadline passed {n} day ago ({deadline}): remove raw audio and personal "
                    "data now.",
                    "The deletion deadline passed {n} days ago ({deadline}): remove raw audio and personal "
                    "data now."))
_NEAR = (N_plural("Deletion deadline (Sikt ref. {ref}) in {n} day ({deadline}).",
                  "Deletion deadline (Sikt ref. {ref}) in {n} days ({deadline})."),
         N_plural("Deletion deadline in {n} day ({deadline}).", "Deletion deadline in {n} days ({deadline})."))


def deadline_warning(deadline: date | None, sikt_reference: str | None = None,
                     today: date | None = None) -> str | None:
    """A sentence for the user when the deadline is near or past, else None (a
    :class:`~fieldkit.i18n.Said`: kind ``deadline.passed`` or ``deadline.near``, worded
    in the user's language, the date as the language writes it)."""
    if deadline is None:
        return None
    days = (deadline - (today or date.today())).days
    refs = {"ref": sikt_reference} if sikt_reference else {}
    if days < 0:
        return Said("deadline.passed", _PASSED[0 if sikt_reference else 1], n=-days, deadline=deadline, **refs)
    if days <= WARN_DAYS:
        return Said("deadline.near", _NEAR[0 if sikt_reference else 1], n=days, deadline=deadline, **refs)
    return None
