"""Bulk usage import: each batch's new record ids and the draws they cause commit together.

A re-import, or an import started again after a crash, skips every record already received.
Records are drawn per service and month in the account's zone, at the instant of the month's
last record, after the columnar engine has summed them per hour.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import UTC, datetime

import pyarrow as pa
import pyarrow.compute as pc

from bascule.context import Context
from bascule.evolutions.services import apply_usage
from bascule.identity.model import Channel, Principal
from bascule.ingest.usage_files import Batch, hourly
from bascule.kernel.calendar import Period, zone


@dataclass
class ImportReport:
    read: int = 0
    new: int = 0
    repeated: int = 0
    unknown_line: int = 0
    services: set[str] = field(default_factory=set)


def _monthly(records: pa.Table, lines: dict[str, tuple[str, str]]) -> dict[tuple[str, str], tuple[int, datetime]]:
    totals: dict[tuple[str, str], tuple[int, datetime]] = {}
    for hour in hourly(records):
        service_id, tz_name = lines[hour.msisdn]
        last = datetime.fromtimestamp(hour.last_epoch, UTC)
        key = (service_id, str(Period.at(last, zone(tz_name))))
        previous_bytes, previous_last = totals.get(key, (0, last))
        totals[key] = (previous_bytes + hour.bytes, max(previous_last, last))
    return totals


def import_usage(ctx: Context, actor: Principal, channel: Channel, batches: Iterable[Batch],
                 progress: Callable[[int], None] | None = None) -> ImportReport:
    actor.require_operator()
    with ctx.uow(write=False) as uow:
        lines = uow.lines.all()
    known = pa.array(list(lines), type=pa.string())
    report = ImportReport()
    for batch in batches:
        records = batch.records
        report.read += records.num_rows
        records = records.filter(pc.is_in(records["msisdn"], value_set=known))
        report.unknown_line += batch.records.num_rows - records.num_rows
        received_at = ctx.clock.now()
        rows = [
            {"record_id": record_id, "service_id": lines[msisdn][0], "bytes": used, "received_at": received_at,
             "at": datetime.fromtimestamp(epoch, UTC)}
            for record_id, msisdn, used, epoch in zip(
                records["record_id"].to_pylist(), records["msisdn"].to_pylist(),
                records["bytes"].to_pylist(), records["epoch"].to_pylist(), strict=True)
        ]
        with ctx.uow() as uow:
            new_ids = uow.usage.receive_many(rows)
            fresh = records.filter(pc.is_in(records["record_id"], value_set=pa.array(list(new_ids), type=pa.string())))
            for (service_id, _period), (used, last) in sorted(_monthly(fresh, lines).items(), key=lambda kv: kv[1][1]):
                apply_usage(ctx, uow, service_id, used, last, actor, channel)
                report.services.add(service_id)
            uow.commit()
        report.new += len(new_ids)
        report.repeated += records.num_rows - len(new_ids)
        if progress is not None:
            progress(batch.records.num_rows)
    return report
