"""Protective headers on every answer: JSON, problems, text, metrics, replays; HSTS only over HTTPS."""

from __future__ import annotations

import pytest

from tests.api.helpers import OPERATOR, make_customer, make_service
from tests.conftest import USSD_TOKEN

BASE = {
    "x-content-type-options": "nosniff",
    "x-frame-options": "DENY",
    "referrer-policy": "no-referrer",
}


def assert_protected(response) -> None:
    for name, value in BASE.items():
        assert response.headers.get(name) == value, (response.request.url, name, response.headers)
    csp = response.headers["content-security-policy"]
    assert csp.startswith("default-src 'self'"), csp
    assert "frame-ancestors 'none'" in csp
    assert "strict-transport-security" not in response.headers  # plain HTTP here
    assert response.headers["x-request-id"]


@pytest.mark.parametrize(
    ("method", "path", "status"),
    [
        ("GET", "/api/v1/catalog", 200),
        ("GET", "/api/v1/services", 401),
        ("GET", "/api/v1/nothing-here", 404),
        ("POST", "/api/v1/auth/login", 422),
        ("GET", "/healthz", 200),
        ("GET", "/readyz", 200),
        ("GET", "/metrics", 200),
        ("GET", "/openapi.json", 200),
        ("DELETE", "/api/v1/catalog", 405),
    ],
)
def test_every_kind_of_answer_carries_the_headers(http, method, path, status):
    response = http.request(method, path, json={} if method == "POST" else None)
    assert response.status_code == status, response.text
    assert_protected(response)


def test_created_resources_ussd_screens_and_idempotent_replays_carry_them_too(http):
    customer = make_customer(http)
    service = make_service(http, customer.account_id)
    headers = {**customer.manager, "Idempotency-Key": "headers-1"}
    path = f"/api/v1/services/{service['id']}/change-requests"
    first = http.post(path, json={"changes": {"radio": "5G"}}, headers=headers)
    replay = http.post(path, json={"changes": {"radio": "5G"}}, headers=headers)
    assert (first.status_code, replay.status_code) == (201, 201)
    assert replay.headers["idempotent-replayed"] == "true"
    for response in (first, replay):
        assert_protected(response)
    assert first.headers["x-request-id"] != replay.headers["x-request-id"]
    ussd = http.post(
        "/ussd",
        data={
            "sessionId": "h1",
            "serviceCode": "#121#",
            "phoneNumber": "+2250700000001",
            "networkCode": "61201",
            "text": "",
        },
        headers={"X-USSD-Token": USSD_TOKEN},
    )
    assert ussd.status_code == 200
    assert_protected(ussd)


def test_hsts_is_sent_only_when_the_request_came_over_https(http):
    # uvicorn trusts X-Forwarded-Proto from loopback (a TLS-terminating proxy in front of it)
    secure = http.get("/api/v1/catalog", headers={"X-Forwarded-Proto": "https"})
    assert secure.headers["strict-transport-security"] == "max-age=31536000; includeSubDomains"
    assert "strict-transport-security" not in http.get("/api/v1/catalog").headers


def test_the_documentation_pages_name_no_other_origin_and_nothing_may_frame_them(http):
    for path in ("/docs", "/redoc"):
        page = http.get(path)
        assert page.status_code == 200
        csp = page.headers["content-security-policy"]
        assert csp.startswith("default-src 'self'; script-src 'self'"), csp
        assert "http" not in csp
        assert "frame-ancestors 'none'" in csp
        assert page.headers["x-frame-options"] == "DENY"


def test_the_portal_keeps_its_own_stricter_policy(http):
    page = http.get("/")
    assert page.status_code == 200
    assert page.headers["content-security-policy"].startswith("default-src 'self'")
    assert page.headers["x-content-type-options"] == "nosniff"
    assert page.headers["x-frame-options"] == "DENY"
    assert page.headers.get_list("content-security-policy") == [page.headers["content-security-policy"]]


def test_a_header_the_application_set_is_never_doubled(http):
    for response in (
        http.get("/api/v1/admin/accounts", headers=OPERATOR),
        http.get("/"),
        http.get("/api/v1/catalog", headers={"X-Request-ID": "mine"}),
    ):
        for name in (
            "x-content-type-options",
            "x-frame-options",
            "referrer-policy",
            "content-security-policy",
            "x-request-id",
        ):
            assert len(response.headers.get_list(name)) == 1, (name, response.headers)


def test_the_protective_headers_are_worked_out_once_per_scheme_and_route():
    """The middleware keeps each set of headers encoded: the rule is asked once per scheme and route template, and
    HSTS still goes only with HTTPS."""
    import asyncio

    import httpx
    from fastapi import FastAPI

    from bascule.channels.rest.hardening import security_headers
    from bascule.observability.metrics import build_registry
    from bascule.observability.middleware import RequestTelemetryMiddleware
    from bascule.persistence.engine import make_engine

    asked: list[tuple[str, str]] = []

    def rule(scheme: str, route: str) -> dict[str, str]:
        asked.append((scheme, route))
        return security_headers(scheme, route)

    app = FastAPI()

    @app.get("/items/{item}")
    def item(item: str) -> dict[str, str]:
        return {"item": item}

    _, metrics = build_registry(make_engine("sqlite://"))
    app.add_middleware(RequestTelemetryMiddleware, metrics=metrics, headers=rule)

    async def get(base: str, path: str) -> httpx.Response:
        async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url=base) as client:
            return await client.get(path)

    plain = [asyncio.run(get("http://testserver", f"/items/{n}")) for n in range(3)]
    secure = [asyncio.run(get("https://testserver", f"/items/{n}")) for n in range(2)]
    assert asked == [("http", "/items/{item}"), ("https", "/items/{item}")]
    for response in plain:
        assert response.headers["x-frame-options"] == "DENY"
        assert "strict-transport-security" not in response.headers
    for response in secure:
        assert response.headers["strict-transport-security"] == "max-age=31536000; includeSubDomains"
        assert response.headers["x-content-type-options"] == "nosniff"
