"""The batch benchmarks: `bascule usage import` (CSV and Parquet) beside DuckDB, and `bascule bill-run`."""

from __future__ import annotations

import time
from typing import Any

import duckdb

from bascule.kernel.calendar import Period
from bench.common import BASCULE, WORK, Database, bascule_env, log, measured, vacuum_analyze
from bench.seed import TZ, Lines

MIB = 1024**2


def write_usage_files(lines: Lines, period: Period, records: int, tag: str, on_lines: int) -> dict[str, Any]:
    """`records` usage records on the first `on_lines` lines, spread over the period, as CSV and as Parquet
    (distinct ids in each)."""
    WORK.mkdir(parents=True, exist_ok=True)
    start = int(period.start_instant(TZ).timestamp())
    span = int(period.end_instant(TZ).timestamp()) - start - 3600
    paths = {}
    with duckdb.connect() as con:
        for fmt in ("csv", "parquet"):
            path = WORK / f"usage-{tag}.{fmt}"
            query = (
                f"SELECT '{fmt}-{tag}-' || i AS record_id, "
                f"'+336' || lpad(({lines.msisdn_base} + 1 + hash(i) % {on_lines})::VARCHAR, 8, '0') AS msisdn, "
                f"(hash(i * 7) % {4 * MIB})::BIGINT AS bytes, "
                f"strftime(to_timestamp({start} + hash(i * 13) % {span}), '%Y-%m-%dT%H:%M:%S') || '+00:00' AS at "
                f"FROM range({records}) t(i)"
            )
            option = "(FORMAT csv, HEADER)" if fmt == "csv" else "(FORMAT parquet)"
            con.execute(f"COPY ({query}) TO '{path}' {option}")
            paths[fmt] = path
    return paths


def duckdb_limit(path: Any) -> dict[str, float]:
    """DuckDB reading the file and aggregating it by MSISDN: the columnar engine's own rate."""
    reader = "read_parquet" if str(path).endswith(".parquet") else "read_csv"
    started = time.perf_counter()
    with duckdb.connect() as con:
        rows = con.execute(
            f"SELECT count(*), sum(n) FROM (SELECT msisdn, count(*) AS n, sum(bytes) FROM {reader}(?) GROUP BY msisdn)",
            [str(path)],
        ).fetchone()
    seconds = time.perf_counter() - started
    count = int(rows[1]) if rows else 0
    return {"rows": count, "seconds": seconds, "rows_per_s": count / seconds}


def usage_import(db: Database, lines: Lines, period: Period, records: int, on_lines: int) -> dict[str, Any]:
    log(f"usage files: {records} records on {on_lines} lines, CSV and Parquet")
    paths = write_usage_files(lines, period, records, str(int(time.time())), min(on_lines, lines.count))
    runs = {}
    for fmt, path in paths.items():
        vacuum_analyze(db, f"the usage import ({fmt})")
        limit = duckdb_limit(path)
        log(f"DuckDB aggregates {fmt} at {limit['rows_per_s']:,.0f} rows/s; now bascule usage import {path.name}")
        run = measured([*BASCULE, "usage", "import", str(path)], env=bascule_env(db))
        if run.returncode != 0:
            raise RuntimeError(f"usage import failed: {run.stderr}")
        runs[fmt] = {
            "records": records,
            "seconds": run.seconds,
            "records_per_s": records / run.seconds,
            "peak_rss_bytes": run.peak_rss_bytes,
            "output": run.stdout.strip(),
            "duckdb": limit,
            "file_bytes": path.stat().st_size,
            "lines": min(on_lines, lines.count),
        }
        log(
            f"usage import {fmt}: {records / run.seconds:,.0f} records/s, peak {run.peak_rss_bytes / MIB:,.0f} MiB; "
            f"{run.stdout.strip()}"
        )
        path.unlink()
    return {"runs": runs}


def bill_run(db: Database, lines: Lines, period: Period) -> dict[str, Any]:
    services = int(db.execute("SELECT count(*) FROM services")[0][0])  # type: ignore[call-overload]
    accounts = int(db.execute("SELECT count(*) FROM accounts")[0][0])  # type: ignore[call-overload]
    log(f"bill run of {period}: {services} services ({lines.count} seeded for it), {accounts} accounts")
    run = measured([*BASCULE, "bill-run", "--period", str(period)], env=bascule_env(db))
    if run.returncode != 0:
        raise RuntimeError(f"bill run failed: {run.stderr}")
    invoices = db.execute("SELECT count(*) FROM invoices WHERE period = %s", (str(period),))[0][0]
    log(f"bill run: {services / run.seconds:,.0f} services/s, {run.seconds:.1f} s; {run.stdout.strip()}")
    return {
        "services": services,
        "accounts": accounts,
        "invoices": invoices,
        "seconds": run.seconds,
        "services_per_s": services / run.seconds,
        "peak_rss_bytes": run.peak_rss_bytes,
        "output": run.stdout.strip(),
    }
