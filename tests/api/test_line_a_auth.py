"""Line A, room 3: login of business users, bearer tokens, logout and expiry."""

from __future__ import annotations

from datetime import datetime, timedelta

import pytest

from tests.api.helpers import OPERATOR, PASSWORD, bearer, expect_problem, make_customer, make_service, ok, set_clock

LOGIN = "/api/v1/auth/login"


def _login(http, email: str = "chef-a@example.fr", password: str = PASSWORD):
    return http.post(LOGIN, json={"email": email, "password": password})


def test_login_returns_a_token_valid_for_twelve_hours(http):
    make_customer(http)
    body = ok(_login(http))
    assert set(body) == {"token", "expires_at"}
    assert isinstance(body["token"], str)
    assert len(body["token"]) >= 32
    assert datetime.fromisoformat(body["expires_at"]) == datetime.fromisoformat(
        "2026-06-16T09:00:00+02:00"
    ) + timedelta(hours=12)
    services = http.get("/api/v1/services", headers=bearer(body["token"]))
    assert ok(services) == []


def test_login_ignores_the_case_and_spaces_of_the_email(http):
    make_customer(http)
    ok(_login(http, email="  Chef-A@Example.FR "))


def test_each_login_gives_a_new_token(http):
    make_customer(http)
    first, second = ok(_login(http))["token"], ok(_login(http))["token"]
    assert first != second


@pytest.mark.parametrize(
    ("email", "password"),
    [
        ("chef-a@example.fr", "mauvais-secret"),
        ("chef-a@example.fr", "Gestion-secret"),
        ("inconnu@example.fr", "gestion-secret"),
    ],
)
def test_bad_credentials_are_unauthenticated_with_the_same_answer(http, email, password):
    make_customer(http)
    response = _login(http, email, password)
    body = expect_problem(response, 401, "unauthenticated")
    assert body["detail"] == "Identifiant ou mot de passe incorrect."
    assert response.headers["www-authenticate"] == "Bearer"


@pytest.mark.parametrize(
    "body",
    [
        {},
        {"email": "chef-a@example.fr"},
        {"password": "gestion-secret"},
        {"email": "chef-a@example.fr", "password": "gestion-secret", "remember": True},
    ],
)
def test_an_incomplete_login_is_a_validation_error(http, body):
    make_customer(http)
    expect_problem(http.post(LOGIN, json=body), 422, "validation-error")


@pytest.mark.parametrize(
    "headers",
    [
        {"Authorization": "Bearer garbage"},
        {"Authorization": "Bearer test-operator-token-but-longer"},
        {"Authorization": "Token test-operator-token"},
        {"Authorization": "test-operator-token"},
        {},
    ],
)
def test_a_missing_or_garbage_token_is_unauthenticated(http, headers):
    customer = make_customer(http)
    service = make_service(http, customer.account_id)
    for path in (
        "/api/v1/services",
        f"/api/v1/services/{service['id']}",
        "/api/v1/change-requests",
        f"/api/v1/accounts/{customer.account_id}/charges",
    ):
        response = http.get(path, headers=headers)
        expect_problem(response, 401, "unauthenticated")
        assert response.headers["www-authenticate"] == "Bearer"
    response = http.post(
        f"/api/v1/services/{service['id']}/change-requests", json={"changes": {"radio": "5G"}}, headers=headers
    )
    expect_problem(response, 401, "unauthenticated")
    assert ok(http.get("/api/v1/change-requests", headers=OPERATOR)) == []


def test_logout_revokes_the_token_and_only_that_one(http):
    make_customer(http)
    first = bearer(ok(_login(http))["token"])
    second = bearer(ok(_login(http))["token"])
    response = http.post("/api/v1/auth/logout", headers=first)
    assert response.status_code == 204
    assert response.content == b""
    body = expect_problem(http.get("/api/v1/services", headers=first), 401, "unauthenticated")
    assert body["detail"] == "Jeton absent, expiré ou révoqué."
    ok(http.get("/api/v1/services", headers=second))


def test_logout_without_a_token_is_unauthenticated(http):
    expect_problem(http.post("/api/v1/auth/logout"), 401, "unauthenticated")


def test_a_token_past_its_expiry_is_refused(http):
    customer = make_customer(http)
    ok(http.get("/api/v1/services", headers=customer.manager))
    set_clock(http, "2026-06-16T20:59:59+02:00")
    ok(http.get("/api/v1/services", headers=customer.manager))
    set_clock(http, "2026-06-16T21:00:00+02:00")  # exactly twelve hours: expired
    expect_problem(http.get("/api/v1/services", headers=customer.manager), 401, "unauthenticated")
    set_clock(http, "2026-06-16T22:00:00+02:00")  # thirteen hours
    body = expect_problem(http.get("/api/v1/services", headers=customer.viewer), 401, "unauthenticated")
    assert body["detail"] == "Jeton absent, expiré ou révoqué."
    # a fresh login works again, and the operator token never expires
    ok(http.get("/api/v1/services", headers=bearer(ok(_login(http))["token"])))
    ok(http.get("/api/v1/services", headers=OPERATOR))


def test_login_is_in_the_audit_trail(http):
    account = ok(http.post("/api/v1/admin/accounts", json={"name": "A"}, headers=OPERATOR), 201)
    user = ok(
        http.post(
            f"/api/v1/admin/accounts/{account['id']}/users",
            json={"email": "chef@example.fr", "password": "gestion-secret", "role": "manager"},
            headers=OPERATOR,
        ),
        201,
    )
    ok(_login(http, "chef@example.fr"))
    events = ok(
        http.get("/api/v1/admin/audit", params={"entity_kind": "user", "entity_id": user["id"]}, headers=OPERATOR)
    )
    assert [(e["action"], e["actor_kind"], e["actor_id"], e["channel"]) for e in events] == [
        ("user.created", "operator", "operator", "api"),
        ("user.logged_in", "user", user["id"], "api"),
    ]
