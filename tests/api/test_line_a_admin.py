"""Line A, room 2: the operator's API — accounts, users, services, usage, audit trail."""

from __future__ import annotations

import pytest

from tests.api.helpers import (
    GIB,
    OPERATOR,
    bearer,
    expect_problem,
    line_a_state,
    make_customer,
    make_service,
    money,
    ok,
    set_clock,
)


def _service_body(owner: str, **overrides: object) -> dict:
    body = {
        "account_id": owner,
        "plan_id": "data-10go-4g",
        "network": "orange",
        "apn": "internet.pro",
        "msisdn": "+33612345678",
        "activated_on": "2026-01-01",
    }
    body.update(overrides)
    return {key: value for key, value in body.items() if value is not None}


def _audit(http, kind: str, entity_id: str) -> list[dict]:
    return ok(http.get("/api/v1/admin/audit", params={"entity_kind": kind, "entity_id": entity_id}, headers=OPERATOR))


# --- accounts -------------------------------------------------------------------------------------


def test_account_defaults_to_paris_and_euro(http):
    response = http.post("/api/v1/admin/accounts", json={"name": "Transports Exemple"}, headers=OPERATOR)
    body = ok(response, 201)
    assert set(body) >= {"id", "name", "timezone", "currency"}
    assert (body["name"], body["timezone"], body["currency"]) == ("Transports Exemple", "Europe/Paris", "EUR")
    assert body["id"]
    audit = _audit(http, "account", body["id"])
    assert [(e["action"], e["actor_kind"], e["channel"]) for e in audit] == [("account.created", "operator", "api")]
    assert audit[0]["after"] == {"name": "Transports Exemple", "timezone": "Europe/Paris"}


def test_account_keeps_an_explicit_timezone(http):
    body = ok(
        http.post(
            "/api/v1/admin/accounts", json={"name": "Outre-mer", "timezone": "America/Martinique"}, headers=OPERATOR
        ),
        201,
    )
    assert (body["timezone"], body["currency"]) == ("America/Martinique", "EUR")
    listed = ok(http.get("/api/v1/admin/accounts", headers=OPERATOR))
    assert [a for a in listed if a["id"] == body["id"]] == [body]


@pytest.mark.parametrize("timezone", ["Mars/Olympus", "Europe/Pariss", "../etc/passwd", "/etc/localtime", "zone.tab"])
def test_account_with_an_unknown_timezone_is_refused(http, timezone):
    body = expect_problem(
        http.post("/api/v1/admin/accounts", json={"name": "X", "timezone": timezone}, headers=OPERATOR),
        422,
        "validation-error",
    )
    assert body["detail"] == f"Fuseau horaire inconnu : {timezone}."
    assert ok(http.get("/api/v1/admin/accounts", headers=OPERATOR)) == []


def test_account_with_a_timezone_that_is_a_region_is_refused(http):
    expect_problem(
        http.post("/api/v1/admin/accounts", json={"name": "X", "timezone": "Europe"}, headers=OPERATOR),
        422,
        "validation-error",
    )


@pytest.mark.parametrize("body", [{}, {"name": ""}, {"name": "   "}, {"name": "X", "currency": "USD"}, {"name": 12}])
def test_account_with_a_bad_body_is_refused(http, body):
    expect_problem(http.post("/api/v1/admin/accounts", json=body, headers=OPERATOR), 422, "validation-error")
    assert ok(http.get("/api/v1/admin/accounts", headers=OPERATOR)) == []


# --- users ----------------------------------------------------------------------------------------


