"""A message of the outbox, as the use cases and the senders see it."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

PENDING, SENT, FAILED = "pending", "sent", "failed"  # the states of an outbox row


@dataclass(frozen=True, slots=True)
class Notification:
    """A message of the outbox, sent after commit by a worker."""

    id: str
    channel: str
    to: str
    subject: str | None
    body: str
    created_at: datetime
    status: str
    attempts: int
    next_attempt_at: datetime | None
    sent_at: datetime | None
