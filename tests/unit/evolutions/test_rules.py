"""Line A change requests: what they resolve to, what they cost now, and what quota follows (seed 000)."""

from __future__ import annotations

from dataclasses import replace
from datetime import date
from decimal import Decimal
from zoneinfo import ZoneInfo

import pytest

from bascule.catalog.model import GIB, Catalog, Plan, PlanKind, Radio
from bascule.evolutions.model import Service, ServiceStatus
from bascule.evolutions.quota import Bucket, BucketKind
from bascule.evolutions.rules import (
    ChargeKind,
    Quote,
    RequestedChanges,
    ServiceState,
    allowance_bytes,
    metered_usage_charge,
    quote,
    resolve,
)
from bascule.kernel.calendar import Period
from bascule.kernel.errors import DomainError, ErrorCode
from bascule.kernel.money import Money

PARIS = ZoneInfo("Europe/Paris")
JUNE = Period(2026, 6)  # 30 days
JULY = Period(2026, 7)  # 31 days


def allowance(total: int, used: int, period: Period) -> Bucket:
    return Bucket(
        "allowance", BucketKind.ALLOWANCE, total, used, period.start_instant(PARIS), period.end_instant(PARIS)
    )


def bundle_service(plan: Plan, *, left: int, period: Period, network: str = "orange") -> ServiceState:
    """A bundle line on `plan` with `left` bytes of this cycle's allowance unused."""
    assert plan.data_bytes is not None
    bucket = allowance(plan.data_bytes, plan.data_bytes - left, period)
    return ServiceState(plan=plan, network=network, apn="internet.pro", ceiling_bytes=None, buckets=(bucket,))


def ask(changes: RequestedChanges, state: ServiceState, on: date, catalog: Catalog) -> Quote:
    """Resolve the request and quote it for a change effective on `on`."""
    target = resolve(changes, state, catalog)
    return quote(target, state, on, Period.containing(on), catalog)


def amounts(result: Quote) -> list[tuple[ChargeKind, Decimal]]:
    return [(line.kind, line.amount.amount) for line in result.charges]


def refusal(changes: RequestedChanges, state: ServiceState, catalog: Catalog) -> ErrorCode:
    with pytest.raises(DomainError) as raised:
        resolve(changes, state, catalog)
    return raised.value.code


def eur(amount: str) -> Money:
    return Money.of(amount, "EUR")


# --- rule 1: radio change only ------------------------------------------------------------


def test_moving_10_gb_from_4g_to_5g_on_the_first_day_pays_2_euros_50(catalog: Catalog, plan_10gb_4g: Plan) -> None:
    state = bundle_service(plan_10gb_4g, left=10 * GIB, period=JULY)
    result = ask(RequestedChanges(radio=Radio.G5), state, date(2026, 7, 1), catalog)
    assert amounts(result) == [(ChargeKind.PRORATION, Decimal("2.50"))]
    assert result.total == eur("2.50")


def test_a_radio_change_leaves_the_quota_unchanged(catalog: Catalog, plan_10gb_4g: Plan) -> None:
    state = bundle_service(plan_10gb_4g, left=3 * GIB, period=JULY)
    result = ask(RequestedChanges(radio=Radio.G5), state, date(2026, 7, 10), catalog)
    assert result.quota_after_bytes == 10 * GIB


def test_moving_to_5g_with_7_of_31_days_left_pays_0_56_in_one_line(catalog: Catalog, plan_10gb_4g: Plan) -> None:
    """2.50 × 7/31 = 0.5645… → 0.56, not 1.92 − 1.35 = 0.57."""
    state = bundle_service(plan_10gb_4g, left=GIB, period=JULY)
    result = ask(RequestedChanges(radio=Radio.G5), state, date(2026, 7, 25), catalog)
    assert amounts(result) == [(ChargeKind.PRORATION, Decimal("0.56"))]
    assert result.total == eur("0.56")


def test_moving_down_from_5g_to_4g_gives_a_credit_line(catalog: Catalog, plan_10gb_5g: Plan) -> None:
    state = bundle_service(plan_10gb_5g, left=GIB, period=JULY)
    result = ask(RequestedChanges(radio=Radio.G4), state, date(2026, 7, 25), catalog)
    assert amounts(result) == [(ChargeKind.PRORATION, Decimal("-0.56"))]
    assert result.total == eur("-0.56")
    assert result.charges[0].description.startswith("Avoir")


