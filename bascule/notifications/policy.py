"""When a message that did not go out is tried again: exponential backoff with jitter, then `failed`."""

from __future__ import annotations

import random
from dataclasses import dataclass, field
from datetime import timedelta
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from bascule.settings import Settings


@dataclass(frozen=True)
class RetryPolicy:
    max_attempts: int = 5
    base_seconds: float = 30.0
    cap_seconds: float = 3600.0
    # How long a claimed message is kept from other deliverers while it is being sent: longer than any
    # send can take, so that a row is sent once; if its deliverer dies, the row is due again after it.
    lease_seconds: float = 300.0
    rng: random.Random = field(default_factory=random.Random, compare=False, repr=False)

    @classmethod
    def from_settings(cls, settings: Settings) -> RetryPolicy:
        return cls(
            max_attempts=max(1, settings.notify_max_attempts),
            base_seconds=max(0.0, float(settings.notify_retry_seconds)),
        )

    @property
    def lease(self) -> timedelta:
        return timedelta(seconds=self.lease_seconds)

    def ceiling(self, attempts: int) -> float:
        """The longest wait after `attempts` failed attempts (base, 2×base, 4×base… up to the cap)."""
        return float(min(self.cap_seconds, self.base_seconds * 2 ** max(0, attempts - 1)))

    def delay(self, attempts: int) -> timedelta:
        """A wait between half the ceiling and the ceiling ("equal jitter"), so retries spread out."""
        ceiling = self.ceiling(attempts)
        return timedelta(seconds=ceiling / 2 + self.rng.uniform(0, ceiling / 2))

    def gives_up_after(self, attempts: int) -> bool:
        return attempts >= self.max_attempts
