"""Line A, room 4: a customer's services — scope, cycle, quota, changes left, first-cycle proration."""

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
    set_clock,
)


@pytest.fixture
def two_customers(http):
    first = make_customer(http, "Transports Exemple", tag="a")
    second = make_customer(http, "Livraisons Voisines", tag="b")
    mine = make_service(http, first.account_id, msisdn="+33612345678")
    also_mine = make_service(http, first.account_id, plan_id="compteur-4g", msisdn="+33612345679")
    theirs = make_service(http, second.account_id, msisdn="+33698765432")
    return first, second, mine, also_mine, theirs


def test_services_lists_only_the_callers_account(http, two_customers):
    first, second, mine, also_mine, theirs = two_customers
    listed = ok(http.get("/api/v1/services", headers=first.manager))
    assert [s["id"] for s in listed] == [mine["id"], also_mine["id"]]  # by MSISDN
    assert ok(http.get("/api/v1/services", headers=first.viewer)) == listed
    assert [s["id"] for s in ok(http.get("/api/v1/services", headers=second.manager))] == [theirs["id"]]
    # asking for another account's services gives one's own, never theirs
    assert [
        s["id"]
        for s in ok(http.get("/api/v1/services", params={"account_id": second.account_id}, headers=first.manager))
    ] == [mine["id"], also_mine["id"]]