def test_users_are_created_with_their_role_and_can_log_in(http):
    account = ok(http.post("/api/v1/admin/accounts", json={"name": "A"}, headers=OPERATOR), 201)
    response = http.post(
        f"/api/v1/admin/accounts/{account['id']}/users",
        json={"email": "Chef@Example.fr", "password": "gestion-secret", "role": "manager"},
        headers=OPERATOR,
    )
    manager = ok(response, 201)
    assert (manager["email"], manager["role"], manager["account_id"]) == ("chef@example.fr", "manager", account["id"])
    assert manager["id"]
    viewer = ok(
        http.post(
            f"/api/v1/admin/accounts/{account['id']}/users",
            json={"email": "lecteur@example.fr", "password": "lecture-secret", "role": "viewer"},
            headers=OPERATOR,
        ),
        201,
    )
    assert viewer["role"] == "viewer"
    assert "password" not in manager
    assert "password_hash" not in manager
    ok(http.post("/api/v1/auth/login", json={"email": "chef@example.fr", "password": "gestion-secret"}))
    audit = _audit(http, "user", manager["id"])
    assert audit[0]["action"] == "user.created"
    assert audit[0]["after"] == {"email": "chef@example.fr", "role": "manager", "account_id": account["id"]}


def test_duplicate_email_is_a_conflict_whatever_the_case(http):
    account = ok(http.post("/api/v1/admin/accounts", json={"name": "A"}, headers=OPERATOR), 201)
    other = ok(http.post("/api/v1/admin/accounts", json={"name": "B"}, headers=OPERATOR), 201)
    path = f"/api/v1/admin/accounts/{account['id']}/users"
    ok(
        http.post(
            path, json={"email": "chef@example.fr", "password": "gestion-secret", "role": "manager"}, headers=OPERATOR
        ),
        201,
    )
    body = expect_problem(
        http.post(
            path, json={"email": "chef@example.fr", "password": "autre-secret", "role": "viewer"}, headers=OPERATOR
        ),
        409,
        "conflict",
    )
    assert body["detail"] == "Cette adresse e-mail est déjà utilisée."
    expect_problem(
        http.post(
            f"/api/v1/admin/accounts/{other['id']}/users",
            json={"email": "CHEF@example.fr", "password": "autre-secret", "role": "viewer"},
            headers=OPERATOR,
        ),
        409,
        "conflict",
    )
    # the first password still opens the session: nothing was overwritten
    ok(http.post("/api/v1/auth/login", json={"email": "chef@example.fr", "password": "gestion-secret"}))
    expect_problem(
        http.post("/api/v1/auth/login", json={"email": "chef@example.fr", "password": "autre-secret"}),
        401,
        "unauthenticated",
    )


@pytest.mark.parametrize(
    ("body", "detail"),
    [
        (
            {"email": "chef@example.fr", "password": "court", "role": "manager"},
            "Le mot de passe doit faire au moins 8 caractères.",
        ),
        ({"email": "pas-une-adresse", "password": "gestion-secret", "role": "manager"}, "Adresse e-mail invalide."),
        ({"email": "chef@example.fr", "password": "gestion-secret", "role": "admin"}, None),
        ({"email": "chef@example.fr", "password": "gestion-secret"}, None),
        ({"email": "chef@example.fr", "password": "", "role": "viewer"}, None),
    ],
)
def test_user_with_a_bad_body_is_refused(http, body, detail):
    account = ok(http.post("/api/v1/admin/accounts", json={"name": "A"}, headers=OPERATOR), 201)
    problem = expect_problem(
        http.post(f"/api/v1/admin/accounts/{account['id']}/users", json=body, headers=OPERATOR), 422, "validation-error"
    )
    if detail:
        assert problem["detail"] == detail
    expect_problem(
        http.post("/api/v1/auth/login", json={"email": "chef@example.fr", "password": "gestion-secret"}),
        401,
        "unauthenticated",
    )


def test_user_of_an_unknown_account_is_not_found(http):
    expect_problem(
        http.post(
            "/api/v1/admin/accounts/acc_nope/users",
            json={"email": "chef@example.fr", "password": "gestion-secret", "role": "manager"},
            headers=OPERATOR,
        ),
        404,
        "not-found",
    )


