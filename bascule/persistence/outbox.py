"""The SQL of the notification outbox's delivery: claiming due rows and settling them."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import Connection, Row, or_, select, update

from bascule.notifications.model import FAILED, PENDING, SENT, Notification
from bascule.persistence import tables as t


def _notification(row: Row[Any]) -> Notification:
    return Notification(**row._asdict())


class OutboxRows:
    """The SQL of delivery over one connection; like every repository it never commits."""

    table = t.notifications

    def __init__(self, connection: Connection) -> None:
        self.connection = connection

    def claim(self, now: datetime, batch: int, lease_until: datetime) -> list[Notification]:
        c = self.table.c
        due = (
            select(c.id)
            .where(c.status == PENDING, or_(c.next_attempt_at.is_(None), c.next_attempt_at <= now))
            .order_by(c.next_attempt_at, c.created_at, c.id)
            .limit(batch)
        )
        if self.connection.dialect.name == "postgresql":
            due = due.with_for_update(skip_locked=True)
        ids = list(self.connection.execute(due).scalars())
        if not ids:
            return []
        claimed = self.connection.execute(
            update(self.table)
            .where(c.id.in_(ids), c.status == PENDING)
            .values(attempts=c.attempts + 1, next_attempt_at=lease_until)
            .returning(*self.table.c)
        )
        return sorted((_notification(row) for row in claimed), key=lambda n: (n.created_at, n.id))

    def _settle(self, claimed: Notification, **values: Any) -> bool:
        """Write an outcome only over our own claim (same attempt, still pending)."""
        c = self.table.c
        result = self.connection.execute(
            update(self.table)
            .where(c.id == claimed.id, c.status == PENDING, c.attempts == claimed.attempts)
            .values(**values)
        )
        return result.rowcount == 1

    def sent(self, claimed: Notification, at: datetime) -> bool:
        return self._settle(claimed, status=SENT, sent_at=at, next_attempt_at=None)

    def retry(self, claimed: Notification, at: datetime) -> bool:
        return self._settle(claimed, next_attempt_at=at)

    def failed(self, claimed: Notification) -> bool:
        return self._settle(claimed, status=FAILED, next_attempt_at=None)