def test_one_service_has_every_field_of_the_contract(http, two_customers):
    first, _, mine, _, _ = two_customers
    body = ok(http.get(f"/api/v1/services/{mine['id']}", headers=first.viewer))
    assert body == {
        "id": mine["id"],
        "account_id": first.account_id,
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


def test_another_customers_resources_are_not_found_and_untouched(http, two_customers):
    first, second, _, _, theirs = two_customers
    request = ok(
        http.post(
            f"/api/v1/services/{theirs['id']}/change-requests",
            json={"changes": {"radio": "5G"}},
            headers=second.manager,
        ),
        201,
    )
    before = line_a_state(http, second.account_id)
    calls = [
        ("GET", f"/api/v1/services/{theirs['id']}", None),
        ("POST", f"/api/v1/services/{theirs['id']}/quotes", {"changes": {"radio": "5G"}}),
        ("POST", f"/api/v1/services/{theirs['id']}/change-requests", {"changes": {"radio": "5G"}}),
        ("POST", f"/api/v1/change-requests/{request['id']}/confirm", {"password": PASSWORD}),
        ("POST", f"/api/v1/change-requests/{request['id']}/cancel", None),
        ("GET", f"/api/v1/change-requests/{request['id']}", None),
        ("GET", f"/api/v1/accounts/{second.account_id}/charges", None),
        ("GET", f"/api/v1/accounts/{second.account_id}/charges?period=2026-06", None),
        ("POST", f"/api/v1/services/{theirs['id']}/topups", {"topup_id": "recharge-1go", "password": PASSWORD}),
    ]
    for headers in (first.manager, first.viewer):
        for method, path, body in calls:
            problem = expect_problem(http.request(method, path, json=body, headers=headers), 404, "not-found")
            assert problem["detail"] == "Élément introuvable.", (method, path)
    # their request is not in my list, even when I filter on their service
    assert ok(http.get("/api/v1/change-requests", headers=first.manager)) == []
    assert ok(http.get("/api/v1/change-requests", params={"service_id": theirs["id"]}, headers=first.manager)) == []
    assert line_a_state(http, second.account_id) == before
    assert (
        ok(http.get(f"/api/v1/change-requests/{request['id']}", headers=second.manager))["status"]
        == "awaiting_confirmation"
    )


def test_unknown_ids_are_not_found(http):
    customer = make_customer(http)
    for path in ("/api/v1/services/svc_nope", "/api/v1/change-requests/chr_nope", "/api/v1/accounts/acc_nope/charges"):
        expect_problem(http.get(path, headers=customer.manager), 404, "not-found")
        expect_problem(http.get(path, headers=OPERATOR), 404, "not-found")
    expect_problem(
        http.post("/api/v1/services/svc_nope/quotes", json={"changes": {"radio": "5G"}}, headers=OPERATOR),
        404,
        "not-found",
    )
    expect_problem(
        http.post("/api/v1/services/svc_nope/change-requests", json={"changes": {"radio": "5G"}}, headers=OPERATOR),
        404,
        "not-found",
    )
    expect_problem(http.post("/api/v1/change-requests/chr_nope/confirm", json={}, headers=OPERATOR), 404, "not-found")
    expect_problem(http.post("/api/v1/change-requests/chr_nope/cancel", headers=OPERATOR), 404, "not-found")


@pytest.mark.parametrize(
    ("instant", "start", "end"),
    [
        ("2026-06-16T09:00:00+02:00", "2026-06-01", "2026-06-30"),
        ("2026-06-30T23:59:59+02:00", "2026-06-01", "2026-06-30"),
        ("2026-06-30T22:00:00Z", "2026-07-01", "2026-07-31"),  # midnight in Paris, still June in UTC
        ("2026-07-01T00:30:00+02:00", "2026-07-01", "2026-07-31"),
        ("2026-09-10T12:00:00+02:00", "2026-09-01", "2026-09-30"),
    ],
)
def test_cycle_is_the_calendar_month_in_the_accounts_zone(http, instant, start, end):
    customer = make_customer(http)
    service = make_service(http, customer.account_id)
    set_clock(http, instant)
    assert ok(http.get(f"/api/v1/services/{service['id']}", headers=OPERATOR))["cycle"] == {"start": start, "end": end}


def test_cycle_follows_an_account_in_another_zone(http):
    account = ok(
        http.post("/api/v1/admin/accounts", json={"name": "NY", "timezone": "America/New_York"}, headers=OPERATOR), 201
    )
    service = make_service(http, account["id"], msisdn="+12125550100")
    set_clock(http, "2026-07-01T01:30:00+02:00")  # 1 July in Paris, 30 June 19:30 in New York
    body = ok(http.get(f"/api/v1/services/{service['id']}", headers=OPERATOR))
    assert body["cycle"] == {"start": "2026-06-01", "end": "2026-06-30"}


def test_changes_left_this_month_counts_the_confirmed_request_and_resets_next_month(http):
    customer = make_customer(http)
    service = make_service(http, customer.account_id)
    other = make_service(http, customer.account_id, msisdn="+33612345679")
    request = ok(
        http.post(
            f"/api/v1/services/{service['id']}/change-requests",
            json={"changes": {"apn": "vpn.entreprise"}},
            headers=customer.manager,
        ),
        201,
    )
    # a request awaiting confirmation holds no slot yet
    assert ok(http.get(f"/api/v1/services/{service['id']}", headers=customer.manager))["changes_left_this_month"] == 1
    ok(
        http.post(
            f"/api/v1/change-requests/{request['id']}/confirm", json={"password": PASSWORD}, headers=customer.manager
        )
    )
    assert ok(http.get(f"/api/v1/services/{service['id']}", headers=customer.manager))["changes_left_this_month"] == 0
    assert ok(http.get(f"/api/v1/services/{other['id']}", headers=customer.manager))["changes_left_this_month"] == 1
    set_clock(http, "2026-07-01T00:00:00+02:00")
    assert ok(http.get(f"/api/v1/services/{service['id']}", headers=OPERATOR))["changes_left_this_month"] == 1


def test_a_service_activated_mid_month_pays_a_prorated_first_cycle(http):
    customer = make_customer(http)
    service = make_service(http, customer.account_id, plan_id="data-30go-4g", activated_on="2026-06-16")
    assert service["activated_on"] == "2026-06-16"
    # the allowance is the plan's whole volume, only the price is prorated
    assert service["quota"]["total_bytes"] == 30 * GIB
    charges = ok(
        http.get(
            f"/api/v1/accounts/{customer.account_id}/charges", params={"period": "2026-06"}, headers=customer.manager
        )
    )
    assert charges == {
        "period": "2026-06",
        "lines": [
            {
                "kind": "recurring",
                "description": "Data Mobile 30 Go 4G, juin 2026 (prorata 15/30 jours)",
                "amount": money("4.50"),
                "service_id": service["id"],
                "change_request_id": None,
                "at": "2026-06-16T07:00:00Z",
            }
        ],
        "total": money("4.50"),
    }
    set_clock(http, "2026-07-02T08:00:00+02:00")
    july = ok(
        http.get(f"/api/v1/accounts/{customer.account_id}/charges", params={"period": "2026-07"}, headers=OPERATOR)
    )
    assert [(line["kind"], line["description"], line["amount"]) for line in july["lines"]] == [
        ("recurring", "Data Mobile 30 Go 4G, juillet 2026", money("9.00"))
    ]


def test_a_service_activated_last_month_is_prorated_then_and_full_now(http):
    customer = make_customer(http)
    make_service(http, customer.account_id, activated_on="2026-05-20")  # 12 of 31 days of May
    may = ok(
        http.get(
            f"/api/v1/accounts/{customer.account_id}/charges", params={"period": "2026-05"}, headers=customer.manager
        )
    )
    assert [(line["description"], line["amount"]) for line in may["lines"]] == [
        ("Data Mobile 10 Go 4G, mai 2026 (prorata 12/31 jours)", money("2.32"))
    ]  # 6.00 × 12/31 = 2.3225…
    june = ok(
        http.get(
            f"/api/v1/accounts/{customer.account_id}/charges", params={"period": "2026-06"}, headers=customer.manager
        )
    )
    assert [(line["description"], line["amount"]) for line in june["lines"]] == [
        ("Data Mobile 10 Go 4G, juin 2026", money("6.00"))
    ]


def test_a_barred_service_is_lifted_when_the_next_cycle_opens(http):
    customer = make_customer(http)
    service = make_service(http, customer.account_id)
    ok(http.post(f"/api/v1/admin/services/{service['id']}/usage", json={"bytes": 10 * GIB}, headers=OPERATOR))
    set_clock(http, "2026-07-01T00:00:00+02:00")
    after = ok(http.get(f"/api/v1/services/{service['id']}", headers=OPERATOR))
    assert after["status"] == "active"
    assert after["quota"] == {"total_bytes": 10 * GIB, "used_bytes": 0, "remaining_bytes": 10 * GIB}
    events = ok(
        http.get("/api/v1/admin/audit", params={"entity_kind": "service", "entity_id": service["id"]}, headers=OPERATOR)
    )
    assert [(e["action"], e["actor_kind"], e["channel"]) for e in events] == [
        ("service.created", "operator", "api"),
        ("service.barred", "operator", "api"),
        ("service.unbarred", "system", "system"),
    ]
