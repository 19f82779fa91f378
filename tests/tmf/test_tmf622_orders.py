"""TMF622 Product Ordering over HTTP: a productOrder is a native change request (Line A) or a profile
migration (Line B); create, get, list, filter, project, cancel, and `rejected` with the reason."""

from __future__ import annotations

from typing import Any

import httpx

from tests.api.helpers import OPERATOR, PASSWORD, line_a_state, make_customer, make_service, ok
from tests.api.prepaid_helpers import free_profiles, make_subscriber, profile_needing
from tests.tmf.helpers import JSON_TYPE, ORDERING, order_body, place, settled_order, tmf_error

NOTICE = (
    "Les modifications sont immédiates. Pour qu'elles soient prises en compte sur la carte SIM, "
    "redémarrez votre équipement. Votre forfait actuel (6,00 € HT) reste facturé en entier pour ce cycle ; "
    "le reste de votre quota s'ajoute au nouveau jusqu'à la fin du cycle."
)
LIMIT = "Limite atteinte : 1 demande d'évolution par mois. Nouvelle demande possible à partir du 1er juillet 2026."


def _service(http: httpx.Client, msisdn: str = "+33612345678", tag: str = "a") -> tuple[Any, dict[str, Any]]:
    customer = make_customer(http, tag=tag)
    return customer, make_service(http, customer.account_id, plan_id="data-10go-4g", msisdn=msisdn)


def _href(base: str, api: str, resource: str, resource_id: str) -> str:
    return f"{base}/tmf-api/{api}/{resource}/{resource_id}"


def test_an_operator_order_is_the_change_request_confirmed_at_once(http: httpx.Client, server_url: str) -> None:
    customer, service = _service(http)
    response = place(http, order_body(service["id"], "data-30go-4g"))
    assert response.status_code == 201, response.text
    assert response.headers["content-type"] == JSON_TYPE
    created = response.json()
    assert (
        response.headers["location"]
        == created["href"]
        == _href(server_url, "productOrderingManagement/v4", "productOrder", created["id"])
    )
    order = settled_order(http, created)
    native = ok(http.get(f"/api/v1/change-requests/{created['id']}", headers=OPERATOR))
    assert (native["status"], native["channel"], native["changes"]) == ("completed", "tmf", {"plan_id": "data-30go-4g"})
    amount = {"unit": "EUR", "value": 4.5}
    assert order == {
        "id": native["id"],
        "href": created["href"],
        "@type": "ProductOrder",
        "state": "completed",
        "category": "mobile data (B2B)",
        "description": NOTICE,
        "orderDate": "2026-06-16T07:00:00.000Z",
        "completionDate": "2026-06-16T07:00:00.000Z",
        "channel": [{"id": "tmf", "name": "tmf", "role": "order channel"}],
        "relatedParty": [{"id": customer.account_id, "role": "customer", "@referredType": "Organization"}],
        "productOrderItem": [
            {
                "id": "1",
                "@type": "ProductOrderItem",
                "action": "modify",
                "quantity": 1,
                "state": "completed",
                "product": {
                    "id": service["id"],
                    "href": _href(server_url, "productInventory/v4", "product", service["id"]),
                    "@referredType": "Product",
                    "productCharacteristic": [],
                },
                "itemPrice": [
                    {
                        "name": "Prorata Data Mobile 30 Go 4G, 15/30 jours",
                        "description": "proration",
                        "priceType": "oneTime",
                        "price": {"dutyFreeAmount": amount, "@type": "Price"},
                        "@type": "OrderPrice",
                    }
                ],
                "productOffering": {
                    "id": "data-30go-4g",
                    "name": "Data Mobile 30 Go 4G",
                    "@referredType": "ProductOffering",
                    "href": _href(server_url, "productCatalogManagement/v4", "productOffering", "data-30go-4g"),
                },
            }
        ],
        "orderTotalPrice": [
            {
                "name": "Total",
                "priceType": "total",
                "price": {"dutyFreeAmount": amount, "@type": "Price"},
                "@type": "OrderPrice",
            }
        ],
    }
    assert ok(http.get(f"{ORDERING}/productOrder/{order['id']}", headers=OPERATOR)) == order
    assert ok(http.get(f"/api/v1/services/{service['id']}", headers=OPERATOR))["plan_id"] == "data-30go-4g"


