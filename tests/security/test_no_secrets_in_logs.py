"""No password, token, Authorization header or one-time code ever reaches the logs, at any level."""

from __future__ import annotations

import json
import logging
import re

from bascule.notifications import LogSender, deliver_pending
from bascule.prepaid.otp import sms_text
from tests.api.helpers import OPERATOR, PASSWORD, make_customer, make_service, ok
from tests.conftest import ADMIN_TOKEN
from tests.ops.helpers import captured_logs, wait_for_event

MSISDN = "+2250701020304"
# Fields every line has whose digits may by chance contain a six-digit code.
NOISE = ("timestamp", "request_id", "duration_ms", "notification_id")


def code_of(http, msisdn: str) -> str:
    latest = ok(http.get("/api/v1/admin/notifications", params={"to": msisdn}, headers=OPERATOR))[0]
    found = re.search(r"\b(\d{6})\b", latest["body"])
    assert found, latest
    return found.group(1)


def meaningful(lines: list[str]) -> str:
    """The logs without the fields that are random numbers anyway."""
    kept = []
    for line in lines:
        try:
            document = json.loads(line)
        except ValueError:
            kept.append(line)
            continue
        kept.append(json.dumps({k: v for k, v in document.items() if k not in NOISE}, ensure_ascii=False))
    return "\n".join(kept)


def assert_absent(text: str, secrets: dict[str, str]) -> None:
    leaked = {name: value for name, value in secrets.items() if value in text}
    assert leaked == {}, f"secrets in the logs: {leaked}\n{text}"


def test_logins_and_one_time_codes_leave_no_secret_in_the_logs(http, ctx):
    customer = make_customer(http)
    service = make_service(http, customer.account_id)
    ok(
        http.post(
            "/api/v1/admin/subscribers",
            json={"msisdn": MSISDN, "profile_id": ok(http.get("/api/v1/catalog"))["profiles"][0]["id"]},
            headers=OPERATOR,
        ),
        201,
    )
    with captured_logs(logging.DEBUG) as logs:
        manager = ok(http.post("/api/v1/auth/login", json={"email": "chef-a@example.fr", "password": PASSWORD}))
        wrong = http.post("/api/v1/auth/login", json={"email": "chef-a@example.fr", "password": "Mauvais-Secret-42"})
        assert wrong.status_code == 401
        bearer = {"Authorization": f"Bearer {manager['token']}"}
        ok(http.get(f"/api/v1/services/{service['id']}", headers=bearer))
        confirm_body = {"changes": {"radio": "5G"}}
        request = ok(
            http.post(f"/api/v1/services/{service['id']}/change-requests", json=confirm_body, headers=bearer), 201
        )
        ok(http.post(f"/api/v1/change-requests/{request['id']}/confirm", json={"password": PASSWORD}, headers=bearer))
        assert http.post("/api/v1/auth/otp", json={"msisdn": MSISDN}).status_code == 202
        code = code_of(http, MSISDN)
        subscriber = ok(http.post("/api/v1/auth/login", json={"msisdn": MSISDN, "otp": code}))
        ok(http.get(f"/api/v1/subscribers/{MSISDN}", headers={"Authorization": f"Bearer {subscriber['token']}"}))
        ok(http.get("/api/v1/services", headers=OPERATOR, params={"account_id": customer.account_id}))
        http.get("/api/v1/services", headers={"Authorization": "Bearer forged-token-value-0123456789"})
        wait_for_event(logs, "request", route="/api/v1/services", status=401)
        lines = list(logs.lines)
    requests = [line for line in lines if '"event": "request"' in line]
    assert len(requests) >= 11  # the capture saw the traffic: the test is not vacuous
    text = meaningful(lines)
    assert_absent(
        text,
        {
            "manager password": PASSWORD,
            "wrong password": "Mauvais-Secret-42",
            "manager token": manager["token"],
            "subscriber token": subscriber["token"],
            "operator token": ADMIN_TOKEN,
            "forged token": "forged-token-value",
            "the code's SMS": sms_text(code),
            "bearer": "Bearer ",
        },
    )
    assert not re.search(rf"(?<!\d){code}(?!\d)", text), f"the one-time code {code} is in the logs:\n{text}"


def test_the_log_delivery_keeps_the_code_out_of_the_logs_at_the_production_level(http, ctx):
    ok(
        http.post(
            "/api/v1/admin/subscribers",
            json={"msisdn": MSISDN, "profile_id": ok(http.get("/api/v1/catalog"))["profiles"][0]["id"]},
            headers=OPERATOR,
        ),
        201,
    )
    assert http.post("/api/v1/auth/otp", json={"msisdn": MSISDN}).status_code == 202
    code = code_of(http, MSISDN)
    with captured_logs(logging.INFO) as logs:
        assert deliver_pending(ctx, LogSender()) >= 1
    delivered = logs.events("notification.delivered")
    assert [(e["channel"], e["to"]) for e in delivered][-1] == ("sms", MSISDN)
    assert not re.search(rf"(?<!\d){code}(?!\d)", meaningful(logs.lines))


def test_a_secret_logged_by_mistake_under_a_secret_name_is_redacted():
    import structlog

    from bascule.observability import configure_logging

    configure_logging("INFO")
    with captured_logs(logging.DEBUG) as logs:
        structlog.get_logger("bascule.test").info(
            "oops",
            password="hunter2-hunter2",
            token="tok-123456789",
            authorization="Bearer abc",
            otp="424242",
            user="chef",
        )
    line = json.loads(logs.lines[-1])
    assert (line["password"], line["token"], line["authorization"], line["otp"], line["user"]) == (
        "[redacted]",
        "[redacted]",
        "[redacted]",
        "[redacted]",
        "chef",
    )
