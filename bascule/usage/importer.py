"""Bulk usage import: each batch's new record ids and the draws they cause commit together.

The record ids of a batch go in at once (on PostgreSQL by COPY into a temporary table, then
`INSERT … SELECT … ON CONFLICT DO NOTHING RETURNING`), the cycles the batch's lines are missing are
opened in bulk and every line of the batch is drawn in memory, then written back in a few statements
(see `_draw_all`: the same rules as `apply_usage`, one service at a time). The file is read by line,
and a batch never splits one (`whole_lines`), so that two batches never share a line and two of them
are written at once on PostgreSQL, each in its own transaction, while the next is read.

A re-import, or an import started again after a crash, skips every record already received.
Records are drawn per service and month in the account's zone, at the instant of the month's
last record, after the columnar engine has summed them per hour.
"""

from __future__ import annotations

from collections import defaultdict, deque
from collections.abc import Callable, Iterable
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any
from zoneinfo import ZoneInfo

import duckdb
import pyarrow as pa

from bascule.billing.cycles import open_cycles_many
from bascule.context import Context
from bascule.evolutions.model import Service
from bascule.evolutions.quota import Bucket, draw, exhaustion_status, quota_of, status_for
from bascule.evolutions.rules import metered_usage_charge, usage_charge_label
from bascule.evolutions.services import apply_status
from bascule.identity.model import Channel, Principal
from bascule.kernel.calendar import Period, zone
from bascule.kernel.ids import new_id
from bascule.usage.files import Batch
from bascule.usage.ports import UsageUnit

Ctx = Context[UsageUnit]  # the context as the import sees it: its ports, no database


@dataclass
class ImportReport:
    read: int = 0
    new: int = 0
    repeated: int = 0
    unknown_line: int = 0
    services: set[str] = field(default_factory=set)


Hour = tuple[str, int, int, float]  # (service id, hours since the epoch UTC, bytes, last epoch)


def _monthly(hours: Iterable[Hour], zones: dict[str, str]) -> dict[tuple[str, str], tuple[int, datetime]]:
    """Sum per service and month in the account's zone (hour boundaries are month boundaries in whole-hour
    zones), with the instant of the month's last record."""
    totals: dict[tuple[str, str], tuple[int, datetime]] = {}
    for service_id, _hour, used, last_epoch in hours:
        last = datetime.fromtimestamp(last_epoch, UTC)
        key = (service_id, str(Period.at(last, zone(zones[service_id]))))
        previous_bytes, previous_last = totals.get(key, (0, last))
        totals[key] = (previous_bytes + used, max(previous_last, last))
    return totals


def _same_month(period: str, first: datetime, last: datetime, tz: ZoneInfo) -> None:
    """The calendar rule is ours: a month in a zone is one span of time, so when a group's first and last
    records both fall in its month by `Period.at`, every record between them does too."""
    for instant in (first, last):
        if str(Period.at(instant, tz)) != period:
            raise RuntimeError(f"the database put {instant.isoformat()} in {period}, not in its {tz.key} month")


Drawn = list[tuple[tuple[str, str], tuple[int, datetime]]]  # ((service id, period), (bytes, last instant))


def _draw_all(ctx: Ctx, uow: UsageUnit, drawn: Drawn, actor: Principal, channel: Channel) -> None:
    """What `apply_usage` does for each (service, month), for the whole batch at once.

    The batch's services are locked together (in id order), their missing cycles opened in bulk,
    their open buckets read once; each month's usage draws them in time order, in memory, exactly as
    `draw` decides; then the buckets and the metered lines are written in a few statements, and the
    few lines whose status changes go through `apply_status` as one by one."""
    now = ctx.clock.now()
    rows = uow.usage_imports
    ids = sorted({service_id for (service_id, _period), _ in drawn})
    services = {s.id: s for s in rows.lock_services(ids)}
    zones = {
        account_id: zone(name)
        for account_id, name in rows.account_zones(sorted({s.account_id for s in services.values()}))
    }
    barred = [s.id for s in services.values() if s.status.restricted]
    open_cycles_many(uow, ctx.catalog, list(services.values()), zones, now)
    for service_id in barred:  # a new cycle may have lifted the bar
        services[service_id] = uow.services.get(service_id) or services[service_id]
    held: dict[str, list[Bucket]] = defaultdict(list)
    for service_id, bucket in rows.open_buckets(ids):
        held[service_id].append(bucket)
    stored = {bucket.id: bucket.used_bytes for buckets in held.values() for bucket in buckets}
    charges: dict[str, dict[str, Any]] = {}
    for (service_id, _period), (used, instant) in drawn:
        service = services[service_id]
        buckets = held[service_id]
        open_then = [b for b in buckets if b.valid_from <= instant < b.valid_until]
        before = quota_of(open_then).used_bytes
        changed = {b.id: b for b in draw(open_then, used).updated}
        after = before + sum(
            b.used_bytes - next(o for o in open_then if o.id == b.id).used_bytes for b in changed.values()
        )
        held[service_id] = [changed.get(b.id, b) for b in buckets]
        _metered(ctx, charges, service, zones[service.account_id], instant, before, after)
    rows.set_bucket_usage(
        [
            (bucket.id, bucket.used_bytes, stored[bucket.id])
            for buckets in held.values()
            for bucket in buckets
            if bucket.used_bytes != stored[bucket.id]
        ]
    )
    rows.add_to_charges(list(charges.values()))
    _bar(ctx, uow, [services[i] for i in ids], held, now, actor, channel)


