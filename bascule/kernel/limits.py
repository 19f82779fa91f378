"""The monthly limit of both lines: so many changes per calendar month, then a refusal naming the next day."""

from __future__ import annotations

from enum import StrEnum

from bascule.kernel.calendar import Period
from bascule.kernel.errors import DomainError, ErrorCode


class Limited(StrEnum):
    """What a line's monthly limit counts (bascule.kernel.messages_fr words each)."""

    CHANGE_REQUEST = "change-request"  # Line A: requests to change a service (rule 6)
    PROFILE_CHANGE = "profile-change"  # Line B: moves to another profile


def monthly_limit_reached(limit: int, period: Period, unit: Limited) -> DomainError:
    """The refusal once `limit` changes of `unit` are made in `period`, naming the day a new one is possible."""
    return DomainError(ErrorCode.MONTHLY_LIMIT_REACHED, limit=limit, unit=unit.value, next_on=period.next().first_day)


def monthly_slot_refusal(limit: int, slots_used: int, period: Period, unit: Limited) -> DomainError | None:
    """None while the month has a slot left; else the refusal. Channels show it before any form; use cases raise it."""
    return None if slots_used < limit else monthly_limit_reached(limit, period, unit)
