"""Login throttling: failures counted per (identifier, address) and per address in a sliding window.

Five failures for one identifier from one address within 15 minutes block that pair until the oldest
failure leaves the window; a looser cap per address stops one machine spraying many identifiers.
Time is read from the context's clock, so tests move it like every other rule that depends on time.
Counters live in the process (one uvicorn worker); a multi-process deployment needs a shared store.
"""

from __future__ import annotations

import threading
from collections import defaultdict, deque
from datetime import datetime, timedelta

from bascule.kernel.clock import Clock
from bascule.kernel.errors import DomainError, ErrorCode

WINDOW = timedelta(minutes=15)
PER_IDENTIFIER = 5
PER_ADDRESS = 30


class LoginThrottle:
    def __init__(self, clock: Clock, window: timedelta = WINDOW, per_identifier: int = PER_IDENTIFIER,
                 per_address: int = PER_ADDRESS) -> None:
        self._clock = clock
        self._window = window
        self._limits = {"id": per_identifier, "ip": per_address}
        self._failures: dict[tuple[str, ...], deque[datetime]] = defaultdict(deque)
        self._lock = threading.Lock()

    def _keys(self, space: str, identifier: str, address: str) -> list[tuple[tuple[str, ...], int]]:
        return [
            ((space, "id", identifier.strip().lower(), address), self._limits["id"]),
            ((space, "ip", address), self._limits["ip"]),
        ]

    def _recent(self, key: tuple[str, ...], now: datetime) -> deque[datetime]:
        failures = self._failures[key]
        while failures and failures[0] <= now - self._window:
            failures.popleft()
        return failures

    def check(self, space: str, identifier: str, address: str) -> None:
        """Refuse (too-many-requests) while either counter is at its limit."""
        now = self._clock.now()
        with self._lock:
            for key, limit in self._keys(space, identifier, address):
                failures = self._recent(key, now)
                if len(failures) >= limit:
                    free_at = failures[-limit] + self._window
                    minutes = max(1, -(-int((free_at - now).total_seconds()) // 60))
                    raise DomainError(
                        ErrorCode.TOO_MANY_REQUESTS,
                        f"Trop de tentatives de connexion infructueuses. Réessayez dans {minutes} minute"
                        f"{'s' if minutes > 1 else ''}.",
                    )

    def failed(self, space: str, identifier: str, address: str) -> None:
        now = self._clock.now()
        with self._lock:
            for key, _ in self._keys(space, identifier, address):
                self._recent(key, now).append(now)

    def succeeded(self, space: str, identifier: str, address: str) -> None:
        with self._lock:
            self._failures.pop(self._keys(space, identifier, address)[0][0], None)

    def clear(self) -> None:
        with self._lock:
            self._failures.clear()