def test_a_characteristic_change_is_an_order_too(http: httpx.Client) -> None:
    _, service = _service(http)
    order = settled_order(http, ok(place(http, order_body(service["id"], apn="m2m.entreprise")), 201))
    assert order["state"] == "completed"
    assert order["productOrderItem"][0]["product"]["productCharacteristic"] == [
        {"name": "apn", "value": "m2m.entreprise"}
    ]
    assert "productOffering" not in order["productOrderItem"][0]
    assert ok(http.get(f"/api/v1/services/{service['id']}", headers=OPERATOR))["apn"] == "m2m.entreprise"


def test_orders_are_listed_filtered_and_projected(http: httpx.Client) -> None:
    customer, first = _service(http)
    second = make_service(http, customer.account_id, plan_id="data-10go-4g", msisdn="+33612345679")
    done = settled_order(http, ok(place(http, order_body(first["id"], "data-30go-4g")), 201))
    waiting = ok(place(http, order_body(second["id"], "data-50go-4g"), customer.manager), 201)
    assert (done["state"], waiting["state"]) == ("completed", "acknowledged")

    listed = http.get(f"{ORDERING}/productOrder", headers=OPERATOR)
    assert [order["id"] for order in ok(listed)] == [waiting["id"], done["id"]]
    assert (listed.headers["x-total-count"], listed.headers["x-result-count"]) == ("2", "2")
    assert [
        o["id"] for o in ok(http.get(f"{ORDERING}/productOrder", params={"state": "acknowledged"}, headers=OPERATOR))
    ] == [waiting["id"]]
    assert [
        o["id"]
        for o in ok(
            http.get(f"{ORDERING}/productOrder", params={"productOrderItem.product.id": first["id"]}, headers=OPERATOR)
        )
    ] == [done["id"]]
    assert ok(http.get(f"{ORDERING}/productOrder", params={"fields": "id,state"}, headers=OPERATOR)) == [
        {"id": waiting["id"], "state": "acknowledged"},
        {"id": done["id"], "state": "completed"},
    ]
    assert ok(
        http.get(
            f"{ORDERING}/productOrder/{done['id']}", params={"fields": "state,productOrderItem.state"}, headers=OPERATOR
        )
    ) == {"state": "completed", "productOrderItem": [{"state": "completed"}]}
    assert ok(http.get(f"{ORDERING}/productOrder", params={"limit": "1", "offset": "1"}, headers=OPERATOR)) == [
        ok(http.get(f"{ORDERING}/productOrder/{done['id']}", headers=OPERATOR))
    ]
    # a customer sees its own account's orders only
    other, _ = _service(http, msisdn="+33698765432", tag="b")
    assert ok(http.get(f"{ORDERING}/productOrder", headers=other.manager)) == []
    assert [o["id"] for o in ok(http.get(f"{ORDERING}/productOrder", headers=customer.viewer))] == [
        waiting["id"],
        done["id"],
    ]


def test_a_customer_order_waits_for_the_customer_s_confirmation(http: httpx.Client) -> None:
    customer, service = _service(http)
    order = ok(place(http, order_body(service["id"], "data-30go-4g"), customer.manager), 201)
    assert [order["state"], order["productOrderItem"][0]["state"]] == ["acknowledged", "acknowledged"]
    assert ok(http.get(f"/api/v1/change-requests/{order['id']}", headers=OPERATOR))["status"] == "awaiting_confirmation"
    ok(
        http.post(
            f"/api/v1/change-requests/{order['id']}/confirm", json={"password": PASSWORD}, headers=customer.manager
        )
    )
    read = settled_order(
        http, ok(http.get(f"{ORDERING}/productOrder/{order['id']}", headers=customer.manager)), customer.manager
    )
    assert (read["state"], read["completionDate"]) == ("completed", "2026-06-16T07:00:00.000Z")


