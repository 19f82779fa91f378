"""The three adapters against real counterparts on loopback: an SMTP server (aiosmtpd), an HTTP SMS gateway."""

from __future__ import annotations

import email
import logging
import threading
from collections.abc import Iterator
from email.message import Message
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any, ClassVar
from urllib.parse import parse_qs

import pytest
from aiosmtpd.controller import Controller
from aiosmtpd.smtp import SMTP, Envelope, Session
from pydantic import SecretStr

from bascule.notifications import (
    ChannelRouter,
    DeliveryError,
    LogSender,
    NotificationSender,
    SmsHttpSender,
    SmtpSender,
    deliver_pending,
    sender_from_settings,
)
from bascule.notifications.model import Notification
from bascule.observability.logs import configure_logging, json_formatter
from tests.conftest import START
from tests.notifications.conftest import queue, rows
from tests.notifications.test_outbox import policy
from tests.support.servers import free_port

MSISDN = "+2250701020304"


def message(
    channel: str = "email",
    to: str = "chef@example.fr",
    subject: str | None = "Votre demande",
    body: str = "La demande est confirmée.",
) -> Notification:
    return Notification("ntf_test", channel, to, subject, body, START, "pending", 1, START, None)


# --- SMTP ---------------------------------------------------------------------------------------


class Mailbox:
    """aiosmtpd handler: keeps what it receives; refuses recipients at `refused.example`."""

    def __init__(self) -> None:
        self.messages: list[tuple[str, list[str], Message]] = []

    async def handle_RCPT(  # noqa: N802
        self,
        server: SMTP,
        session: Session,
        envelope: Envelope,
        address: str,
        options: list[str],
    ) -> str:
        if address.endswith("@refused.example"):
            return "550 5.1.1 no such user"
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server: SMTP, session: Session, envelope: Envelope) -> str:  # noqa: N802
        content = envelope.content if isinstance(envelope.content, bytes) else str(envelope.content).encode()
        self.messages.append((str(envelope.mail_from), list(envelope.rcpt_tos), email.message_from_bytes(content)))
        return "250 Message accepted for delivery"


@pytest.fixture
def smtp_server() -> Iterator[tuple[str, Mailbox]]:
    mailbox = Mailbox()
    controller = Controller(mailbox, hostname="127.0.0.1", port=free_port())
    controller.start()
    try:
        yield f"smtp://127.0.0.1:{controller.port}", mailbox
    finally:
        controller.stop()


def test_smtp_sends_the_message_to_the_address_from_the_configured_sender(smtp_server):
    url, mailbox = smtp_server
    SmtpSender(url, "Bascule <no-reply@bascule.test>").send(message())
    assert len(mailbox.messages) == 1
    mail_from, recipients, received = mailbox.messages[0]
    assert (mail_from, recipients) == ("no-reply@bascule.test", ["chef@example.fr"])
    assert received["From"] == "Bascule <no-reply@bascule.test>"
    assert received["To"] == "chef@example.fr"
    assert received["Subject"] == "Votre demande"
    assert "ntf_test" in received["Message-ID"]
    assert (
        received.get_payload(decode=True).decode(received.get_content_charset()).strip() == "La demande est confirmée."
    )


def test_smtp_delivery_through_the_outbox_marks_the_row_sent(ctx, settings, smtp_server):
    url, mailbox = smtp_server
    (mail,) = queue(ctx, ("email", "chef@example.fr", "Objet", "Corps du message"))
    sender = sender_from_settings(
        settings.model_copy(update={"notify": "smtp", "smtp_url": url, "smtp_from": "ops@bascule.test"})
    )
    assert deliver_pending(ctx, sender) == 1
    assert [(m[1], m[2]["Subject"]) for m in mailbox.messages] == [(["chef@example.fr"], "Objet")]
    assert rows(ctx)[mail].status == "sent"


def test_an_smtp_refusal_of_the_recipient_is_final(smtp_server):
    url, _ = smtp_server
    with pytest.raises(DeliveryError) as refused:
        SmtpSender(url, "no-reply@bascule.test").send(message(to="nobody@refused.example"))
    assert refused.value.retryable is False