def test_no_credit_line_when_the_policy_gives_no_downgrade_credit(catalog: Catalog, plan_10gb_5g: Plan) -> None:
    stingy = replace(catalog, b2b=replace(catalog.b2b, credit_on_radio_downgrade=False))
    state = bundle_service(plan_10gb_5g, left=GIB, period=JULY)
    result = ask(RequestedChanges(radio=Radio.G4), state, date(2026, 7, 25), stingy)
    assert result.charges == ()
    assert result.total == eur("0.00")


def test_radio_alone_picks_the_plan_of_the_same_kind_and_volume(catalog: Catalog, plan_30gb_4g: Plan) -> None:
    state = bundle_service(plan_30gb_4g, left=30 * GIB, period=JULY)
    target = resolve(RequestedChanges(radio=Radio.G5), state, catalog)
    assert (target.plan.kind, target.plan.data_bytes, target.plan.radio) == (PlanKind.BUNDLE, 30 * GIB, Radio.G5)
    assert target.items == ("radio",)
    assert not target.changes_volume


def test_naming_the_same_volume_on_the_other_radio_is_a_radio_change(
    catalog: Catalog, plan_10gb_4g: Plan, plan_10gb_5g: Plan
) -> None:
    state = bundle_service(plan_10gb_4g, left=10 * GIB, period=JULY)
    result = ask(RequestedChanges(plan_id=plan_10gb_5g.id), state, date(2026, 7, 1), catalog)
    assert amounts(result) == [(ChargeKind.PRORATION, Decimal("2.50"))]
    assert result.quota_after_bytes == 10 * GIB


def test_radio_alone_with_no_plan_of_that_volume_on_that_radio_is_no_such_plan(
    catalog: Catalog, plan_10gb_4g: Plan
) -> None:
    only_4g = replace(catalog, plans=tuple(p for p in catalog.plans if p.radio is Radio.G4))
    state = bundle_service(plan_10gb_4g, left=GIB, period=JULY)
    assert refusal(RequestedChanges(radio=Radio.G5), state, only_4g) is ErrorCode.NO_SUCH_PLAN


def test_a_plan_on_another_radio_than_the_one_asked_is_a_validation_error(
    catalog: Catalog, plan_10gb_4g: Plan, plan_30gb_4g: Plan
) -> None:
    state = bundle_service(plan_10gb_4g, left=GIB, period=JULY)
    changes = RequestedChanges(plan_id=plan_30gb_4g.id, radio=Radio.G5)
    assert refusal(changes, state, catalog) is ErrorCode.VALIDATION_ERROR


# --- rule 2: plan change ------------------------------------------------------------------


def test_10_gb_with_2_gb_left_to_30_gb_at_mid_june_prorates_4_50_and_gives_32_gb(
    catalog: Catalog, plan_10gb_4g: Plan, plan_30gb_4g: Plan
) -> None:
    state = bundle_service(plan_10gb_4g, left=2 * GIB, period=JUNE)
    result = ask(RequestedChanges(plan_id=plan_30gb_4g.id), state, date(2026, 6, 16), catalog)
    assert amounts(result) == [(ChargeKind.PRORATION, Decimal("4.50"))]
    assert result.total == eur("4.50")
    assert result.quota_after_bytes == 32 * GIB


def test_the_plan_change_notice_says_the_current_plan_stays_billed_in_full(
    catalog: Catalog, plan_10gb_4g: Plan, plan_30gb_4g: Plan
) -> None:
    state = bundle_service(plan_10gb_4g, left=2 * GIB, period=JUNE)
    result = ask(RequestedChanges(plan_id=plan_30gb_4g.id), state, date(2026, 6, 16), catalog)
    assert "Votre forfait actuel (6,00 € HT) reste facturé en entier pour ce cycle" in result.notice


@pytest.mark.parametrize(
    ("on", "expected"),
    [
        (date(2026, 7, 1), "9.00"),  # 31/31
        (date(2026, 7, 31), "0.29"),  # 9 × 1/31 = 0.2903…
        (date(2026, 7, 25), "2.03"),  # 9 × 7/31 = 2.0322…
        (date(2027, 2, 15), "4.50"),  # 9 × 14/28
        (date(2027, 2, 28), "0.32"),  # 9 × 1/28 = 0.3214…
        (date(2028, 2, 15), "4.66"),  # 9 × 15/29 = 4.6551…
        (date(2028, 2, 29), "0.31"),  # 9 × 1/29 = 0.3103…
    ],
)
def test_the_new_plan_is_prorated_by_remaining_calendar_days(
    catalog: Catalog, plan_10gb_4g: Plan, plan_30gb_4g: Plan, on: date, expected: str
) -> None:
    state = bundle_service(plan_10gb_4g, left=0, period=Period.containing(on))
    result = ask(RequestedChanges(plan_id=plan_30gb_4g.id), state, on, catalog)
    assert amounts(result) == [(ChargeKind.PRORATION, Decimal(expected))]


