"""Line B rules in business terms: thresholds, refusal wording, bonus sizes and expiry, draw order."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from bascule.catalog.model import BonusKind, Catalog, Profile
from bascule.kernel.calendar import zone
from bascule.kernel.errors import DomainError, ErrorCode
from bascule.kernel.messages_fr import short_message
from bascule.kernel.money import Money
from bascule.prepaid.model import BonusBucket
from bascule.prepaid.rules import eligibility, parse_amount, plan_draw, recharge_grants

ABIDJAN = zone("Africa/Abidjan")
NOON = datetime(2026, 6, 16, 12, 0, tzinfo=UTC)
NBSP = "\u202f"


def xof(amount: int | str) -> Money:
    return Money.of(amount, "XOF")


def needing(catalog: Catalog, amount: int | None) -> Profile:
    """The profile whose threshold is `amount` (None: the first without one), found by value."""
    wanted = None if amount is None else xof(amount)
    return next(p for p in catalog.profiles if p.min_consumption_last_month == wanted)


def with_bonus(catalog: Catalog, kind: BonusKind, trigger: str, sized_by: str) -> Profile:
    return next(
        p
        for p in catalog.profiles
        if any(b.kind is kind and b.trigger == trigger and getattr(b, sized_by) is not None for b in p.bonuses)
    )


@pytest.mark.parametrize(
    ("threshold", "consumed", "eligible"),
    [
        (2500, 2499, False),
        (2500, 2500, True),
        (2500, 2501, True),
        (8000, 7999, False),
        (8000, 8000, True),
        (8000, 0, False),
    ],
)
def test_eligibility_is_at_least_the_threshold_consumed_last_month(catalog, threshold, consumed, eligible):
    target = needing(catalog, threshold)
    start = needing(catalog, None)
    assert eligibility(target, start.id, xof(consumed)).eligible is eligible


def test_a_refusal_says_both_amounts_in_french(catalog):
    verdict = eligibility(needing(catalog, 2500), needing(catalog, None).id, xof(2499))
    assert verdict.code is ErrorCode.NOT_ELIGIBLE
    assert verdict.reason == (
        f"Il faut avoir consommé au moins 2{NBSP}500 F CFA le mois passé (vous : 2{NBSP}499 F CFA)."
    )
    assert short_message(verdict.refuse(), profile=needing(catalog, 2500).name) == (
        f"{needing(catalog, 2500).name} : il faut 2{NBSP}500 F CFA consommés le mois passé (vous : 2{NBSP}499 F CFA)."
    )
    aigle = needing(catalog, 8000)
    assert eligibility(aigle, needing(catalog, 2500).id, xof(7999)).reason == (
        f"Il faut avoir consommé au moins 8{NBSP}000 F CFA le mois passé (vous : 7{NBSP}999 F CFA)."
    )


def test_profiles_without_a_threshold_are_open_to_everyone(catalog):
    free = [p for p in catalog.profiles if p.min_consumption_last_month is None]
    assert len(free) == 2  # Novamix by the seed, Dauphin by our reading
    gated = needing(catalog, 8000)
    assert all(eligibility(p, gated.id, xof(0)).eligible for p in free)


def test_the_current_profile_is_same_profile_whatever_the_consumption(catalog):
    aigle = needing(catalog, 8000)
    verdict = eligibility(aigle, aigle.id, xof(100000))
    assert (verdict.eligible, verdict.code) == (False, ErrorCode.SAME_PROFILE)
    assert verdict.reason == f"Vous avez déjà le profil {aigle.name}."


def test_a_percentage_bonus_is_rounded_once_half_up(catalog):
    tigre = needing(catalog, 2500)  # 50 % of the recharge from 500
    grants = recharge_grants(tigre, xof(1001), NOON, ABIDJAN)
    credit = [g for g in grants if g.kind is BonusKind.CREDIT]
    assert [g.quantity for g in credit] == [501]
    assert credit[0].monthly_index is None
    assert credit[0].expires_at == NOON + timedelta(days=7)


def test_a_recharge_under_the_minimum_gets_no_recharge_bonus_but_the_monthly_one(catalog):
    novamix = needing(catalog, None)  # 20 % from 200; 200 MB once a month
    grants = recharge_grants(novamix, xof(199), NOON, ABIDJAN)
    assert [(g.kind, g.quantity, g.monthly_index) for g in grants] == [(BonusKind.DATA, 200 * 1024**2, 1)]
    assert [g.quantity for g in recharge_grants(novamix, xof(200), NOON, ABIDJAN)] == [40, 200 * 1024**2]


def test_a_fixed_size_bonus_and_its_expiry_in_the_subscriber_zone(catalog):
    profile = with_bonus(catalog, BonusKind.DATA, "recharge", "quantity")
    grants = [g for g in recharge_grants(profile, xof(500), NOON, zone("Europe/Paris")) if g.monthly_index is None]
    assert [(g.kind, g.quantity) for g in grants] == [(BonusKind.DATA, 100 * 1024**2)]
    # 7 days later at the same wall time in Paris (no DST change in June)
    assert grants[0].expires_at == NOON + timedelta(days=7)


def test_expiry_keeps_the_local_wall_time_across_a_dst_change(catalog):
    tigre = needing(catalog, 2500)
    before_dst_end = datetime(2026, 10, 20, 10, 0, tzinfo=UTC)  # 12:00 in Paris (CEST)
    credit = recharge_grants(tigre, xof(1000), before_dst_end, zone("Europe/Paris"))[0]
    assert credit.expires_at == datetime(2026, 10, 27, 11, 0, tzinfo=UTC)  # 12:00 in Paris (CET)


def bucket(
    bucket_id: str, kind: BonusKind, remaining: int, expires_in_days: int, granted_days_ago: int = 1
) -> BonusBucket:
    return BonusBucket(
        bucket_id,
        "+2250701020304",
        kind,
        remaining,
        remaining,
        NOON - timedelta(days=granted_days_ago),
        NOON + timedelta(days=expires_in_days),
        "p",
        "",
        "recharge:x",
    )


def test_consumption_draws_credit_buckets_earliest_expiry_first_then_main():
    buckets = [
        bucket("b-late", BonusKind.CREDIT, 300, 20),
        bucket("b-soon", BonusKind.CREDIT, 100, 2),
        bucket("b-data", BonusKind.DATA, 10**9, 1),
        bucket("b-expired", BonusKind.CREDIT, 500, -1, granted_days_ago=10),
    ]
    plan = plan_draw(buckets, 450, NOON)
    assert plan.from_buckets == (("b-soon", 100), ("b-late", 300))
    assert (plan.from_bonus, plan.from_main) == (400, 50)
    assert plan_draw(buckets, 50, NOON).from_buckets == (("b-soon", 50),)


def test_equal_expiries_draw_the_earliest_grant_then_the_smallest_id():
    buckets = [
        bucket("b2", BonusKind.CREDIT, 100, 5, granted_days_ago=1),
        bucket("b1", BonusKind.CREDIT, 100, 5, granted_days_ago=1),
        bucket("b0", BonusKind.CREDIT, 100, 5, granted_days_ago=0),
    ]
    assert [bucket_id for bucket_id, _ in plan_draw(buckets, 250, NOON).from_buckets] == ["b1", "b2", "b0"]


def test_a_bucket_granted_after_a_backdated_consumption_is_not_drawn():
    future = bucket("b", BonusKind.CREDIT, 100, 5, granted_days_ago=0)
    assert plan_draw([future], 100, NOON - timedelta(hours=1)).from_main == 100


@pytest.mark.parametrize("value", ["2500", 2500, " 2500 "])
def test_amounts_are_whole_francs(value):
    assert parse_amount(value, "XOF") == xof(2500)


@pytest.mark.parametrize("value", ["12.5", "0", "-1", "abc", "NaN", "Infinity", 12.5, True])
def test_bad_amounts_are_validation_errors(value):
    with pytest.raises(DomainError) as refused:
        parse_amount(value, "XOF")
    assert refused.value.code is ErrorCode.VALIDATION_ERROR
