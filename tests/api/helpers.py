"""Small builders for API tests: an account with a manager and a viewer, services, logins."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import httpx

from tests.conftest import ADMIN_TOKEN

OPERATOR = {"Authorization": f"Bearer {ADMIN_TOKEN}"}
GIB = 1024**3


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


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
    ok(http.post(f"/api/v1/admin/accounts/{account['id']}/users",
                 json={"email": f"chef-{tag}@example.fr", "password": "gestion-secret", "role": "manager"},
                 headers=OPERATOR), 201)
    ok(http.post(f"/api/v1/admin/accounts/{account['id']}/users",
                 json={"email": f"lecteur-{tag}@example.fr", "password": "lecture-secret", "role": "viewer"},
                 headers=OPERATOR), 201)
    manager = ok(http.post("/api/v1/auth/login", json={"email": f"chef-{tag}@example.fr", "password": "gestion-secret"}))
    viewer = ok(http.post("/api/v1/auth/login", json={"email": f"lecteur-{tag}@example.fr", "password": "lecture-secret"}))
    return Customer(account["id"], bearer(manager["token"]), bearer(viewer["token"]))


def make_service(http: httpx.Client, account_id: str, plan_id: str = "data-10go-4g", msisdn: str = "+33612345678",
                 network: str = "orange", apn: str = "internet.pro", activated_on: str | None = "2026-01-01") -> Any:
    body: dict[str, Any] = {"account_id": account_id, "plan_id": plan_id, "network": network, "apn": apn,
                            "msisdn": msisdn}
    if activated_on:
        body["activated_on"] = activated_on
    return ok(http.post("/api/v1/admin/services", json=body, headers=OPERATOR), 201)


def set_clock(http: httpx.Client, instant: str) -> None:
    ok(http.put("/api/v1/test/clock", json={"now": instant}))
