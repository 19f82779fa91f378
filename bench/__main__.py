"""`python -m bench` (or `bench/run`): every benchmark on loopback, then bench/results/latest.{md,json}.

Options: --only NAME[,NAME] (change_requests, migrations, ussd, usage_import, bill_run).
Sizes (environment): BENCH_USAGE_RECORDS (10 000 000 per file), BENCH_BILL_SERVICES (1 000 000),
BENCH_SECONDS (15, each HTTP measurement), BENCH_USAGE_LINES (20 000), BENCH_CLIENTS (16), BENCH_USSD_CONNECTIONS (16).
"""

from __future__ import annotations

import argparse
import json
import os
import signal
import time
from datetime import UTC, datetime
from typing import Any

from bench import http_benches as h
from bench import report
from bench.common import RESULTS, Database, database, log, machine, vacuum_analyze
from bench.seed import Lines, seed_lines, seed_subscribers

ALL = ("change_requests", "migrations", "ussd", "usage_import", "bill_run")


def _int(name: str, default: int) -> int:
    return int(os.environ.get(name, default))


def _months() -> tuple[Any, Any]:
    from bascule.kernel.calendar import Period
    from bench.seed import TZ

    current = Period.at(datetime.now(UTC), TZ)
    return current.previous(), current


def _seed_manager(db: Database, account_id: str) -> None:
    from bascule.identity.passwords import hash_password

    db.execute(
        "INSERT INTO users (id, account_id, email, password_hash, role, created_at) "
        "VALUES ('usr_benchmanager', %s, 'bench-manager@bench.test', %s, 'manager', now())",
        (account_id, hash_password("bench-password")),
    )


def http_benchmarks(db: Database, wanted: set[str], results: dict[str, Any]) -> None:
    seconds = _int("BENCH_SECONDS", 15)
    clients = _int("BENCH_CLIENTS", 16)
    connections = _int("BENCH_USSD_CONNECTIONS", 16)
    previous, current = _months()
    per_thread = 2000
    lines = Lines("c", _int("BENCH_CR_SERVICES", 60_000), 5, 10_000_000)
    customer = Lines("p", 20_000, 20_000, 20_000_000)
    if "change_requests" in wanted:
        log("seeding change-request lines")
        seed_lines(db, lines, previous, [previous, current])
        seed_lines(db, customer, previous, [previous, current])
        _seed_manager(db, "acc_p000000000001")
    if wanted & {"migrations", "ussd"}:
        log("seeding prepaid subscribers")
        seed_subscribers(db, 100_000, 0)
        seed_subscribers(db, 2 * connections * per_thread, 1_000_000)
    vacuum_analyze(db, "the HTTP benchmarks")
    if "ussd" in wanted:
        results["ussd"] = {"connections": connections}
    if "ussd" in wanted or "change_requests" in wanted:
        with h.bare_server() as bare:
            if "ussd" in wanted:
                results.setdefault("ussd", {})["limit"] = h.ussd(
                    bare.port, connections, seconds, 1_000_000, per_thread, h.unique("bare")
                )
            if "change_requests" in wanted:
                results.setdefault("load_client", {})["ceiling"] = h.client_ceiling(bare.port, clients)
    if wanted & {"change_requests", "migrations"}:
        results["pgbench"] = h.pgbench_limit(db, clients, min(seconds, 15))
    results["server"] = {
        "command": f"bascule serve --workers {h.SERVER_PROCESSES}",
        "processes": h.SERVER_PROCESSES,
        "threads": h.SERVER_THREADS,
    }
    with h.bascule_server(db) as app:
        readings = h.probe(db, app)
        try:
            if "change_requests" in wanted:
                vacuum_analyze(db, "change requests")
                results["change_requests"] = {
                    "ours": h.change_requests(app.port, lines, clients, seconds, readings),
                    "limit": results["pgbench"],
                }
                vacuum_analyze(db, "change requests with a password")
                results["change_requests_password"] = {
                    "ours": h.change_requests_with_password(app.port, customer, 8, min(seconds, 10))
                }
            if "migrations" in wanted:
                vacuum_analyze(db, "profile migrations")
                subscribers = [f"+22507{n:08d}" for n in range(1, 100_001)]
                results["migrations"] = {
                    "ours": h.migrations(app.port, subscribers, clients, seconds, readings),
                    "limit": results["pgbench"],
                }
            if "ussd" in wanted:
                vacuum_analyze(db, "USSD")
                results["ussd"]["ours"] = h.ussd(
                    app.port, connections, seconds, 1_000_000, per_thread, h.unique("bascule"), readings
                )
        finally:
            readings.close()


def batch_benchmarks(db: Database, wanted: set[str], results: dict[str, Any]) -> None:
    from bench import batch

    previous, _current = _months()
    services = _int("BENCH_BILL_SERVICES", 1_000_000)
    lines = Lines("b", services, _int("BENCH_SERVICES_PER_ACCOUNT", 4), 40_000_000)
    log(f"seeding {services} lines for the usage import and the bill run")
    started = time.perf_counter()
    seed_lines(db, lines, previous, [previous])
    results["seeding"] = {"services": services, "seconds": time.perf_counter() - started}
    if "usage_import" in wanted:
        results["usage_import"] = batch.usage_import(
            db, lines, previous, _int("BENCH_USAGE_RECORDS", 10_000_000), _int("BENCH_USAGE_LINES", 20_000)
        )
    if "bill_run" in wanted:
        vacuum_analyze(db, "the bill run")
        results["bill_run"] = batch.bill_run(db, lines, previous)


def _stop(signum: int, _frame: object) -> None:
    raise SystemExit(128 + signum)  # unwinds, so that the database is dropped and the servers stopped


def main() -> None:
    signal.signal(signal.SIGTERM, _stop)
    parser = argparse.ArgumentParser(prog="bench", description=__doc__)
    parser.add_argument("--only", default=",".join(ALL), help="comma-separated benchmarks")
    args = parser.parse_args()
    wanted = {name.strip() for name in args.only.split(",") if name.strip()}
    unknown = wanted - set(ALL)
    if unknown:
        parser.error(f"unknown benchmarks: {sorted(unknown)}")
    started = time.perf_counter()
    results: dict[str, Any] = {
        "started_at": datetime.now(UTC).isoformat(timespec="seconds"),
        "machine": machine(),
        "command": "bench/run" + ("" if wanted == set(ALL) else f" --only {args.only}"),
        "env": {k: v for k, v in os.environ.items() if k.startswith("BENCH_")},
    }
    from bascule.bootstrap import upgrade_schema

    with database() as db:
        log(f"database {db.name}: schema")
        upgrade_schema(db.url)
        if wanted & {"change_requests", "migrations", "ussd"}:
            http_benchmarks(db, wanted, results)
        if wanted & {"usage_import", "bill_run"}:
            batch_benchmarks(db, wanted, results)
    results["total_seconds"] = time.perf_counter() - started
    RESULTS.mkdir(parents=True, exist_ok=True)
    (RESULTS / "latest.json").write_text(json.dumps(results, indent=2, default=str))
    table = report.markdown(results)
    (RESULTS / "latest.md").write_text(table)
    print(table)
    log(f"done in {results['total_seconds']:.0f} s: {RESULTS / 'latest.md'}")


if __name__ == "__main__":
    main()