def test_an_smtp_server_that_is_down_is_a_retryable_failure():
    with pytest.raises(DeliveryError) as down:
        SmtpSender(f"smtp://127.0.0.1:{free_port()}", "no-reply@bascule.test", timeout=2).send(message())
    assert down.value.retryable is True


@pytest.mark.parametrize("url", ["http://mail.example:25", "smtp://", "mail.example"])
def test_a_malformed_smtp_url_is_refused_at_start_up(url):
    with pytest.raises(ValueError, match="BASCULE_SMTP_URL"):
        SmtpSender(url, "no-reply@bascule.test")


def test_smtp_urls_carry_port_tls_and_credentials():
    plain = SmtpSender("smtp://mail.example", "a@b.fr").target
    assert (plain.host, plain.port, plain.implicit_tls, plain.starttls, plain.username) == (
        "mail.example",
        25,
        False,
        False,
        None,
    )
    secure = SmtpSender("smtps://user%40corp:p%3Ass@mail.example", "a@b.fr").target
    assert (secure.port, secure.implicit_tls, secure.username, secure.password) == (465, True, "user@corp", "p:ss")
    assert SmtpSender("smtp://mail.example:587?starttls=1", "a@b.fr").target.starttls is True


# --- SMS over HTTP ------------------------------------------------------------------------------


class Gateway(BaseHTTPRequestHandler):
    received: ClassVar[list[dict[str, Any]]] = []
    answers: ClassVar[list[int]] = []

    def do_POST(self) -> None:  # the standard library's name
        length = int(self.headers.get("Content-Length", "0"))
        form = {key: values[-1] for key, values in parse_qs(self.rfile.read(length).decode()).items()}
        Gateway.received.append(
            {
                "path": self.path,
                "form": form,
                "authorization": self.headers.get("Authorization"),
                "content_type": self.headers.get("Content-Type"),
            }
        )
        status = Gateway.answers.pop(0) if Gateway.answers else 200
        self.send_response(status)
        self.send_header("Content-Length", "0")
        self.end_headers()

    def log_message(self, format: str, *args: Any) -> None:  # quiet
        return


@pytest.fixture
def sms_gateway() -> Iterator[str]:
    Gateway.received = []
    Gateway.answers = []
    server = ThreadingHTTPServer(("127.0.0.1", 0), Gateway)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}/sms/send"
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=5)


def test_the_sms_gateway_gets_the_number_and_text_as_form_fields_with_the_token(sms_gateway):
    sender = SmsHttpSender(sms_gateway, "gw-secret")
    sender.send(message("sms", MSISDN, None, "Votre code de connexion : 123456."))
    sender.close()
    assert Gateway.received == [
        {
            "path": "/sms/send",
            "form": {"to": MSISDN, "message": "Votre code de connexion : 123456."},
            "authorization": "Bearer gw-secret",
            "content_type": "application/x-www-form-urlencoded",
        }
    ]


@pytest.mark.parametrize(
    ("status", "retryable"),
    [(500, True), (503, True), (429, True), (408, True), (400, False), (401, False), (404, False), (422, False)],
)
def test_gateway_errors_are_told_apart(sms_gateway, status, retryable):
    Gateway.answers = [status]
    with pytest.raises(DeliveryError) as failed:
        SmsHttpSender(sms_gateway, "gw-secret").send(message("sms", MSISDN, None, "x"))
    assert failed.value.retryable is retryable


def test_sms_through_the_outbox_is_retried_after_a_gateway_error_then_sent(ctx, clock, settings, sms_gateway):
    (sms,) = queue(ctx, ("sms", MSISDN, None, "Votre profil est maintenant Tigre."))
    Gateway.answers = [503]
    sender = sender_from_settings(
        settings.model_copy(
            update={"notify": "sms-http", "sms_gateway_url": sms_gateway, "sms_gateway_token": SecretStr("gw-secret")}
        )
    )
    assert deliver_pending(ctx, sender) == 0
    assert (rows(ctx)[sms].status, rows(ctx)[sms].attempts) == ("pending", 1)
    clock.advance(minutes=1)
    assert deliver_pending(ctx, sender) == 1
    assert (rows(ctx)[sms].status, rows(ctx)[sms].attempts) == ("sent", 2)
    assert [r["form"]["to"] for r in Gateway.received] == [MSISDN, MSISDN]


