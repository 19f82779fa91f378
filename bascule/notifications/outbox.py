"""The notification outbox: rows written in a use case's transaction, delivered after commit.

`notify` writes a row inside the caller's unit of work. `deliver_pending` is the worker's step:

1. claim — in one statement of a short transaction, take the due `pending` rows (PostgreSQL: `FOR
   UPDATE SKIP LOCKED`, so two deliverers take different rows; SQLite: writers are serialised already),
   count the attempt and push `next_attempt_at` a lease ahead, so no other deliverer takes them meanwhile;
2. send each message outside any transaction;
3. record the outcome, guarded by the attempt number claimed: `sent` with `sent_at`, for up to
   `SENT_RECORDED_TOGETHER` messages in one transaction; or, on a retryable failure, `pending` again
   after a backoff with jitter; `failed` once the attempts are spent or on a final refusal.

A row is thus sent at most once by deliverers that stay alive; one that dies between sending and
recording leaves the rows sent since its last record due again when the lease ends (the one case of a
second send).
"""

from __future__ import annotations

from datetime import datetime

import structlog

from bascule.context import Context
from bascule.kernel.ids import new_id
from bascule.notifications.model import PENDING, Notification
from bascule.notifications.policy import RetryPolicy
from bascule.notifications.ports import NotificationsUnit as Unit
from bascule.notifications.senders import DeliveryError, NotificationSender

Ctx = Context[Unit]  # the context as these use cases see it: their ports, no database

log = structlog.get_logger("bascule.notifications")

CHANNELS = ("sms", "email")
# Messages sent are recorded this many at a time: one transaction instead of one per message, while a
# deliverer that dies before recording leaves only these few to be sent again when their lease ends.
SENT_RECORDED_TOGETHER = 16


def notify(uow: Unit, channel: str, to: str, subject: str | None, body: str, now: datetime) -> Notification:
    """Queue a message in the caller's transaction (it goes out only if the use case commits)."""
    if channel not in CHANNELS:
        raise ValueError(f"notification channel must be one of {CHANNELS}, not {channel!r}")
    notification = Notification(new_id("ntf"), channel, to, subject, body, now, PENDING, 0, now, None)
    uow.notifications.add(notification)
    return notification


def _policy_of(sender: NotificationSender, policy: RetryPolicy | None) -> RetryPolicy:
    if policy is not None:
        return policy
    found = getattr(sender, "retry_policy", None)
    return found if isinstance(found, RetryPolicy) else RetryPolicy()


def deliver_pending(
    ctx: Ctx, sender: NotificationSender, batch: int = 100, *, policy: RetryPolicy | None = None
) -> int:
    """Send the due messages of the outbox (at most `batch`); the number sent.

    The retry policy is `policy`, else the sender's own (`sender_from_settings` gives it the
    settings' one), else the defaults.
    """
    policy = _policy_of(sender, policy)
    now = ctx.clock.now()
    with ctx.uow() as uow:
        claimed = uow.outbox.claim(now, batch, now + policy.lease)
        uow.commit()
    sent: list[tuple[Notification, datetime]] = []
    count = 0
    for notification in claimed:
        if _send_one(ctx, sender, policy, notification):
            sent.append((notification, ctx.clock.now()))
            count += 1
        if len(sent) == SENT_RECORDED_TOGETHER:
            _record_sent(ctx, sent)
            sent = []
    _record_sent(ctx, sent)
    return count


def _send_one(ctx: Ctx, sender: NotificationSender, policy: RetryPolicy, claimed: Notification) -> bool:
    """Hand one message to its sender; a failure is recorded at once, a success by `_record_sent`."""
    try:
        sender.send(claimed)
    except DeliveryError as error:
        _record_failure(ctx, policy, claimed, error.reason, retryable=error.retryable)
        return False
    except Exception as error:
        log.bind(notification_id=claimed.id, channel=claimed.channel, attempt=claimed.attempts).exception(
            "notification.sender_crashed"
        )
        _record_failure(ctx, policy, claimed, type(error).__name__, retryable=True)
        return False
    return True


def _record_sent(ctx: Ctx, sent: list[tuple[Notification, datetime]]) -> None:
    """The messages sent, recorded in one transaction (one statement for them all)."""
    if not sent:
        return
    with ctx.uow() as uow:
        recorded = uow.outbox.sent(sent)
        uow.commit()
    if recorded < len(sent):  # a lease ran out and another deliverer re-claimed: its outcome stands
        log.warning("notification.claim_lost", notifications=len(sent) - recorded, of=len(sent))


def _record_failure(ctx: Ctx, policy: RetryPolicy, claimed: Notification, reason: str, *, retryable: bool) -> None:
    bound = log.bind(notification_id=claimed.id, channel=claimed.channel, attempt=claimed.attempts, reason=reason)
    final = not retryable or policy.gives_up_after(claimed.attempts)
    with ctx.uow() as uow:
        rows = uow.outbox
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
