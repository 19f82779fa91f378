"""The bill run: one invoice per account and month, equal to the charges shown, numbered without gaps."""

from __future__ import annotations

import io

from pypdf import PdfReader

from tests.api.helpers import OPERATOR, login_again, make_customer, make_service, ok, set_clock

MIB = 1024**2


def june_with_every_kind_of_line(http):
    """A month with recurring, prorated first cycle, proration, fee, top-up, extension and usage lines."""
    customer = make_customer(http)
    bundle = make_service(http, customer.account_id)  # 6.00 recurring
    fresh = make_service(
        http, customer.account_id, plan_id="data-30go-4g", msisdn="+33612345670", activated_on="2026-06-16"
    )  # 9.00 × 15/30 = 4.50
    metered = make_service(http, customer.account_id, plan_id="compteur-4g", msisdn="+33612345671")  # 2.00
    request = ok(
        http.post(
            f"/api/v1/services/{bundle['id']}/change-requests",
            json={"changes": {"plan_id": "data-30go-4g", "network": "sfr"}},
            headers=customer.manager,
        ),
        201,
    )
    ok(
        http.post(
            f"/api/v1/change-requests/{request['id']}/confirm",
            json={"password": customer.manager_password},
            headers=customer.manager,
        )
    )  # 4.50 proration + 10.00 fee
    ok(http.post(f"/api/v1/services/{fresh['id']}/topups", json={"topup_id": "recharge-1go"}, headers=OPERATOR), 201)
    ok(
        http.post(
            f"/api/v1/services/{metered['id']}/extensions", json={"extension_id": "extension-1go"}, headers=OPERATOR
        ),
        201,
    )
    ok(http.post(f"/api/v1/admin/services/{metered['id']}/usage", json={"bytes": 250 * MIB}, headers=OPERATOR))
    return customer, request


def test_the_invoice_equals_the_charges_of_the_month_to_the_cent(http):
    customer, request = june_with_every_kind_of_line(http)
    shown = ok(
        http.get(
            f"/api/v1/accounts/{customer.account_id}/charges", params={"period": "2026-06"}, headers=customer.manager
        )
    )
    assert shown["total"] == {"amount": "31.10", "currency": "EUR"}  # 6 + 4.50 + 2 + 4.50 + 10 + 2 + 1.50 + 0.60
    assert request["quote"]["total"] == {"amount": "14.50", "currency": "EUR"}

    set_clock(http, "2026-07-02T08:00:00+02:00")
    run = ok(http.post("/api/v1/admin/bill-runs", json={"period": "2026-06"}, headers=OPERATOR), 201)

    assert (run["created"], run["already_invoiced"]) == (1, 0)
    invoice = run["invoices"][0]
    assert invoice["number"] == "2026-000001"
    assert invoice["issued_on"] == "2026-07-02"
    assert invoice["total"] == shown["total"]
    assert invoice["vat"] == {"amount": "6.22", "currency": "EUR"}
    assert invoice["total_with_vat"] == {"amount": "37.32", "currency": "EUR"}
    assert sorted(line["kind"] for line in invoice["lines"]) == sorted(line["kind"] for line in shown["lines"])
    assert [line["amount"] for line in invoice["lines"]] == [line["amount"] for line in shown["lines"]]
    manager = login_again(http)
    assert ok(http.get(f"/api/v1/accounts/{customer.account_id}/invoices", headers=manager)) == [invoice]


def test_a_second_run_of_the_same_period_changes_nothing(http):
    june_with_every_kind_of_line(http)
    set_clock(http, "2026-07-02T08:00:00+02:00")
    first = ok(http.post("/api/v1/admin/bill-runs", json={"period": "2026-06"}, headers=OPERATOR), 201)
    second = ok(http.post("/api/v1/admin/bill-runs", json={"period": "2026-06"}, headers=OPERATOR), 201)
    assert (second["created"], second["already_invoiced"]) == (0, 1)
    assert second["invoices"] == first["invoices"]


