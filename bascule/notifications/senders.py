"""Who carries a message out: adapters behind one `NotificationSender` protocol, chosen by setting.

- `log` (default): the demo delivery. Recipient and subject at INFO, the body only at DEBUG.
- `smtp`: e-mail through the standard library's smtplib to `BASCULE_SMTP_URL`.
- `sms-http`: SMS through an HTTP gateway (form fields `to` and `message`, a bearer token).

`BASCULE_NOTIFY` may name several, comma-separated; each message goes to the first one that
carries its channel (`email` or `sms`). A message no adapter carries fails at once, as does a
message whose recipient cannot be one of its channel (an e-mail row without an address).
"""

from __future__ import annotations

import re
import smtplib
import ssl
from collections.abc import Sequence
from dataclasses import dataclass, field
from email.message import EmailMessage
from email.utils import formatdate, make_msgid
from typing import Any, Protocol
from urllib.parse import parse_qs, unquote, urlsplit

import httpx
import structlog

from bascule.notifications.model import Notification
from bascule.notifications.policy import RetryPolicy
from bascule.settings import Settings

log = structlog.get_logger("bascule.notifications")

EMAIL = "email"
SMS = "sms"
_ADDRESS = re.compile(r"^[^@\s<>]+@[^@\s<>]+\.[^@\s<>]+$")
_MSISDN = re.compile(r"^\+?[0-9]{6,15}$")
DEFAULT_SUBJECT = "Bascule"
TIMEOUT_SECONDS = 20.0


class DeliveryError(Exception):
    """The message did not go out. `retryable` tells a passing trouble from a final refusal."""

    def __init__(self, reason: str, *, retryable: bool = True) -> None:
        super().__init__(reason)
        self.reason = reason
        self.retryable = retryable


class NotificationSender(Protocol):
    def send(self, notification: Notification) -> None:
        """Hand the message over for delivery, or raise DeliveryError."""
        ...


def check_recipient(notification: Notification) -> None:
    """E-mail goes to e-mail addresses, SMS to MSISDNs; anything else can never be delivered."""
    pattern = {EMAIL: _ADDRESS, SMS: _MSISDN}.get(notification.channel)
    if pattern is None:
        raise DeliveryError(f"unknown channel {notification.channel!r}", retryable=False)
    if not pattern.match(notification.to):
        raise DeliveryError(f"recipient is not a valid {notification.channel} address", retryable=False)


class LogSender:
    """The demo delivery: a structured log line per message (the body, which may hold a code, at DEBUG)."""

    channels = frozenset({EMAIL, SMS})

    def send(self, notification: Notification) -> None:
        check_recipient(notification)
        log.info(
            "notification.delivered",
            notification_id=notification.id,
            channel=notification.channel,
            to=notification.to,
            subject=notification.subject,
        )
        log.debug("notification.body", notification_id=notification.id, body=notification.body)


@dataclass(frozen=True, slots=True)
class SmtpTarget:
    host: str
    port: int
    implicit_tls: bool
    starttls: bool
    username: str | None
    password: str | None

    @classmethod
    def parse(cls, url: str) -> SmtpTarget:
        parts = urlsplit(url)
        if parts.scheme not in ("smtp", "smtps") or not parts.hostname:
            raise ValueError("BASCULE_SMTP_URL must look like smtp://host:port or smtps://host:port")
        implicit_tls = parts.scheme == "smtps"
        query = parse_qs(parts.query)
        starttls = query.get("starttls", ["0"])[-1].lower() in ("1", "true", "yes")
        return cls(
            host=parts.hostname,
            port=parts.port or (465 if implicit_tls else 25),
            implicit_tls=implicit_tls,
            starttls=starttls,
            username=unquote(parts.username) if parts.username else None,
            password=unquote(parts.password) if parts.password else None,
        )


