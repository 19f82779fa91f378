"""Data buckets: which bucket usage draws first, what is left unserved, what a plan change carries over."""

from __future__ import annotations

import re
from datetime import UTC, datetime

import pytest

from bascule.catalog.model import GIB
from bascule.evolutions.quota import (
    Bucket,
    BucketKind,
    Quota,
    carried_over_bytes,
    draw,
    draw_order,
    quota_after_plan_change,
    quota_of,
)

CYCLE_START = datetime(2026, 5, 31, 22, 0, tzinfo=UTC)  # 1 June 2026 00:00 Paris
CYCLE_END = datetime(2026, 6, 30, 22, 0, tzinfo=UTC)  # 1 July 2026 00:00 Paris
MID_JUNE = datetime(2026, 6, 10, 22, 0, tzinfo=UTC)


def bucket(
    name: str,
    kind: BucketKind,
    total: int,
    used: int = 0,
    until: datetime = CYCLE_END,
    since: datetime = CYCLE_START,
) -> Bucket:
    return Bucket(name, kind, total, used, since, until)


# --- draw order ---------------------------------------------------------------------------


def test_the_bucket_expiring_first_is_drawn_first() -> None:
    allowance = bucket("allowance", BucketKind.ALLOWANCE, 10 * GIB)
    early_topup = bucket("topup", BucketKind.TOPUP, GIB, until=MID_JUNE)
    assert [b.id for b in draw_order([allowance, early_topup])] == ["topup", "allowance"]


def test_an_allowance_expiring_first_goes_before_a_carryover() -> None:
    carryover = bucket("carryover", BucketKind.CARRYOVER, 2 * GIB)
    allowance = bucket("allowance", BucketKind.ALLOWANCE, 10 * GIB, until=MID_JUNE)
    assert [b.id for b in draw_order([carryover, allowance])] == ["allowance", "carryover"]


def test_on_the_same_expiry_carryover_then_topup_then_allowance() -> None:
    allowance = bucket("allowance", BucketKind.ALLOWANCE, 30 * GIB)
    topup = bucket("topup", BucketKind.TOPUP, GIB)
    carryover = bucket("carryover", BucketKind.CARRYOVER, 2 * GIB)
    assert [b.id for b in draw_order([allowance, topup, carryover])] == ["carryover", "topup", "allowance"]


def test_an_extension_ranks_with_the_one_off_packs_before_the_allowance() -> None:
    allowance = bucket("allowance", BucketKind.ALLOWANCE, 5 * GIB)
    extension = bucket("extension", BucketKind.EXTENSION, GIB)
    assert [b.id for b in draw_order([allowance, extension])] == ["extension", "allowance"]


def test_the_order_of_equal_buckets_is_fixed_by_start_then_id() -> None:
    later = bucket("a-later", BucketKind.TOPUP, GIB, since=MID_JUNE)
    b_first = bucket("b-first", BucketKind.TOPUP, GIB)
    a_first = bucket("a-first", BucketKind.TOPUP, GIB)
    assert [b.id for b in draw_order([later, b_first, a_first])] == ["a-first", "b-first", "a-later"]


# --- drawing usage ------------------------------------------------------------------------


def test_usage_within_the_first_bucket_touches_only_that_bucket() -> None:
    carryover = bucket("carryover", BucketKind.CARRYOVER, 2 * GIB)
    allowance = bucket("allowance", BucketKind.ALLOWANCE, 30 * GIB)
    result = draw([allowance, carryover], GIB)
    assert [(b.id, b.used_bytes) for b in result.updated] == [("carryover", GIB)]
    assert result.unserved_bytes == 0


def test_usage_spills_from_the_carryover_into_the_topup_then_the_allowance() -> None:
    carryover = bucket("carryover", BucketKind.CARRYOVER, 2 * GIB, used=GIB)
    topup = bucket("topup", BucketKind.TOPUP, GIB)
    allowance = bucket("allowance", BucketKind.ALLOWANCE, 30 * GIB, used=0)
    result = draw([allowance, topup, carryover], 3 * GIB)
    assert [(b.id, b.used_bytes) for b in result.updated] == [
        ("carryover", 2 * GIB),
        ("topup", GIB),
        ("allowance", GIB),
    ]
    assert result.unserved_bytes == 0


def test_a_full_bucket_is_skipped_and_left_unchanged() -> None:
    full = bucket("carryover", BucketKind.CARRYOVER, 2 * GIB, used=2 * GIB)
    allowance = bucket("allowance", BucketKind.ALLOWANCE, 10 * GIB)
    result = draw([full, allowance], 500)
    assert [(b.id, b.used_bytes) for b in result.updated] == [("allowance", 500)]


