"""Bad text at the TMF facade's edge: a control character, a lone surrogate, a bad encoding or an over-long
string anywhere in a body, a query or a path is refused with a TMF error (400) before any handler runs."""

from __future__ import annotations

import json
from typing import Any

import httpx
import pytest

from tests.api.helpers import OPERATOR, make_customer, make_service, ok
from tests.api.prepaid_helpers import free_profiles, make_subscriber
from tests.rows import row_counts
from tests.tmf.helpers import INVENTORY, ORDERING, order_body, place, tmf_error

CATALOG = "/tmf-api/productCatalogManagement/v4"
QUALIFICATION = "/tmf-api/productOfferingQualificationManagement/v1"
BALANCE = "/tmf-api/prepayBalanceManagement/v4"
MSISDN = "+2250701020304"


def control(field: str) -> str:
    return f"Le champ « {field} » contient un caractère non permis (caractère de contrôle)."


def too_long(field: str, limit: int) -> str:
    return f"Le champ « {field} » dépasse {limit} caractères."


def refused(response: httpx.Response, message: str) -> None:
    tmf_error(response, 400, "validation-error", "Invalid request", message)


def send_json(http: httpx.Client, method: str, url: str, body: Any) -> httpx.Response:
    """JSON written with ASCII escapes, so that a lone surrogate travels as `\\ud800` (it has no UTF-8 form)."""
    return http.request(
        method, url, content=json.dumps(body).encode(), headers={**OPERATOR, "Content-Type": "application/json"}
    )


# ---------------------------------------------------------------- TMF620


@pytest.mark.parametrize(
    ("body", "message"),
    [
        ({"name": "Essai\x00"}, control("name")),
        ({"name": "\x1b[31mEssai"}, control("name")),
        ({"name": "Essai\ud800"}, control("name")),
        ({"name": "E" * 201}, too_long("name", 200)),
        ({"name": "Essai", "description": "Deux\x00lignes"}, control("description")),
        ({"name": "Essai", "description": "d" * 2001}, too_long("description", 2000)),
        ({"name": "Essai", "category": [{"id": "line-a", "name": "Mobile\x7f"}]}, control("category[0].name")),
        ({"name": "Essai", "bad\x00member": "x"}, control("body")),
    ],
    ids=["nul", "escape", "surrogate", "long-name", "nul-description", "long-description", "nested-del", "member-name"],
)
def test_a_catalogue_entry_with_bad_text_is_refused_and_not_kept(http, ctx, body, message):
    before = row_counts(ctx)
    refused(send_json(http, "POST", f"{CATALOG}/productOffering", body), message)
    assert row_counts(ctx) == before


def test_a_catalogue_entry_keeps_its_name_trimmed_and_its_description_on_several_lines(http):
    added = ok(
        http.post(
            f"{CATALOG}/productOffering",
            json={"name": "  Essai \u00a0", "description": "Ligne 1\n\tLigne 2"},
            headers=OPERATOR,
        ),
        201,
    )
    assert (added["name"], added["description"]) == ("Essai", "Ligne 1\n\tLigne 2")
    assert ok(http.get(f"{CATALOG}/productOffering/{added['id']}", headers=OPERATOR))["name"] == "Essai"
    patched = ok(http.patch(f"{CATALOG}/productOffering/{added['id']}", json={"name": " Renommé  "}, headers=OPERATOR))
    assert patched["name"] == "Renommé"


def test_a_catalogue_patch_with_bad_text_changes_nothing(http):
    added = ok(http.post(f"{CATALOG}/productOffering", json={"name": "Essai"}, headers=OPERATOR), 201)
    refused(
        send_json(http, "PATCH", f"{CATALOG}/productOffering/{added['id']}", {"name": "Autre\ud800"}), control("name")
    )
    assert ok(http.get(f"{CATALOG}/productOffering/{added['id']}", headers=OPERATOR))["name"] == "Essai"


# ---------------------------------------------------------------- TMF622


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"apn": "m2m.entreprise\x00"}, control("productOrderItem[0].product.productCharacteristic[0].value")),
        ({"network": "sfr\ud800"}, control("productOrderItem[0].product.productCharacteristic[0].value")),
        ({"apn": "a" * 501}, too_long("productOrderItem[0].product.productCharacteristic[0].value", 500)),
    ],
    ids=["nul", "surrogate", "long"],
)
def test_an_order_with_a_bad_characteristic_is_refused_and_nothing_is_kept(http, ctx, change, message):
    customer = make_customer(http)
    service = make_service(http, customer.account_id)
    before = row_counts(ctx)
    refused(send_json(http, "POST", f"{ORDERING}/productOrder", order_body(service["id"], **change)), message)
    assert row_counts(ctx) == before  # no change request, no rejected order


@pytest.mark.parametrize(
    ("extra", "message"),
    [
        ({"externalId": "ext\x1b"}, control("externalId")),
        ({"relatedParty": [{"id": "acme", "name": "Acme\x00", "role": "customer"}]}, control("relatedParty[0].name")),
        ({"note": [{"text": "n" * 2001}]}, too_long("note[0].text", 2000)),
    ],
    ids=["escape-external-id", "nul-party-name", "long-note"],
)
def test_an_order_with_bad_text_beside_its_items_is_refused(http, ctx, extra, message):
    make_subscriber(http, MSISDN, free_profiles(http)[0]["id"])
    before = row_counts(ctx)
    body = {**order_body(MSISDN, free_profiles(http)[1]["id"]), **extra}
    refused(send_json(http, "POST", f"{ORDERING}/productOrder", body), message)
    assert row_counts(ctx) == before  # no migration, no rejected order


