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
    if not opened or not service.status.restricted:
        return service
    if not quota_of(uow.buckets.open_at(service.id, now)).exhausted:
        lifted = replace(service, status=ServiceStatus.ACTIVE)
        uow.services.save(lifted)
        record(uow, at=now, actor=SYSTEM, channel=Channel.SYSTEM, entity=("service", service.id),
               action="service.unbarred", before=service.audit_view(), after=lifted.audit_view())
        return lifted
    return service


def exhaustion_status(catalog: Catalog, plan: Plan) -> ServiceStatus:
    """A used-up bundle is barred or throttled as the catalogue says; a metered ceiling always bars (rule 4)."""
    if plan.kind is PlanKind.BUNDLE and catalog.b2b.at_exhaustion == "throttle":
        return ServiceStatus.THROTTLED
    return ServiceStatus.BARRED


def status_for(buckets: list[Bucket], when_exhausted: ServiceStatus = ServiceStatus.BARRED) -> ServiceStatus:
    return when_exhausted if quota_of(buckets).exhausted else ServiceStatus.ACTIVE


def open_cycles_many(uow: UnitOfWork, catalog: Catalog, services: list[Service], zones: dict[str, ZoneInfo],
                     now: datetime) -> None:
    """`open_cycles` for many services at once (zones by account id), in a few statements.

    A cycle is opened once (its row is inserted or not); only the cycles this call inserted get
    their recurring line and allowance bucket, as `_open_one` does. Services whose current cycle is
    already open are not touched; a barred service that gets a new cycle goes the one-by-one way
    under its lock, which lifts the bar when the new quota allows. The others need no lock: the
    cycle's key and the recurring line's `once_key` make a concurrent opening a no-op."""
    from bascule.persistence import bulk
    from bascule.persistence import tables as t

    connection = uow.connection
    latest = bulk.latest_cycles(connection, [s.id for s in services])
    wanted: dict[tuple[str, str], tuple[Service, Period]] = {}
    for service in services:
        current = Period.at(now, zones[service.account_id])
        last = latest.get(service.id)
        first = Period.containing(service.activated_on) if last is None else Period.parse(last).next()
        for period in periods_between(first, current):
            wanted[(service.id, str(period))] = (service, period)
    if not wanted:
        return
    skip = set()
    for service_id in sorted({s.id for s, _ in wanted.values() if s.status.restricted}):
        locked = uow.services.lock(service_id)
        if locked is not None:
            open_cycles(uow, catalog, locked, zones[locked.account_id], now)
        skip.add(service_id)
    opened = bulk.insert_rows(connection, t.service_cycles, [
        {"service_id": service_id, "period": period, "opened_at": now}
        for (service_id, period) in wanted if service_id not in skip
    ], ignore_conflicts=True, returning=("service_id", "period"))
    charges, buckets = [], []
    lines: dict[tuple[str, object, str], object] = {}
    for row in opened:
        service_id, period_name = row.service_id, row.period
        service, period = wanted[(service_id, period_name)]
        tz = zones[service.account_id]
        plan = catalog.plan(service.plan_id)
        key = (plan.id, service.activated_on, period_name)
        line = lines.get(key) or lines.setdefault(key, first_cycle_charge(plan, service.activated_on, period, catalog))
        start, end = period.start_instant(tz), period.end_instant(tz)
        charges.append({
            "id": new_id("chg"), "account_id": service.account_id, "service_id": service.id, "period": period_name,
            "kind": line.kind.value, "description": line.description, "amount": line.amount.amount,  # type: ignore[attr-defined]
            "currency": line.amount.currency, "at": max(start, min(now, end - timedelta(microseconds=1))),  # type: ignore[attr-defined]
            "change_request_id": None, "once_key": f"recurring:{service.id}:{period}",
        })
        buckets.append({
            "id": new_id("bkt"), "service_id": service.id, "period": period_name, "kind": BucketKind.ALLOWANCE.value,
            "total_bytes": allowance_bytes(plan, service), "used_bytes": 0, "valid_from": start, "valid_until": end,
            "closed_at": None, "source_ref": None,
        })
    bulk.insert_rows(connection, t.charges, charges, ignore_conflicts=True)
    bulk.insert_rows(connection, t.buckets, buckets)