def test_an_acknowledged_order_is_cancelled(http: httpx.Client, server_url: str) -> None:
    customer, service = _service(http)
    order = ok(place(http, order_body(service["id"], "data-30go-4g"), customer.manager), 201)
    response = http.post(
        f"{ORDERING}/cancelProductOrder",
        headers=customer.manager,
        json={"productOrder": {"id": order["id"]}, "cancellationReason": "Erreur de saisie"},
    )
    assert response.status_code == 201, response.text
    cancellation = response.json()
    assert cancellation == {
        "id": order["id"],
        "href": _href(server_url, "productOrderingManagement/v4", "cancelProductOrder", order["id"]),
        "@type": "CancelProductOrder",
        "state": "done",
        "requestedCancellationDate": "2026-06-16T07:00:00.000Z",
        "effectiveCancellationDate": "2026-06-16T07:00:00.000Z",
        "productOrder": {"id": order["id"], "href": order["href"], "@referredType": "ProductOrder"},
        "cancellationReason": "Erreur de saisie",
    }
    assert response.headers["location"] == cancellation["href"]
    read = ok(http.get(f"{ORDERING}/productOrder/{order['id']}", headers=OPERATOR))
    assert (read["state"], read["cancellationDate"], read["productOrderItem"][0]["state"]) == (
        "cancelled",
        "2026-06-16T07:00:00.000Z",
        "cancelled",
    )
    assert ok(http.get(f"/api/v1/change-requests/{order['id']}", headers=OPERATOR))["status"] == "cancelled"
    assert ok(http.get(f"{ORDERING}/cancelProductOrder/{order['id']}", headers=OPERATOR)) == {
        key: value for key, value in cancellation.items() if key != "cancellationReason"
    }
    tmf_error(
        http.post(f"{ORDERING}/cancelProductOrder", json={"productOrder": {"id": order["id"]}}, headers=OPERATOR),
        409,
        "invalid-state",
        "Invalid state",
        "Cette demande ne peut plus être modifiée.",
    )


def test_a_completed_order_cannot_be_cancelled(http: httpx.Client) -> None:
    _, service = _service(http)
    order = settled_order(http, ok(place(http, order_body(service["id"], "data-30go-4g")), 201))
    tmf_error(
        http.post(f"{ORDERING}/cancelProductOrder", json={"productOrder": {"id": order["id"]}}, headers=OPERATOR),
        409,
        "invalid-state",
        "Invalid state",
        "Cette demande ne peut plus être modifiée.",
    )


def test_an_order_over_the_monthly_limit_is_rejected_with_the_reason_and_charges_nothing(
    http: httpx.Client, server_url: str
) -> None:
    customer, service = _service(http)
    settled_order(http, ok(place(http, order_body(service["id"], "data-30go-4g")), 201))
    before = line_a_state(http, customer.account_id)
    response = place(http, order_body(service["id"], "data-50go-4g"))
    assert response.status_code == 201, response.text
    rejected = response.json()
    assert rejected["id"].startswith("tmo_")
    assert response.headers["location"] == rejected["href"]
    assert rejected == {
        "id": rejected["id"],
        "href": _href(server_url, "productOrderingManagement/v4", "productOrder", rejected["id"]),
        "@type": "ProductOrder",
        "state": "rejected",
        "orderDate": "2026-06-16T07:00:00.000Z",
        "category": "mobile data (B2B)",
        "channel": [{"id": "tmf", "name": "tmf", "role": "order channel"}],
        "relatedParty": [],
        "productOrderItem": [
            {
                "id": "1",
                "action": "modify",
                "state": "rejected",
                "product": {
                    "id": service["id"],
                    "@referredType": "Product",
                    "href": _href(server_url, "productInventory/v4", "product", service["id"]),
                },
                "productOffering": {"id": "data-50go-4g"},
            }
        ],
        "errorMessage": [
            {
                "code": "monthly-limit-reached",
                "reason": "Monthly limit reached",
                "message": LIMIT,
                "status": "409",
                "@type": "ProductOrderErrorMessage",
            }
        ],
    }
    assert line_a_state(http, customer.account_id) == before  # no change request, no charge, no audit line
    assert ok(http.get(f"{ORDERING}/productOrder/{rejected['id']}", headers=customer.viewer)) == rejected
    assert [
        o["id"] for o in ok(http.get(f"{ORDERING}/productOrder", params={"state": "rejected"}, headers=OPERATOR))
    ] == [rejected["id"]]


