"""The notification outbox: rows written in a use case's transaction, delivered after commit.

`notify` writes a row inside the caller's unit of work. `deliver_pending` is the worker's step:

1. claim — in one short transaction, take the due `pending` rows (PostgreSQL: `FOR UPDATE SKIP
   LOCKED`, so two deliverers take different rows; SQLite: writers are serialised already), count
   the attempt and push `next_attempt_at` a lease ahead, so no other deliverer takes them meanwhile;
2. send each message outside any transaction;
3. record the outcome, guarded by the attempt number claimed: `sent` with `sent_at`; or, on a
   retryable failure, `pending` again after a backoff with jitter; `failed` once the attempts are
   spent or on a final refusal.

A row is thus sent at most once by deliverers that stay alive; one that dies between sending and
recording leaves the row due again when the lease ends (the one case of a second send).
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

import structlog
from sqlalchemy import Connection, Row, or_, select, update

from bascule.context import Context
from bascule.kernel.ids import new_id
from bascule.notifications.policy import RetryPolicy
from bascule.notifications.senders import DeliveryError, NotificationSender
from bascule.persistence import tables as t
from bascule.persistence.uow import UnitOfWork
from bascule.prepaid.model import Notification

log = structlog.get_logger("bascule.notifications")

PENDING, SENT, FAILED = "pending", "sent", "failed"
CHANNELS = ("sms", "email")


def notify(uow: UnitOfWork, channel: str, to: str, subject: str | None, body: str, now: datetime) -> Notification:
    """Queue a message in the caller's transaction (it goes out only if the use case commits)."""
    if channel not in CHANNELS:
        raise ValueError(f"notification channel must be one of {CHANNELS}, not {channel!r}")
    notification = Notification(new_id("ntf"), channel, to, subject, body, now, PENDING, 0, now, None)
    uow.notifications.add(notification)
    return notification


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


def _policy_of(sender: NotificationSender, policy: RetryPolicy | None) -> RetryPolicy:
    if policy is not None:
        return policy
    found = getattr(sender, "retry_policy", None)
    return found if isinstance(found, RetryPolicy) else RetryPolicy()


def deliver_pending(ctx: Context, sender: NotificationSender, batch: int = 100, *,
                    policy: RetryPolicy | None = None) -> int:
    """Send the due messages of the outbox (at most `batch`); the number sent.

    The retry policy is `policy`, else the sender's own (`sender_from_settings` gives it the
    settings' one), else the defaults.
    """
    policy = _policy_of(sender, policy)
    now = ctx.clock.now()
    with ctx.uow() as uow:
        claimed = OutboxRows(uow.connection).claim(now, batch, now + policy.lease)
        uow.commit()
    return sum(_deliver_one(ctx, sender, policy, notification) for notification in claimed)


def _deliver_one(ctx: Context, sender: NotificationSender, policy: RetryPolicy, claimed: Notification) -> bool:
    bound = log.bind(notification_id=claimed.id, channel=claimed.channel, attempt=claimed.attempts)
    try:
        sender.send(claimed)
    except DeliveryError as error:
        _record_failure(ctx, policy, claimed, error.reason, retryable=error.retryable)
        return False
    except Exception as error:
        bound.exception("notification.sender_crashed")
        _record_failure(ctx, policy, claimed, type(error).__name__, retryable=True)
        return False
    with ctx.uow() as uow:
        recorded = OutboxRows(uow.connection).sent(claimed, ctx.clock.now())
        uow.commit()
    if not recorded:
        bound.warning("notification.claim_lost")
    return True


def _record_failure(ctx: Context, policy: RetryPolicy, claimed: Notification, reason: str, *, retryable: bool) -> None:
    bound = log.bind(notification_id=claimed.id, channel=claimed.channel, attempt=claimed.attempts, reason=reason)
    final = not retryable or policy.gives_up_after(claimed.attempts)
    with ctx.uow() as uow:
        rows = OutboxRows(uow.connection)
        if final:
            rows.failed(claimed)
        else:
            next_at = ctx.clock.now() + policy.delay(claimed.attempts)
            rows.retry(claimed, next_at)
        uow.commit()
    if final:
        bound.warning("notification.failed", retryable=retryable)
    else:
        bound.info("notification.retry_scheduled")
