"""The SQL of the bulk usage import: the line index, receiving a batch's records, and the batch's draws written at once.

On PostgreSQL a batch's records go in by COPY (CSV written by Arrow) into a temporary table, then one
`INSERT … SELECT … ON CONFLICT DO NOTHING RETURNING`, summed per line and month by the database.
"""

from __future__ import annotations

import io
from collections.abc import Mapping, Sequence
from datetime import UTC, datetime
from typing import Any

import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.csv as pa_csv
from sqlalchemy import select
from sqlalchemy.dialects import postgresql, sqlite

from bascule.evolutions.model import Service
from bascule.evolutions.quota import Bucket
from bascule.kernel.calendar import zone
from bascule.persistence import bulk
from bascule.persistence import tables as t
from bascule.persistence.evolutions import _bucket
from bascule.persistence.statements import _Repository, insert_ignoring_conflict
from bascule.usage.importer import _monthly, _same_month
from bascule.usage.ports import Monthly

_BATCH_TABLES = (
    "CREATE TEMPORARY TABLE IF NOT EXISTS usage_batch (record_id varchar(100), service_id varchar(40), "
    "bytes bigint, at timestamptz) ON COMMIT DELETE ROWS",
    "CREATE TEMPORARY TABLE IF NOT EXISTS usage_batch_zones (service_id varchar(40) PRIMARY KEY, "
    "timezone varchar(64)) ON COMMIT DELETE ROWS",
)

# The new records summed per service and calendar month in the account's zone, by the database: one row
# per line and month comes back, not one per record.
_INSERT_NEW_AND_SUM = (
    "WITH fresh AS (INSERT INTO usage_records (record_id, service_id, bytes, at, received_at) "
    "SELECT record_id, service_id, bytes, at, %s FROM usage_batch ON CONFLICT DO NOTHING "
    "RETURNING service_id, bytes, at) "
    "SELECT fresh.service_id, to_char(fresh.at AT TIME ZONE zones.timezone, 'YYYY-MM'), sum(fresh.bytes)::bigint, "
    "min(fresh.at), max(fresh.at), count(*), min(zones.timezone) "
    "FROM fresh JOIN usage_batch_zones zones ON zones.service_id = fresh.service_id GROUP BY 1, 2"
)


def _copy_in(driver: Any, table: str, columns: pa.Table) -> None:
    buffer = io.BytesIO()
    pa_csv.write_csv(columns, buffer, pa_csv.WriteOptions(include_header=False))
    with driver.cursor() as cursor, cursor.copy(f"COPY {table} FROM STDIN (FORMAT csv)") as copy:
        copy.write(buffer.getbuffer())


