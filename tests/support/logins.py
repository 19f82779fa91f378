"""One way to log in for each kind of user, over HTTP as the channels do:

- the operator's machines: the operator token (`OPERATOR` headers);
- a manager or a viewer of an account: e-mail and password, on the API (`account_user`) or in the Centre
  d'Opérations (`centre_user`);
- a prepaid subscriber: a one-time code sent by SMS, on the API (`subscriber`) or in the Espace client
  (`espace_subscriber`);
- back-office staff (agents, supervisors): e-mail and password on the back office (`staff`)."""

from __future__ import annotations

import re
from typing import Any

import httpx

ADMIN_TOKEN = "test-operator-token"  # the token of the test settings (tests/conftest.py)
OPERATOR = {"Authorization": f"Bearer {ADMIN_TOKEN}"}
CSRF = re.compile(r'name="csrf_token" value="([^"]+)"')
ONE_TIME_CODE = re.compile(r"\b(\d{6})\b")


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


def _ok(response: httpx.Response, status: int = 200) -> Any:
    assert response.status_code == status, response.text
    return response.json()


def csrf_of(page: httpx.Response) -> str:
    found = CSRF.search(page.text)
    assert found, f"no CSRF token on {page.url}: {page.text[:300]}"
    return found.group(1)


def submit(
    client: httpx.Client, form_page: str, action: str, data: dict[str, Any], headers: dict[str, str] | None = None
) -> httpx.Response:
    """GET the page holding the form, then POST the form with its CSRF token."""
    token = csrf_of(client.get(form_page))
    return client.post(action, data={**data, "csrf_token": token}, headers=headers)


def account_user(http: httpx.Client, email: str, password: str) -> dict[str, str]:
    """A manager's or a viewer's bearer headers, from the API login."""
    return bearer(_ok(http.post("/api/v1/auth/login", json={"email": email, "password": password}))["token"])


def centre_user(client: httpx.Client, email: str, password: str, suite: str = "") -> httpx.Response:
    """A manager or a viewer logged in the Centre d'Opérations (`client` keeps the cookie); the login's answer."""
    data = {"email": email, "password": password}
    if suite:
        data["suite"] = suite
    return submit(client, "/centre-operations/connexion", "/centre-operations/connexion", data)


def last_code(http: httpx.Client, msisdn: str) -> str:
    """The last one-time code sent to `msisdn` (read from the operator's notifications)."""
    messages = _ok(http.get("/api/v1/admin/notifications", params={"to": msisdn}, headers=OPERATOR))
    for message in messages:
        if found := ONE_TIME_CODE.search(message["body"]):
            return found.group(1)
    raise AssertionError(f"no code sent to {msisdn}: {messages}")


def subscriber(http: httpx.Client, msisdn: str) -> dict[str, str]:
    """A prepaid subscriber's bearer headers: a code asked for, then given to the API login."""
    _ok(http.post("/api/v1/auth/otp", json={"msisdn": msisdn}), 202)
    answer = http.post("/api/v1/auth/login", json={"msisdn": msisdn, "otp": last_code(http, msisdn)})
    return bearer(_ok(answer)["token"])


def espace_subscriber(client: httpx.Client, http: httpx.Client, msisdn: str) -> httpx.Response:
    """A prepaid subscriber logged in the Espace client with the code sent (`http` reads it as the operator)."""
    code_page = submit(client, "/espace-client/connexion", "/espace-client/code", {"msisdn": msisdn})
    assert code_page.status_code == 200, code_page.text
    return client.post(
        "/espace-client/connexion",
        data={"msisdn": msisdn, "code": last_code(http, msisdn), "csrf_token": csrf_of(code_page)},
    )


def staff(client: httpx.Client, email: str, password: str) -> httpx.Response:
    """An agent or a supervisor logged in the back office (`client` keeps the cookie); the login's answer."""
    return submit(client, "/back-office/connexion", "/back-office/connexion", {"email": email, "password": password})


def operator_in_back_office(client: httpx.Client, token: str = ADMIN_TOKEN) -> httpx.Response:
    """The operator's token given to the back office's login form (`client` keeps the cookie); the answer."""
    return submit(client, "/back-office/connexion", "/back-office/connexion", {"token": token})
