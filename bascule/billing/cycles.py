"""Opening billing cycles: the recurring line and the allowance bucket of each month, exactly once.

A cycle is opened when a line is created, and lazily afterwards: by the bill run, the usage import, and the
line's own use cases when a command touches a line whose month has turned. Those live in `bascule.evolutions`,
which billing depends on (the lines, their buckets and their repositories): they reach this module through
`evolutions.ports.CycleOpener`, which `bascule.bootstrap` fills with `OPENER`.
"""

from __future__ import annotations

from dataclasses import replace
from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

from bascule.catalog.model import Catalog, Plan
from bascule.evolutions.model import Service, ServiceStatus
from bascule.evolutions.ports import CycleTemplate, EvolutionsUnit
from bascule.evolutions.quota import Bucket, BucketKind, quota_of
from bascule.evolutions.rules import ChargeKind, ChargeLine, allowance_bytes
from bascule.evolutions.services import save_line
from bascule.kernel.calendar import Period, days_remaining, periods_between, remaining_fraction
from bascule.kernel.ids import new_id
from bascule.kernel.messages_fr import cycle_charge
from bascule.kernel.money import Money


def recurring_key(service_id: str, period: Period | str) -> str:
    """The once-key of a cycle's recurring line: a cycle is charged once, however many times it is opened."""
    return f"recurring:{service_id}:{period}"


def first_cycle_charge(plan: Plan, activated_on: date, period: Period, catalog: Catalog) -> ChargeLine:
    """The recurring line of a cycle, prorated when the service starts after the first day."""
    fraction = remaining_fraction(activated_on, period) if activated_on in period else None
    if fraction is None or fraction == 1:
        return ChargeLine(ChargeKind.RECURRING, cycle_charge(plan.name, period.year, period.month), plan.price)
    days = (days_remaining(activated_on, period), period.days)
    amount = plan.price.times(fraction, catalog.b2b.rounding)
    return ChargeLine(ChargeKind.RECURRING, cycle_charge(plan.name, period.year, period.month, days), amount)


def _open_one(
    uow: EvolutionsUnit, catalog: Catalog, service: Service, period: Period, tz: ZoneInfo, now: datetime
) -> bool:
    if not uow.cycles.open(service.id, str(period), now):
        return False
    plan = catalog.plan(service.plan_id)
    cycle = _template(catalog, plan, service.activated_on, period, tz, allowance_bytes(plan, service), now)
    uow.charges.add(
        account_id=service.account_id,
        service_id=service.id,
        period=str(period),
        kind=cycle.kind,
        description=cycle.description,
        amount=Money(cycle.amount, cycle.currency),
        at=cycle.at,
        once_key=recurring_key(service.id, period),
    )
    bucket = Bucket(new_id("bkt"), BucketKind.ALLOWANCE, cycle.total_bytes, 0, cycle.valid_from, cycle.valid_until)
    uow.buckets.add(service.id, str(period), bucket)
    return True


def open_cycles(uow: EvolutionsUnit, catalog: Catalog, service: Service, tz: ZoneInfo, now: datetime) -> Service:
    """Open every cycle from the last one opened (or activation) to the current one; lift a bar on a new cycle."""
    current = Period.at(now, tz)
    latest = uow.cycles.latest(service.id)
    first = Period.containing(service.activated_on) if latest is None else Period.parse(latest).next()
    opened = [period for period in periods_between(first, current) if _open_one(uow, catalog, service, period, tz, now)]
    if not opened or not service.status.restricted:
        return service
    if not quota_of(uow.buckets.open_at(service.id, now)).exhausted:
        return save_line(uow, service, replace(service, status=ServiceStatus.ACTIVE), "service.unbarred", now)
    return service


def open_cycles_many(
    uow: EvolutionsUnit,
    catalog: Catalog,
    services: list[Service],
    zones: dict[str, ZoneInfo],
    now: datetime,
    latest: dict[str, str] | None = None,
) -> None:
    """`open_cycles` for many services at once (zones by account id), in a few statements.

    A cycle is opened once (its row is inserted or not); only the cycles this call inserted get
    their recurring line and allowance bucket, as `_open_one` does. Services whose current cycle is
    already open are not touched; a barred service that gets a new cycle goes the one-by-one way
    under its lock, which lifts the bar when the new quota allows. The others need no lock: the
    cycle's key and the recurring line's `once_key` make a concurrent opening a no-op.

    The recurring line and the bucket of a cycle depend only on the plan, the activation day (when
    it falls in the period), the period, the zone and the allowance: they are worked out once per
    such template, and each cycle to open is a (service, account, period, template) row. `latest`,
    when the caller read it with the services, is the last period opened per service."""
    if latest is None:
        latest = uow.cycles.latest_of([s.id for s in services])
    spans: dict[tuple[object, ...], list[Period]] = {}
    templates: dict[tuple[object, ...], int] = {}
    shapes: list[CycleTemplate] = []
    wanted: list[tuple[str, str, str, int]] = []
    restricted: set[str] = set()
    seen: set[str] = set()
    for service in services:
        if service.id in seen:
            continue
        seen.add(service.id)
        tz = zones[service.account_id]
        last = latest.get(service.id)
        span_key = (tz, service.activated_on if last is None else last)
        periods = spans.get(span_key)
        if periods is None:
            current = Period.at(now, tz)
            first = Period.containing(service.activated_on) if last is None else Period.parse(last).next()
            periods = spans[span_key] = list(periods_between(first, current))
        if not periods:
            continue
        if service.status.restricted:
            restricted.add(service.id)
            continue
        plan = catalog.plan(service.plan_id)
        allowance = allowance_bytes(plan, service)
        for period in periods:
            key = (plan.id, service.activated_on if service.activated_on in period else None, period, tz, allowance)
            index = templates.get(key)
            if index is None:
                index = templates[key] = len(shapes)
                shapes.append(_template(catalog, plan, service.activated_on, period, tz, allowance, now))
            wanted.append((service.id, service.account_id, str(period), index))
    for service_id in sorted(restricted):
        locked = uow.services.lock(service_id)
        if locked is not None:
            open_cycles(uow, catalog, locked, zones[locked.account_id], now)
    uow.cycles.open_many(wanted, shapes, now)


def _template(
    catalog: Catalog, plan: Plan, activated_on: date, period: Period, tz: ZoneInfo, allowance: int, now: datetime
) -> CycleTemplate:
    """What opening a cycle writes, less the service: the recurring line (due in advance, dated now within
    the cycle) and the allowance bucket's size and span."""
    line = first_cycle_charge(plan, activated_on, period, catalog)
    start, end = period.start_instant(tz), period.end_instant(tz)
    return CycleTemplate(
        kind=line.kind.value,
        description=line.description,
        amount=line.amount.amount,
        currency=line.amount.currency,
        at=max(start, min(now, end - timedelta(microseconds=1))),
        total_bytes=allowance,
        valid_from=start,
        valid_until=end,
    )


class CycleOpening:
    """`evolutions.ports.CycleOpener`: the line's use cases open cycles through this, kept on the context."""

    def open(self, uow: EvolutionsUnit, catalog: Catalog, service: Service, tz: ZoneInfo, now: datetime) -> Service:
        return open_cycles(uow, catalog, service, tz, now)

    def open_many(
        self,
        uow: EvolutionsUnit,
        catalog: Catalog,
        services: list[Service],
        zones: dict[str, ZoneInfo],
        now: datetime,
        latest: dict[str, str] | None = None,
    ) -> None:
        open_cycles_many(uow, catalog, services, zones, now, latest)


OPENER = CycleOpening()
