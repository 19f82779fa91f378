"""Top-ups, extensions and metered usage (PRODUCT.md Line A, rules 4 and 5)."""

from __future__ import annotations

from tests.api.helpers import GIB, OPERATOR, make_customer, make_service, ok

MIB = 1024**2


def charges(http, customer, period="2026-06"):
    return ok(
        http.get(f"/api/v1/accounts/{customer.account_id}/charges", params={"period": period}, headers=customer.manager)
    )


def use(http, service_id, amount):
    return ok(http.post(f"/api/v1/admin/services/{service_id}/usage", json={"bytes": amount}, headers=OPERATOR))


def test_a_topup_adds_a_pack_until_the_cycle_ends_and_charges_it_once(http):
    customer = make_customer(http)
    service = make_service(http, customer.account_id)
    bought = ok(
        http.post(
            f"/api/v1/services/{service['id']}/topups",
            json={"topup_id": "recharge-1go", "password": customer.manager_password},
            headers=customer.manager,
        ),
        201,
    )
    assert bought["kind"] == "topup"
    assert bought["price"] == {"amount": "2.00", "currency": "EUR"}
    assert bought["valid_until"] == "2026-07-01T00:00:00+02:00"  # midnight, the cycle's end in Paris
    assert bought["service"]["quota"] == {"total_bytes": 11 * GIB, "used_bytes": 0, "remaining_bytes": 11 * GIB}
    lines = charges(http, customer)["lines"]
    assert [(line["kind"], line["amount"]["amount"]) for line in lines] == [("recurring", "6.00"), ("topup", "2.00")]


def test_usage_draws_the_topup_before_the_allowance(http):
    customer = make_customer(http)
    service = make_service(http, customer.account_id)
    ok(http.post(f"/api/v1/services/{service['id']}/topups", json={"topup_id": "recharge-1go"}, headers=OPERATOR), 201)
    after = use(http, service["id"], GIB + 5)
    assert after["quota"] == {"total_bytes": 11 * GIB, "used_bytes": GIB + 5, "remaining_bytes": 10 * GIB - 5}


def test_a_topup_lifts_the_bar_of_an_exhausted_bundle(http):
    customer = make_customer(http)
    service = make_service(http, customer.account_id)
    assert use(http, service["id"], 10 * GIB)["status"] == "barred"
    bought = ok(
        http.post(f"/api/v1/services/{service['id']}/topups", json={"topup_id": "recharge-5go"}, headers=OPERATOR), 201
    )
    assert bought["service"]["status"] == "active"
    assert bought["service"]["quota"]["remaining_bytes"] == 5 * GIB
    audit = ok(
        http.get("/api/v1/admin/audit", params={"entity_kind": "service", "entity_id": service["id"]}, headers=OPERATOR)
    )
    assert [event["action"] for event in audit][-3:] == ["service.barred", "service.topup", "service.unbarred"]


def test_a_topup_with_a_wrong_password_changes_nothing(http):
    customer = make_customer(http)
    service = make_service(http, customer.account_id)
    refused = http.post(
        f"/api/v1/services/{service['id']}/topups",
        json={"topup_id": "recharge-1go", "password": "not-it"},
        headers=customer.manager,
    )
    assert refused.status_code == 401
    assert refused.json()["code"] == "identity-not-confirmed"
    after = ok(http.get(f"/api/v1/services/{service['id']}", headers=customer.manager))
    assert after["quota"]["total_bytes"] == 10 * GIB
    assert [line["kind"] for line in charges(http, customer)["lines"]] == ["recurring"]


def test_a_topup_is_refused_on_a_metered_line_and_an_extension_on_a_bundle(http):
    customer = make_customer(http)
    bundle = make_service(http, customer.account_id)
    metered = make_service(http, customer.account_id, plan_id="compteur-4g", msisdn="+33612345679")
    topup = http.post(f"/api/v1/services/{metered['id']}/topups", json={"topup_id": "recharge-1go"}, headers=OPERATOR)
    extension = http.post(
        f"/api/v1/services/{bundle['id']}/extensions", json={"extension_id": "extension-1go"}, headers=OPERATOR
    )
    assert (topup.status_code, topup.json()["code"]) == (422, "not-applicable")
    assert (extension.status_code, extension.json()["code"]) == (422, "not-applicable")
    assert [line["kind"] for line in charges(http, customer)["lines"]] == ["recurring", "recurring"]


def test_unknown_pack_and_viewer_are_refused(http):
    customer = make_customer(http)
    service = make_service(http, customer.account_id)
    unknown = http.post(
        f"/api/v1/services/{service['id']}/topups", json={"topup_id": "recharge-999go"}, headers=OPERATOR
    )
    viewer = http.post(
        f"/api/v1/services/{service['id']}/topups",
        json={"topup_id": "recharge-1go", "password": "lecture-secret"},
        headers=customer.viewer,
    )
    assert (unknown.status_code, unknown.json()["code"]) == (422, "no-such-plan")
    assert (viewer.status_code, viewer.json()["code"]) == (403, "forbidden")


