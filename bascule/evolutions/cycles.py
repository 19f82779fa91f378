"""Opening billing cycles: the recurring line and the allowance bucket of each month, exactly once."""

from __future__ import annotations

from dataclasses import replace
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from bascule.audit.trail import record
from bascule.catalog.model import Catalog, Plan, PlanKind
from bascule.evolutions.model import Service, ServiceStatus
from bascule.evolutions.quota import Bucket, BucketKind, quota_of
from bascule.evolutions.rules import first_cycle_charge
from bascule.identity.model import SYSTEM, Channel
from bascule.kernel.calendar import Period, periods_between
from bascule.persistence.repositories import new_id
from bascule.persistence.uow import UnitOfWork

SLOT_SCOPE = "service-change"


def allowance_bytes(plan: Plan, service: Service) -> int:
    if plan.kind is PlanKind.METERED:
        return service.ceiling_bytes or plan.default_ceiling_bytes or 0
    return plan.data_bytes or 0


def _open_one(uow: UnitOfWork, catalog: Catalog, service: Service, period: Period, tz: ZoneInfo, now: datetime) -> bool:
    if not uow.cycles.open(service.id, str(period), now):
        return False
    plan = catalog.plan(service.plan_id)
    line = first_cycle_charge(plan, service.activated_on, period, catalog)
    uow.charges.add(
        account_id=service.account_id,
        service_id=service.id,
        period=str(period),
        kind=line.kind.value,
        description=line.description,
        amount=line.amount,
        at=max(period.start_instant(tz), min(now, period.end_instant(tz) - timedelta(microseconds=1))),
        once_key=f"recurring:{service.id}:{period}",
    )
    bucket = Bucket(
        new_id("bkt"), BucketKind.ALLOWANCE, allowance_bytes(plan, service), 0,
        period.start_instant(tz), period.end_instant(tz),
    )
    uow.buckets.add(service.id, str(period), bucket)
    return True


def open_cycles(uow: UnitOfWork, catalog: Catalog, service: Service, tz: ZoneInfo, now: datetime) -> Service:
    """Open every cycle from the last one opened (or activation) to the current one; lift a bar on a new cycle."""
    current = Period.at(now, tz)
    latest = uow.cycles.latest(service.id)
    first = Period.containing(service.activated_on) if latest is None else Period.parse(latest).next()
    opened = [period for period in periods_between(first, current) if _open_one(uow, catalog, service, period, tz, now)]
    if not opened or service.status is not ServiceStatus.BARRED:
        return service
    if not quota_of(uow.buckets.open_at(service.id, now)).exhausted:
        lifted = replace(service, status=ServiceStatus.ACTIVE)
        uow.services.save(lifted)
        record(uow, at=now, actor=SYSTEM, channel=Channel.SYSTEM, entity=("service", service.id),
               action="service.unbarred", before=service.audit_view(), after=lifted.audit_view())
        return lifted
    return service


def status_for(buckets: list[Bucket]) -> ServiceStatus:
    return ServiceStatus.BARRED if quota_of(buckets).exhausted else ServiceStatus.ACTIVE
