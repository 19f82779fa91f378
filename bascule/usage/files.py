"""Reads usage files (CSV or Parquet) with DuckDB: deduplicated by record id, in batches, aggregated per hour.

Expected columns: `record_id`, `msisdn`, `bytes`, `at` (ISO 8601 with offset, or a timestamp in UTC).
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import duckdb
import pyarrow as pa
import pyarrow.compute as pc

REQUIRED = ("record_id", "msisdn", "bytes", "at")
MEMORY_LIMIT = "1GB"


class UsageFileError(ValueError):
    """The file cannot be read as usage records."""


@dataclass(frozen=True, slots=True)
class HourlyUsage:
    msisdn: str
    hour: int  # hours since the epoch, UTC: hour boundaries are month boundaries in whole-hour zones
    bytes: int
    last_epoch: float


@dataclass(frozen=True, slots=True)
class Batch:
    records: pa.Table  # record_id, msisdn, bytes, epoch


# The reader's name is one of two constants chosen below; the path is always a bound parameter.
def _reader(path: Path) -> str:
    suffix = path.suffix.lower()
    if suffix == ".parquet":
        return "read_parquet"
    if suffix in (".csv", ".txt", ".gz"):
        return "read_csv"
    raise UsageFileError(f"{path.name}: only .csv and .parquet files are read")


def count_records(path: Path) -> int:
    with duckdb.connect() as con:
        row = con.execute(f"SELECT count(*) FROM {_reader(path)}(?)", [str(path)]).fetchone()  # noqa: S608
        return int(row[0]) if row else 0


def read_batches(path: Path, batch_rows: int = 200_000) -> Iterator[Batch]:
    """Each record once (the first by time when an id repeats in the file), in batches of Arrow columns."""
    con = duckdb.connect()
    try:
        # Bounded memory whatever the file's size: DuckDB spills its sort and window to disk past this.
        con.execute(f"SET memory_limit = '{MEMORY_LIMIT}'")
        con.execute("SET preserve_insertion_order = false")
        described = con.execute(f"DESCRIBE SELECT * FROM {_reader(path)}(?)", [str(path)])  # noqa: S608
        columns = [row[0] for row in described.fetchall()]
        missing = [name for name in REQUIRED if name not in columns]
        if missing:
            raise UsageFileError(f"{path.name}: missing columns {missing}")
        query = (
            "SELECT CAST(record_id AS VARCHAR) AS record_id, CAST(msisdn AS VARCHAR) AS msisdn,"  # noqa: S608
            ' CAST(bytes AS BIGINT) AS bytes, epoch(CAST("at" AS TIMESTAMPTZ)) AS epoch'
            f" FROM {_reader(path)}($path)"
            ' QUALIFY row_number() OVER (PARTITION BY record_id ORDER BY "at") = 1'
            # By line, so that a line's records come in one batch and are drawn once per batch and month.
            " ORDER BY msisdn, epoch, record_id"
        )
        reader = con.sql(query, params={"path": str(path)}).to_arrow_reader(batch_rows)
        if reader is None:
            raise RuntimeError("DuckDB gave no reader for the ordered records")
        yield from whole_lines(pa.Table.from_batches([record_batch]) for record_batch in reader)
    except duckdb.Error as error:
        raise UsageFileError(f"{path.name}: {error}") from None
    finally:
        con.close()


def whole_lines(tables: Iterator[pa.Table]) -> Iterator[Batch]:
    """Batches that never split a line: the rows of each table's last MSISDN (the tables come ordered by
    MSISDN) go to the next batch, so that each line is drawn by one batch and two batches never share one."""
    carried: pa.Table | None = None
    for table in tables:
        rows = table if carried is None else pa.concat_tables([carried, table])  # the carried rows first
        if rows.num_rows == 0:
            carried = rows
            continue
        msisdns = rows["msisdn"]
        cut = pc.index(msisdns, msisdns[rows.num_rows - 1]).as_py()  # where the last line's rows start
        carried = rows.slice(cut)
        if cut:
            yield Batch(rows.slice(0, cut))
    if carried is not None and carried.num_rows:
        yield Batch(carried)


def hourly(records: pa.Table) -> list[HourlyUsage]:
    """Sum per MSISDN and UTC hour, in the columnar engine."""
    with duckdb.connect() as con:
        con.register("records", records)
        rows = con.execute(
            """
            SELECT msisdn, CAST(floor(epoch / 3600) AS BIGINT) AS hour, sum(bytes) AS bytes, max(epoch) AS last
            FROM records GROUP BY ALL ORDER BY hour, msisdn
            """
        ).fetchall()
    return [HourlyUsage(msisdn, int(hour), int(total), float(last)) for msisdn, hour, total, last in rows]