def test_topups_have_no_monthly_limit_and_a_retry_with_the_same_key_charges_once(http):
    customer = make_customer(http)
    service = make_service(http, customer.account_id)
    body = {"topup_id": "recharge-1go", "password": customer.manager_password}
    first = ok(
        http.post(
            f"/api/v1/services/{service['id']}/topups", json=body, headers=customer.manager | {"Idempotency-Key": "t-1"}
        ),
        201,
    )
    again = http.post(
        f"/api/v1/services/{service['id']}/topups", json=body, headers=customer.manager | {"Idempotency-Key": "t-1"}
    )
    second = ok(
        http.post(
            f"/api/v1/services/{service['id']}/topups", json=body, headers=customer.manager | {"Idempotency-Key": "t-2"}
        ),
        201,
    )
    assert again.status_code == 201
    assert again.json() == first
    assert second["id"] != first["id"]
    assert second["service"]["quota"]["total_bytes"] == 12 * GIB
    assert [line["amount"]["amount"] for line in charges(http, customer)["lines"] if line["kind"] == "topup"] == [
        "2.00",
        "2.00",
    ]


def test_metered_usage_is_billed_per_started_unit_on_one_growing_line(http):
    customer = make_customer(http)
    service = make_service(http, customer.account_id, plan_id="compteur-4g")
    use(http, service["id"], 250 * MIB)  # 3 started units of 100 MB at 0.20
    first = [line for line in charges(http, customer)["lines"] if line["kind"] == "usage"]
    use(http, service["id"], 100 * MIB)  # 350 MB: 4 units
    second = [line for line in charges(http, customer)["lines"] if line["kind"] == "usage"]
    assert [line["amount"]["amount"] for line in first] == ["0.60"]
    assert [line["amount"]["amount"] for line in second] == ["0.80"]
    assert charges(http, customer)["total"] == {"amount": "2.80", "currency": "EUR"}


def test_metered_usage_stops_at_the_ceiling_and_an_extension_raises_it(http):
    customer = make_customer(http)
    service = make_service(http, customer.account_id, plan_id="compteur-4g")
    at_ceiling = use(http, service["id"], 6 * GIB)  # the ceiling is 5 GB: 1 GB is never served nor billed
    assert at_ceiling["status"] == "barred"
    assert at_ceiling["quota"] == {"total_bytes": 5 * GIB, "used_bytes": 5 * GIB, "remaining_bytes": 0}
    usage = [line["amount"]["amount"] for line in charges(http, customer)["lines"] if line["kind"] == "usage"]
    assert usage == ["10.40"]  # 5 GiB is 51.2 units of 100 MiB: 52 started units at 0.20
    extended = ok(
        http.post(
            f"/api/v1/services/{service['id']}/extensions", json={"extension_id": "extension-1go"}, headers=OPERATOR
        ),
        201,
    )
    assert extended["service"]["status"] == "active"
    assert extended["service"]["quota"] == {"total_bytes": 6 * GIB, "used_bytes": 5 * GIB, "remaining_bytes": GIB}
    use(http, service["id"], 100 * MIB)  # 5220 MiB: 52.2, so a 53rd started unit
    lines = charges(http, customer)["lines"]
    assert [(line["kind"], line["amount"]["amount"]) for line in lines] == [
        ("recurring", "2.00"),
        ("usage", "10.60"),
        ("extension", "1.50"),
    ]


def test_a_catalogue_that_throttles_slows_a_used_up_bundle_instead_of_barring_it(http, ctx):
    from dataclasses import replace

    shipped = ctx.catalog
    ctx.catalog = replace(shipped, b2b=replace(shipped.b2b, at_exhaustion="throttle"))
    try:
        customer = make_customer(http)
        bundle = make_service(http, customer.account_id)
        metered = make_service(http, customer.account_id, plan_id="compteur-4g", msisdn="+33612345679")
        assert use(http, bundle["id"], 10 * GIB)["status"] == "throttled"
        assert use(http, metered["id"], 5 * GIB)["status"] == "barred"  # a metered ceiling always bars
        lifted = ok(
            http.post(f"/api/v1/services/{bundle['id']}/topups", json={"topup_id": "recharge-1go"}, headers=OPERATOR),
            201,
        )
        assert lifted["service"]["status"] == "active"
        audit = ok(
            http.get(
                "/api/v1/admin/audit", params={"entity_kind": "service", "entity_id": bundle["id"]}, headers=OPERATOR
            )
        )
        assert [event["action"] for event in audit][-3:] == ["service.throttled", "service.topup", "service.unbarred"]
    finally:
        ctx.catalog = shipped