def test_a_plan_change_with_a_radio_change_prorates_the_new_price_only(
    catalog: Catalog, plan_10gb_4g: Plan, plan_30gb_5g: Plan
) -> None:
    state = bundle_service(plan_10gb_4g, left=2 * GIB, period=JUNE)
    target = resolve(RequestedChanges(plan_id=plan_30gb_5g.id), state, catalog)
    assert target.items == ("plan_id", "radio")
    result = quote(target, state, date(2026, 6, 16), JUNE, catalog)
    assert amounts(result) == [(ChargeKind.PRORATION, plan_30gb_5g.price.amount / 2)]
    assert result.quota_after_bytes == 32 * GIB


def test_a_plan_change_down_prorates_the_smaller_plan_and_carries_the_rest(
    catalog: Catalog, plan_10gb_4g: Plan, plan_30gb_4g: Plan
) -> None:
    state = bundle_service(plan_30gb_4g, left=20 * GIB, period=JUNE)
    result = ask(RequestedChanges(plan_id=plan_10gb_4g.id), state, date(2026, 6, 16), catalog)
    assert amounts(result) == [(ChargeKind.PRORATION, Decimal("3.00"))]  # 6.00 × 15/30
    assert result.quota_after_bytes == 30 * GIB  # 10 GB new + 20 GB left


def test_top_ups_stay_in_the_quota_after_a_plan_change(
    catalog: Catalog, plan_10gb_4g: Plan, plan_30gb_4g: Plan
) -> None:
    state = bundle_service(plan_10gb_4g, left=2 * GIB, period=JUNE)
    topup = Bucket("topup", BucketKind.TOPUP, 5 * GIB, GIB, JUNE.start_instant(PARIS), JUNE.end_instant(PARIS))
    state = replace(state, buckets=(*state.buckets, topup))
    result = ask(RequestedChanges(plan_id=plan_30gb_4g.id), state, date(2026, 6, 16), catalog)
    assert result.quota_after_bytes == 37 * GIB


# --- rule 3: network and APN --------------------------------------------------------------


def test_changing_the_network_alone_is_a_10_euro_fee(catalog: Catalog, plan_10gb_4g: Plan) -> None:
    state = bundle_service(plan_10gb_4g, left=GIB, period=JUNE)
    result = ask(RequestedChanges(network="sfr"), state, date(2026, 6, 16), catalog)
    assert amounts(result) == [(ChargeKind.FEE, Decimal("10.00"))]
    assert "Orange → SFR" in result.charges[0].description
    assert result.quota_after_bytes == 10 * GIB


def test_changing_the_apn_alone_is_free(catalog: Catalog, plan_10gb_4g: Plan) -> None:
    state = bundle_service(plan_10gb_4g, left=GIB, period=JUNE)
    result = ask(RequestedChanges(apn="m2m.entreprise"), state, date(2026, 6, 16), catalog)
    assert result.charges == ()
    assert result.total == eur("0.00")
    assert result.quota_after_bytes == 10 * GIB


def test_plan_network_and_apn_in_one_request_give_a_proration_and_one_fee(
    catalog: Catalog, plan_10gb_4g: Plan, plan_30gb_4g: Plan
) -> None:
    state = bundle_service(plan_10gb_4g, left=2 * GIB, period=JUNE)
    changes = RequestedChanges(plan_id=plan_30gb_4g.id, network="sfr", apn="vpn.entreprise")
    target = resolve(changes, state, catalog)
    assert target.items == ("plan_id", "apn", "network")
    result = quote(target, state, date(2026, 6, 16), JUNE, catalog)
    assert amounts(result) == [(ChargeKind.PRORATION, Decimal("4.50")), (ChargeKind.FEE, Decimal("10.00"))]
    assert result.total == eur("14.50")
    assert result.quota_after_bytes == 32 * GIB


def test_asking_for_the_current_network_is_not_a_change(catalog: Catalog, plan_10gb_4g: Plan) -> None:
    state = bundle_service(plan_10gb_4g, left=GIB, period=JUNE)
    result = ask(RequestedChanges(network="orange", apn="m2m.entreprise"), state, date(2026, 6, 16), catalog)
    assert result.charges == ()