class SmtpSender:
    """E-mail through an SMTP server, one connection per message (the outbox batches are small)."""

    channels = frozenset({EMAIL})

    def __init__(self, url: str, from_address: str, timeout: float = TIMEOUT_SECONDS) -> None:
        self.target = SmtpTarget.parse(url)
        self.from_address = from_address
        self.timeout = timeout

    def message(self, notification: Notification) -> EmailMessage:
        message = EmailMessage()
        message["From"] = self.from_address
        message["To"] = notification.to
        message["Subject"] = notification.subject or DEFAULT_SUBJECT
        message["Date"] = formatdate(localtime=False)
        message["Message-ID"] = make_msgid(idstring=notification.id)
        message.set_content(notification.body)
        return message

    def _connect(self) -> smtplib.SMTP:
        target = self.target
        if target.implicit_tls:
            return smtplib.SMTP_SSL(
                target.host, target.port, timeout=self.timeout, context=ssl.create_default_context()
            )
        return smtplib.SMTP(target.host, target.port, timeout=self.timeout)

    def send(self, notification: Notification) -> None:
        check_recipient(notification)
        try:
            with self._connect() as smtp:
                if self.target.starttls:
                    smtp.starttls(context=ssl.create_default_context())
                if self.target.username is not None:
                    smtp.login(self.target.username, self.target.password or "")
                smtp.send_message(self.message(notification))
        except smtplib.SMTPRecipientsRefused:
            raise DeliveryError("the SMTP server refused the recipient", retryable=False) from None
        except smtplib.SMTPResponseException as error:
            raise DeliveryError(f"SMTP {error.smtp_code}", retryable=error.smtp_code < 500) from None
        except (smtplib.SMTPException, OSError) as error:
            raise DeliveryError(f"SMTP unreachable: {type(error).__name__}") from None


class SmsHttpSender:
    """SMS through an HTTP gateway: POST form fields `to` and `message`, `Authorization: Bearer <token>`."""

    channels = frozenset({SMS})

    def __init__(
        self,
        url: str,
        token: str | None,
        timeout: float = TIMEOUT_SECONDS,
        transport: httpx.BaseTransport | None = None,
    ) -> None:
        headers = {"Authorization": f"Bearer {token}"} if token else {}
        self.url = url
        self.client = httpx.Client(timeout=timeout, headers=headers, transport=transport)

    def send(self, notification: Notification) -> None:
        check_recipient(notification)
        try:
            response = self.client.post(self.url, data={"to": notification.to, "message": notification.body})
        except httpx.HTTPError as error:
            raise DeliveryError(f"SMS gateway unreachable: {type(error).__name__}") from None
        status = response.status_code
        if 200 <= status < 300:
            return
        retryable = status in (408, 425, 429) or status >= 500
        raise DeliveryError(f"SMS gateway answered {status}", retryable=retryable)

    def close(self) -> None:
        self.client.close()


@dataclass
class ChannelRouter:
    """Each message to the first sender that carries its channel; the retry policy rides along."""

    senders: Sequence[Any]
    retry_policy: RetryPolicy = field(default_factory=RetryPolicy)

    def send(self, notification: Notification) -> None:
        for sender in self.senders:
            if notification.channel in sender.channels:
                sender.send(notification)
                return
        raise DeliveryError(f"no sender configured for channel {notification.channel!r}", retryable=False)


ADAPTERS = ("log", "smtp", "sms-http")


def _adapter(name: str, settings: Settings) -> Any:
    if name == "log":
        return LogSender()
    if name == "smtp":
        return SmtpSender(settings.smtp_url, settings.smtp_from)
    if name == "sms-http":
        if not settings.sms_gateway_url:
            raise ValueError("BASCULE_NOTIFY=sms-http needs BASCULE_SMS_GATEWAY_URL")
        token = settings.sms_gateway_token.get_secret_value() if settings.sms_gateway_token else None
        return SmsHttpSender(settings.sms_gateway_url, token)
    raise ValueError(f"BASCULE_NOTIFY: unknown adapter {name!r} (choose among {', '.join(ADAPTERS)})")


def sender_from_settings(settings: Settings) -> ChannelRouter:
    """The sender named by BASCULE_NOTIFY, with the retry policy of the settings."""
    names = [name.strip().lower() for name in settings.notify.split(",") if name.strip()] or ["log"]
    return ChannelRouter([_adapter(name, settings) for name in names], RetryPolicy.from_settings(settings))
