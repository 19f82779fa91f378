"""Catalogue overrides, as use cases: a supervisor withdraws an offer or changes a price; an agent may not; a
value the catalogue's checks refuse changes nothing; the audit row says who, before and after; every process
picks the change up from the stamp."""

from __future__ import annotations

from decimal import Decimal

import pytest
from sqlalchemy import select

from bascule.bootstrap import live_catalog
from bascule.identity.model import Channel, StaffRole
from bascule.identity.usecases import staff_principal
from bascule.kernel.errors import DomainError, ErrorCode
from bascule.kernel.messages_fr import message
from bascule.operations.catalogue import override_catalogue, overrides_in_force
from bascule.persistence import tables
from tests.portal.staff_helpers import AGENT, SUPERVISOR, make_staff
from tests.rows import row_counts


@pytest.fixture
def supervisor(ctx):
    return staff_principal(make_staff(ctx, SUPERVISOR, StaffRole.SUPERVISOR))


@pytest.fixture
def agent(ctx):
    return staff_principal(make_staff(ctx, AGENT, StaffRole.AGENT))


def _audit(ctx):
    with ctx.engine.connect() as connection:
        return connection.execute(
            select(tables.audit_events)
            .where(tables.audit_events.c.action == "catalog.overridden")
            .order_by(tables.audit_events.c.id)
        ).all()


def test_a_supervisor_withdraws_a_plan_and_changes_a_price_and_both_are_in_force_at_once(ctx, supervisor):
    assert override_catalogue(ctx, supervisor, Channel.BACKOFFICE, "plan", "data-30go-4g", "on_sale", "false")
    assert override_catalogue(ctx, supervisor, Channel.BACKOFFICE, "plan", "data-10go-5g", "price", "9,37")
    assert override_catalogue(ctx, supervisor, Channel.BACKOFFICE, "fee", "mno-change", "amount", "12.5")
    assert ctx.catalog.plan("data-30go-4g").on_sale is False
    assert ctx.catalog.plan("data-10go-5g").price.amount == Decimal("9.37")
    assert ctx.catalog.fee("mno-change").amount.amount == Decimal("12.50")
    assert [p.id for p in ctx.catalog.plans_on_sale()].count("data-30go-4g") == 0
    listed = [(o.entry_id, o.field.value, o.shipped, o.value, o.set_by) for o in overrides_in_force(ctx, supervisor)]
    assert listed == [
        ("mno-change", "amount", "10.00", "12.50", "Marc Dupont"),
        ("data-10go-5g", "price", "8.50", "9.37", "Marc Dupont"),
        ("data-30go-4g", "on_sale", "true", "false", "Marc Dupont"),
    ]


def test_the_audit_row_names_the_supervisor_with_the_value_before_and_after(ctx, supervisor):
    override_catalogue(ctx, supervisor, Channel.BACKOFFICE, "plan", "data-10go-5g", "price", "9.37")
    override_catalogue(ctx, supervisor, Channel.BACKOFFICE, "profile", "tigre", "on_sale", "false")
    first, second = _audit(ctx)
    assert (
        first.actor_kind,
        first.actor_id,
        first.actor_name,
        first.channel,
        first.entity_kind,
        first.entity_id,
        first.before,
        first.after,
        first.customer_kind,
        first.customer_id,
    ) == (
        "staff",
        supervisor.id,
        "Marc Dupont",
        "backoffice",
        "catalogue",
        "plan:data-10go-5g",
        {"price": "8.50"},
        {"price": "9.37"},
        None,
        None,
    )
    assert (second.entity_id, second.before, second.after) == ("profile:tigre", {"on_sale": True}, {"on_sale": False})


def test_reinstating_drops_the_override_and_setting_the_value_in_force_writes_nothing(ctx, supervisor):
    override_catalogue(ctx, supervisor, Channel.BACKOFFICE, "topup", "recharge-5go", "on_sale", "false")
    assert ctx.catalog.topup("recharge-5go").on_sale is False
    assert override_catalogue(ctx, supervisor, Channel.BACKOFFICE, "topup", "recharge-5go", "on_sale", "true")
    assert ctx.catalog.topup("recharge-5go").on_sale is True
    assert overrides_in_force(ctx, supervisor) == []
    before = row_counts(ctx)
    assert not override_catalogue(ctx, supervisor, Channel.BACKOFFICE, "topup", "recharge-5go", "on_sale", "true")
    assert row_counts(ctx) == before
    assert [(row.before, row.after) for row in _audit(ctx)] == [
        ({"on_sale": True}, {"on_sale": False}),
        ({"on_sale": False}, {"on_sale": True}),
    ]