# --- services -------------------------------------------------------------------------------------


def test_service_is_created_with_its_cycle_quota_and_location(http):
    customer = make_customer(http)
    response = http.post("/api/v1/admin/services", json=_service_body(customer.account_id), headers=OPERATOR)
    service = ok(response, 201)
    assert response.headers["location"] == f"/api/v1/services/{service['id']}"
    assert service == {
        "id": service["id"],
        "account_id": customer.account_id,
        "msisdn": "+33612345678",
        "plan_id": "data-10go-4g",
        "plan_name": "Data Mobile 10 Go 4G",
        "kind": "bundle",
        "radio": "4G",
        "network": "orange",
        "apn": "internet.pro",
        "status": "active",
        "ceiling_bytes": None,
        "activated_on": "2026-01-01",
        "cycle": {"start": "2026-06-01", "end": "2026-06-30"},
        "quota": {"total_bytes": 10 * GIB, "used_bytes": 0, "remaining_bytes": 10 * GIB},
        "changes_left_this_month": 1,
    }
    assert ok(http.get(f"/api/v1/services/{service['id']}", headers=customer.manager)) == service
    audit = _audit(http, "service", service["id"])
    assert [(e["action"], e["actor_kind"], e["actor_id"], e["channel"]) for e in audit] == [
        ("service.created", "operator", "operator", "api")
    ]
    assert audit[0]["after"] == {
        "plan_id": "data-10go-4g",
        "network": "orange",
        "apn": "internet.pro",
        "ceiling_bytes": None,
        "status": "active",
    }


def test_service_without_activation_date_starts_today_in_the_account_zone(http):
    customer = make_customer(http)
    set_clock(http, "2026-06-30T22:30:00Z")  # already 1 July in Paris
    service = ok(
        http.post(
            "/api/v1/admin/services", json=_service_body(customer.account_id, activated_on=None), headers=OPERATOR
        ),
        201,
    )
    assert service["activated_on"] == "2026-07-01"
    assert service["cycle"] == {"start": "2026-07-01", "end": "2026-07-31"}
    charges = ok(
        http.get(f"/api/v1/accounts/{customer.account_id}/charges", params={"period": "2026-07"}, headers=OPERATOR)
    )
    assert [(line["kind"], line["amount"]) for line in charges["lines"]] == [("recurring", money("6.00"))]


def test_metered_service_gets_the_default_ceiling(http):
    customer = make_customer(http)
    service = make_service(http, customer.account_id, plan_id="compteur-4g")
    assert (service["kind"], service["radio"], service["ceiling_bytes"]) == ("metered", "4G", 5 * GIB)
    assert service["quota"] == {"total_bytes": 5 * GIB, "used_bytes": 0, "remaining_bytes": 5 * GIB}


@pytest.mark.parametrize(
    ("overrides", "status", "code", "detail"),
    [
        ({"plan_id": "data-12go-4g"}, 422, "no-such-plan", "Cette offre n'existe pas au catalogue."),
        ({"msisdn": "0612345678"}, 422, "validation-error", "Le MSISDN doit être au format E.164 (+33612345678)."),
        ({"msisdn": "+3361234"}, 422, "validation-error", "Le MSISDN doit être au format E.164 (+33612345678)."),
        ({"msisdn": "+33 6 12 34 56"}, 422, "validation-error", None),
        ({"network": "bouygues"}, 422, "validation-error", "Réseau inconnu : bouygues."),
        ({"apn": "internet.perso"}, 422, "validation-error", "APN inconnu : internet.perso."),
        ({"activated_on": "2026-06-17"}, 422, "validation-error", "La date d'activation ne peut être dans le futur."),
        ({"activated_on": "16/06/2026"}, 422, "validation-error", None),
        ({"account_id": "acc_nope"}, 404, "not-found", None),
        ({"ceiling_bytes": 10}, 422, "validation-error", None),
    ],
)
def test_service_with_a_bad_body_is_refused_and_nothing_is_created(http, overrides, status, code, detail):
    customer = make_customer(http)
    before = line_a_state(http, customer.account_id)
    problem = expect_problem(
        http.post("/api/v1/admin/services", json=_service_body(customer.account_id, **overrides), headers=OPERATOR),
        status,
        code,
    )
    if detail:
        assert problem["detail"] == detail
    assert line_a_state(http, customer.account_id) == before
    assert before["services"] == []
    assert before["charges"]["lines"] == []


