"""Line A, room 9: bill runs and invoices, only what CONTRACT.md fixes."""

from __future__ import annotations

import re

import pytest

from tests.api.helpers import OPERATOR, expect_problem, make_customer, make_service, ok, set_clock


@pytest.fixture
def billing(http):
    return http


def _lines(items: list[dict]) -> list[tuple[str, str, dict]]:
    return sorted((line["kind"], line["description"], line["amount"]) for line in items)


def test_a_bill_run_invoices_the_periods_charges_once_with_gapless_numbers(billing):
    http = billing
    first = make_customer(http, "Premier", tag="a")
    second = make_customer(http, "Second", tag="b")
    make_service(http, first.account_id, msisdn="+33612345678")
    make_service(http, second.account_id, plan_id="data-30go-4g", msisdn="+33698765432")
    request = ok(
        http.post(
            f"/api/v1/services/{make_service(http, first.account_id, msisdn='+33612345679')['id']}/change-requests",
            json={"changes": {"network": "sfr"}},
            headers=OPERATOR,
        ),
        201,
    )
    ok(http.post(f"/api/v1/change-requests/{request['id']}/confirm", headers=OPERATOR))
    june = {
        account: ok(http.get(f"/api/v1/accounts/{account}/charges", params={"period": "2026-06"}, headers=OPERATOR))
        for account in (first.account_id, second.account_id)
    }
    set_clock(http, "2026-07-02T08:00:00+02:00")

    response = http.post("/api/v1/admin/bill-runs", json={"period": "2026-06"}, headers=OPERATOR)
    run = ok(response, 201)
    assert run["period"] == "2026-06"
    assert isinstance(run["invoices"], list)

    invoices = {}
    for account in (first.account_id, second.account_id):
        listed = ok(http.get(f"/api/v1/accounts/{account}/invoices", headers=OPERATOR))
        assert len(listed) == 1
        invoice = listed[0]
        for field in ("id", "number", "period", "issued_on", "total", "lines"):
            assert field in invoice
        assert invoice["period"] == "2026-06"
        assert re.fullmatch(r"\d{4}-\d{2}-\d{2}", invoice["issued_on"])
        assert invoice["total"] == june[account]["total"]
        assert _lines(invoice["lines"]) == _lines(june[account]["lines"])
        invoices[account] = invoice
    numbers = sorted(invoice["number"] for invoice in invoices.values())
    for number in numbers:
        assert re.fullmatch(r"2026-\d{6}", number)
    first_number = int(numbers[0].split("-")[1])
    assert numbers == [f"2026-{first_number:06d}", f"2026-{first_number + 1:06d}"]

    # running it again changes nothing
    again = ok(http.post("/api/v1/admin/bill-runs", json={"period": "2026-06"}, headers=OPERATOR), 201)
    assert again["period"] == "2026-06"
    for account, invoice in invoices.items():
        assert ok(http.get(f"/api/v1/accounts/{account}/invoices", headers=OPERATOR)) == [invoice]


def test_invoices_are_the_callers_own(billing):
    http = billing
    first = make_customer(http, "Premier", tag="a")
    second = make_customer(http, "Second", tag="b")
    make_service(http, second.account_id)
    expect_problem(http.get(f"/api/v1/accounts/{second.account_id}/invoices", headers=first.manager), 404, "not-found")
    assert ok(http.get(f"/api/v1/accounts/{first.account_id}/invoices", headers=first.viewer)) == []
    expect_problem(http.get(f"/api/v1/accounts/{first.account_id}/invoices"), 401, "unauthenticated")


def test_only_the_operator_runs_a_bill_run_and_with_a_valid_period(billing):
    http = billing
    customer = make_customer(http)
    expect_problem(
        http.post("/api/v1/admin/bill-runs", json={"period": "2026-05"}, headers=customer.manager), 403, "forbidden"
    )
    expect_problem(http.post("/api/v1/admin/bill-runs", json={"period": "2026-05"}), 401, "unauthenticated")
    for period in ("2026-5", "2026-13", "mai", ""):
        expect_problem(
            http.post("/api/v1/admin/bill-runs", json={"period": period}, headers=OPERATOR), 422, "validation-error"
        )
    assert ok(http.get(f"/api/v1/accounts/{customer.account_id}/invoices", headers=OPERATOR)) == []
