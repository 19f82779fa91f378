"""Line B login: one-time code by SMS through the outbox, then a bearer token scoped to the line."""

import re

from tests.api.helpers import OPERATOR, bearer, ok, set_clock
from tests.api.prepaid_helpers import last_code, make_subscriber, problem, profile_needing

MSISDN = "+2250701020304"
UNKNOWN = "+2250799999999"


def test_a_subscriber_logs_in_with_the_code_sent_by_sms(http):
    make_subscriber(http, MSISDN, profile_needing(http, None)["id"])
    sent = http.post("/api/v1/auth/otp", json={"msisdn": MSISDN})
    assert sent.status_code == 202
    outbox = ok(http.get("/api/v1/admin/notifications", params={"to": MSISDN}, headers=OPERATOR))
    assert len(outbox) == 1
    assert ok(http.get(f"/api/v1/admin/notifications?to={MSISDN}", headers=OPERATOR)) == outbox  # "+" unencoded
    message = outbox[0]
    assert {k: message[k] for k in ("channel", "to", "subject", "status", "attempts")} == {
        "channel": "sms",
        "to": MSISDN,
        "subject": None,
        "status": "pending",
        "attempts": 0,
    }
    assert re.fullmatch(
        r"Votre code de connexion : \d{6}\. Valable 5 minutes\. Ne le communiquez à personne\.", message["body"]
    )
    assert message["created_at"] == message["next_attempt_at"] == "2026-06-16T07:00:00Z"
    token = ok(http.post("/api/v1/auth/login", json={"msisdn": MSISDN, "otp": last_code(http, MSISDN)}))
    assert token["expires_at"] == "2026-06-16T21:00:00+02:00"  # twelve hours, in the clock's offset
    view = ok(http.get(f"/api/v1/subscribers/{MSISDN}", headers=bearer(token["token"])))
    assert view["msisdn"] == MSISDN


def test_the_answer_is_the_same_for_an_unknown_number(http):
    make_subscriber(http, MSISDN, profile_needing(http, None)["id"])
    known = http.post("/api/v1/auth/otp", json={"msisdn": MSISDN})
    unknown = http.post("/api/v1/auth/otp", json={"msisdn": UNKNOWN})
    assert (known.status_code, known.json()) == (unknown.status_code, unknown.json())
    assert ok(http.get("/api/v1/admin/notifications", params={"to": UNKNOWN}, headers=OPERATOR)) == []
    problem(http.post("/api/v1/auth/login", json={"msisdn": UNKNOWN, "otp": "123456"}), 401, "unauthenticated")


def test_a_wrong_a_reused_or_an_expired_code_is_refused(http):
    make_subscriber(http, MSISDN, profile_needing(http, None)["id"])
    ok(http.post("/api/v1/auth/otp", json={"msisdn": MSISDN}), 202)
    code = last_code(http, MSISDN)
    wrong = f"{(int(code) + 1) % 10**6:06d}"
    body = problem(http.post("/api/v1/auth/login", json={"msisdn": MSISDN, "otp": wrong}), 401, "unauthenticated")
    assert body["detail"] == "Code incorrect ou expiré."
    ok(http.post("/api/v1/auth/login", json={"msisdn": MSISDN, "otp": code}))
    problem(http.post("/api/v1/auth/login", json={"msisdn": MSISDN, "otp": code}), 401, "unauthenticated")
    set_clock(http, "2026-06-16T09:01:00+02:00")
    ok(http.post("/api/v1/auth/otp", json={"msisdn": MSISDN}), 202)
    late = last_code(http, MSISDN)
    set_clock(http, "2026-06-16T09:06:00+02:00")  # five minutes later
    problem(http.post("/api/v1/auth/login", json={"msisdn": MSISDN, "otp": late}), 401, "unauthenticated")


def test_five_wrong_codes_burn_the_code(http):
    make_subscriber(http, MSISDN, profile_needing(http, None)["id"])
    ok(http.post("/api/v1/auth/otp", json={"msisdn": MSISDN}), 202)
    code = last_code(http, MSISDN)
    wrong = f"{(int(code) + 1) % 10**6:06d}"
    for _ in range(5):
        problem(http.post("/api/v1/auth/login", json={"msisdn": MSISDN, "otp": wrong}), 401, "unauthenticated")
    problem(http.post("/api/v1/auth/login", json={"msisdn": MSISDN, "otp": code}), 401, "unauthenticated")


def test_a_new_code_within_a_minute_is_too_many_requests(http):
    make_subscriber(http, MSISDN, profile_needing(http, None)["id"])
    ok(http.post("/api/v1/auth/otp", json={"msisdn": MSISDN}), 202)
    set_clock(http, "2026-06-16T09:00:59+02:00")
    refused = http.post("/api/v1/auth/otp", json={"msisdn": MSISDN})
    body = problem(refused, 429, "too-many-requests")
    assert (refused.headers["retry-after"], body["retry_after"]) == ("60", 60)
    assert len(ok(http.get("/api/v1/admin/notifications", params={"to": MSISDN}, headers=OPERATOR))) == 1
    set_clock(http, "2026-06-16T09:01:00+02:00")
    ok(http.post("/api/v1/auth/otp", json={"msisdn": MSISDN}), 202)
    outbox = ok(http.get("/api/v1/admin/notifications", params={"to": MSISDN}, headers=OPERATOR))
    assert [m["created_at"] for m in outbox] == ["2026-06-16T07:01:00Z", "2026-06-16T07:00:00Z"]  # newest first


def test_malformed_logins_are_validation_errors(http):
    problem(http.post("/api/v1/auth/otp", json={"msisdn": "0701020304"}), 422, "validation-error")
    problem(http.post("/api/v1/auth/otp", json={}), 422, "validation-error")
    problem(http.post("/api/v1/auth/login", json={"msisdn": MSISDN}), 422, "validation-error")