class UsageImports(_Repository):
    def line_index(self) -> pa.Table:
        """MSISDN → service id and the account's zone, as Arrow columns (one query, straight from the driver)."""
        driver = bulk.driver_of(self.connection)
        cursor = driver.cursor()
        try:
            cursor.execute(
                "SELECT services.msisdn, services.id, accounts.timezone FROM services "
                "JOIN accounts ON accounts.id = services.account_id"
            )
            rows = cursor.fetchall()
        finally:
            cursor.close()
        columns = list(zip(*rows, strict=True)) if rows else [(), (), ()]
        return pa.table(
            {
                name: pa.array(values, type=pa.string())
                for name, values in zip(("msisdn", "service_id", "timezone"), columns, strict=True)
            }
        )

    def receive(self, records: pa.Table, zones: dict[str, str], received_at: datetime) -> tuple[int, Monthly]:
        """Store the batch's records (record_id, service_id, bytes, epoch), skipping ids already received;
        returns how many were new and what they add up to per service and month in the account's zone."""
        if self.connection.dialect.name == "postgresql":
            return self._receive_copy(records, zones, received_at)
        rows = [
            {
                "record_id": record_id,
                "service_id": service_id,
                "bytes": used,
                "received_at": received_at,
                "at": datetime.fromtimestamp(epoch, UTC),
            }
            for record_id, service_id, used, epoch in zip(
                records["record_id"].to_pylist(),
                records["service_id"].to_pylist(),
                records["bytes"].to_pylist(),
                records["epoch"].to_pylist(),
                strict=True,
            )
        ]
        new = {
            row.record_id
            for row in bulk.insert_rows(
                self.connection, t.usage_records, rows, ignore_conflicts=True, returning=("record_id",)
            )
        }
        hours: dict[tuple[str, int], tuple[int, float]] = {}
        for row in rows:
            if row["record_id"] in new:
                epoch = row["at"].timestamp()
                key = (row["service_id"], int(epoch // 3600))
                used, last = hours.get(key, (0, epoch))
                hours[key] = (used + row["bytes"], max(last, epoch))
        return len(new), _monthly(
            [(service_id, hour, used, last) for (service_id, hour), (used, last) in hours.items()], zones
        )

    _BATCH_TABLES = (
        "CREATE TEMPORARY TABLE IF NOT EXISTS usage_batch (record_id varchar(100), service_id varchar(40), "
        "bytes bigint, at timestamptz) ON COMMIT DELETE ROWS",
        "CREATE TEMPORARY TABLE IF NOT EXISTS usage_batch_zones (service_id varchar(40) PRIMARY KEY, "
        "timezone varchar(64)) ON COMMIT DELETE ROWS",
    )

    # The new records summed per service and calendar month in the account's zone, by the database: one row
    # per line and month comes back, not one per record.
    _INSERT_NEW_AND_SUM = (
        "WITH fresh AS (INSERT INTO usage_records (record_id, service_id, bytes, at, received_at) "
        "SELECT record_id, service_id, bytes, at, %s FROM usage_batch ON CONFLICT DO NOTHING "
        "RETURNING service_id, bytes, at) "
        "SELECT fresh.service_id, to_char(fresh.at AT TIME ZONE zones.timezone, 'YYYY-MM'), sum(fresh.bytes)::bigint, "
        "min(fresh.at), max(fresh.at), count(*), min(zones.timezone) "
        "FROM fresh JOIN usage_batch_zones zones ON zones.service_id = fresh.service_id GROUP BY 1, 2"
    )

    def _receive_copy(self, records: pa.Table, zones: dict[str, str], received_at: datetime) -> tuple[int, Monthly]:
        """PostgreSQL: COPY (CSV written by Arrow) into a temporary table, then one INSERT … ON CONFLICT DO
        NOTHING whose new rows the database sums per service and month in the account's zone."""
        connection = self.connection
        driver = bulk.driver_of(connection)
        for statement in _BATCH_TABLES:
            connection.exec_driver_sql(statement)
        connection.exec_driver_sql("TRUNCATE usage_batch, usage_batch_zones")
        timestamps = pc.cast(pc.multiply(records["epoch"], 1_000_000), pa.int64()).cast(pa.timestamp("us", tz="UTC"))
        _copy_in(
            driver,
            "usage_batch",
            pa.table(
                {
                    "record_id": records["record_id"],
                    "service_id": records["service_id"],
                    "bytes": records["bytes"],
                    "at": timestamps,
                }
            ),
        )
        services = pc.unique(records["service_id"]).to_pylist()
        _copy_in(
            driver,
            "usage_batch_zones",
            pa.table(
                {
                    "service_id": pa.array(services, pa.string()),
                    "timezone": pa.array([zones[s] for s in services], pa.string()),
                }
            ),
        )
        monthly: Monthly = {}
        new = 0
        for service_id, period, used, first, last, count, timezone in connection.exec_driver_sql(
            _INSERT_NEW_AND_SUM, (received_at,)
        ):
            _same_month(period, first, last, zone(timezone))
            monthly[(service_id, period)] = (int(used), last)
            new += int(count)
        return new, monthly

    def lock_services(self, service_ids: Sequence[str]) -> list[Service]:
        return bulk.lock_services(self.connection, service_ids)

    def account_zones(self, account_ids: Sequence[str]) -> list[tuple[str, str]]:
        return bulk.account_zones(self.connection, account_ids)

    def open_buckets(self, service_ids: Sequence[str]) -> list[tuple[str, Bucket]]:
        return [(row.service_id, _bucket(row)) for row in bulk.open_buckets(self.connection, service_ids)]

    def set_bucket_usage(self, changes: Sequence[tuple[str, int, int]]) -> None:
        bulk.set_bucket_usage(self.connection, changes)

    def add_to_charges(self, rows: Sequence[Mapping[str, Any]]) -> None:
        bulk.add_to_charges(self.connection, rows)


class UsageRecords(_Repository):
    """Usage records by their id: a record received twice is drawn once."""

    def receive(self, record_id: str, service_id: str, used_bytes: int, at: datetime, received_at: datetime) -> bool:
        return insert_ignoring_conflict(
            self.connection,
            t.usage_records,
            {
                "record_id": record_id,
                "service_id": service_id,
                "bytes": used_bytes,
                "at": at,
                "received_at": received_at,
            },
        )

    def receive_many(self, rows: list[dict[str, Any]]) -> set[str]:
        """Insert a batch; returns the ids that were new."""
        if not rows:
            return set()
        dialect = postgresql if self.connection.dialect.name == "postgresql" else sqlite
        statement = dialect.insert(t.usage_records).on_conflict_do_nothing().returning(t.usage_records.c.record_id)
        result = self.connection.execute(statement, rows)
        return set(result.scalars().all())


class LineIndex(_Repository):
    """MSISDN → (service id, the account's zone), for bulk inputs keyed by line."""

    def all(self) -> dict[str, tuple[str, str]]:
        query = select(t.services.c.msisdn, t.services.c.id, t.accounts.c.timezone).join(
            t.accounts, t.accounts.c.id == t.services.c.account_id
        )
        return {row.msisdn: (row.id, row.timezone) for row in self.connection.execute(query)}