def test_service_activation_in_the_future_is_judged_in_the_account_zone(http):
    paris = make_customer(http)
    new_york = ok(
        http.post("/api/v1/admin/accounts", json={"name": "NY", "timezone": "America/New_York"}, headers=OPERATOR), 201
    )
    set_clock(http, "2026-07-01T01:30:00+02:00")  # 1 July in Paris, still 30 June in New York
    ok(
        http.post(
            "/api/v1/admin/services", json=_service_body(paris.account_id, activated_on="2026-07-01"), headers=OPERATOR
        ),
        201,
    )
    expect_problem(
        http.post(
            "/api/v1/admin/services",
            json=_service_body(new_york["id"], msisdn="+12125550100", activated_on="2026-07-01"),
            headers=OPERATOR,
        ),
        422,
        "validation-error",
    )


def test_a_msisdn_carries_one_service_only(http):
    customer = make_customer(http)
    make_service(http, customer.account_id)
    before = line_a_state(http, customer.account_id)
    again = _service_body(customer.account_id, plan_id="data-30go-4g")
    body = expect_problem(http.post("/api/v1/admin/services", json=again, headers=OPERATOR), 409, "conflict")
    assert body["detail"] == "Ce MSISDN porte déjà un service."
    assert line_a_state(http, customer.account_id) == before


def test_service_with_an_absurd_activation_date_is_refused(http):
    customer = make_customer(http)
    body = _service_body(customer.account_id, activated_on="0001-01-01")
    expect_problem(http.post("/api/v1/admin/services", json=body, headers=OPERATOR), 422, "validation-error")


# --- usage ----------------------------------------------------------------------------------------


def test_usage_draws_the_quota(http):
    customer = make_customer(http)
    service = make_service(http, customer.account_id)
    after = ok(http.post(f"/api/v1/admin/services/{service['id']}/usage", json={"bytes": 3 * GIB}, headers=OPERATOR))
    assert after["quota"] == {"total_bytes": 10 * GIB, "used_bytes": 3 * GIB, "remaining_bytes": 7 * GIB}
    assert after["status"] == "active"
    after = ok(
        http.post(
            f"/api/v1/admin/services/{service['id']}/usage",
            json={"bytes": 1024, "at": "2026-06-16T08:00:00+02:00"},
            headers=OPERATOR,
        )
    )
    assert after["quota"]["used_bytes"] == 3 * GIB + 1024
    read = ok(http.get(f"/api/v1/services/{service['id']}", headers=customer.viewer))
    assert read["quota"] == {"total_bytes": 10 * GIB, "used_bytes": 3 * GIB + 1024, "remaining_bytes": 7 * GIB - 1024}


def test_a_fully_used_bundle_is_barred_and_the_audit_says_so(http):
    customer = make_customer(http)
    service = make_service(http, customer.account_id)
    after = ok(http.post(f"/api/v1/admin/services/{service['id']}/usage", json={"bytes": 10 * GIB}, headers=OPERATOR))
    assert after["status"] == "barred"
    assert after["quota"] == {"total_bytes": 10 * GIB, "used_bytes": 10 * GIB, "remaining_bytes": 0}
    # usage beyond the quota cannot make it negative, and keeps the line barred
    after = ok(http.post(f"/api/v1/admin/services/{service['id']}/usage", json={"bytes": GIB}, headers=OPERATOR))
    assert (after["status"], after["quota"]["remaining_bytes"]) == ("barred", 0)
    audit = _audit(http, "service", service["id"])
    barred = [e for e in audit if e["action"] == "service.barred"]
    assert len(barred) == 1
    assert (barred[0]["actor_kind"], barred[0]["channel"]) == ("operator", "api")
    assert (barred[0]["before"]["status"], barred[0]["after"]["status"]) == ("active", "barred")
    assert ok(http.get(f"/api/v1/services/{service['id']}", headers=customer.manager))["status"] == "barred"


