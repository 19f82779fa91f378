"""The SQL of the notification outbox's delivery: claiming due rows and settling them.

A claim is one statement: an UPDATE of the due rows a subquery picks, oldest first, returning them; on
PostgreSQL that subquery (a materialized CTE, `statements.picked`) locks them `FOR UPDATE SKIP LOCKED`, so
concurrent deliverers never take the same row.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import Connection, Row, Update, bindparam, or_, select, update

from bascule.notifications.model import FAILED, PENDING, SENT, Notification
from bascule.persistence import tables as t
from bascule.persistence.compiled import run, run_many, written_in
from bascule.persistence.statements import picked


def _settling(**values: Any) -> Update:
    """An outcome written only over our own claim (same attempt, still pending); built once."""
    c = t.notifications.c
    return (
        update(t.notifications)
        .where(c.id == bindparam("claimed_id"), c.status == PENDING, c.attempts == bindparam("claimed_attempts"))
        .values(**values)
    )


# Every profile change and every one-time code is a message: settling one is on the hot path of the worker.
_SENT = _settling(status=SENT, sent_at=bindparam("settled_at"), next_attempt_at=None)
_RETRY = _settling(next_attempt_at=bindparam("settled_at"))
_FAILED = _settling(status=FAILED, next_attempt_at=None)


def _due(*, locks: bool) -> Any:
    """The rows due now, oldest first (`batch` of them); built once per shape."""
    c = t.notifications.c
    now: Any = bindparam("now")
    due = (
        select(c.id)
        .where(c.status == written_in(PENDING), or_(c.next_attempt_at.is_(None), c.next_attempt_at <= now))
        .order_by(c.next_attempt_at, c.created_at, c.id)
        .limit(bindparam("batch"))
    )
    return due.with_for_update(skip_locked=True) if locks else due


def _claiming(*, locks: bool) -> Update:
    """The claim of the due rows (an attempt counted, the lease set) in one statement, returning them; built
    once per shape. The subquery runs once, so it locks, and the UPDATE changes, `batch` rows at most
    (`picked`); the UPDATE checks again that each is still pending."""
    return (
        update(t.notifications)
        .where(t.notifications.c.id.in_(picked(_due(locks=locks), locks=locks)), t.notifications.c.status == PENDING)
        .values(attempts=t.notifications.c.attempts + 1, next_attempt_at=bindparam("lease_until"))
        .returning(*t.notifications.c)
    )


_CLAIM = {locks: _claiming(locks=locks) for locks in (False, True)}


def _notification(row: Row[Any]) -> Notification:
    return Notification(**row._asdict())


class OutboxRows:
    """The SQL of delivery over one connection; like every repository it never commits."""

    def __init__(self, connection: Connection) -> None:
        self.connection = connection

    def claim(self, now: datetime, batch: int, lease_until: datetime) -> list[Notification]:
        on_postgresql = self.connection.dialect.name == "postgresql"
        params = {"now": now, "batch": batch, "lease_until": lease_until}
        claimed = run(self.connection, _CLAIM[on_postgresql], params)
        return sorted((_notification(row) for row in claimed), key=lambda n: (n.created_at, n.id))

    def _settle(self, statement: Update, claimed: Notification, at: datetime | None = None) -> bool:
        params = {"claimed_id": claimed.id, "claimed_attempts": claimed.attempts}
        if at is not None:
            params["settled_at"] = at
        return bool(run(self.connection, statement, params).rowcount == 1)

    def sent(self, sent: Sequence[tuple[Notification, datetime]]) -> int:
        rows = [{"claimed_id": n.id, "claimed_attempts": n.attempts, "settled_at": at} for n, at in sent]
        if len(rows) == 1:
            return int(run(self.connection, _SENT, rows[0]).rowcount)
        return run_many(self.connection, _SENT, rows) if rows else 0  # one statement, many rows

    def retry(self, claimed: Notification, at: datetime) -> bool:
        return self._settle(_RETRY, claimed, at)

    def failed(self, claimed: Notification) -> bool:
        return self._settle(_FAILED, claimed)