def test_an_order_for_a_product_id_with_a_control_character_is_refused_before_any_look_up(http, ctx):
    before = row_counts(ctx)
    refused(
        send_json(http, "POST", f"{ORDERING}/productOrder", order_body("svc\x00", "data-30go-4g")),
        control("productOrderItem[0].product.id"),
    )
    assert row_counts(ctx) == before


def test_a_cancellation_with_a_bad_reason_leaves_the_order_acknowledged(http, ctx):
    customer = make_customer(http)
    service = make_service(http, customer.account_id)
    order = ok(place(http, order_body(service["id"], "data-30go-4g"), customer.manager), 201)
    before = row_counts(ctx)
    body = {"productOrder": {"id": order["id"]}, "cancellationReason": "Erreur\x00"}
    refused(send_json(http, "POST", f"{ORDERING}/cancelProductOrder", body), control("cancellationReason"))
    assert row_counts(ctx) == before
    assert ok(http.get(f"{ORDERING}/productOrder/{order['id']}", headers=OPERATOR))["state"] == "acknowledged"


# ---------------------------------------------------------------- TMF679 and TMF654


def test_a_qualification_with_bad_text_is_refused_and_not_kept(http, ctx):
    make_subscriber(http, MSISDN, free_profiles(http)[0]["id"])
    before = row_counts(ctx)
    body = {
        "description": "Éligibilité\ud800",
        "productOfferingQualificationItem": [
            {"id": "1", "product": {"id": MSISDN}, "productOffering": {"id": free_profiles(http)[1]["id"]}}
        ],
    }
    refused(send_json(http, "POST", f"{QUALIFICATION}/productOfferingQualification", body), control("description"))
    assert row_counts(ctx) == before


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"channel": {"name": "retail\x1b"}}, control("channel.name")),
        ({"product": {"id": MSISDN + "\ud800"}}, control("product.id")),
        ({"type": "v" * 501}, too_long("type", 500)),
    ],
    ids=["escape-channel", "surrogate-product", "long-type"],
)
def test_a_topup_with_bad_text_recharges_nothing(http, ctx, change, message):
    make_subscriber(http, MSISDN, free_profiles(http)[0]["id"])
    before = row_counts(ctx)
    body = {
        "type": "voice",
        "channel": {"name": "retail"},
        "amount": {"units": "XOF", "amount": 1000},
        "product": {"id": MSISDN},
        **change,
    }
    refused(send_json(http, "POST", f"{BALANCE}/balanceTopup", body), message)
    assert row_counts(ctx) == before
    assert ok(http.get(f"/api/v1/subscribers/{MSISDN}", headers=OPERATOR))["balance"]["amount"] == "0"


# ---------------------------------------------------------------- paths and queries


@pytest.mark.parametrize(
    ("url", "message"),
    [
        (f"{INVENTORY}/product/svc%00", control("product_id")),
        (f"{INVENTORY}/product/%2B225%1B", control("product_id")),
        (f"{INVENTORY}/product/" + "p" * 101, too_long("product_id", 100)),
        (f"{ORDERING}/productOrder/chg%00", control("order_id")),
        (f"{CATALOG}/productOffering/%7Foffer", control("entry_id")),
        (f"{BALANCE}/bucket/main-%00", control("bucket_id")),
        (f"{INVENTORY}/product?status=active%00", control("status")),
        (f"{INVENTORY}/product?fields=" + "f" * 501, too_long("fields", 500)),
        (
            f"{BALANCE}/bucket?product.id=%2B225%ED%A0%80",
            "Le champ « product.id » n'est pas du texte valide (encodage UTF-8 attendu).",
        ),
        (f"{ORDERING}/productOrder?st%00ate=x", control("nom de paramètre")),
    ],
    ids=[
        "product-nul",
        "product-escape",
        "product-long",
        "order-nul",
        "offering-del",
        "bucket-nul",
        "filter-nul",
        "fields-long",
        "filter-not-utf8",
        "filter-name-nul",
    ],
)
def test_a_path_or_query_with_bad_text_is_refused(http, ctx, url, message):
    make_subscriber(http, MSISDN, free_profiles(http)[0]["id"])
    before = row_counts(ctx)
    refused(http.get(url, headers=OPERATOR), message)
    assert row_counts(ctx) == before


def test_fields_may_list_names_over_several_lines_but_take_no_other_control_character(http):
    make_subscriber(http, MSISDN, free_profiles(http)[0]["id"])
    assert ok(http.get(f"{INVENTORY}/product?fields=id,%0A%09status", headers=OPERATOR)) == [
        {"id": MSISDN, "status": "active"}
    ]  # as the TMF679 conformance kit sends it
    refused(http.get(f"{INVENTORY}/product?fields=id,%1Bstatus", headers=OPERATOR), control("fields"))