def test_usage_beyond_every_bucket_is_unserved() -> None:
    allowance = bucket("allowance", BucketKind.ALLOWANCE, 10 * GIB, used=9 * GIB)
    topup = bucket("topup", BucketKind.TOPUP, 512)
    result = draw([allowance, topup], 3 * GIB)
    assert [(b.id, b.used_bytes) for b in result.updated] == [("topup", 512), ("allowance", 10 * GIB)]
    assert result.unserved_bytes == 2 * GIB - 512


def test_usage_with_no_bucket_is_all_unserved() -> None:
    result = draw([], 1_000)
    assert result.updated == []
    assert result.unserved_bytes == 1_000


def test_drawing_nothing_changes_nothing() -> None:
    result = draw([bucket("allowance", BucketKind.ALLOWANCE, GIB)], 0)
    assert result.updated == []
    assert result.unserved_bytes == 0


def test_negative_usage_is_refused() -> None:
    with pytest.raises(ValueError, match="negative"):
        draw([bucket("allowance", BucketKind.ALLOWANCE, GIB)], -1)


# --- buckets and quota --------------------------------------------------------------------


def test_a_bucket_cannot_have_used_more_than_it_holds() -> None:
    with pytest.raises(ValueError, match=re.escape("used 11 outside 0..10")):
        bucket("allowance", BucketKind.ALLOWANCE, 10, used=11)


def test_a_bucket_cannot_have_negative_use() -> None:
    with pytest.raises(ValueError, match=re.escape("used -1 outside 0..10")):
        bucket("allowance", BucketKind.ALLOWANCE, 10, used=-1)


def test_a_bucket_used_to_the_last_byte_is_allowed_and_empty() -> None:
    assert bucket("allowance", BucketKind.ALLOWANCE, 10, used=10).remaining_bytes == 0


def test_a_bucket_is_valid_from_its_start_until_just_before_its_end() -> None:
    allowance = bucket("allowance", BucketKind.ALLOWANCE, GIB)
    assert allowance.is_valid_at(CYCLE_START)
    assert allowance.is_valid_at(datetime(2026, 6, 30, 21, 59, 59, tzinfo=UTC))
    assert not allowance.is_valid_at(CYCLE_END)
    assert not allowance.is_valid_at(datetime(2026, 5, 31, 21, 59, 59, tzinfo=UTC))


def test_the_quota_sums_every_bucket() -> None:
    quota = quota_of(
        [
            bucket("allowance", BucketKind.ALLOWANCE, 10 * GIB, used=8 * GIB),
            bucket("topup", BucketKind.TOPUP, GIB, used=512),
        ]
    )
    assert quota == Quota(11 * GIB, 8 * GIB + 512)
    assert quota.remaining_bytes == 3 * GIB - 512
    assert not quota.exhausted


def test_a_quota_with_nothing_left_is_exhausted() -> None:
    assert quota_of([bucket("allowance", BucketKind.ALLOWANCE, GIB, used=GIB)]).exhausted
    assert quota_of([]).exhausted


# --- carry-over after a plan change -------------------------------------------------------


def test_a_plan_change_carries_over_what_is_left_of_the_allowance() -> None:
    """Seed: 10 GB with 2 GB left, moving to 30 GB → 30 + 2 = 32 GB."""
    buckets = [bucket("allowance", BucketKind.ALLOWANCE, 10 * GIB, used=8 * GIB)]
    assert carried_over_bytes(buckets) == 2 * GIB
    assert quota_after_plan_change(buckets, 30 * GIB) == 32 * GIB


def test_an_earlier_carryover_is_carried_again() -> None:
    buckets = [
        bucket("allowance", BucketKind.ALLOWANCE, 30 * GIB, used=10 * GIB),
        bucket("carryover", BucketKind.CARRYOVER, 2 * GIB, used=GIB),
    ]
    assert carried_over_bytes(buckets) == 21 * GIB
    assert quota_after_plan_change(buckets, 50 * GIB) == 71 * GIB


def test_top_ups_stay_in_the_quota_but_are_not_carried_over() -> None:
    buckets = [
        bucket("allowance", BucketKind.ALLOWANCE, 10 * GIB, used=8 * GIB),
        bucket("topup", BucketKind.TOPUP, 5 * GIB, used=GIB),
    ]
    assert carried_over_bytes(buckets) == 2 * GIB
    assert quota_after_plan_change(buckets, 30 * GIB) == 37 * GIB


def test_an_exhausted_allowance_carries_nothing() -> None:
    buckets = [bucket("allowance", BucketKind.ALLOWANCE, 10 * GIB, used=10 * GIB)]
    assert quota_after_plan_change(buckets, 30 * GIB) == 30 * GIB
