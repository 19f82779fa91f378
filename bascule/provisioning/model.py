"""What a confirmed change asks of the networks, and how long a retry waits. Pure."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from enum import StrEnum
from typing import Any


class JobStatus(StrEnum):
    PENDING = "pending"
    RUNNING = "running"
    SUCCEEDED = "succeeded"
    FAILED = "failed"


class Operation(StrEnum):
    APPLY_PLAN = "apply_plan"  # volume and radio of the line's data plan
    SET_APN = "set_apn"
    SET_CEILING = "set_ceiling"
    ACTIVATE_LINE = "activate_line"  # the new host network takes the line with its whole profile
    RELEASE_LINE = "release_line"  # the old host network lets it go
    SET_PROFILE = "set_profile"  # prepaid profile on the charging system


CHARGING_SYSTEM = "charging"


@dataclass(frozen=True, slots=True)
class JobSpec:
    network: str
    operation: Operation
    payload: dict[str, Any] = field(default_factory=dict)
    after_previous: bool = False  # only once the job before it in the list has succeeded


@dataclass(frozen=True, slots=True)
class Job:
    id: str
    change_request_id: str | None
    subject_kind: str
    subject_id: str
    network: str
    operation: Operation
    payload: dict[str, Any]
    status: JobStatus
    attempts: int
    max_attempts: int
    next_attempt_at: datetime
    work_order_id: str | None


def line_jobs(
    msisdn: str, before: Mapping[str, Any], after: Mapping[str, Any], items: tuple[str, ...]
) -> list[JobSpec]:
    """The network operations of a Line A change. A host change moves the whole line: the new network
    activates it with its full profile, then the old one releases it."""
    profile = {
        "msisdn": msisdn,
        "plan_id": after["plan_id"],
        "radio": after["radio"],
        "apn": after["apn"],
        "ceiling_bytes": after.get("ceiling_bytes"),
    }
    if "network" in items:
        return [
            JobSpec(after["network"], Operation.ACTIVATE_LINE, profile),
            JobSpec(before["network"], Operation.RELEASE_LINE, {"msisdn": msisdn}, after_previous=True),
        ]
    network = after["network"]
    specs = []
    if "plan_id" in items or "radio" in items:
        specs.append(
            JobSpec(
                network, Operation.APPLY_PLAN, {"msisdn": msisdn, "plan_id": after["plan_id"], "radio": after["radio"]}
            )
        )
    if "apn" in items:
        specs.append(JobSpec(network, Operation.SET_APN, {"msisdn": msisdn, "apn": after["apn"]}))
    if "ceiling_bytes" in items:
        specs.append(
            JobSpec(network, Operation.SET_CEILING, {"msisdn": msisdn, "ceiling_bytes": after.get("ceiling_bytes")})
        )
    return specs


def backoff(attempt: int, base: timedelta, cap: timedelta, draw: float) -> timedelta:
    """Exponential backoff with "equal jitter": half the step is fixed, half drawn, so retries spread out.

    `draw` is in [0, 1); attempt 1 waits about `base`, attempt 2 about twice that, up to `cap`."""
    if not 0 <= draw < 1:
        raise ValueError("draw must be in [0, 1)")
    step: timedelta = min(cap, base * (2 ** max(0, attempt - 1)))
    return step / 2 + (step / 2) * draw
