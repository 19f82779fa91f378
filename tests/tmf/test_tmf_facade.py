"""The other TMF APIs of the facade over HTTP: fixtures, inventory, catalogue, qualification, balance."""

from __future__ import annotations

import httpx

from bascule.channels.tmf.fixtures import load
from bascule.context import Context
from tests.api.helpers import OPERATOR, make_customer, make_service, ok
from tests.api.prepaid_helpers import free_profiles, make_subscriber, profile_needing
from tests.tmf.helpers import INVENTORY, order_body, place, settled_order, tmf_error

CATALOG = "/tmf-api/productCatalogManagement/v4"
QUALIFICATION = "/tmf-api/productOfferingQualificationManagement/v1"
BALANCE = "/tmf-api/prepayBalanceManagement/v4"


def test_fixtures_load_once_and_give_the_kits_their_products_and_buckets(http: httpx.Client, ctx: Context) -> None:
    assert len(load(ctx)) == 9
    assert load(ctx) == []
    products = ok(http.get(f"{INVENTORY}/product", headers=OPERATOR))
    assert [p["id"][:4] for p in products] == ["svc_", "svc_", "+225", "+225", "+225", "+225"]
    assert ok(http.get(f"{INVENTORY}/product/ml123", headers=OPERATOR))["id"] == "+2250799000123"
    buckets = ok(http.get(f"{BALANCE}/bucket", params={"product.id": "ml123"}, headers=OPERATOR))
    assert [(b["id"], b["status"]) for b in buckets] == [
        ("main-+2250799000123", "active"),
        ("ml_123_002", "expired"),
        ("ml_123_001", "active"),
    ]
    assert ok(http.get(f"{BALANCE}/bucket", params={"product.id": "nobody"}, headers=OPERATOR)) == []


def test_inventory_shows_a_service_with_its_characteristics_and_price(http: httpx.Client) -> None:
    customer = make_customer(http)
    service = make_service(http, customer.account_id, plan_id="data-10go-4g")
    product = ok(http.get(f"{INVENTORY}/product/{service['id']}", headers=customer.viewer))
    assert (product["status"], product["productOffering"]["id"], product["billingAccount"]["id"]) == (
        "active",
        "data-10go-4g",
        customer.account_id,
    )
    assert {c["name"]: c["value"] for c in product["productCharacteristic"]}["apn"] == "internet.pro"
    assert [(p["priceType"], p["price"]["dutyFreeAmount"]) for p in product["productPrice"]] == [
        ("recurring", {"unit": "EUR", "value": 6})
    ]
    assert ok(http.get(f"{INVENTORY}/product", params={"fields": "id,status"}, headers=customer.viewer)) == [
        {"id": service["id"], "status": "active"}
    ]
    other = make_customer(http, "Autre", tag="b")
    tmf_error(
        http.get(f"{INVENTORY}/product/{service['id']}", headers=other.viewer),
        404,
        "not-found",
        "Not found",
        "Élément introuvable.",
    )


def test_catalogue_entries_are_read_only_and_run_time_ones_are_not(http: httpx.Client) -> None:
    offering = ok(http.get(f"{CATALOG}/productOffering/data-10go-4g", headers=OPERATOR))
    assert (offering["name"], offering["lifecycleStatus"]) == ("Data Mobile 10 Go 4G", "Active")
    tmf_error(
        http.patch(f"{CATALOG}/productOffering/data-10go-4g", json={"name": "x"}, headers=OPERATOR),
        405,
        "read-only",
        "Method not allowed",
        "This productOffering comes from the catalogue file: change the file, not the API.",
    )
    added = ok(http.post(f"{CATALOG}/productOffering", json={"name": "Essai"}, headers=OPERATOR), 201)
    assert added["lifecycleStatus"] == "In design"
    customer = make_customer(http)
    tmf_error(
        http.post(f"{CATALOG}/productOffering", json={"name": "Essai"}, headers=customer.manager),
        403,
        "forbidden",
        "Not allowed",
        "Réservé à l'opérateur.",
    )
    # an offering only the TMF side knows cannot be ordered: it is not in the catalogue file
    service = make_service(http, customer.account_id)
    assert ok(place(http, order_body(service["id"], added["id"])), 201)["state"] == "rejected"
    assert http.delete(f"{CATALOG}/productOffering/{added['id']}", headers=OPERATOR).status_code == 204
    assert http.get(f"{CATALOG}/productOffering/{added['id']}", headers=OPERATOR).status_code == 404


