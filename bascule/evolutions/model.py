"""Line A records: a mobile-data service and a change request, as the use cases see them."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from enum import StrEnum
from typing import Any

from bascule.evolutions.lifecycle import RequestStatus


class ServiceStatus(StrEnum):
    ACTIVE = "active"
    BARRED = "barred"  # data cut until the next cycle, a top-up, an extension or a larger plan
    THROTTLED = "throttled"  # data slowed instead of cut, when the catalogue says so for bundles

    @property
    def restricted(self) -> bool:
        return self is not ServiceStatus.ACTIVE


@dataclass(frozen=True, slots=True)
class Service:
    id: str
    account_id: str
    msisdn: str
    plan_id: str
    network: str
    apn: str
    ceiling_bytes: int | None
    status: ServiceStatus
    activated_on: date

    def audit_view(self) -> dict[str, Any]:
        return {
            "plan_id": self.plan_id,
            "network": self.network,
            "apn": self.apn,
            "ceiling_bytes": self.ceiling_bytes,
            "status": self.status.value,
        }


@dataclass(frozen=True, slots=True)
class ChangeRequest:
    id: str
    service_id: str
    account_id: str
    status: RequestStatus
    changes: dict[str, Any]
    quote: dict[str, Any]
    channel: str
    actor_kind: str
    actor_id: str
    slot_period: str | None
    created_at: datetime
    confirmed_at: datetime | None = None
    completed_at: datetime | None = None
    cancelled_at: datetime | None = None
    failed_at: datetime | None = None
    service_before: dict[str, Any] | None = None
