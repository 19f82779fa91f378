"""Line B profile changes and recharges on fakes of their ports: the use cases decide, no database is involved.

Awa has a prepaid line on Novamix (the free profile) in Abidjan; she consumed 3 000 F CFA of main credit in May.
Tigre asks for 2 500 F CFA consumed last month, Aigle for 8 000; Dauphin, like Novamix, asks for nothing.
"""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime
from typing import Any

import pytest

from bascule.catalog.model import BonusKind as Bonus
from bascule.catalog.model import Catalog
from bascule.context import Context
from bascule.identity.model import OPERATOR, Channel
from bascule.kernel.clock import SettableClock
from bascule.kernel.errors import DomainError, ErrorCode
from bascule.kernel.money import Money
from bascule.prepaid.model import EntryKind, LedgerEntry, Subscriber
from bascule.prepaid.rules import MIGRATION_SLOT_SCOPE
from bascule.prepaid.usecases import migrate_profile, recharge, subscriber_principal
from tests.support.fakes import FakeStore, fake_context

NOW = datetime(2026, 6, 16, 9, 0, tzinfo=UTC)  # 09:00 in Abidjan (UTC all year)
AWA = "+2250701020304"
MB = 1024**2


def xof(amount: int) -> Money:
    return Money.of(amount, "XOF")


@pytest.fixture
def store() -> FakeStore:
    store = FakeStore()
    store.subscribers[AWA] = Subscriber(AWA, "novamix", "Africa/Abidjan", "XOF", datetime(2026, 1, 5, tzinfo=UTC))
    store.balances[AWA] = 1_000
    store.ledger.append(
        LedgerEntry("csm_may", AWA, EntryKind.CONSUMPTION, xof(3_000), datetime(2026, 5, 20, 12, 0, tzinfo=UTC), "ussd")
    )
    return store


@pytest.fixture
def ctx(catalog: Catalog, store: FakeStore) -> Context[Any]:
    return fake_context(catalog, SettableClock(NOW), store)


def refused(ctx: Context[Any], profile_id: str) -> DomainError:
    with pytest.raises(DomainError) as refusal:
        migrate_profile(ctx, subscriber_principal(AWA), Channel.USSD, AWA, profile_id)
    return refusal.value


def changes_used_in_june(store: FakeStore) -> int:
    return store.slots.get((MIGRATION_SLOT_SCOPE, AWA, "2026-06"), 0)


def test_choosing_the_profile_she_already_has_is_refused_and_changes_nothing(
    ctx: Context[Any], store: FakeStore
) -> None:
    before = store.snapshot()

    assert refused(ctx, "novamix").code is ErrorCode.SAME_PROFILE

    assert store.snapshot() == before
    assert store.commits == 0


def test_a_profile_she_is_not_eligible_for_is_refused_and_takes_none_of_her_three_changes(
    ctx: Context[Any], store: FakeStore
) -> None:
    before = store.snapshot()

    refusal = refused(ctx, "aigle")  # 8 000 F CFA needed, 3 000 consumed in May

    assert refusal.code is ErrorCode.NOT_ELIGIBLE
    assert store.snapshot() == before
    assert changes_used_in_june(store) == 0
    assert store.subscribers[AWA].profile_id == "novamix"


@pytest.mark.parametrize(
    ("timezone", "consumed_at", "eligible"),
    [
        ("Africa/Abidjan", "2026-05-31T23:30:00+00:00", True),  # 31 May in Abidjan
        ("Asia/Tokyo", "2026-05-31T23:30:00+00:00", False),  # 1 June, 08:30, in Tokyo
        ("Africa/Abidjan", "2026-04-30T23:30:00+00:00", False),  # 30 April in Abidjan
        ("Asia/Tokyo", "2026-04-30T23:30:00+00:00", True),  # 1 May, 08:30, in Tokyo
    ],
)
def test_last_month_is_the_one_of_her_zone_when_she_does_not_live_in_the_catalogues(
    ctx: Context[Any], store: FakeStore, timezone: str, consumed_at: str, eligible: bool
) -> None:
    store.subscribers[AWA] = replace(store.subscribers[AWA], timezone=timezone)
    consumed = LedgerEntry(
        "csm_bound", AWA, EntryKind.CONSUMPTION, xof(2_500), datetime.fromisoformat(consumed_at), "ussd"
    )
    store.ledger[:] = [consumed]
    before = store.snapshot()

    if eligible:
        migrate_profile(ctx, subscriber_principal(AWA), Channel.USSD, AWA, "tigre")  # 2 500 F CFA needed
        assert (store.subscribers[AWA].profile_id, changes_used_in_june(store)) == ("tigre", 1)
    else:
        refusal = refused(ctx, "tigre")
        assert (refusal.code, refusal.params["consumed"]) == (ErrorCode.NOT_ELIGIBLE, xof(0))
        assert store.snapshot() == before


