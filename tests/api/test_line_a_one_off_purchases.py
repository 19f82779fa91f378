"""Line A, room 8: one-off purchases (top-ups, extensions) as the contract fixes them, refusals changing nothing.

The happy paths and metered billing are in test_line_a_purchases.py; this file adds exact answers and the
"nothing changed" check of every refusal.
"""

from __future__ import annotations

import pytest

from tests.api.helpers import (
    GIB,
    OPERATOR,
    PASSWORD,
    expect_problem,
    line_a_state,
    make_customer,
    make_service,
    money,
    ok,
)


def test_a_topup_answers_201_with_the_pack_and_the_service(http):
    customer = make_customer(http)
    service = make_service(http, customer.account_id)
    response = http.post(
        f"/api/v1/services/{service['id']}/topups",
        json={"topup_id": "recharge-10go", "password": PASSWORD},
        headers=customer.manager,
    )
    body = ok(response, 201)
    assert (body["kind"], body["pack_id"], body["name"], body["data_bytes"], body["price"], body["service_id"]) == (
        "topup",
        "recharge-10go",
        "Recharge ponctuelle 10 Go",
        10 * GIB,
        money("12.00"),
        service["id"],
    )
    assert body["service"]["quota"] == {"total_bytes": 20 * GIB, "used_bytes": 0, "remaining_bytes": 20 * GIB}
    # no monthly limit, and no change-request slot used
    assert body["service"]["changes_left_this_month"] == 1
    ok(
        http.post(
            f"/api/v1/services/{service['id']}/topups",
            json={"topup_id": "recharge-1go", "password": PASSWORD},
            headers=customer.manager,
        ),
        201,
    )
    ok(
        http.post(
            f"/api/v1/services/{service['id']}/topups",
            json={"topup_id": "recharge-1go", "password": PASSWORD},
            headers=customer.manager,
        ),
        201,
    )
    after = ok(http.get(f"/api/v1/services/{service['id']}", headers=customer.manager))
    assert after["quota"]["total_bytes"] == 22 * GIB
    assert after["changes_left_this_month"] == 1
    charges = ok(http.get(f"/api/v1/accounts/{customer.account_id}/charges", headers=customer.manager))
    assert [(line["kind"], line["amount"]) for line in charges["lines"]] == [
        ("recurring", money("6.00")),
        ("topup", money("12.00")),
        ("topup", money("2.00")),
        ("topup", money("2.00")),
    ]
    assert charges["total"] == money("22.00")


def test_an_extension_raises_this_cycles_ceiling_only(http):
    customer = make_customer(http)
    service = make_service(http, customer.account_id, plan_id="compteur-5g")
    body = ok(
        http.post(
            f"/api/v1/services/{service['id']}/extensions",
            json={"extension_id": "extension-5go", "password": PASSWORD},
            headers=customer.manager,
        ),
        201,
    )
    assert (body["kind"], body["pack_id"], body["data_bytes"], body["price"]) == (
        "extension",
        "extension-5go",
        5 * GIB,
        money("6.00"),
    )
    assert body["service"]["quota"]["total_bytes"] == 10 * GIB
    assert body["service"]["ceiling_bytes"] == 5 * GIB  # the service's own ceiling does not move
    charges = ok(http.get(f"/api/v1/accounts/{customer.account_id}/charges", headers=customer.manager))
    assert [(line["kind"], line["description"], line["amount"]) for line in charges["lines"]] == [
        ("recurring", "Data Mobile au Compteur 5G, juin 2026", money("3.00")),
        ("extension", "Extension de plafond 5 Go", money("6.00")),
    ]
    ok(http.put("/api/v1/test/clock", json={"now": "2026-07-01T00:00:00+02:00"}))
    assert ok(http.get(f"/api/v1/services/{service['id']}", headers=OPERATOR))["quota"]["total_bytes"] == 5 * GIB


@pytest.mark.parametrize(
    ("plan_id", "kind", "body", "who", "status", "code"),
    [
        (
            "data-10go-4g",
            "topups",
            {"topup_id": "recharge-1go", "password": "faux"},
            "manager",
            401,
            "identity-not-confirmed",
        ),
        ("data-10go-4g", "topups", {"topup_id": "recharge-1go"}, "manager", 401, "identity-not-confirmed"),
        ("compteur-4g", "extensions", {"extension_id": "extension-1go"}, "manager", 401, "identity-not-confirmed"),
        (
            "data-10go-4g",
            "topups",
            {"topup_id": "recharge-1go", "password": "lecture-secret"},
            "viewer",
            403,
            "forbidden",
        ),
        ("data-10go-4g", "topups", {"topup_id": "recharge-3go", "password": PASSWORD}, "manager", 422, "no-such-plan"),
        (
            "compteur-4g",
            "extensions",
            {"extension_id": "extension-3go", "password": PASSWORD},
            "manager",
            422,
            "no-such-plan",
        ),
        ("compteur-4g", "topups", {"topup_id": "recharge-1go", "password": PASSWORD}, "manager", 422, "not-applicable"),
        (
            "data-10go-4g",
            "extensions",
            {"extension_id": "extension-1go", "password": PASSWORD},
            "manager",
            422,
            "not-applicable",
        ),
        ("data-10go-4g", "topups", {"password": PASSWORD}, "manager", 422, "validation-error"),
        (
            "data-10go-4g",
            "topups",
            {"topup_id": "recharge-1go", "password": PASSWORD, "qty": 2},
            "manager",
            422,
            "validation-error",
        ),
        (
            "data-10go-4g",
            "topups",
            {"topup_id": "recharge-1go", "password": PASSWORD},
            "nobody",
            401,
            "unauthenticated",
        ),
        ("data-10go-4g", "topups", {"topup_id": "recharge-1go", "password": PASSWORD}, "stranger", 404, "not-found"),
    ],
)
def test_a_refused_purchase_changes_nothing(http, plan_id, kind, body, who, status, code):
    customer = make_customer(http)
    stranger = make_customer(http, "Autre", tag="b")
    service = make_service(http, customer.account_id, plan_id=plan_id)
    headers = {"manager": customer.manager, "viewer": customer.viewer, "nobody": {}, "stranger": stranger.manager}[who]
    before = line_a_state(http, customer.account_id)
    expect_problem(http.post(f"/api/v1/services/{service['id']}/{kind}", json=body, headers=headers), status, code)
    assert line_a_state(http, customer.account_id) == before