def test_an_agent_sees_the_overrides_but_may_not_change_them(ctx, supervisor, agent):
    override_catalogue(ctx, supervisor, Channel.BACKOFFICE, "plan", "data-30go-4g", "on_sale", "false")
    assert [o.entry_id for o in overrides_in_force(ctx, agent)] == ["data-30go-4g"]
    before, catalog = row_counts(ctx), ctx.catalog
    with pytest.raises(DomainError) as refused:
        override_catalogue(ctx, agent, Channel.BACKOFFICE, "plan", "data-30go-4g", "on_sale", "true")
    assert (refused.value.code, message(refused.value)) == (ErrorCode.FORBIDDEN, "Réservé aux superviseurs.")
    assert row_counts(ctx) == before
    assert ctx.catalog is catalog


@pytest.mark.parametrize(
    ("kind", "entry", "field", "value", "code", "text"),
    [
        (
            "plan",
            "data-10go-5g",
            "price",
            "9.375",
            ErrorCode.VALIDATION_ERROR,
            "Au plus 2 décimale(s) en EUR : « 9.375 » ne se facture pas.",
        ),
        ("plan", "data-10go-5g", "price", "neuf", ErrorCode.VALIDATION_ERROR, "Montant illisible : « neuf »."),
        ("plan", "data-10go-5g", "price", "-1", ErrorCode.VALIDATION_ERROR, "Le montant doit être positif ou nul."),
        (
            "plan",
            "data-10go-5g",
            "on_sale",
            "peut-être",
            ErrorCode.VALIDATION_ERROR,
            "Choisissez « en vente » ou « retiré de la vente ».",
        ),
        (
            "profile",
            "tigre",
            "price",
            "100",
            ErrorCode.VALIDATION_ERROR,
            "Ce réglage ne s'applique pas à un(e) profil.",
        ),
        (
            "plan",
            "data-7go-4g",
            "on_sale",
            "false",
            ErrorCode.NO_SUCH_PLAN,
            "Aucun(e) offre « data-7go-4g » au catalogue.",
        ),
        (
            "plan",
            "data-10go-4g",
            "unit_price",
            "0.10",
            ErrorCode.VALIDATION_ERROR,
            "Le catalogue ne serait plus valide ainsi : plans.1: Value error, bundle data-10go-4g needs `data` and no "
            "metered fields",
        ),
    ],
)
def test_a_value_the_catalogue_refuses_changes_nothing(ctx, supervisor, kind, entry, field, value, code, text):
    before, catalog = row_counts(ctx), ctx.catalog
    with pytest.raises(DomainError) as refused:
        override_catalogue(ctx, supervisor, Channel.BACKOFFICE, kind, entry, field, value)
    assert (refused.value.code, message(refused.value)) == (code, text)
    assert row_counts(ctx) == before
    assert ctx.catalog is catalog


def test_withdrawing_the_last_plan_on_sale_is_refused_by_the_catalogue_check(ctx, supervisor):
    plans = [plan.id for plan in ctx.catalog.plans]
    for plan_id in plans[:-1]:
        override_catalogue(ctx, supervisor, Channel.BACKOFFICE, "plan", plan_id, "on_sale", "false")
    before = row_counts(ctx)
    with pytest.raises(DomainError) as refused:
        override_catalogue(ctx, supervisor, Channel.BACKOFFICE, "plan", plans[-1], "on_sale", "false")
    assert message(refused.value) == (
        "Le catalogue ne serait plus valide ainsi : (file): Value error, plans: at least one plan must be on sale"
    )
    assert row_counts(ctx) == before
    assert ctx.catalog.plan(plans[-1]).on_sale is True


def test_another_process_sees_the_change_when_its_look_at_the_stamp_is_due(ctx, settings, supervisor):
    ticks = [100.0]
    other = live_catalog(settings.model_copy(update={"catalog_refresh_seconds": 1.0}), ctx.units)
    other._monotonic = lambda: ticks[0]  # a clock the test moves
    other.refresh(force=True)
    override_catalogue(ctx, supervisor, Channel.BACKOFFICE, "plan", "data-10go-5g", "price", "9.37")
    other.refresh()
    assert other.current.plan("data-10go-5g").price.amount == Decimal("8.50")  # looked less than 1 s ago
    ticks[0] += 1.0
    other.refresh()
    assert other.current.plan("data-10go-5g").price.amount == Decimal("9.37")
    version = other.version
    ticks[0] += 5.0
    other.refresh()  # the stamp has not moved: nothing rebuilt
    assert other.version == version
