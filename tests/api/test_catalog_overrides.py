"""A supervisor's catalogue overrides, as API v1 clients meet them: a withdrawn plan is refused with the
catalogue's stable code and nothing is stored; a changed price is in the next quote to the cent; a request
quoted before keeps the quote it was given; the catalogue says what is on sale."""

from __future__ import annotations

from decimal import Decimal

from sqlalchemy import func, select

from bascule.identity.model import Channel, StaffRole
from bascule.identity.usecases import staff_principal
from bascule.operations.catalogue import override_catalogue
from bascule.persistence import tables
from tests.api.helpers import OPERATOR, expect_problem, make_customer, make_service, money, ok
from tests.portal.staff_helpers import SUPERVISOR, make_staff


def _requests(ctx) -> int:
    with ctx.engine.connect() as connection:
        return connection.execute(select(func.count()).select_from(tables.change_requests)).scalar_one()


def test_a_withdrawn_plan_is_refused_with_no_such_plan_and_nothing_is_stored(ctx, http):
    customer = make_customer(http)
    service = make_service(http, customer.account_id)
    supervisor = staff_principal(make_staff(ctx, SUPERVISOR, StaffRole.SUPERVISOR))
    override_catalogue(ctx, supervisor, Channel.BACKOFFICE, "plan", "data-30go-4g", "on_sale", "false")

    refused = expect_problem(
        http.post(
            f"/api/v1/services/{service['id']}/change-requests",
            json={"changes": {"plan_id": "data-30go-4g"}},
            headers=customer.manager,
        ),
        422,
        "no-such-plan",
    )
    assert refused["detail"] == "« Data Mobile 30 Go 4G » n'est plus commercialisé."
    assert _requests(ctx) == 0
    expect_problem(
        http.post(
            f"/api/v1/services/{service['id']}/quotes",
            json={"changes": {"plan_id": "data-30go-4g"}},
            headers=customer.manager,
        ),
        422,
        "no-such-plan",
    )
    plans = {plan["id"]: plan for plan in ok(http.get("/api/v1/catalog"))["plans"]}
    assert (plans["data-30go-4g"]["on_sale"], plans["data-50go-4g"]["on_sale"]) == (False, True)
    expect_problem(
        http.post(
            "/api/v1/admin/services",
            json={
                "account_id": customer.account_id,
                "plan_id": "data-30go-4g",
                "network": "orange",
                "apn": "internet.pro",
                "msisdn": "+33612345679",
            },
            headers=OPERATOR,
        ),
        422,
        "no-such-plan",
    )


def test_a_changed_price_is_in_the_next_quote_to_the_cent_and_an_earlier_request_keeps_its_quote(ctx, http):
    customer = make_customer(http)
    service = make_service(http, customer.account_id)  # 10 GB 4G at 6.00; 16 June: 15 of 30 days left
    radio = {"changes": {"radio": "5G"}}
    before = ok(http.post(f"/api/v1/services/{service['id']}/quotes", json=radio, headers=customer.manager))
    assert before["total"] == money("1.25")  # (8.50 − 6.00) × 15/30
    earlier = ok(
        http.post(f"/api/v1/services/{service['id']}/change-requests", json=radio, headers=customer.manager), 201
    )
    supervisor = staff_principal(make_staff(ctx, SUPERVISOR, StaffRole.SUPERVISOR))
    override_catalogue(ctx, supervisor, Channel.BACKOFFICE, "plan", "data-10go-5g", "price", "9.37")

    after = ok(http.post(f"/api/v1/services/{service['id']}/quotes", json=radio, headers=customer.manager))
    assert after["total"] == money("1.69")  # (9.37 − 6.00) × 15/30 = 1.685, half up once
    assert [line["amount"] for line in after["charges"]] == [money("1.69")]
    kept = ok(http.get(f"/api/v1/change-requests/{earlier['id']}", headers=customer.manager))
    assert kept["quote"] == earlier["quote"]
    assert kept["quote"]["total"] == money("1.25")
    plans = {plan["id"]: plan for plan in ok(http.get("/api/v1/catalog"))["plans"]}
    assert plans["data-10go-5g"]["price"] == money("9.37")

    confirmed = ok(
        http.post(
            f"/api/v1/change-requests/{earlier['id']}/confirm",
            json={"password": customer.manager_password},
            headers=customer.manager,
        )
    )
    assert confirmed["status"] in ("completed", "provisioning")
    assert confirmed["quote"]["total"] == money("1.25")  # priced when quoted, charged so
    with ctx.engine.connect() as connection:
        charged = connection.execute(
            select(tables.charges.c.kind, tables.charges.c.amount).where(
                tables.charges.c.change_request_id == earlier["id"]
            )
        ).all()
    assert charged == [("proration", Decimal("1.25"))]


def test_a_withdrawn_profile_is_offered_to_nobody_refused_in_migration_and_kept_by_its_subscribers(ctx, http):
    from tests.portal.test_espace import MSISDN, make_subscriber

    make_subscriber(http)  # Novamix, 3 000 F CFA consumed last month: Tigre is within reach
    supervisor = staff_principal(make_staff(ctx, SUPERVISOR, StaffRole.SUPERVISOR))
    override_catalogue(ctx, supervisor, Channel.BACKOFFICE, "profile", "tigre", "on_sale", "false")
    override_catalogue(ctx, supervisor, Channel.BACKOFFICE, "profile", "novamix", "on_sale", "false")

    options = ok(http.get(f"/api/v1/subscribers/{MSISDN}/profile-options", headers=OPERATOR))
    assert [option["profile_id"] for option in options] == ["novamix", "dauphin", "aigle"]  # its own is kept
    refused = expect_problem(
        http.post(f"/api/v1/subscribers/{MSISDN}/profile-migrations", json={"profile_id": "tigre"}, headers=OPERATOR),
        422,
        "no-such-plan",
    )
    assert refused["detail"] == "« Tigre » n'est plus commercialisé."
    assert ok(http.get(f"/api/v1/subscribers/{MSISDN}/profile-migrations", headers=OPERATOR)) == []
    assert ok(http.get(f"/api/v1/subscribers/{MSISDN}", headers=OPERATOR))["profile_id"] == "novamix"
    expect_problem(
        http.post(
            "/api/v1/admin/subscribers", json={"msisdn": "+2250701234568", "profile_id": "tigre"}, headers=OPERATOR
        ),
        422,
        "no-such-plan",
    )
    offerings = {
        o["id"]: o for o in ok(http.get("/tmf-api/productCatalogManagement/v4/productOffering", headers=OPERATOR))
    }
    assert (offerings["tigre"]["lifecycleStatus"], offerings["tigre"]["isSellable"]) == ("Retired", False)
    assert (offerings["dauphin"]["lifecycleStatus"], offerings["dauphin"]["isSellable"]) == ("Active", True)
