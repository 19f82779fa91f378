"""Data buckets of a cycle: what is left, which bucket usage draws first, what a plan change carries over,
and what a used-up quota does to the line."""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import datetime
from enum import StrEnum

from bascule.catalog.model import Catalog, Plan, PlanKind
from bascule.evolutions.model import ServiceStatus


class BucketKind(StrEnum):
    ALLOWANCE = "allowance"  # the plan's volume for the cycle, or a metered line's ceiling
    CARRYOVER = "carryover"  # what was left of the allowance when the plan changed mid-cycle
    TOPUP = "topup"  # a one-off data pack ("recharge ponctuelle")
    EXTENSION = "extension"  # a one-off raise of a metered ceiling


# Same expiry: carried-over data goes first, then one-off packs, then the plan's allowance.
_DRAW_RANK = {BucketKind.CARRYOVER: 0, BucketKind.TOPUP: 1, BucketKind.EXTENSION: 1, BucketKind.ALLOWANCE: 2}


@dataclass(frozen=True, slots=True)
class Bucket:
    id: str
    kind: BucketKind
    total_bytes: int
    used_bytes: int
    valid_from: datetime
    valid_until: datetime

    def __post_init__(self) -> None:
        if not 0 <= self.used_bytes <= self.total_bytes:
            raise ValueError(f"bucket {self.id}: used {self.used_bytes} outside 0..{self.total_bytes}")

    @property
    def remaining_bytes(self) -> int:
        return self.total_bytes - self.used_bytes

    def is_valid_at(self, instant: datetime) -> bool:
        return self.valid_from <= instant < self.valid_until


@dataclass(frozen=True, slots=True)
class Quota:
    total_bytes: int
    used_bytes: int

    @property
    def remaining_bytes(self) -> int:
        return self.total_bytes - self.used_bytes

    @property
    def exhausted(self) -> bool:
        return self.remaining_bytes <= 0


def draw_order(buckets: list[Bucket]) -> list[Bucket]:
    """Earliest expiry first; deterministic on ties."""
    return sorted(buckets, key=lambda b: (b.valid_until, _DRAW_RANK[b.kind], b.valid_from, b.id))


def quota_of(buckets: list[Bucket]) -> Quota:
    return Quota(sum(b.total_bytes for b in buckets), sum(b.used_bytes for b in buckets))


@dataclass(frozen=True, slots=True)
class Draw:
    updated: list[Bucket]  # only the buckets that changed
    unserved_bytes: int  # what no bucket could carry


def draw(buckets: list[Bucket], requested_bytes: int) -> Draw:
    if requested_bytes < 0:
        raise ValueError("usage cannot be negative")
    left = requested_bytes
    updated: list[Bucket] = []
    for bucket in draw_order(buckets):
        if left == 0:
            break
        taken = min(left, bucket.remaining_bytes)
        if taken:
            updated.append(replace(bucket, used_bytes=bucket.used_bytes + taken))
            left -= taken
    return Draw(updated, left)


def carried_over_bytes(buckets: list[Bucket]) -> int:
    """What a plan change carries: the unused allowance (and any earlier carry-over) of the cycle."""
    return sum(b.remaining_bytes for b in buckets if b.kind in (BucketKind.ALLOWANCE, BucketKind.CARRYOVER))


def quota_after_plan_change(buckets: list[Bucket], new_allowance_bytes: int) -> int:
    """Total quota once the old allowance is closed and its remainder carried over."""
    one_off = sum(b.total_bytes for b in buckets if b.kind in (BucketKind.TOPUP, BucketKind.EXTENSION))
    return new_allowance_bytes + carried_over_bytes(buckets) + one_off


def exhaustion_status(catalog: Catalog, plan: Plan) -> ServiceStatus:
    """A used-up bundle is barred or throttled as the catalogue says; a metered ceiling always bars (rule 4)."""
    if plan.kind is PlanKind.BUNDLE and catalog.b2b.at_exhaustion == "throttle":
        return ServiceStatus.THROTTLED
    return ServiceStatus.BARRED


def status_for(buckets: list[Bucket], when_exhausted: ServiceStatus = ServiceStatus.BARRED) -> ServiceStatus:
    return when_exhausted if quota_of(buckets).exhausted else ServiceStatus.ACTIVE
