"""Builders for Line B API tests: subscribers with history, one-time-code logins, profiles found by data."""

from __future__ import annotations

from typing import Any

import httpx

from tests.api.helpers import OPERATOR, ok
from tests.support.logins import last_code
from tests.support.logins import subscriber as login

__all__ = ["last_code", "login"]  # a subscriber's code and login, for the Line B API tests

LAST_MONTH_DAY = "2026-05-20T12:00:00+00:00"  # the test clock starts on 2026-06-16


def money(amount: str, currency: str = "XOF") -> dict[str, str]:
    return {"amount": amount, "currency": currency}


def profiles(http: httpx.Client) -> list[dict[str, Any]]:
    return ok(http.get("/api/v1/catalog"))["profiles"]


def profile_needing(http: httpx.Client, amount: str | None) -> dict[str, Any]:
    """The one profile whose last-month threshold is `amount` (None: the first free profile)."""
    found = [p for p in profiles(http) if (p["min_consumption_last_month"] or {}).get("amount") == amount]
    assert found, f"no profile needs {amount}"
    return found[0]


def free_profiles(http: httpx.Client) -> list[dict[str, Any]]:
    return [p for p in profiles(http) if p["min_consumption_last_month"] is None]


def make_subscriber(http: httpx.Client, msisdn: str, profile_id: str, timezone: str | None = None) -> Any:
    body: dict[str, Any] = {"msisdn": msisdn, "profile_id": profile_id}
    if timezone:
        body["timezone"] = timezone
    return ok(http.post("/api/v1/admin/subscribers", json=body, headers=OPERATOR), 201)


def recharge(http: httpx.Client, msisdn: str, amount: str | int, at: str | None = None) -> Any:
    body: dict[str, Any] = {"amount": amount} | ({"at": at} if at else {})
    return ok(http.post(f"/api/v1/admin/subscribers/{msisdn}/recharges", json=body, headers=OPERATOR), 201)


def consume(http: httpx.Client, msisdn: str, amount: str | int, at: str | None = None) -> Any:
    body: dict[str, Any] = {"amount": amount} | ({"at": at} if at else {})
    return ok(http.post(f"/api/v1/admin/subscribers/{msisdn}/consumptions", json=body, headers=OPERATOR), 201)


def with_last_month_consumption(http: httpx.Client, msisdn: str, profile_id: str, consumed: int) -> Any:
    """A subscriber who consumed exactly `consumed` of main credit last month (recharged two months ago)."""
    make_subscriber(http, msisdn, profile_id)
    recharge(http, msisdn, consumed + 500, "2026-04-01T08:00:00+00:00")
    if consumed:
        consume(http, msisdn, consumed, LAST_MONTH_DAY)
    return ok(http.get(f"/api/v1/subscribers/{msisdn}", headers=OPERATOR))


def problem(response: httpx.Response, status: int, code: str) -> Any:
    assert response.status_code == status, response.text
    assert response.headers["content-type"].startswith("application/problem+json")
    body = response.json()
    assert body["code"] == code, body
    return body