@pytest.mark.parametrize("changes", [RequestedChanges(network="bouygues"), RequestedChanges(apn="internet.perso")])
def test_an_unknown_network_or_apn_is_a_validation_error(
    catalog: Catalog, plan_10gb_4g: Plan, changes: RequestedChanges
) -> None:
    state = bundle_service(plan_10gb_4g, left=GIB, period=JUNE)
    assert refusal(changes, state, catalog) is ErrorCode.VALIDATION_ERROR


# --- refusals -----------------------------------------------------------------------------


def test_an_unknown_plan_is_no_such_plan(catalog: Catalog, plan_10gb_4g: Plan) -> None:
    state = bundle_service(plan_10gb_4g, left=GIB, period=JUNE)
    assert refusal(RequestedChanges(plan_id="data-999go-6g"), state, catalog) is ErrorCode.NO_SUCH_PLAN


def test_moving_a_bundle_to_a_metered_plan_is_not_applicable(catalog: Catalog, plan_10gb_4g: Plan) -> None:
    metered = next(plan for plan in catalog.plans if plan.kind is PlanKind.METERED)
    state = bundle_service(plan_10gb_4g, left=GIB, period=JUNE)
    assert refusal(RequestedChanges(plan_id=metered.id), state, catalog) is ErrorCode.NOT_APPLICABLE


def test_a_ceiling_on_a_bundle_is_not_applicable(catalog: Catalog, plan_10gb_4g: Plan) -> None:
    state = bundle_service(plan_10gb_4g, left=GIB, period=JUNE)
    assert refusal(RequestedChanges(ceiling_bytes=20 * GIB), state, catalog) is ErrorCode.NOT_APPLICABLE


def test_a_request_with_no_item_changes_nothing(catalog: Catalog, plan_10gb_4g: Plan) -> None:
    state = bundle_service(plan_10gb_4g, left=GIB, period=JUNE)
    assert refusal(RequestedChanges(), state, catalog) is ErrorCode.VALIDATION_ERROR


def test_a_request_for_what_the_service_already_has_changes_nothing(catalog: Catalog, plan_10gb_4g: Plan) -> None:
    state = bundle_service(plan_10gb_4g, left=GIB, period=JUNE)
    same = RequestedChanges(plan_id=plan_10gb_4g.id, radio=Radio.G4, network="orange", apn="internet.pro")
    assert refusal(same, state, catalog) is ErrorCode.VALIDATION_ERROR


# --- rule 4: metered ceiling --------------------------------------------------------------

METERED_4G = Plan(
    id="compteur-4g",
    name="Compteur 4G",
    kind=PlanKind.METERED,
    radio=Radio.G4,
    price=Money.of("2.00", "EUR"),
    unit_price=Money.of("0.20", "EUR"),
    unit_bytes=100 * 1024**2,
    default_ceiling_bytes=5 * GIB,
    ceiling_step_bytes=GIB,
    max_ceiling_bytes=200 * GIB,
)
METERED_5G = replace(METERED_4G, id="compteur-5g", name="Compteur 5G", radio=Radio.G5, price=Money.of("3.00", "EUR"))


@pytest.fixture
def metered_catalog(catalog: Catalog) -> Catalog:
    return replace(catalog, plans=(METERED_4G, METERED_5G))


def metered_service(*, ceiling: int, used: int, extension: int = 0) -> ServiceState:
    buckets = [allowance(ceiling, used, JUNE)]
    if extension:
        start, end = JUNE.start_instant(PARIS), JUNE.end_instant(PARIS)
        buckets.append(Bucket("extension", BucketKind.EXTENSION, extension, 0, start, end))
    return ServiceState(METERED_4G, "orange", "internet.pro", ceiling, tuple(buckets))


def test_raising_the_ceiling_is_free_and_sets_the_quota(metered_catalog: Catalog) -> None:
    state = metered_service(ceiling=5 * GIB, used=GIB, extension=GIB)
    result = ask(RequestedChanges(ceiling_bytes=10 * GIB), state, date(2026, 6, 16), metered_catalog)
    assert result.charges == ()
    assert result.total == eur("0.00")
    assert result.quota_after_bytes == 11 * GIB  # new ceiling + this cycle's extension


def test_a_metered_radio_change_keeps_the_ceiling(metered_catalog: Catalog) -> None:
    state = metered_service(ceiling=5 * GIB, used=GIB)
    target = resolve(RequestedChanges(radio=Radio.G5), state, metered_catalog)
    assert (target.plan, target.ceiling_bytes, target.items) == (METERED_5G, 5 * GIB, ("radio",))
    result = quote(target, state, date(2026, 6, 16), JUNE, metered_catalog)
    assert amounts(result) == [(ChargeKind.PRORATION, Decimal("0.50"))]  # 1.00 × 15/30


