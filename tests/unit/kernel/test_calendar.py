"""Billing cycles are calendar months in the customer's zone; proration counts calendar days."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from fractions import Fraction
from zoneinfo import ZoneInfo

import pytest

from bascule.kernel.calendar import (
    Period,
    add_days,
    days_remaining,
    local_date,
    periods_between,
    remaining_fraction,
    zone,
)

PARIS = ZoneInfo("Europe/Paris")
ABIDJAN = ZoneInfo("Africa/Abidjan")


def elapsed(start: datetime, end: datetime) -> timedelta:
    """Real time between two instants (Python subtracts wall times when both share one tzinfo)."""
    return end.astimezone(UTC) - start.astimezone(UTC)


# --- periods ------------------------------------------------------------------------------


def test_a_period_is_parsed_from_year_dash_month() -> None:
    assert Period.parse("2026-07") == Period(2026, 7)


def test_a_period_is_written_year_dash_two_digit_month() -> None:
    assert str(Period(2026, 7)) == "2026-07"
    assert str(Period(987, 3)) == "0987-03"


@pytest.mark.parametrize(
    "text", ["2026-7", "2026-13", "2026-00", "26-07", "2026/07", "2026-07-01", "", " 2026-07", "juillet"]
)
def test_a_text_that_is_not_yyyy_mm_is_refused(text: str) -> None:
    with pytest.raises(ValueError, match="is not a period YYYY-MM"):
        Period.parse(text)


@pytest.mark.parametrize("text", ["2026-07\n", "\uff12\uff10\uff12\uff16-07"])
def test_a_period_with_a_trailing_newline_or_non_ascii_digits_is_refused(text: str) -> None:
    """Regression: `$` once matched before a final newline and `\\d` any Unicode digit."""
    with pytest.raises(ValueError, match="is not a period YYYY-MM"):
        Period.parse(text)


@pytest.mark.parametrize(("year", "month"), [(2026, 0), (2026, 13), (0, 1), (10000, 1)])
def test_a_month_that_does_not_exist_is_refused(year: int, month: int) -> None:
    with pytest.raises(ValueError, match="no such month"):
        Period(year, month)


def test_december_is_followed_by_january_of_the_next_year() -> None:
    assert Period(2026, 12).next() == Period(2027, 1)


def test_january_is_preceded_by_december_of_the_previous_year() -> None:
    assert Period(2027, 1).previous() == Period(2026, 12)


def test_next_and_previous_inside_a_year() -> None:
    assert Period(2026, 6).next() == Period(2026, 7)
    assert Period(2026, 11).next() == Period(2026, 12)
    assert Period(2026, 7).previous() == Period(2026, 6)
    assert Period(2026, 2).previous() == Period(2026, 1)


def test_periods_are_ordered_in_time() -> None:
    assert Period(2026, 12) < Period(2027, 1)
    assert Period(2026, 2) < Period(2026, 10)


def test_periods_between_lists_both_ends_across_the_new_year() -> None:
    assert periods_between(Period(2026, 11), Period(2027, 2)) == [
        Period(2026, 11),
        Period(2026, 12),
        Period(2027, 1),
        Period(2027, 2),
    ]


@pytest.mark.parametrize(
    ("period", "days"),
    [
        (Period(2027, 2), 28),
        (Period(2028, 2), 29),
        (Period(1900, 2), 28),
        (Period(2000, 2), 29),
        (Period(2026, 6), 30),
        (Period(2026, 4), 30),
        (Period(2026, 7), 31),
        (Period(2026, 12), 31),
    ],
)
def test_a_month_has_28_29_30_or_31_days(period: Period, days: int) -> None:
    assert period.days == days


def test_february_2028_has_a_29th_and_february_2027_does_not() -> None:
    assert Period(2028, 2).last_day == date(2028, 2, 29)
    assert Period(2027, 2).last_day == date(2027, 2, 28)
    assert date(2028, 2, 29) in Period(2028, 2)
    assert date(2027, 3, 1) not in Period(2027, 2)


def test_first_and_last_day_of_a_period() -> None:
    assert Period(2026, 7).first_day == date(2026, 7, 1)
    assert Period(2026, 7).last_day == date(2026, 7, 31)


def test_a_day_belongs_to_its_own_month_only() -> None:
    assert date(2026, 7, 31) in Period(2026, 7)
    assert date(2026, 8, 1) not in Period(2026, 7)
    assert date(2025, 7, 15) not in Period(2026, 7)


# --- proration fraction -------------------------------------------------------------------


def test_a_change_on_the_first_day_counts_the_whole_cycle() -> None:
    assert remaining_fraction(date(2026, 7, 1), Period(2026, 7)) == 1


def test_a_change_on_the_last_day_counts_one_day() -> None:
    assert remaining_fraction(date(2026, 7, 31), Period(2026, 7)) == Fraction(1, 31)
    assert days_remaining(date(2026, 7, 31), Period(2026, 7)) == 1


def test_a_change_on_16_june_counts_half_of_june() -> None:
    assert remaining_fraction(date(2026, 6, 16), Period(2026, 6)) == Fraction(1, 2)
    assert days_remaining(date(2026, 6, 16), Period(2026, 6)) == 15


def test_a_change_on_25_july_counts_7_of_31_days() -> None:
    assert remaining_fraction(date(2026, 7, 25), Period(2026, 7)) == Fraction(7, 31)


def test_29_february_2028_is_the_last_of_29_days() -> None:
    assert remaining_fraction(date(2028, 2, 29), Period(2028, 2)) == Fraction(1, 29)
    assert remaining_fraction(date(2028, 2, 28), Period(2028, 2)) == Fraction(2, 29)


def test_28_february_2027_is_the_last_of_28_days() -> None:
    assert remaining_fraction(date(2027, 2, 28), Period(2027, 2)) == Fraction(1, 28)
    assert remaining_fraction(date(2027, 2, 15), Period(2027, 2)) == Fraction(1, 2)


def test_a_day_outside_the_cycle_is_refused() -> None:
    with pytest.raises(ValueError, match="outside the cycle 2026-07"):
        remaining_fraction(date(2026, 8, 1), Period(2026, 7))


# --- instants, zones and DST --------------------------------------------------------------


def test_half_past_midnight_in_paris_on_1_july_is_in_july_though_utc_is_still_in_june() -> None:
    instant = datetime(2026, 7, 1, 0, 30, tzinfo=PARIS)
    assert instant.astimezone(UTC) == datetime(2026, 6, 30, 22, 30, tzinfo=UTC)
    assert Period.at(instant, PARIS) == Period(2026, 7)
    assert Period.at(instant, ZoneInfo("UTC")) == Period(2026, 6)


def test_an_utc_instant_is_placed_in_the_paris_month() -> None:
    assert Period.at(datetime(2026, 6, 30, 22, 30, tzinfo=UTC), PARIS) == Period(2026, 7)
    assert Period.at(datetime(2026, 6, 30, 21, 59, tzinfo=UTC), PARIS) == Period(2026, 6)


def test_a_naive_datetime_is_refused() -> None:
    with pytest.raises(ValueError, match="naive"):
        Period.at(datetime(2026, 7, 1, 0, 30), PARIS)


def test_an_unknown_zone_is_refused() -> None:
    with pytest.raises(ValueError, match="unknown time zone 'Europe/Atlantis'"):
        zone("Europe/Atlantis")


def test_spring_forward_day_is_one_calendar_day_of_march() -> None:
    """29 March 2026 lasts 23 hours in Paris; a change that day still counts 29, 30, 31: 3 of 31."""
    assert remaining_fraction(date(2026, 3, 29), Period(2026, 3)) == Fraction(3, 31)
    assert remaining_fraction(date(2026, 3, 30), Period(2026, 3)) == Fraction(2, 31)


def test_fall_back_day_is_one_calendar_day_of_october() -> None:
    """25 October 2026 lasts 25 hours in Paris; a change that day counts 25…31: 7 of 31."""
    assert remaining_fraction(date(2026, 10, 25), Period(2026, 10)) == Fraction(7, 31)
    assert remaining_fraction(date(2026, 10, 26), Period(2026, 10)) == Fraction(6, 31)


def test_every_instant_of_the_spring_forward_day_is_that_day_in_paris() -> None:
    start = datetime(2026, 3, 28, 23, 0, tzinfo=UTC)  # 29 March 00:00 CET
    end = datetime(2026, 3, 29, 22, 0, tzinfo=UTC)  # 30 March 00:00 CEST, 23 hours later
    assert local_date(start, PARIS) == date(2026, 3, 29)
    assert local_date(end - timedelta(seconds=1), PARIS) == date(2026, 3, 29)
    assert local_date(end, PARIS) == date(2026, 3, 30)
    assert local_date(start - timedelta(seconds=1), PARIS) == date(2026, 3, 28)


def test_every_instant_of_the_fall_back_day_is_that_day_in_paris() -> None:
    start = datetime(2026, 10, 24, 22, 0, tzinfo=UTC)  # 25 October 00:00 CEST
    end = datetime(2026, 10, 25, 23, 0, tzinfo=UTC)  # 26 October 00:00 CET, 25 hours later
    assert local_date(start, PARIS) == date(2026, 10, 25)
    assert local_date(end - timedelta(seconds=1), PARIS) == date(2026, 10, 25)
    assert local_date(end, PARIS) == date(2026, 10, 26)
    # the repeated hour 02:00–03:00 happens twice, both times on the 25th
    assert local_date(datetime(2026, 10, 25, 0, 30, tzinfo=UTC), PARIS) == date(2026, 10, 25)
    assert local_date(datetime(2026, 10, 25, 1, 30, tzinfo=UTC), PARIS) == date(2026, 10, 25)


def test_march_2026_starts_in_winter_time_and_ends_in_summer_time_in_paris() -> None:
    march = Period(2026, 3)
    assert march.start_instant(PARIS) == datetime(2026, 2, 28, 23, 0, tzinfo=UTC)
    assert march.end_instant(PARIS) == datetime(2026, 3, 31, 22, 0, tzinfo=UTC)
    assert elapsed(march.start_instant(PARIS), march.end_instant(PARIS)) == timedelta(hours=31 * 24 - 1)


def test_october_2026_starts_in_summer_time_and_ends_in_winter_time_in_paris() -> None:
    october = Period(2026, 10)
    assert october.start_instant(PARIS) == datetime(2026, 9, 30, 22, 0, tzinfo=UTC)
    assert october.end_instant(PARIS) == datetime(2026, 10, 31, 23, 0, tzinfo=UTC)
    assert elapsed(october.start_instant(PARIS), october.end_instant(PARIS)) == timedelta(hours=31 * 24 + 1)


def test_a_period_ends_where_the_next_one_starts() -> None:
    assert Period(2026, 12).end_instant(PARIS) == Period(2027, 1).start_instant(PARIS)


def test_abidjan_is_utc_all_year_without_dst() -> None:
    assert Period(2026, 3).start_instant(ABIDJAN) == datetime(2026, 3, 1, tzinfo=UTC)
    assert Period(2026, 10).end_instant(ABIDJAN) == datetime(2026, 11, 1, tzinfo=UTC)
    for month in (Period(2026, 3), Period(2026, 10)):
        assert elapsed(month.start_instant(ABIDJAN), month.end_instant(ABIDJAN)) == timedelta(days=31)
        assert month.start_instant(ABIDJAN).utcoffset() == timedelta(0)


def test_abidjan_months_turn_at_utc_midnight() -> None:
    assert Period.at(datetime(2026, 6, 30, 23, 59, 59, tzinfo=UTC), ABIDJAN) == Period(2026, 6)
    assert Period.at(datetime(2026, 7, 1, 0, 0, tzinfo=UTC), ABIDJAN) == Period(2026, 7)


def test_add_days_keeps_the_local_wall_time_across_spring_forward() -> None:
    before = datetime(2026, 3, 28, 9, 0, tzinfo=PARIS)
    after = add_days(before, 1, PARIS)
    assert after == datetime(2026, 3, 29, 7, 0, tzinfo=UTC)  # 09:00 CEST
    assert elapsed(before, after) == timedelta(hours=23)
