"""Line A change requests on fakes of their ports: the use cases decide, no database is involved."""

from __future__ import annotations

from datetime import UTC, date, datetime
from decimal import Decimal
from typing import Any

import pytest

from bascule.catalog.model import GIB, Catalog, Plan, PlanKind, Radio
from bascule.context import Context
from bascule.evolutions.lifecycle import RequestStatus
from bascule.evolutions.model import Service, ServiceStatus
from bascule.evolutions.rules import RequestedChanges
from bascule.evolutions.usecases import confirm_as_identified, create_change_request
from bascule.identity.model import OPERATOR, Account, Channel, Role, User
from bascule.kernel.clock import SettableClock
from bascule.kernel.errors import DomainError, ErrorCode
from bascule.kernel.money import Money
from tests.support.fakes import FakeStore, fake_context

NOW = datetime(2026, 12, 16, 9, 0, tzinfo=UTC)  # the 16th: 16 days of 31 left in Paris


def bundle(catalog: Catalog, gigabytes: int) -> Plan:
    return next(
        plan
        for plan in catalog.plans
        if plan.kind is PlanKind.BUNDLE and plan.data_bytes == gigabytes * GIB and plan.radio is Radio.G4
    )


@pytest.fixture
def store(catalog: Catalog) -> FakeStore:
    store = FakeStore()
    store.accounts["acc_1"] = Account("acc_1", "Transports Morel", "Europe/Paris", "EUR", NOW)
    store.users["usr_1"] = User("usr_1", "acc_1", "flotte@morel.example", "-", Role.MANAGER)
    plan = bundle(catalog, 10)
    store.services["svc_1"] = Service(
        "svc_1",
        "acc_1",
        "+33612345678",
        plan.id,
        catalog.networks[0].id,
        catalog.apns[0].id,
        None,
        ServiceStatus.ACTIVE,
        date(2026, 11, 3),
    )
    return store


@pytest.fixture
def ctx(catalog: Catalog, store: FakeStore) -> Context[Any]:
    return fake_context(catalog, SettableClock(NOW), store)


def to_30_gb(catalog: Catalog) -> RequestedChanges:
    return RequestedChanges(plan_id=bundle(catalog, 30).id)


def test_a_confirmed_change_charges_the_prorated_plan_once(
    ctx: Context[Any], store: FakeStore, catalog: Catalog
) -> None:
    request = create_change_request(ctx, OPERATOR, Channel.API, "svc_1", to_30_gb(catalog))
    confirmed = confirm_as_identified(ctx, OPERATOR, Channel.API, request.id)

    assert confirmed.request.status is RequestStatus.PROVISIONING
    assert store.services["svc_1"].plan_id == bundle(catalog, 30).id
    assert store.slots == {("service-change", "svc_1", "2026-12"): 1}
    charged = [(c.kind, c.description, c.amount) for c in store.charges if c.change_request_id == request.id]
    # 9,00 € for the 30 Go plan × 16 days of 31 = 4,645 → 4,65 €; the 6,00 € plan stays billed for the cycle
    assert charged == [("proration", "Prorata Data Mobile 30 Go 4G, 16/31 jours", Money(Decimal("4.65"), "EUR"))]
    assert request.quote["total"] == {"amount": "4.65", "currency": "EUR"}
    assert [job.operation.value for job in store.jobs.values()] == ["apply_plan"]

    with pytest.raises(DomainError) as again:
        confirm_as_identified(ctx, OPERATOR, Channel.API, request.id)
    assert again.value.code is ErrorCode.INVALID_STATE
    assert len([c for c in store.charges if c.change_request_id == request.id]) == len(charged)


def test_a_refused_request_changes_nothing(ctx: Context[Any], store: FakeStore, catalog: Catalog) -> None:
    store.slots[("service-change", "svc_1", "2026-12")] = 1  # this month's change is used
    before = store.snapshot()

    with pytest.raises(DomainError) as refused:
        create_change_request(ctx, OPERATOR, Channel.API, "svc_1", to_30_gb(catalog))

    assert refused.value.code is ErrorCode.MONTHLY_LIMIT_REACHED
    assert store.snapshot() == before
    assert store.commits == 0


def test_a_second_confirmation_in_the_month_is_refused_and_charges_nothing(
    ctx: Context[Any], store: FakeStore, catalog: Catalog
) -> None:
    first = create_change_request(ctx, OPERATOR, Channel.API, "svc_1", to_30_gb(catalog))
    second = create_change_request(
        ctx, OPERATOR, Channel.API, "svc_1", RequestedChanges(ceiling_bytes=None, apn=catalog.apns[-1].id)
    )
    confirm_as_identified(ctx, OPERATOR, Channel.API, first.id)
    before = store.snapshot()

    with pytest.raises(DomainError) as refused:
        confirm_as_identified(ctx, OPERATOR, Channel.API, second.id)

    assert refused.value.code is ErrorCode.MONTHLY_LIMIT_REACHED
    assert store.snapshot() == before
    assert store.requests[second.id].status is RequestStatus.AWAITING_CONFIRMATION