def test_an_unreachable_gateway_is_a_retryable_failure():
    with pytest.raises(DeliveryError) as down:
        SmsHttpSender(f"http://127.0.0.1:{free_port()}/sms", None, timeout=2).send(message("sms", MSISDN))
    assert down.value.retryable is True


# --- choosing and routing -----------------------------------------------------------------------


def test_each_channel_goes_to_the_adapter_that_carries_it(ctx, settings, smtp_server, sms_gateway):
    url, mailbox = smtp_server
    mail, sms = queue(ctx, ("email", "chef@example.fr", "Objet", "Corps"), ("sms", MSISDN, None, "Texte"))
    sender = sender_from_settings(
        settings.model_copy(update={"notify": "smtp, sms-http", "smtp_url": url, "sms_gateway_url": sms_gateway})
    )
    assert deliver_pending(ctx, sender) == 2
    assert [m[1] for m in mailbox.messages] == [["chef@example.fr"]]
    assert [r["form"]["to"] for r in Gateway.received] == [MSISDN]
    assert {rows(ctx)[mail].status, rows(ctx)[sms].status} == {"sent"}


def test_a_channel_no_adapter_carries_fails_at_once(ctx, settings, smtp_server):
    url, _ = smtp_server
    (sms,) = queue(ctx, ("sms", MSISDN, None, "Texte"))
    sender = sender_from_settings(settings.model_copy(update={"notify": "smtp", "smtp_url": url}))
    assert deliver_pending(ctx, sender, policy=policy(max_attempts=5)) == 0
    assert (rows(ctx)[sms].status, rows(ctx)[sms].attempts) == ("failed", 1)


@pytest.mark.parametrize(
    ("channel", "to"), [("email", MSISDN), ("sms", "chef@example.fr"), ("sms", "12"), ("email", "pas une adresse")]
)
def test_a_recipient_that_does_not_fit_its_channel_is_a_final_failure(channel, to):
    with pytest.raises(DeliveryError) as wrong:
        LogSender().send(message(channel, to))
    assert wrong.value.retryable is False


def test_the_default_sender_is_the_log_and_unknown_names_are_refused(settings):
    default = sender_from_settings(settings)
    assert [type(s) for s in default.senders] == [LogSender]
    with pytest.raises(ValueError, match="unknown adapter 'fax'"):
        sender_from_settings(settings.model_copy(update={"notify": "log,fax"}))
    with pytest.raises(ValueError, match="SMS_GATEWAY_URL"):
        sender_from_settings(settings.model_copy(update={"notify": "sms-http"}))


def test_every_adapter_conforms_to_the_sender_protocol():
    adapters: list[NotificationSender] = [
        LogSender(),
        SmtpSender("smtp://127.0.0.1:25", "a@b.fr"),
        SmsHttpSender("http://127.0.0.1:9/sms", None),
        ChannelRouter([LogSender()]),
    ]
    for adapter in adapters:
        assert callable(adapter.send)
    assert {channel for adapter in adapters[:3] for channel in adapter.channels} == {"email", "sms"}  # type: ignore[attr-defined]


def test_the_log_adapter_logs_recipient_and_subject_at_info_and_the_body_only_at_debug():
    configure_logging("INFO")
    captured: list[str] = []

    class Capture(logging.Handler):
        def emit(self, record: logging.LogRecord) -> None:
            captured.append(self.format(record))

    handler = Capture()
    handler.setFormatter(json_formatter())
    logger = logging.getLogger("bascule")
    logger.addHandler(handler)
    try:
        LogSender().send(message("sms", MSISDN, None, "Votre code de connexion : 654321."))
        info_only = list(captured)
        previous = logger.level
        logger.setLevel(logging.DEBUG)
        try:
            LogSender().send(message("sms", MSISDN, None, "Votre code de connexion : 654321."))
        finally:
            logger.setLevel(previous)
    finally:
        logger.removeHandler(handler)
    assert len(info_only) == 1
    assert '"event": "notification.delivered"' in info_only[0]
    assert MSISDN in info_only[0]
    assert "654321" not in info_only[0]
    assert any('"level": "debug"' in line and "654321" in line for line in captured[1:])