def _metered(
    ctx: Ctx,
    charges: dict[str, dict[str, Any]],
    service: Service,
    tz: ZoneInfo,
    instant: datetime,
    before: int,
    after: int,
) -> None:
    """The growth of the service's metered line for the month (`_charge_metered`), added up over the batch."""
    added = metered_usage_charge(ctx.catalog.plan(service.plan_id), before, after)
    if added.is_zero:
        return
    period = Period.at(instant, tz)
    key = f"usage:{service.id}:{period}"
    line = charges.get(key)
    if line is None:
        charges[key] = {
            "id": new_id("chg"),
            "account_id": service.account_id,
            "service_id": service.id,
            "period": str(period),
            "kind": "usage",
            "description": usage_charge_label(period),
            "amount": added.amount,
            "currency": added.currency,
            "at": instant,
            "change_request_id": None,
            "once_key": key,
        }
    else:
        line["amount"] += added.amount
        line["at"] = instant


def _bar(
    ctx: Ctx,
    uow: UsageUnit,
    services: list[Service],
    held: dict[str, list[Bucket]],
    now: datetime,
    actor: Principal,
    channel: Channel,
) -> None:
    """The lines whose quota now calls for another status go through `apply_status` (bar, audit line)."""
    for service in services:
        when_exhausted = exhaustion_status(ctx.catalog, ctx.catalog.plan(service.plan_id))
        open_now = [b for b in held[service.id] if b.valid_from <= now < b.valid_until]
        if status_for(open_now, when_exhausted) is not service.status:
            apply_status(ctx, uow, service, now, actor, channel)


def _apply_batch(
    ctx: Ctx, actor: Principal, channel: Channel, records: pa.Table, zones: dict[str, str]
) -> tuple[int, set[str]]:
    """One batch in one transaction: its new records, and the draws and charges they cause."""
    with ctx.uow() as uow:
        new, monthly = uow.usage_imports.receive(records, zones, ctx.clock.now())
        drawn = sorted(monthly.items(), key=lambda kv: kv[1][1])
        if drawn:
            _draw_all(ctx, uow, drawn, actor, channel)
        uow.commit()
    return new, {service_id for (service_id, _period), _ in drawn}


def writers_for(ctx: Ctx) -> int:
    """Batches written at once: two on PostgreSQL (while one waits for the database, the next is drawn),
    one on SQLite (one writer at a time)."""
    return 2 if ctx.units.concurrent_writers else 1


def import_usage(
    ctx: Ctx,
    actor: Principal,
    channel: Channel,
    batches: Iterable[Batch],
    progress: Callable[[int], None] | None = None,
) -> ImportReport:
    """Batches never share a line (`whole_lines`), so several are written at once, each in its own
    transaction, while the next one is read: their services, cycles, buckets and lines are disjoint."""
    actor.require_operator()
    with ctx.uow(write=False) as uow:
        index = uow.usage_imports.line_index()
    zones = dict(zip(index["service_id"].to_pylist(), index["timezone"].to_pylist(), strict=True))
    report = ImportReport()
    writers = writers_for(ctx)
    pending: deque[tuple[Future[tuple[int, set[str]]], int, int]] = deque()

    def account_oldest() -> None:
        done, read, matched = pending.popleft()
        new, services = done.result()
        report.new += new
        report.repeated += matched - new
        report.services.update(services)
        if progress is not None:
            progress(read)

    with duckdb.connect() as columnar, ThreadPoolExecutor(writers, thread_name_prefix="usage-import") as pool:
        columnar.register("lines", index)
        for batch in batches:
            report.read += batch.records.num_rows
            columnar.register("batch", batch.records)
            records = columnar.sql(
                "SELECT batch.record_id, lines.service_id, batch.bytes, batch.epoch "
                "FROM batch JOIN lines ON lines.msisdn = batch.msisdn"
            ).to_arrow_table()
            columnar.unregister("batch")
            report.unknown_line += batch.records.num_rows - records.num_rows
            pending.append(
                (
                    pool.submit(_apply_batch, ctx, actor, channel, records, zones),
                    batch.records.num_rows,
                    records.num_rows,
                )
            )
            while len(pending) > writers:  # bounded: at most `writers` batches wait in memory
                account_oldest()
        while pending:
            account_oldest()
    return report
