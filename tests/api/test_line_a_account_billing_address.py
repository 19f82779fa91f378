"""Line A: an account's billing address — read and set by the operator (GET/PATCH /api/v1/admin/accounts/{id})."""

from __future__ import annotations

from tests.api.helpers import OPERATOR, expect_problem, make_customer, ok

ADDRESS = {
    "line1": "12 rue des Entrepôts",
    "line2": "Bâtiment B",
    "postal_code": "69007",
    "city": "Lyon",
    "country": "FR",
}


def _audit(http, account_id: str) -> list[dict]:
    return ok(
        http.get("/api/v1/admin/audit", params={"entity_kind": "account", "entity_id": account_id}, headers=OPERATOR)
    )


def test_an_account_has_no_address_until_the_operator_sets_one(http):
    customer = make_customer(http)
    url = f"/api/v1/admin/accounts/{customer.account_id}"
    assert ok(http.get(url, headers=OPERATOR)) == {
        "id": customer.account_id,
        "name": "Transports Exemple",
        "timezone": "Europe/Paris",
        "currency": "EUR",
        "billing_address": None,
    }
    changed = ok(http.patch(url, json={"billing_address": ADDRESS}, headers=OPERATOR))
    assert changed["billing_address"] == ADDRESS
    assert ok(http.get(url, headers=OPERATOR))["billing_address"] == ADDRESS
    events = _audit(http, customer.account_id)
    assert [(e["action"], e["actor_kind"], e["channel"]) for e in events][-1] == (
        "account.billing_address_changed",
        "operator",
        "api",
    )
    assert (events[-1]["before"], events[-1]["after"]) == ({"billing_address": None}, {"billing_address": ADDRESS})


def test_the_address_is_trimmed_defaults_to_france_and_can_be_removed(http):
    customer = make_customer(http)
    url = f"/api/v1/admin/accounts/{customer.account_id}"
    body = {"line1": "  3 place du Marché ", "postal_code": "33000", "city": " Bordeaux "}
    assert ok(http.patch(url, json={"billing_address": body}, headers=OPERATOR))["billing_address"] == {
        "line1": "3 place du Marché",
        "line2": None,
        "postal_code": "33000",
        "city": "Bordeaux",
        "country": "FR",
    }
    assert ok(http.patch(url, json={"billing_address": None}, headers=OPERATOR))["billing_address"] is None
    assert ok(http.get(url, headers=OPERATOR))["billing_address"] is None


def test_a_bad_address_is_a_validation_error_and_changes_nothing(http):
    customer = make_customer(http)
    url = f"/api/v1/admin/accounts/{customer.account_id}"
    ok(http.patch(url, json={"billing_address": ADDRESS}, headers=OPERATOR))
    for bad in (
        {**ADDRESS, "city": "   "},
        {**ADDRESS, "country": "France"},
        {**ADDRESS, "line1": "a\x00b"},
        {**ADDRESS, "postal_code": ""},
        {k: v for k, v in ADDRESS.items() if k != "city"},
        {**ADDRESS, "floor": "2"},
    ):
        expect_problem(http.patch(url, json={"billing_address": bad}, headers=OPERATOR), 422, "validation-error")
    expect_problem(http.patch(url, json={}, headers=OPERATOR), 422, "validation-error")
    assert ok(http.get(url, headers=OPERATOR))["billing_address"] == ADDRESS
    assert len(_audit(http, customer.account_id)) == 2  # created, then the one change


def test_only_the_operator_reads_or_sets_an_account_and_an_unknown_one_is_404(http):
    customer = make_customer(http)
    url = f"/api/v1/admin/accounts/{customer.account_id}"
    expect_problem(http.get(url), 401, "unauthenticated")
    expect_problem(http.get(url, headers=customer.manager), 403, "forbidden")
    expect_problem(http.patch(url, json={"billing_address": ADDRESS}, headers=customer.manager), 403, "forbidden")
    expect_problem(http.get("/api/v1/admin/accounts/acc_inconnu", headers=OPERATOR), 404, "not-found")
    expect_problem(
        http.patch("/api/v1/admin/accounts/acc_inconnu", json={"billing_address": ADDRESS}, headers=OPERATOR),
        404,
        "not-found",
    )
    assert ok(http.get(url, headers=OPERATOR))["billing_address"] is None


def test_the_patch_is_in_the_openapi_document(http):
    paths = ok(http.get("/openapi.json"))["paths"]
    assert {"get", "patch"} <= set(paths["/api/v1/admin/accounts/{account_id}"])