def test_an_order_for_an_unknown_offering_is_rejected(http: httpx.Client) -> None:
    _, service = _service(http)
    rejected = ok(place(http, order_body(service["id"], "no-such-plan")), 201)
    assert rejected["state"] == "rejected"
    assert [(e["code"], e["status"]) for e in rejected["errorMessage"]] == [("no-such-plan", "422")]


def test_a_prepaid_line_order_is_the_profile_migration(http: httpx.Client, server_url: str) -> None:
    start, target = (profile["id"] for profile in free_profiles(http)[:2])
    make_subscriber(http, "+2250701020304", start)
    order = ok(place(http, order_body("+2250701020304", target)), 201)
    migrations = ok(http.get("/api/v1/subscribers/+2250701020304/profile-migrations", headers=OPERATOR))
    assert [(m["id"], m["to_profile_id"], m["channel"]) for m in migrations] == [(order["id"], target, "tmf")]
    assert (order["state"], order["category"], order["description"]) == (
        "completed",
        "prepaid",
        f"from profile {start}",
    )
    assert order["productOrderItem"][0]["product"] == {
        "id": "+2250701020304",
        "href": _href(server_url, "productInventory/v4", "product", "+2250701020304"),
        "@referredType": "Product",
        "productCharacteristic": [{"name": "profile", "value": target}],
    }
    assert ok(http.get(f"{ORDERING}/productOrder/{order['id']}", headers=OPERATOR)) == order
    gated = profile_needing(http, "2500")["id"]
    refused = ok(place(http, order_body("+2250701020304", gated)), 201)
    assert (refused["state"], [e["code"] for e in refused["errorMessage"]]) == ("rejected", ["not-eligible"])
    assert ok(http.get("/api/v1/subscribers/+2250701020304", headers=OPERATOR))["profile_id"] == target


def test_malformed_orders_and_unknown_ids_get_tmf_errors(http: httpx.Client) -> None:
    _, service = _service(http)
    tmf_error(
        place(http, {"productOrderItem": []}),
        400,
        "validation-error",
        "Invalid request",
        "`productOrderItem` must be a non-empty list of objects.",
    )
    body = order_body(service["id"], "data-30go-4g")
    body["productOrderItem"][0]["action"] = "add"
    tmf_error(
        place(http, body),
        400,
        "validation-error",
        "Invalid request",
        "Only `modify` order items are supported (got 'add'): a line is changed, not added or removed, "
        "through this API.",
    )
    tmf_error(
        place(http, order_body(service["id"])),
        400,
        "validation-error",
        "Invalid request",
        "Name the target `productOffering.id` or the changed `product.productCharacteristic`.",
    )
    tmf_error(
        place(http, order_body("svc_unknown", "data-30go-4g")), 404, "not-found", "Not found", "Élément introuvable."
    )
    tmf_error(
        http.get(f"{ORDERING}/productOrder/chr_unknown", headers=OPERATOR),
        404,
        "not-found",
        "Not found",
        "Élément introuvable.",
    )
    tmf_error(
        http.get(f"{ORDERING}/productOrder"),
        401,
        "unauthenticated",
        "Authentication required",
        "Veuillez vous identifier.",
    )
    other, _ = _service(http, msisdn="+33698765432", tag="b")
    tmf_error(
        place(http, order_body(service["id"], "data-30go-4g"), other.manager),
        404,
        "not-found",
        "Not found",
        "Élément introuvable.",
    )