def test_three_changes_in_the_month_then_the_fourth_is_refused_until_the_first_of_next_month(
    ctx: Context[Any], store: FakeStore
) -> None:
    for profile_id in ("tigre", "dauphin", "novamix"):
        migrate_profile(ctx, subscriber_principal(AWA), Channel.USSD, AWA, profile_id)
    before = store.snapshot()

    refusal = refused(ctx, "tigre")

    assert refusal.code is ErrorCode.MONTHLY_LIMIT_REACHED
    assert (refusal.params["limit"], refusal.params["next_on"].isoformat()) == (3, "2026-07-01")
    assert store.snapshot() == before  # still Novamix, three changes used, nothing pushed nor sent
    assert store.subscribers[AWA].profile_id == "novamix"
    assert changes_used_in_june(store) == 3
    assert [(m.from_profile_id, m.to_profile_id, m.period) for m in store.migrations] == [
        ("novamix", "tigre", "2026-06"),
        ("tigre", "dauphin", "2026-06"),
        ("dauphin", "novamix", "2026-06"),
    ]


def test_a_change_is_pushed_to_the_charging_system_told_by_sms_and_audited(ctx: Context[Any], store: FakeStore) -> None:
    migrate_profile(ctx, subscriber_principal(AWA), Channel.USSD, AWA, "tigre")

    assert store.subscribers[AWA].profile_id == "tigre"
    assert [(job.operation.value, job.payload) for job in store.jobs.values()] == [
        ("set_profile", {"msisdn": AWA, "profile_id": "tigre"})
    ]
    assert [(n.channel, n.to, n.body) for n in store.notifications] == [
        (
            "sms",
            AWA,
            "Votre profil est maintenant Tigre. Vos bonus en cours sont conservés jusqu'à leur date de validité.",
        )
    ]
    assert [(e.action, e.before, e.after["profile_id"]) for e in store.audit] == [
        ("profile.migrated", {"profile_id": "novamix"}, "tigre")
    ]
    assert store.commits == 1


def test_a_recharge_credits_the_balance_and_brings_the_profiles_bonuses_the_monthly_one_once(
    ctx: Context[Any], store: FakeStore
) -> None:
    first = recharge(ctx, OPERATOR, Channel.API, AWA, 1_000)  # Novamix: 20 % from 200 F CFA, 200 Mo a month

    assert first.balance == xof(2_000)
    assert [(b.kind, b.total, b.remaining, b.expires_at.isoformat(), b.source) for b in first.bonuses] == [
        (Bonus.CREDIT, 200, 200, "2026-06-23T09:00:00+00:00", f"recharge:{first.entry.id}"),
        (Bonus.DATA, 200 * MB, 200 * MB, "2026-07-16T09:00:00+00:00", "monthly:2026-06"),
    ]

    second = recharge(ctx, OPERATOR, Channel.API, AWA, 500)  # the month's data was given with the first

    assert second.balance == xof(2_500)
    assert [(b.kind, b.total) for b in second.bonuses] == [(Bonus.CREDIT, 100)]
    assert store.balances[AWA] == 2_500
    assert sorted((b.kind.value, b.total) for b in store.bonuses.values()) == [
        ("credit", 100),
        ("credit", 200),
        ("data", 200 * MB),
    ]


def test_a_recharge_under_200_francs_brings_no_credit_bonus_but_still_the_months_data(
    ctx: Context[Any], store: FakeStore
) -> None:
    done = recharge(ctx, OPERATOR, Channel.API, AWA, 150)  # Novamix's 20 % starts at 200 F CFA

    assert done.balance == xof(1_150)
    assert [(b.kind, b.total) for b in done.bonuses] == [(Bonus.DATA, 200 * MB)]
    assert [(e.kind, e.amount) for e in store.ledger if e.kind is EntryKind.RECHARGE] == [
        (EntryKind.RECHARGE, xof(150))
    ]