def test_invoice_numbers_follow_each_other_across_accounts_and_runs(http):
    for tag in ("a", "b", "c"):
        customer = make_customer(http, name=f"Client {tag}", tag=tag)
        make_service(http, customer.account_id, msisdn=f"+3361234567{ord(tag) - 90}")
    set_clock(http, "2026-07-02T08:00:00+02:00")
    june = ok(http.post("/api/v1/admin/bill-runs", json={"period": "2026-06"}, headers=OPERATOR), 201)
    set_clock(http, "2026-08-01T08:00:00+02:00")
    july = ok(http.post("/api/v1/admin/bill-runs", json={"period": "2026-07"}, headers=OPERATOR), 201)
    numbers = sorted(i["number"] for i in june["invoices"]) + sorted(i["number"] for i in july["invoices"])
    assert numbers == [f"2026-{n:06d}" for n in range(1, 7)]
    assert {i["total"]["amount"] for i in july["invoices"]} == {"6.00"}


def test_a_month_that_has_not_ended_is_not_invoiced(http):
    customer = make_customer(http)
    make_service(http, customer.account_id)
    refused = http.post("/api/v1/admin/bill-runs", json={"period": "2026-06"}, headers=OPERATOR)
    assert (refused.status_code, refused.json()["code"]) == (422, "validation-error")
    assert ok(http.get(f"/api/v1/accounts/{customer.account_id}/invoices", headers=customer.manager)) == []


def test_a_customer_sees_only_its_own_invoices_and_cannot_run_the_bill(http):
    mine = make_customer(http, tag="a")
    theirs = make_customer(http, name="Autre", tag="b")
    make_service(http, mine.account_id)
    make_service(http, theirs.account_id, msisdn="+33612345600")
    set_clock(http, "2026-07-02T08:00:00+02:00")
    run = ok(http.post("/api/v1/admin/bill-runs", json={"period": "2026-06"}, headers=OPERATOR), 201)
    other_invoice = next(i for i in run["invoices"] if i["account_id"] == theirs.account_id)
    manager = login_again(http, "a")
    assert http.get(f"/api/v1/accounts/{theirs.account_id}/invoices", headers=manager).status_code == 404
    assert http.get(f"/api/v1/invoices/{other_invoice['id']}", headers=manager).status_code == 404
    assert http.get(f"/api/v1/invoices/{other_invoice['id']}/pdf", headers=manager).status_code == 404
    forbidden = http.post("/api/v1/admin/bill-runs", json={"period": "2026-06"}, headers=manager)
    assert (forbidden.status_code, forbidden.json()["code"]) == (403, "forbidden")


def test_the_pdf_invoice_carries_the_legal_mentions_and_the_amounts(http):
    june_with_every_kind_of_line(http)
    set_clock(http, "2026-07-02T08:00:00+02:00")
    invoice = ok(http.post("/api/v1/admin/bill-runs", json={"period": "2026-06"}, headers=OPERATOR), 201)["invoices"][0]
    response = http.get(f"/api/v1/invoices/{invoice['id']}/pdf", headers=login_again(http))
    assert response.status_code == 200
    assert response.headers["content-type"] == "application/pdf"
    assert response.headers["content-disposition"] == 'attachment; filename="facture-2026-000001.pdf"'
    text = " ".join((page.extract_text() or "") for page in PdfReader(io.BytesIO(response.content)).pages)
    text = " ".join(text.split())
    for expected in (
        "Facture n° 2026-000001",
        "Date d'émission : 2 juillet 2026",
        "Période facturée : juin 2026",
        "Bascule Mobile SAS",
        "SIREN 912345678",
        "FR40912345678",
        "Transports Exemple",
        "Total HT 31,10 €",
        "TVA 20 % 6,22 €",
        "Total TTC 37,32 €",
        "Échéance : 1er août 2026",
        "+33612345678 Changement d'opérateur support (Orange → SFR) 16 juin 2026 10,00 €",
        "+33612345671 Data Mobile au Compteur 4G, juin 2026",
    ):
        assert expected in text, expected
