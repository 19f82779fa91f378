"""Line A, room 7: an account's charges for a period — exact lines, totals, and each cycle opened once."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from datetime import datetime
from threading import Barrier
from zoneinfo import ZoneInfo

import httpx
import pytest

from tests.api.helpers import (
    GIB,
    OPERATOR,
    PASSWORD,
    expect_problem,
    make_customer,
    make_service,
    money,
    ok,
    set_clock,
)

PARIS = ZoneInfo("Europe/Paris")


def charges(http, account_id: str, period: str | None = None) -> dict:
    params = {"period": period} if period else {}
    return ok(http.get(f"/api/v1/accounts/{account_id}/charges", params=params, headers=OPERATOR))


def test_charges_list_every_line_of_the_period_with_its_total(http):
    customer = make_customer(http)
    bundle = make_service(http, customer.account_id)
    metered = make_service(http, customer.account_id, plan_id="compteur-4g", msisdn="+33612345679")
    request = ok(
        http.post(
            f"/api/v1/services/{bundle['id']}/change-requests",
            json={"changes": {"plan_id": "data-30go-5g", "network": "sfr"}},
            headers=customer.manager,
        ),
        201,
    )
    ok(
        http.post(
            f"/api/v1/change-requests/{request['id']}/confirm", json={"password": PASSWORD}, headers=customer.manager
        )
    )
    ok(http.post(f"/api/v1/admin/services/{metered['id']}/usage", json={"bytes": 300 * 1024**2}, headers=OPERATOR))
    body = ok(
        http.get(
            f"/api/v1/accounts/{customer.account_id}/charges", params={"period": "2026-06"}, headers=customer.viewer
        )
    )
    at = "2026-06-16T07:00:00Z"
    assert body == {
        "period": "2026-06",
        "lines": [
            {
                "kind": "recurring",
                "description": "Data Mobile 10 Go 4G, juin 2026",
                "amount": money("6.00"),
                "service_id": bundle["id"],
                "change_request_id": None,
                "at": at,
            },
            {
                "kind": "recurring",
                "description": "Data Mobile au Compteur 4G, juin 2026",
                "amount": money("2.00"),
                "service_id": metered["id"],
                "change_request_id": None,
                "at": at,
            },
            {
                "kind": "proration",
                "description": "Prorata Data Mobile 30 Go 5G, 15/30 jours",
                "amount": money("5.75"),
                "service_id": bundle["id"],
                "change_request_id": request["id"],
                "at": at,
            },
            {
                "kind": "fee",
                "description": "Changement d'opérateur support (Orange → SFR)",
                "amount": money("10.00"),
                "service_id": bundle["id"],
                "change_request_id": request["id"],
                "at": at,
            },
            {
                "kind": "usage",
                "description": "Consommation au compteur, juin 2026",
                "amount": money("0.60"),
                "service_id": metered["id"],
                "change_request_id": None,
                "at": at,
            },
        ],
        "total": money("24.35"),
    }
    # the same numbers as the quote the customer confirmed
    assert [line["amount"] for line in body["lines"] if line["change_request_id"]] == [
        charge["amount"] for charge in request["quote"]["charges"]
    ]


def test_charges_default_to_the_current_period_in_the_accounts_zone(http):
    customer = make_customer(http)
    make_service(http, customer.account_id)
    assert charges(http, customer.account_id)["period"] == "2026-06"
    set_clock(http, "2026-06-30T22:30:00Z")  # 1 July, 00:30 in Paris
    body = charges(http, customer.account_id)
    assert body["period"] == "2026-07"
    assert [(line["description"], line["amount"]) for line in body["lines"]] == [
        ("Data Mobile 10 Go 4G, juillet 2026", money("6.00"))
    ]


def test_a_period_without_service_is_empty_with_a_zero_total(http):
    customer = make_customer(http)
    make_service(http, customer.account_id, activated_on="2026-03-10")
    assert charges(http, customer.account_id, "2026-02") == {"period": "2026-02", "lines": [], "total": money("0.00")}
    assert charges(http, customer.account_id, "2027-01") == {"period": "2027-01", "lines": [], "total": money("0.00")}


def test_the_turning_month_opens_one_recurring_line_per_service_once(http):
    customer = make_customer(http)
    first = make_service(http, customer.account_id)
    second = make_service(http, customer.account_id, plan_id="data-30go-5g", msisdn="+33612345679")
    set_clock(http, "2026-07-03T10:00:00+02:00")
    once = charges(http, customer.account_id, "2026-07")
    twice = charges(http, customer.account_id, "2026-07")
    ok(http.get("/api/v1/services", params={"account_id": customer.account_id}, headers=OPERATOR))
    ok(http.get(f"/api/v1/services/{first['id']}", headers=OPERATOR))
    thrice = charges(http, customer.account_id, "2026-07")
    assert once == twice == thrice
    assert sorted(
        (line["service_id"], line["kind"], line["description"], line["amount"]["amount"]) for line in once["lines"]
    ) == sorted(
        [
            (first["id"], "recurring", "Data Mobile 10 Go 4G, juillet 2026", "6.00"),
            (second["id"], "recurring", "Data Mobile 30 Go 5G, juillet 2026", "11.50"),
        ]
    )
    assert once["total"] == money("17.50")
    for line in once["lines"]:
        assert datetime.fromisoformat(line["at"]) == datetime.fromisoformat("2026-07-03T10:00:00+02:00")
    # June is unchanged by July's opening
    assert charges(http, customer.account_id, "2026-06")["total"] == money("17.50")


def test_months_skipped_without_any_read_are_each_opened_once(http):
    customer = make_customer(http)
    service = make_service(http, customer.account_id)
    set_clock(http, "2026-09-15T10:00:00+02:00")
    for period, month in (("2026-07", "juillet"), ("2026-08", "août"), ("2026-09", "septembre")):
        body = charges(http, customer.account_id, period)
        assert [(line["service_id"], line["description"], line["amount"]) for line in body["lines"]] == [
            (service["id"], f"Data Mobile 10 Go 4G, {month} 2026", money("6.00"))
        ], period
    for period in ("2026-07", "2026-08", "2026-09"):
        assert len(charges(http, customer.account_id, period)["lines"]) == 1


def test_concurrent_first_reads_of_a_new_month_still_open_it_once(http, server_url):
    customer = make_customer(http)
    make_service(http, customer.account_id)
    set_clock(http, "2026-07-02T10:00:00+02:00")
    start = Barrier(6)

    def read(_: int) -> int:
        with httpx.Client(base_url=server_url, timeout=60) as client:
            start.wait()
            return client.get(
                f"/api/v1/accounts/{customer.account_id}/charges", params={"period": "2026-07"}, headers=OPERATOR
            ).status_code

    with ThreadPoolExecutor(max_workers=6) as pool:
        assert list(pool.map(read, range(6))) == [200] * 6
    assert len(charges(http, customer.account_id, "2026-07")["lines"]) == 1


@pytest.mark.parametrize("period", ["2026-6", "2026-13", "2026-00", "202606", "juin", "2026-06-01", "26-06"])
def test_a_malformed_period_is_a_validation_error(http, period):
    customer = make_customer(http)
    make_service(http, customer.account_id)
    problem = expect_problem(
        http.get(
            f"/api/v1/accounts/{customer.account_id}/charges", params={"period": period}, headers=customer.manager
        ),
        422,
        "validation-error",
    )
    assert problem["errors"][0]["loc"] == ["query", "period"]


def test_the_year_zero_is_a_validation_error(http):
    customer = make_customer(http)
    expect_problem(
        http.get(
            f"/api/v1/accounts/{customer.account_id}/charges", params={"period": "0000-01"}, headers=customer.manager
        ),
        422,
        "validation-error",
    )


def test_charges_of_another_or_unknown_account_are_not_found(http):
    first = make_customer(http, tag="a")
    second = make_customer(http, "Autre", tag="b")
    make_service(http, second.account_id)
    for headers in (first.manager, first.viewer):
        expect_problem(http.get(f"/api/v1/accounts/{second.account_id}/charges", headers=headers), 404, "not-found")
    expect_problem(http.get("/api/v1/accounts/acc_nope/charges", headers=OPERATOR), 404, "not-found")
    expect_problem(http.get(f"/api/v1/accounts/{second.account_id}/charges"), 401, "unauthenticated")


def test_a_downgrade_credit_lowers_the_total(http):
    customer = make_customer(http)
    service = make_service(http, customer.account_id, plan_id="data-10go-5g")
    set_clock(http, "2026-06-24T12:00:00+02:00")  # 7 of 30 days left: 2.50 × 7/30 = 0.5833… → 0.58
    request = ok(
        http.post(
            f"/api/v1/services/{service['id']}/change-requests", json={"changes": {"radio": "4G"}}, headers=OPERATOR
        ),
        201,
    )
    ok(http.post(f"/api/v1/change-requests/{request['id']}/confirm", headers=OPERATOR))
    body = charges(http, customer.account_id, "2026-06")
    assert [(line["kind"], line["amount"]) for line in body["lines"]] == [
        ("recurring", money("8.50")),
        ("proration", money("-0.58")),
    ]
    assert body["total"] == money("7.92")


def test_a_topup_and_the_quota_it_adds_appear_in_the_period(http):
    customer = make_customer(http)
    service = make_service(http, customer.account_id)
    ok(
        http.post(
            f"/api/v1/services/{service['id']}/topups",
            json={"topup_id": "recharge-5go", "password": PASSWORD},
            headers=customer.manager,
        ),
        201,
    )
    body = charges(http, customer.account_id, "2026-06")
    assert [
        (line["kind"], line["description"], line["amount"], line["change_request_id"]) for line in body["lines"]
    ] == [
        ("recurring", "Data Mobile 10 Go 4G, juin 2026", money("6.00"), None),
        ("topup", "Recharge ponctuelle 5 Go", money("7.00"), None),
    ]
    assert body["total"] == money("13.00")
    assert ok(http.get(f"/api/v1/services/{service['id']}", headers=OPERATOR))["quota"]["total_bytes"] == 15 * GIB


def test_a_month_opened_late_dates_its_recurring_line_inside_the_month(http):
    customer = make_customer(http)
    make_service(http, customer.account_id, activated_on="2026-06-01")
    set_clock(http, "2026-08-20T10:00:00+02:00")  # nobody looked at the line in July
    (line,) = charges(http, customer.account_id, "2026-07")["lines"]
    local = datetime.fromisoformat(line["at"]).astimezone(PARIS)
    assert (line["kind"], line["amount"]["amount"]) == ("recurring", "6.00")
    assert (local.year, local.month, local.day) == (2026, 7, 31)


def test_a_back_dated_activation_is_billed_from_its_month_for_at_most_a_year(http):
    customer = make_customer(http)
    make_service(http, customer.account_id, activated_on="2025-06-01")  # today is 2026-06-16
    assert [line["amount"]["amount"] for line in charges(http, customer.account_id, "2025-06")["lines"]] == ["6.00"]
    refused = http.post(
        "/api/v1/admin/services",
        json={
            "account_id": customer.account_id,
            "plan_id": "data-10go-4g",
            "network": "orange",
            "apn": "internet.pro",
            "msisdn": "+33612300000",
            "activated_on": "2025-05-31",
        },
        headers=OPERATOR,
    )
    expect_problem(refused, 422, "validation-error")
