"""Calendar months in a customer's zone: periods, billing cycles and day-count proration."""

from __future__ import annotations

import calendar as _calendar
import re
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from fractions import Fraction
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

_PERIOD = re.compile(r"(\d{4})-(0[1-9]|1[0-2])", re.ASCII)


def zone(name: str) -> ZoneInfo:
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError, OSError):  # OSError: "Europe" is a folder of the zone database
        raise ValueError(f"unknown time zone {name!r}") from None


def local_date(instant: datetime, tz: ZoneInfo) -> date:
    if instant.tzinfo is None:
        raise ValueError("a naive datetime has no place in Bascule")
    return instant.astimezone(tz).date()


@dataclass(frozen=True, slots=True, order=True)
class Period:
    """A calendar month: the billing cycle of Line A and the limit window of both lines."""

    year: int
    month: int

    def __post_init__(self) -> None:
        if not 1 <= self.month <= 12 or not 1 <= self.year <= 9999:
            raise ValueError(f"no such month {self.year}-{self.month}")

    @classmethod
    def parse(cls, text: str) -> Period:
        match = _PERIOD.fullmatch(text)
        if match is None:
            raise ValueError(f"{text!r} is not a period YYYY-MM")
        return cls(int(match.group(1)), int(match.group(2)))

    @classmethod
    def containing(cls, day: date) -> Period:
        return cls(day.year, day.month)

    @classmethod
    def at(cls, instant: datetime, tz: ZoneInfo) -> Period:
        return cls.containing(local_date(instant, tz))

    @property
    def first_day(self) -> date:
        return date(self.year, self.month, 1)

    @property
    def last_day(self) -> date:
        return date(self.year, self.month, self.days)

    @property
    def days(self) -> int:
        return _calendar.monthrange(self.year, self.month)[1]

    def next(self) -> Period:
        return Period(self.year + self.month // 12, self.month % 12 + 1)

    def previous(self) -> Period:
        return Period(self.year - (self.month == 1), (self.month - 2) % 12 + 1)

    def previous_by(self, months: int) -> Period:
        index = self.year * 12 + self.month - 1 - months
        return Period(index // 12, index % 12 + 1)

    def start_instant(self, tz: ZoneInfo) -> datetime:
        """Local midnight of the first day, as an aware instant."""
        return datetime.combine(self.first_day, time(0), tzinfo=tz)

    def end_instant(self, tz: ZoneInfo) -> datetime:
        """Local midnight of the next month's first day (exclusive end)."""
        return self.next().start_instant(tz)

    def __contains__(self, day: object) -> bool:
        return isinstance(day, date) and (day.year, day.month) == (self.year, self.month)

    def __str__(self) -> str:
        return f"{self.year:04d}-{self.month:02d}"


def remaining_fraction(effective_on: date, period: Period) -> Fraction:
    """Days from `effective_on` (inclusive) to the cycle's last day (inclusive), over the cycle's days."""
    if effective_on not in period:
        raise ValueError(f"{effective_on} is outside the cycle {period}")
    remaining_days = (period.last_day - effective_on).days + 1
    return Fraction(remaining_days, period.days)


def days_remaining(effective_on: date, period: Period) -> int:
    return (period.last_day - effective_on).days + 1


def periods_between(first: Period, last: Period) -> list[Period]:
    """Every period from first to last, both included."""
    result: list[Period] = []
    current = first
    while current <= last:
        result.append(current)
        current = current.next()
    return result


def add_days(instant: datetime, days: int, tz: ZoneInfo) -> datetime:
    """Same local wall time `days` later, across DST changes."""
    local = instant.astimezone(tz)
    return datetime.combine(local.date() + timedelta(days=days), local.timetz().replace(tzinfo=None), tzinfo=tz)