def _qualify(http: httpx.Client, product_id: str, offering_id: str) -> dict:
    body = {
        "productOfferingQualificationItem": [
            {"id": "1", "product": {"id": product_id}, "productOffering": {"id": offering_id}}
        ]
    }
    return ok(http.post(f"{QUALIFICATION}/productOfferingQualification", json=body, headers=OPERATOR), 201)


def test_qualification_answers_with_the_rules_of_every_channel(http: httpx.Client) -> None:
    start, free = (p["id"] for p in free_profiles(http)[:2])
    make_subscriber(http, "+2250701020304", start)
    item = _qualify(http, "+2250701020304", free)["productOfferingQualificationItem"][0]
    assert (item["state"], item["qualificationItemResult"]) == ("done", "qualified")
    refused = _qualify(http, "+2250701020304", profile_needing(http, "2500")["id"])
    assert refused["qualificationResult"] == "unqualified"
    assert [r["code"] for r in refused["productOfferingQualificationItem"][0]["eligibilityUnavailabilityReason"]] == [
        "not-eligible"
    ]
    customer = make_customer(http)
    service = make_service(http, customer.account_id)
    assert _qualify(http, service["id"], "data-30go-4g")["qualificationResult"] == "qualified"
    settled_order(http, ok(place(http, order_body(service["id"], "data-30go-4g")), 201))
    limited = _qualify(http, service["id"], "data-50go-4g")["productOfferingQualificationItem"][0]
    assert limited["eligibilityUnavailabilityReason"] == [
        {
            "code": "monthly-limit-reached",
            "label": "Limite atteinte : 1 demande d'évolution par mois. "
            "Nouvelle demande possible à partir du 1er juillet 2026.",
        }
    ]
    assert ok(http.get(f"/api/v1/services/{service['id']}", headers=OPERATOR))["plan_id"] == "data-30go-4g"


def test_a_balance_topup_is_a_recharge(http: httpx.Client) -> None:
    make_subscriber(http, "+2250701020304", free_profiles(http)[0]["id"])
    body = {
        "type": "voice",
        "channel": {"name": "retail"},
        "amount": {"units": "XOF", "amount": 1000},
        "product": {"id": "+2250701020304"},
    }
    response = http.post(f"{BALANCE}/balanceTopup", json=body, headers=OPERATOR)
    assert response.status_code == 201, response.text
    topup = response.json()
    assert topup["id"].startswith("rch_")
    assert response.headers["location"] == topup["href"]
    assert {k: topup[k] for k in body} == body
    assert ok(http.get("/api/v1/subscribers/+2250701020304", headers=OPERATOR))["balance"] == {
        "amount": "1000",
        "currency": "XOF",
    }
    assert ok(http.get(f"{BALANCE}/balanceTopup/{topup['id']}", headers=OPERATOR)) == topup
    main = ok(http.get(f"{BALANCE}/bucket/main-+2250701020304", headers=OPERATOR))
    assert (main["bucketType"], main["remainedAmount"]) == ("monetary", {"amount": 1000, "units": "XOF"})
    tmf_error(
        http.post(f"{BALANCE}/balanceTopup", json={**body, "amount": {"units": "EUR", "amount": 5}}, headers=OPERATOR),
        400,
        "validation-error",
        "Invalid request",
        "This line's credit is in XOF: `amount.units` must be XOF.",
    )
    tmf_error(
        http.post(f"{BALANCE}/balanceTopup", json={k: v for k, v in body.items() if k != "product"}, headers=OPERATOR),
        400,
        "validation-error",
        "Invalid request",
        "`product` is required: the prepaid line to top up.",
    )
