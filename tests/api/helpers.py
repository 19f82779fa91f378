"""Small builders for API tests: an account with a manager and a viewer, services, logins."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import httpx

from tests.support.logins import OPERATOR, account_user, bearer

__all__ = ["OPERATOR", "bearer"]  # the operator's headers and a bearer token, for the API tests
GIB = 1024**3


def ok(response: httpx.Response, status: int = 200) -> Any:
    assert response.status_code == status, response.text
    return response.json()


@dataclass
class Customer:
    account_id: str
    manager: dict[str, str]
    viewer: dict[str, str]
    manager_password: str = "gestion-secret"


def make_customer(http: httpx.Client, name: str = "Transports Exemple", tag: str = "a") -> Customer:
    account = ok(http.post("/api/v1/admin/accounts", json={"name": name}, headers=OPERATOR), 201)
    ok(
        http.post(
            f"/api/v1/admin/accounts/{account['id']}/users",
            json={"email": f"chef-{tag}@example.fr", "password": "gestion-secret", "role": "manager"},
            headers=OPERATOR,
        ),
        201,
    )
    ok(
        http.post(
            f"/api/v1/admin/accounts/{account['id']}/users",
            json={"email": f"lecteur-{tag}@example.fr", "password": "lecture-secret", "role": "viewer"},
            headers=OPERATOR,
        ),
        201,
    )
    return Customer(
        account["id"],
        account_user(http, f"chef-{tag}@example.fr", "gestion-secret"),
        account_user(http, f"lecteur-{tag}@example.fr", "lecture-secret"),
    )


def make_service(
    http: httpx.Client,
    account_id: str,
    plan_id: str = "data-10go-4g",
    msisdn: str = "+33612345678",
    network: str = "orange",
    apn: str = "internet.pro",
    activated_on: str | None = "2026-01-01",
) -> Any:
    body: dict[str, Any] = {
        "account_id": account_id,
        "plan_id": plan_id,
        "network": network,
        "apn": apn,
        "msisdn": msisdn,
    }
    if activated_on:
        body["activated_on"] = activated_on
    return ok(http.post("/api/v1/admin/services", json=body, headers=OPERATOR), 201)


def set_clock(http: httpx.Client, instant: str) -> None:
    ok(http.put("/api/v1/test/clock", json={"now": instant}))


# --- Line A API tests (tests/api/test_line_a_*.py) ---------------------------------------------

PROBLEM_JSON = "application/problem+json"
PASSWORD = "gestion-secret"


def expect_problem(response: httpx.Response, status: int, code: str) -> Any:
    """An RFC 9457 refusal: exact status, media type, stable `code`, and `status` in the body."""
    assert response.status_code == status, response.text
    assert response.headers["content-type"].split(";")[0].strip() == PROBLEM_JSON, response.headers
    body = response.json()
    assert body["code"] == code, body
    assert body["status"] == status, body
    for member in ("type", "title", "detail"):
        assert body[member], body
    return body


def add_user(
    http: httpx.Client, account_id: str, email: str, role: str = "manager", password: str = PASSWORD
) -> tuple[str, dict[str, str]]:
    """A user of the account, logged in: (user id, bearer headers)."""
    user = ok(
        http.post(
            f"/api/v1/admin/accounts/{account_id}/users",
            json={"email": email, "password": password, "role": role},
            headers=OPERATOR,
        ),
        201,
    )
    login = ok(http.post("/api/v1/auth/login", json={"email": email, "password": password}))
    return user["id"], bearer(login["token"])


def money(amount: str, currency: str = "EUR") -> dict[str, str]:
    return {"amount": amount, "currency": currency}


def line_a_state(http: httpx.Client, account_id: str, period: str | None = None) -> dict[str, Any]:
    """Everything a Line A refusal must leave untouched, read back through the operator's API."""
    services = ok(http.get("/api/v1/services", params={"account_id": account_id}, headers=OPERATOR))
    query = {"period": period} if period else {}
    charges = ok(http.get(f"/api/v1/accounts/{account_id}/charges", params=query, headers=OPERATOR))
    requests = sorted(
        (r for r in ok(http.get("/api/v1/change-requests", headers=OPERATOR)) if r["account_id"] == account_id),
        key=lambda r: r["id"],
    )
    audit = {
        f"{kind}:{entity_id}": ok(
            http.get("/api/v1/admin/audit", params={"entity_kind": kind, "entity_id": entity_id}, headers=OPERATOR)
        )
        for kind, ids in (("service", [s["id"] for s in services]), ("change_request", [r["id"] for r in requests]))
        for entity_id in ids
    }
    return {"services": services, "charges": charges, "requests": requests, "audit": audit}


def login_again(http: httpx.Client, tag: str = "a") -> dict[str, str]:
    """A fresh manager token (tokens last 12 hours, so a test that moves the clock on logs in again)."""
    return account_user(http, f"chef-{tag}@example.fr", "gestion-secret")


def settled(http: httpx.Client, request: Any, headers: dict[str, str], seconds: float = 15.0) -> Any:
    """A confirmed change request once the networks have answered (`provisioning` until then)."""
    import time

    deadline = time.monotonic() + seconds
    while request["status"] == "provisioning" and time.monotonic() < deadline:
        time.sleep(0.05)
        request = ok(http.get(f"/api/v1/change-requests/{request['id']}", headers=headers))
    return request
