"""The SQL of the notification outbox's delivery: claiming due rows and settling them."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import Connection, Row, String, Update, any_, bindparam, or_, select, update
from sqlalchemy.dialects import postgresql

from bascule.notifications.model import FAILED, PENDING, SENT, Notification
from bascule.persistence import tables as t
from bascule.persistence.compiled import run, run_many, written_in


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


_DUE = {locks: _due(locks=locks) for locks in (False, True)}


def _claiming(ids: Any) -> Update:
    """The claim of the rows whose ids `ids` gives (an attempt counted, the lease set), returning them."""
    return (
        update(t.notifications)
        .where(ids, t.notifications.c.status == PENDING)
        .values(attempts=t.notifications.c.attempts + 1, next_attempt_at=bindparam("lease_until"))
        .returning(*t.notifications.c)
    )


# PostgreSQL takes the ids as one array: one statement, prepared once, whatever their number (`jobs.py` alike).
_CLAIM = {
    True: _claiming(t.notifications.c.id == any_(bindparam("ids", type_=postgresql.ARRAY(String)))),
    False: _claiming(t.notifications.c.id.in_(bindparam("ids", expanding=True))),
}


def _notification(row: Row[Any]) -> Notification:
    return Notification(**row._asdict())


class OutboxRows:
    """The SQL of delivery over one connection; like every repository it never commits."""

    def __init__(self, connection: Connection) -> None:
        self.connection = connection

    def claim(self, now: datetime, batch: int, lease_until: datetime) -> list[Notification]:
        on_postgresql = self.connection.dialect.name == "postgresql"
        ids = run(self.connection, _DUE[on_postgresql], {"now": now, "batch": batch}).scalars()
        if not ids:
            return []
        claimed = run(self.connection, _CLAIM[on_postgresql], {"ids": ids, "lease_until": lease_until})
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
