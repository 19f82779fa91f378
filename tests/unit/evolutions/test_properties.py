"""Properties that must hold for every date, amount, price pair and bucket set, not only the seed's."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from fractions import Fraction

from hypothesis import given, settings
from hypothesis import strategies as st

from bascule.catalog.loader import load
from bascule.catalog.model import GIB, Plan, PlanKind, Radio
from bascule.evolutions.quota import Bucket, BucketKind, draw, draw_order
from bascule.evolutions.rules import ChargeKind, RequestedChanges, ServiceState, quote, resolve
from bascule.kernel.calendar import Period, remaining_fraction
from bascule.kernel.money import MINOR_UNITS, Money

SHIPPED = load(None)
CYCLE_START = datetime(2026, 6, 1, tzinfo=UTC)
CYCLE_END = datetime(2026, 7, 1, tzinfo=UTC)

quick = settings(database=None, deadline=None)

days_1900_2200 = st.dates(min_value=date(1900, 1, 1), max_value=date(2200, 12, 31))
cents = st.integers(min_value=0, max_value=1_000_000).map(lambda c: Money(Decimal(c).scaleb(-2), "EUR"))
sizes = st.integers(min_value=1, max_value=200).map(lambda g: g * GIB)


def sign(value: Decimal | Fraction) -> int:
    return (value > 0) - (value < 0)


def bundle(plan_id: str, radio: Radio, price: Money, data_bytes: int) -> Plan:
    return Plan(plan_id, plan_id, PlanKind.BUNDLE, radio, price, data_bytes=data_bytes)


def allowance(total: int, used: int) -> Bucket:
    return Bucket("allowance", BucketKind.ALLOWANCE, total, used, CYCLE_START, CYCLE_END)


# --- calendar -----------------------------------------------------------------------------


@quick
@given(days_1900_2200)
def test_the_remaining_fraction_of_any_day_is_above_0_and_at_most_1(day: date) -> None:
    period = Period.containing(day)
    fraction = remaining_fraction(day, period)
    assert 0 < fraction <= 1
    assert fraction == Fraction(period.days - day.day + 1, period.days)


@quick
@given(days_1900_2200)
def test_one_day_later_the_fraction_drops_by_exactly_one_day(day: date) -> None:
    period = Period.containing(day)
    following = day + timedelta(days=1)
    if following in period:
        assert remaining_fraction(day, period) - remaining_fraction(following, period) == Fraction(1, period.days)
    else:
        assert remaining_fraction(day, period) == Fraction(1, period.days)


# --- money --------------------------------------------------------------------------------


@quick
@given(
    st.fractions(min_value=-1_000_000, max_value=1_000_000, max_denominator=100_000),
    st.sampled_from(["EUR", "XOF"]),
)
def test_rounding_moves_an_exact_value_by_at_most_half_a_minor_unit(value: Fraction, currency: str) -> None:
    rounded = Money.from_exact(value, currency)
    half_unit = Fraction(1, 2 * 10 ** MINOR_UNITS[currency])
    assert abs(rounded.exact() - value) <= half_unit
    if abs(rounded.exact() - value) == half_unit:  # a tie goes away from zero
        assert abs(rounded.exact()) > abs(value)


# --- rule 1: the sign of a radio change ---------------------------------------------------


@quick
@given(cents, cents, days_1900_2200, st.booleans())
def test_a_radio_change_line_has_the_sign_of_the_price_difference(
    old_price: Money, new_price: Money, day: date, credit: bool
) -> None:
    old = bundle("old-4g", Radio.G4, old_price, 10 * GIB)
    new = bundle("new-5g", Radio.G5, new_price, 10 * GIB)
    catalog = replace(SHIPPED, plans=(old, new), b2b=replace(SHIPPED.b2b, credit_on_radio_downgrade=credit))
    state = ServiceState(old, "orange", "internet.pro", None, (allowance(10 * GIB, 0),))
    period = Period.containing(day)
    result = quote(resolve(RequestedChanges(radio=Radio.G5), state, catalog), state, day, period, catalog)

    difference = new_price.amount - old_price.amount
    exact = Fraction(difference) * remaining_fraction(day, period)
    assert [line.kind for line in result.charges] in ([], [ChargeKind.PRORATION])
    if result.charges:
        assert sign(result.total.amount) == sign(difference)
        assert result.total == Money.from_exact(exact, "EUR")
    else:
        assert Money.from_exact(exact, "EUR").is_zero or (difference < 0 and not credit)
    if not credit:
        assert not result.total.is_negative
    assert result.quota_after_bytes == 10 * GIB


# --- rule 2: quota after a plan change ----------------------------------------------------


@quick
@given(
    sizes,
    sizes,
    st.data(),
    st.lists(st.integers(min_value=1, max_value=10 * GIB), max_size=3),
)
def test_quota_after_a_plan_change_is_the_new_allowance_plus_what_was_left_plus_packs(
    old_size: int, new_size: int, data: st.DataObject, packs: list[int]
) -> None:
    if old_size == new_size:
        new_size += GIB
    used = data.draw(st.integers(min_value=0, max_value=old_size), label="used")
    old = bundle("old", Radio.G4, Money.of("6.00", "EUR"), old_size)
    new = bundle("new", Radio.G4, Money.of("9.00", "EUR"), new_size)
    catalog = replace(SHIPPED, plans=(old, new))
    topups = tuple(
        Bucket(f"topup-{n}", BucketKind.TOPUP, size, size // 2, CYCLE_START, CYCLE_END) for n, size in enumerate(packs)
    )
    state = ServiceState(old, "orange", "internet.pro", None, (allowance(old_size, used), *topups))
    target = resolve(RequestedChanges(plan_id="new"), state, catalog)
    result = quote(target, state, date(2026, 6, 16), Period(2026, 6), catalog)
    assert result.quota_after_bytes == new_size + (old_size - used) + sum(packs)
    assert result.total == Money.of("4.50", "EUR")


# --- drawing usage ------------------------------------------------------------------------

instants = st.sampled_from([datetime(2026, 6, day, tzinfo=UTC) for day in (10, 20, 30)])


@st.composite
def bucket_sets(draw_: st.DrawFn) -> list[Bucket]:
    count = draw_(st.integers(min_value=0, max_value=6))
    buckets = []
    for n in range(count):
        total = draw_(st.integers(min_value=0, max_value=5_000))
        used = draw_(st.integers(min_value=0, max_value=total))
        kind = draw_(st.sampled_from(list(BucketKind)))
        buckets.append(Bucket(f"b{n}", kind, total, used, CYCLE_START, draw_(instants)))
    return buckets


@quick
@given(bucket_sets(), st.integers(min_value=0, max_value=40_000))
def test_a_draw_never_overfills_and_accounts_for_every_requested_byte(buckets: list[Bucket], requested: int) -> None:
    result = draw(buckets, requested)
    before = {bucket.id: bucket for bucket in buckets}
    drawn = 0
    for bucket in result.updated:
        assert 0 <= bucket.used_bytes <= bucket.total_bytes
        assert bucket.used_bytes > before[bucket.id].used_bytes
        drawn += bucket.used_bytes - before[bucket.id].used_bytes
    assert drawn + result.unserved_bytes == requested
    assert result.unserved_bytes == max(0, requested - sum(b.remaining_bytes for b in buckets))


@quick
@given(bucket_sets(), st.integers(min_value=1, max_value=40_000))
def test_a_draw_empties_earlier_buckets_before_touching_later_ones(buckets: list[Bucket], requested: int) -> None:
    result = draw(buckets, requested)
    after = {bucket.id: bucket for bucket in buckets} | {bucket.id: bucket for bucket in result.updated}
    ordered = [after[bucket.id] for bucket in draw_order(buckets)]
    touched = [n for n, bucket in enumerate(ordered) if bucket.id in {b.id for b in result.updated}]
    if touched:
        assert all(bucket.remaining_bytes == 0 for bucket in ordered[: touched[-1]])
