"""Driving the portal over HTTP as a browser would: cookies, CSRF tokens from the forms, readable text."""

from __future__ import annotations

import html
import re
from dataclasses import dataclass
from typing import Any

import httpx

from tests.api.helpers import OPERATOR, ok
from tests.support.logins import centre_user, csrf_of, submit

__all__ = ["csrf_of", "submit"]  # forms with their CSRF token, for the portal tests

GIB = 1024**3


def text_of(page: httpx.Response) -> str:
    """The page as a person reads it: tags dropped, entities decoded, white space collapsed."""
    body = re.sub(r"<(script|style)[^>]*>.*?</\1>", " ", page.text, flags=re.S)
    return re.sub(r"\s+", " ", html.unescape(re.sub(r"<[^>]+>", " ", body))).strip()


def browser(server_url: str) -> httpx.Client:
    return httpx.Client(base_url=server_url, timeout=30, follow_redirects=False)


def login_centre(client: httpx.Client, email: str, password: str, suite: str = "") -> httpx.Response:
    return centre_user(client, email, password, suite)


@dataclass
class Business:
    account_id: str
    service_id: str
    manager: tuple[str, str]
    viewer: tuple[str, str]


def make_business(
    http: httpx.Client,
    tag: str = "a",
    plan_id: str | None = None,
    msisdn: str = "+33612345678",
    used_bytes: int = 8 * GIB,
    name: str = "Transports Exemple",
) -> Business:
    """An account with a manager and a viewer, and one bundle service (10 GB 4G unless told) with usage."""
    from tests.api.helpers import make_service

    account = ok(http.post("/api/v1/admin/accounts", json={"name": name}, headers=OPERATOR), 201)
    manager = (f"chef-{tag}@example.fr", "gestion-secret")
    viewer = (f"lecteur-{tag}@example.fr", "lecture-secret")
    for (email, password), role in ((manager, "manager"), (viewer, "viewer")):
        ok(
            http.post(
                f"/api/v1/admin/accounts/{account['id']}/users",
                json={"email": email, "password": password, "role": role},
                headers=OPERATOR,
            ),
            201,
        )
    plan = plan_id or bundle_plan(http, 10 * GIB, "4G")
    service = make_service(http, account["id"], plan_id=plan, msisdn=msisdn)
    if used_bytes:
        ok(http.post(f"/api/v1/admin/services/{service['id']}/usage", json={"bytes": used_bytes}, headers=OPERATOR))
    return Business(account["id"], service["id"], manager, viewer)


def bundle_plan(http: httpx.Client, data_bytes: int, radio: str) -> str:
    """A plan id looked up by what it is (the code names no catalogue entry)."""
    plans = ok(http.get("/api/v1/catalog"))["plans"]
    return next(
        p["id"] for p in plans if p["kind"] == "bundle" and p["data_bytes"] == data_bytes and p["radio"] == radio
    )


def change_requests(http: httpx.Client, service_id: str) -> list[dict[str, Any]]:
    return ok(http.get("/api/v1/change-requests", params={"service_id": service_id}, headers=OPERATOR))
