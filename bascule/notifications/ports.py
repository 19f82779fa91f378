"""The outbox's store and the senders, as the notification use cases see them."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Protocol

from bascule.kernel.ports import UnitOfWork
from bascule.notifications.model import Notification
from bascule.notifications.senders import NotificationSender as Notifier

__all__ = ["Notifications", "NotificationsUnit", "Notifier", "Outbox"]


class Notifications(Protocol):
    def add(self, notification: Notification) -> None: ...
    def search(self, to: str | None, limit: int = 200) -> list[Notification]: ...


class Outbox(Protocol):
    def claim(self, now: datetime, batch: int, lease_until: datetime) -> list[Notification]: ...
    def sent(self, sent: Sequence[tuple[Notification, datetime]]) -> int:
        """Record each claimed message as sent at its time, over our own claim only; how many were recorded."""
        ...

    def retry(self, claimed: Notification, at: datetime) -> bool: ...
    def failed(self, claimed: Notification) -> bool: ...


class NotificationsUnit(UnitOfWork, Protocol):
    @property
    def notifications(self) -> Notifications: ...

    @property
    def outbox(self) -> Outbox: ...