def test_a_metered_line_is_barred_at_its_ceiling(http):
    customer = make_customer(http)
    service = make_service(http, customer.account_id, plan_id="compteur-4g")
    after = ok(http.post(f"/api/v1/admin/services/{service['id']}/usage", json={"bytes": 5 * GIB}, headers=OPERATOR))
    assert (after["status"], after["quota"]["remaining_bytes"]) == ("barred", 0)


def test_metered_usage_is_charged_as_it_arrives(http):
    customer = make_customer(http)
    service = make_service(http, customer.account_id, plan_id="compteur-4g")
    ok(http.post(f"/api/v1/admin/services/{service['id']}/usage", json={"bytes": 300 * 1024**2}, headers=OPERATOR))
    charges = ok(
        http.get(
            f"/api/v1/accounts/{customer.account_id}/charges", params={"period": "2026-06"}, headers=customer.manager
        )
    )
    usage = [line for line in charges["lines"] if line["kind"] == "usage"]
    assert [line["amount"] for line in usage] == [money("0.60")]  # 3 units of 100 MB at 0.20
    assert charges["total"] == money("2.60")


@pytest.mark.parametrize(
    ("body", "status", "code"),
    [
        ({"bytes": -1}, 422, "validation-error"),
        ({"bytes": "beaucoup"}, 422, "validation-error"),
        ({}, 422, "validation-error"),
        ({"bytes": 5, "at": "2026-06-16T09:00:01+02:00"}, 422, "validation-error"),  # in the future
        ({"bytes": 5, "at": "2026-06-16T08:00:00"}, 422, "validation-error"),  # naive
    ],
)
def test_bad_usage_is_refused_and_nothing_is_drawn(http, body, status, code):
    customer = make_customer(http)
    service = make_service(http, customer.account_id)
    before = line_a_state(http, customer.account_id)
    expect_problem(
        http.post(f"/api/v1/admin/services/{service['id']}/usage", json=body, headers=OPERATOR), status, code
    )
    assert line_a_state(http, customer.account_id) == before


def test_usage_dated_out_of_range_is_refused(http):
    customer = make_customer(http)
    service = make_service(http, customer.account_id)
    expect_problem(
        http.post(
            f"/api/v1/admin/services/{service['id']}/usage",
            json={"bytes": 5, "at": "0001-01-01T00:00:00+14:00"},
            headers=OPERATOR,
        ),
        422,
        "validation-error",
    )


def test_usage_of_an_unknown_service_is_not_found(http):
    expect_problem(
        http.post("/api/v1/admin/services/svc_nope/usage", json={"bytes": 5}, headers=OPERATOR), 404, "not-found"
    )


# --- who may call the operator's API ---------------------------------------------------------------


def _admin_calls(account_id: str, service_id: str) -> list[tuple[str, str, dict | None]]:
    return [
        ("POST", "/api/v1/admin/accounts", {"name": "Intrus"}),
        ("GET", "/api/v1/admin/accounts", None),
        (
            "POST",
            f"/api/v1/admin/accounts/{account_id}/users",
            {"email": "intrus@example.fr", "password": "intrus-secret", "role": "manager"},
        ),
        ("POST", "/api/v1/admin/services", _service_body(account_id, msisdn="+33699999999")),
        ("POST", f"/api/v1/admin/services/{service_id}/usage", {"bytes": GIB}),
        ("GET", f"/api/v1/admin/audit?entity_kind=service&entity_id={service_id}", None),
    ]


