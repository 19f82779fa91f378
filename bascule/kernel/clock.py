"""The one clock every time-dependent rule reads; tests and the test-clock endpoint set it."""

from __future__ import annotations

import threading
from datetime import UTC, datetime
from typing import Protocol


class Clock(Protocol):
    def now(self) -> datetime:
        """An aware instant."""
        ...


class SystemClock:
    def now(self) -> datetime:
        return datetime.now(UTC)


class SettableClock:
    """Frozen at the instant it was set to; follows the system clock until set."""

    def __init__(self, start: datetime | None = None) -> None:
        self._lock = threading.Lock()
        self._frozen: datetime | None = None
        if start is not None:
            self.set(start)

    def now(self) -> datetime:
        with self._lock:
            frozen = self._frozen
        return frozen if frozen is not None else datetime.now(UTC)

    def set(self, instant: datetime) -> None:
        if instant.tzinfo is None or instant.utcoffset() is None:
            raise ValueError("the clock needs an instant with an offset")
        with self._lock:
            self._frozen = instant

    def advance(self, **delta: float) -> datetime:
        from datetime import timedelta

        with self._lock:
            base = self._frozen if self._frozen is not None else datetime.now(UTC)
            self._frozen = base + timedelta(**delta)
            return self._frozen
