"""Notifications: an outbox written by use cases, delivered after commit by a worker.

- `notify(uow, channel, to, subject, body, now)` — queue a message in the use case's transaction.
- `deliver_pending(ctx, sender, batch=100) -> int` — one step of the worker: claim the due rows,
  send them outside the transaction, record sent / retry later / failed. Safe with several
  deliverers at once (each row is claimed by one).
- `sender_from_settings(settings)` — the sender named by `BASCULE_NOTIFY` (`log`, `smtp`,
  `sms-http`, or several comma-separated), carrying the retry policy of the settings.
"""

from __future__ import annotations

from bascule.notifications.outbox import deliver_pending, notify
from bascule.notifications.policy import RetryPolicy
from bascule.notifications.senders import (
    ChannelRouter,
    DeliveryError,
    LogSender,
    NotificationSender,
    SmsHttpSender,
    SmtpSender,
    sender_from_settings,
)

__all__ = [
    "ChannelRouter",
    "DeliveryError",
    "LogSender",
    "NotificationSender",
    "RetryPolicy",
    "SmsHttpSender",
    "SmtpSender",
    "deliver_pending",
    "notify",
    "sender_from_settings",
]