def test_admin_endpoints_refuse_a_customer_token(http):
    customer = make_customer(http)
    service = make_service(http, customer.account_id)
    before = line_a_state(http, customer.account_id)
    accounts = ok(http.get("/api/v1/admin/accounts", headers=OPERATOR))
    for token in (customer.manager, customer.viewer):
        for method, path, body in _admin_calls(customer.account_id, service["id"]):
            response = http.request(method, path, json=body, headers=token)
            problem = expect_problem(response, 403, "forbidden")
            assert problem["detail"] == "Réservé à l'opérateur.", (method, path)
    assert line_a_state(http, customer.account_id) == before
    assert ok(http.get("/api/v1/admin/accounts", headers=OPERATOR)) == accounts


@pytest.mark.parametrize(
    "headers",
    [None, {"Authorization": "Bearer not-a-token"}, {"Authorization": "Basic b3A6b3A="}, {"Authorization": "Bearer"}],
)
def test_admin_endpoints_refuse_a_missing_or_bad_token(http, headers):
    customer = make_customer(http)
    service = make_service(http, customer.account_id)
    before = line_a_state(http, customer.account_id)
    for method, path, body in _admin_calls(customer.account_id, service["id"]):
        response = http.request(method, path, json=body, headers=headers)
        expect_problem(response, 401, "unauthenticated")
        assert response.headers["www-authenticate"] == "Bearer"
    assert line_a_state(http, customer.account_id) == before


# --- audit ----------------------------------------------------------------------------------------


def test_audit_lists_the_events_of_one_entity_only(http):
    customer = make_customer(http)
    first = make_service(http, customer.account_id)
    second = make_service(http, customer.account_id, msisdn="+33612345679")
    ok(http.post(f"/api/v1/admin/services/{first['id']}/usage", json={"bytes": 10 * GIB}, headers=OPERATOR))
    events = _audit(http, "service", first["id"])
    assert [e["action"] for e in events] == ["service.created", "service.barred"]
    for event in events:
        assert set(event) == {
            "at",
            "actor_kind",
            "actor_id",
            "channel",
            "entity_kind",
            "entity_id",
            "action",
            "before",
            "after",
        }
        assert (event["entity_kind"], event["entity_id"]) == ("service", first["id"])
    assert [e["action"] for e in _audit(http, "service", second["id"])] == ["service.created"]
    assert _audit(http, "service", "svc_nope") == []
    assert _audit(http, "account", first["id"]) == []


def test_audit_needs_both_entity_kind_and_entity_id(http):
    expect_problem(
        http.get("/api/v1/admin/audit", params={"entity_kind": "service"}, headers=OPERATOR), 422, "validation-error"
    )
    expect_problem(
        http.get("/api/v1/admin/audit", params={"entity_id": "x"}, headers=OPERATOR), 422, "validation-error"
    )


def test_operator_token_reaches_customer_endpoints_of_every_account(http):
    first = make_customer(http, tag="a")
    second = make_customer(http, name="Autre", tag="b")
    one = make_service(http, first.account_id)
    two = make_service(http, second.account_id, msisdn="+33612345679")
    assert {s["id"] for s in ok(http.get("/api/v1/services", headers=OPERATOR))} == {one["id"], two["id"]}
    assert [
        s["id"] for s in ok(http.get("/api/v1/services", params={"account_id": second.account_id}, headers=OPERATOR))
    ] == [two["id"]]
    assert ok(http.get(f"/api/v1/services/{two['id']}", headers=OPERATOR))["id"] == two["id"]
    ok(http.get(f"/api/v1/accounts/{first.account_id}/charges", headers=OPERATOR))
    assert bearer("x") == {"Authorization": "Bearer x"}