@pytest.mark.parametrize(
    ("ceiling", "why"),
    [
        (5 * GIB + 512 * 1024**2, "not a multiple of the 1 GB step"),
        (201 * GIB, "above the 200 GB maximum"),
        (2 * GIB, "below the 3 GB already used"),
        (0, "not positive"),
    ],
)
def test_a_ceiling_that_does_not_fit_is_a_validation_error(metered_catalog: Catalog, ceiling: int, why: str) -> None:
    state = metered_service(ceiling=5 * GIB, used=3 * GIB)
    assert refusal(RequestedChanges(ceiling_bytes=ceiling), state, metered_catalog) is ErrorCode.VALIDATION_ERROR, why


def test_the_highest_ceiling_is_accepted(metered_catalog: Catalog) -> None:
    state = metered_service(ceiling=5 * GIB, used=3 * GIB)
    assert resolve(RequestedChanges(ceiling_bytes=200 * GIB), state, metered_catalog).ceiling_bytes == 200 * GIB


def test_asking_for_the_current_ceiling_changes_nothing(metered_catalog: Catalog) -> None:
    state = metered_service(ceiling=5 * GIB, used=GIB)
    assert refusal(RequestedChanges(ceiling_bytes=5 * GIB), state, metered_catalog) is ErrorCode.VALIDATION_ERROR


# --- rule 8: every quote tells the customer to reboot -------------------------------------


@pytest.mark.parametrize("item", ["radio", "network", "apn", "plan"])
def test_every_quote_carries_the_reboot_notice(
    catalog: Catalog, plan_10gb_4g: Plan, plan_30gb_4g: Plan, item: str
) -> None:
    changes = {
        "radio": RequestedChanges(radio=Radio.G5),
        "network": RequestedChanges(network="sfr"),
        "apn": RequestedChanges(apn="m2m.entreprise"),
        "plan": RequestedChanges(plan_id=plan_30gb_4g.id),
    }[item]
    state = bundle_service(plan_10gb_4g, left=GIB, period=JUNE)
    result = ask(changes, state, date(2026, 6, 16), catalog)
    assert result.notice.startswith(catalog.b2b.reboot_notice)
    assert "redémarrez votre équipement" in result.notice


# --- rule 4: metered usage ----------------------------------------------------------------

MIB = 1024**2


@pytest.mark.parametrize(
    ("before", "after", "expected"),
    [
        (0, 1, "0.20"),  # the first byte starts a 100 MB unit
        (0, 100 * MIB, "0.20"),
        (100 * MIB, 100 * MIB + 1, "0.20"),  # one byte past a unit starts the next one
        (50 * MIB, 100 * MIB, "0.00"),  # still inside an already started unit
        (0, GIB, "2.20"),  # 1024 MB is 10.24 units → 11 started
        (GIB, GIB, "0.00"),
    ],
)
def test_metered_usage_is_charged_per_started_unit(before: int, after: int, expected: str) -> None:
    assert metered_usage_charge(METERED_4G, before, after) == eur(expected)


def test_a_bundle_has_no_usage_charge(plan_10gb_4g: Plan) -> None:
    assert metered_usage_charge(plan_10gb_4g, 0, 5 * GIB) == eur("0.00")


# --- a cycle's allowance -----------------------------------------------------------------


def line_on(plan: Plan, ceiling_bytes: int | None) -> Service:
    return Service(
        "svc_1",
        "acc_1",
        "+33612345678",
        plan.id,
        "orange",
        "internet.pro",
        ceiling_bytes,
        ServiceStatus.ACTIVE,
        date(2026, 6, 1),
    )


def test_a_bundle_allows_its_volume_each_cycle(plan_10gb_4g: Plan) -> None:
    assert allowance_bytes(plan_10gb_4g, line_on(plan_10gb_4g, None)) == 10 * GIB


def test_a_metered_line_allows_its_own_ceiling_else_the_plans_default() -> None:
    assert allowance_bytes(METERED_4G, line_on(METERED_4G, 12 * GIB)) == 12 * GIB
    assert allowance_bytes(METERED_4G, line_on(METERED_4G, None)) == 5 * GIB


# --- a request as stored ------------------------------------------------------------------


def test_a_request_survives_its_stored_form() -> None:
    changes = RequestedChanges(plan_id="data-30go-5g", radio=Radio.G5, network="sfr", ceiling_bytes=None)
    assert changes.as_dict() == {"plan_id": "data-30go-5g", "radio": "5G", "network": "sfr"}
    assert RequestedChanges.from_dict(changes.as_dict()) == changes
