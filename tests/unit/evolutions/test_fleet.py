"""Fleets, the pure rules: what a search matches, how a page's cursor is read, a day's usage, a batch's status."""

from __future__ import annotations

from datetime import UTC, date, datetime
from zoneinfo import ZoneInfo

import pytest

from bascule.catalog.loader import load
from bascule.catalog.model import PlanKind, Radio
from bascule.evolutions.batch import BatchStatus, ItemStatus, batch_status, check_lines
from bascule.evolutions.fleet import FleetFilter, cursor_after, daily_usage, msisdn_of_cursor
from bascule.kernel.calendar import Period
from bascule.kernel.errors import DomainError, ErrorCode
from bascule.kernel.messages_fr import message

CATALOG = load(None)
PARIS = ZoneInfo("Europe/Paris")


@pytest.mark.parametrize(
    ("q", "msisdn_part", "plans"),
    [
        ("0612", "0612", set()),
        ("+33 6 12", "+33612", set()),
        ("06.12-34", "061234", set()),
        ("compteur", None, {"compteur-4g", "compteur-5g"}),
        ("  Compteur 5G ", None, {"compteur-5g"}),
        ("10 go 4g", None, {"data-10go-4g"}),
        ("100", "100", {"data-100go-4g", "data-100go-5g"}),  # digits: the MSISDN or a plan's name
        ("zorglub", None, set()),
    ],
)
def test_a_search_is_digits_in_the_msisdn_or_text_in_the_plans_name(q, msisdn_part, plans):
    search = FleetFilter(q=q).match(CATALOG).search
    assert search is not None
    assert (search.msisdn_part, set(search.plan_ids)) == (msisdn_part, plans)


def test_no_search_and_no_plan_criterion_match_every_line():
    match = FleetFilter(q="   ").match(CATALOG)
    assert (match.search, match.plan_ids) == (None, None)


def test_kind_radio_and_plan_narrow_the_plans_together():
    assert FleetFilter(kind=PlanKind.METERED, radio=Radio.G5).match(CATALOG).plan_ids == {"compteur-5g"}
    assert FleetFilter(plan_id="data-10go-4g", radio=Radio.G5).match(CATALOG).plan_ids == frozenset()
    assert FleetFilter(plan_id="nothing").match(CATALOG).plan_ids == frozenset()


def test_a_cursor_reads_back_the_line_it_follows():
    assert msisdn_of_cursor(cursor_after("+33612345678")) == "+33612345678"


@pytest.mark.parametrize(
    "cursor",
    [
        "",
        "***",
        "KzMzNjEyMzQ1Njc4",
        cursor_after("+33612345678")[:-1],
        cursor_after("+33612345678")[1:],
        cursor_after("33612345678"),
    ],
)
def test_a_cursor_not_handed_out_is_a_validation_error(cursor):
    with pytest.raises(DomainError) as refused:
        msisdn_of_cursor(cursor)
    assert refused.value.code is ErrorCode.VALIDATION_ERROR


def test_usage_falls_on_the_day_of_the_accounts_zone_across_the_clock_change():
    october = Period(2026, 10)
    quarters = [
        (int(datetime(2026, 10, 24, 21, 45, tzinfo=UTC).timestamp()), 1),  # 23:45 CEST on the 24th
        (int(datetime(2026, 10, 24, 22, 0, tzinfo=UTC).timestamp()), 10),  # 00:00 CEST on the 25th
        (int(datetime(2026, 10, 25, 22, 45, tzinfo=UTC).timestamp()), 100),  # 23:45 CET on the 25th
        (int(datetime(2026, 10, 25, 23, 0, tzinfo=UTC).timestamp()), 1000),
    ]  # 00:00 CET on the 26th
    usage = daily_usage(october, PARIS, quarters)
    assert len(usage.days) == 31
    assert {day: used for day, used in usage.days if used} == {
        date(2026, 10, 24): 1,
        date(2026, 10, 25): 110,
        date(2026, 10, 26): 1000,
    }
    assert usage.total_bytes == 1111


Q, R, P, C, F, X = (
    ItemStatus.QUOTED,
    ItemStatus.REFUSED,
    ItemStatus.PROVISIONING,
    ItemStatus.COMPLETED,
    ItemStatus.FAILED,
    ItemStatus.CANCELLED,
)


@pytest.mark.parametrize(
    ("items", "confirmed", "cancelled", "status"),
    [
        ([Q, R], False, False, BatchStatus.AWAITING_CONFIRMATION),
        ([R, R], False, False, BatchStatus.AWAITING_CONFIRMATION),
        ([C, Q], True, False, BatchStatus.CONFIRMING),  # a confirmation stopped half-way
        ([P, C], True, False, BatchStatus.PROVISIONING),
        ([C, C], True, False, BatchStatus.COMPLETED),
        ([C, R], True, False, BatchStatus.PARTIAL),
        ([C, F], True, False, BatchStatus.PARTIAL),
        ([R, F], True, False, BatchStatus.FAILED),
        ([R, R], True, False, BatchStatus.FAILED),
        ([X, R], False, True, BatchStatus.CANCELLED),
        ([X, C], False, True, BatchStatus.PARTIAL),  # a line confirmed on its own before the batch was cancelled
    ],
)
def test_a_batch_reads_its_status_from_its_lines(items, confirmed, cancelled, status):
    assert batch_status(items, confirmed=confirmed, cancelled=cancelled) is status


@pytest.mark.parametrize(
    ("ids", "detail"),
    [
        ([], "Un lot compte de 1 à 1000 lignes (0 demandées)."),
        ([f"svc_{n}" for n in range(1001)], "Un lot compte de 1 à 1000 lignes (1001 demandées)."),
        (["svc_a", "svc_b", "svc_a"], "Chaque ligne ne peut figurer qu'une fois dans un lot."),
    ],
)
def test_a_batch_has_one_to_a_thousand_distinct_lines(ids, detail):
    with pytest.raises(DomainError) as refused:
        check_lines(ids)
    assert (refused.value.code, message(refused.value)) == (ErrorCode.VALIDATION_ERROR, detail)
    check_lines([f"svc_{n}" for n in range(1000)])
