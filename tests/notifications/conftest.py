"""A recording sender that can be told to fail, and outbox rows read straight from the table."""

from __future__ import annotations

import threading
import time
from collections import Counter
from datetime import datetime
from typing import Any

from sqlalchemy import select

from bascule.context import Context
from bascule.notifications import DeliveryError, notify
from bascule.notifications.model import Notification
from bascule.persistence import tables as t


class RecordingSender:
    """Records every message handed to it; `failures[id]` is a list of errors to raise first, in order."""

    channels = frozenset({"sms", "email"})

    def __init__(self, failures: dict[str, list[Exception]] | None = None, pause: float = 0.0) -> None:
        self.failures = failures or {}
        self.pause = pause
        self.sent: list[Notification] = []
        self.tries: Counter[str] = Counter()
        self._lock = threading.Lock()

    def send(self, notification: Notification) -> None:
        if self.pause:
            time.sleep(self.pause)  # a network round trip, so that concurrent deliverers interleave
        with self._lock:
            self.tries[notification.id] += 1
            pending = self.failures.get(notification.id)
            if pending:
                raise pending.pop(0)
            self.sent.append(notification)


def retryable(reason: str = "gateway busy") -> DeliveryError:
    return DeliveryError(reason, retryable=True)


def final(reason: str = "no such recipient") -> DeliveryError:
    return DeliveryError(reason, retryable=False)


def queue(ctx: Context, *messages: tuple[str, str, str | None, str], at: datetime | None = None) -> list[str]:
    """Write outbox rows in one committed transaction; their ids in order."""
    now = at or ctx.clock.now()
    with ctx.uow() as uow:
        ids = [notify(uow, channel, to, subject, body, now).id for channel, to, subject, body in messages]
        uow.commit()
    return ids


def rows(ctx: Context) -> dict[str, Any]:
    with ctx.uow(write=False) as uow:
        return {row.id: row for row in uow.connection.execute(select(t.notifications))}
