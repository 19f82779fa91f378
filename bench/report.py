"""The Markdown table of a run: Bascule's figure, the limit measured beside it, the goal and how far it is."""

from __future__ import annotations

from typing import Any


def _n(value: float, digits: int = 0) -> str:
    return f"{value:,.{digits}f}".replace(",", " ")


def _mib(value: float) -> str:
    return f"{value / 1024**2:,.0f} MiB".replace(",", " ")


def _verdict(ok: bool) -> str:
    return "met" if ok else "**not met**"


def _failures(ours: dict[str, Any]) -> str:
    failures = ours.get("failures") or {}
    return "" if not failures else f" ({sum(failures.values())} failed flows)"


def _change_requests(r: dict[str, Any]) -> list[str]:
    rows = []
    if "change_requests" in r:
        ours, limit = r["change_requests"]["ours"], r["change_requests"]["limit"]
        share = 2 * ours["flows_per_s"] / limit["tps"]
        ok = ours["flows_per_s"] >= 350 and ours["p99_ms"] <= 100
        rows.append(
            f"| change requests (operator token) | {_n(ours['flows_per_s'])} confirmed changes/s "
            f"({_n(ours['requests_per_s'])} req/s), p50 {_n(ours['p50_ms'], 1)} ms, p99 {_n(ours['p99_ms'], 1)} ms"
            f"{_failures(ours)} | pgbench, same transaction shape, {limit['clients']} clients: "
            f"{_n(limit['tps'])} tps | ≥ 350/s, p99 ≤ 100 ms at 16 clients: {share:.1%} of pgbench (two of ours "
            f"per change), {_verdict(ok)} |"
        )
    if "change_requests_password" in r:
        ours = r["change_requests_password"]["ours"]
        rows.append(
            f"| change requests (customer token + argon2id password) | {_n(ours['flows_per_s'])} changes/s, "
            f"p50 {_n(ours['p50_ms'], 1)} ms, p99 {_n(ours['p99_ms'], 1)} ms, 8 clients{_failures(ours)} "
            f"| — | what the password costs (no goal) |"
        )
    return rows


def _migrations(r: dict[str, Any]) -> list[str]:
    if "migrations" not in r:
        return []
    ours, limit = r["migrations"]["ours"], r["migrations"]["limit"]
    share = ours["flows_per_s"] / limit["tps"]
    ok = ours["flows_per_s"] >= 1000
    return [
        f"| profile migrations | {_n(ours['flows_per_s'])} migrations/s, p50 {_n(ours['p50_ms'], 1)} ms, "
        f"p99 {_n(ours['p99_ms'], 1)} ms{_failures(ours)} | pgbench, same transaction: {_n(limit['tps'])} tps | "
        f"≥ 1 000/s ({share:.1%} of pgbench), {_verdict(ok)} |"
    ]


def _ussd(r: dict[str, Any]) -> list[str]:
    if "ussd" not in r or "ours" not in r["ussd"]:
        return []
    ours, limit = r["ussd"]["ours"], r["ussd"]["limit"]
    share = ours["requests_per_s"] / limit["requests_per_s"]
    ok = ours["requests_per_s"] >= 2500 and ours["p99_ms"] <= 25 and not ours.get("bad")
    bad = f", {ours['bad']} error screens" if ours.get("bad") else ""
    connections = r["ussd"].get("connections", "?")
    return [
        f"| USSD `POST /ussd` (wrk, {connections} connections) | {_n(ours['requests_per_s'])} req/s, p99 "
        f"{_n(ours['p99_ms'], 1)} ms, {ours['migrated']} migrations in the sessions{bad} | bare ASGI app, same "
        f"server and form: {_n(limit['requests_per_s'])} req/s, p99 {_n(limit['p99_ms'], 1)} ms | "
        f"≥ 2 500 req/s, p99 ≤ 25 ms ({share:.1%} of the bare app), {_verdict(ok)} |"
    ]


def _usage(r: dict[str, Any]) -> list[str]:
    rows = []
    for fmt, run in r.get("usage_import", {}).get("runs", {}).items():
        limit = run["duckdb"]
        share = run["records_per_s"] / limit["rows_per_s"]
        ok = share >= 0.25 and run["peak_rss_bytes"] <= 2 * 1024**3
        projected = 10_000_000 / run["records_per_s"]
        extrapolated = (
            ""
            if run.get("records") == 10_000_000
            else f" (run at {_n(run['records'])} records; 10 M projected {projected:.0f} s)"
        )
        rows.append(
            f"| usage import, {fmt}, {_n(run.get('lines', 0))} lines{extrapolated} | "
            f"{_n(run['records_per_s'])} records/s "
            f"({_n(run['seconds'], 1)} s), peak {_mib(run['peak_rss_bytes'])} | DuckDB reading and aggregating "
            f"by MSISDN: {_n(limit['rows_per_s'])} rows/s | ≥ 25 %, ≤ 2 GB: {share:.1%}, {_verdict(ok)} |"
        )
    return rows


def _bill(r: dict[str, Any]) -> list[str]:
    if "bill_run" not in r:
        return []
    run = r["bill_run"]
    projected = run["seconds"] * 1_000_000 / run["services"]
    ok = projected <= 60
    size = "" if run["services"] >= 1_000_000 else f" (run at {_n(run['services'])}; 1 M projected {projected:.0f} s)"
    return [
        f"| bill run, {_n(run['services'])} services / {_n(run['accounts'])} accounts{size} | "
        f"{_n(run['services_per_s'])} services/s ({_n(run['seconds'], 1)} s, {_n(run['invoices'])} invoices), "
        f"peak {_mib(run['peak_rss_bytes'])} | — | ≤ 60 s for 1 M: {projected:.1f} s per million, {_verdict(ok)} |"
    ]


def _costs(r: dict[str, Any]) -> list[str]:
    """Per command: what `bench.costs` read around the measured window."""
    rows = []
    for key, what in (
        ("change_requests", "change (create + confirm, operator)"),
        ("migrations", "profile migration (operator)"),
        ("ussd", "USSD screen (`POST /ussd`)"),
    ):
        costs = r.get(key, {}).get("ours", {}).get("costs")
        if not costs or not costs.get("flows"):
            continue
        rows.append(
            f"| {what} | {_n(r[key]['ours']['flows_per_s'])}/s | {costs['statements']:.1f} | "
            f"{costs['transactions']:.1f} ({costs['rollbacks']:.1f} rolled back), ≈ {costs['pg_transactions']:.1f} | "
            f"{costs['prepared_reused']:.1f} reused + {costs['prepared_now']:.2f} prepared now, "
            f"{costs['not_prepared']:.1f} unnamed ({costs['prepared_share']:.0%} reused) | "
            f"{costs['cache_cleared']:.1f} | {costs['checkouts']:.1f} | {costs.get('server_write_calls', 0):.1f} | "
            f"{costs['server_cpu_ms']:.1f} | "
            f"{costs['postgres_cpu_ms']:.1f} | {_n(costs.get('wal_bytes', 0))} B ({costs.get('wal_records', 0):.0f}) | "
            f"{costs['flows']} | "
            f"{costs.get('upkeep_transactions_per_s', 0):.1f} tx/s, "
            f"{costs.get('upkeep_statements_per_s', 0):.1f} st/s |"
        )
    if not rows:
        return []
    return [
        "",
        "Per command (the server's SQL counters, `pg_stat_database`, `pg_stat_wal`, /proc; see bench/README.md):",
        "",
        "| command | rate | SQL statements | transactions (of which rolled back), ≈ PostgreSQL's count | "
        "statements executed prepared | prepared cache emptied | pool checkouts | server write calls | server CPU ms | "
        "PostgreSQL backends CPU ms | WAL written (records) | commands measured | the servers' upkeep, left out |",
        "|---|---|---|---|---|---|---|---|---|---|---|---|---|",
        *rows,
    ]


def _work_per_change(r: dict[str, Any]) -> list[str]:
    costs = r.get("change_requests", {}).get("ours", {}).get("costs")
    if not costs or not costs.get("flows"):
        return []
    # To the tenth, as shown: flows cut by the window's edges move the mean by a few thousandths either way.
    ok = round(costs["statements"], 1) <= 16 and round(costs["transactions"], 1) <= 3
    return [
        f"| work per change (create + confirm) | {costs['statements']:.1f} SQL statements, "
        f"{costs['transactions']:.1f} transactions, {costs['server_cpu_ms']:.1f} ms server CPU, "
        f"{costs['postgres_cpu_ms']:.1f} ms PostgreSQL CPU | — | "
        f"≤ 16 statements, ≤ 3 transactions: {_verdict(ok)} |"
    ]


def markdown(r: dict[str, Any]) -> str:
    head = ["| benchmark | Bascule | limit measured beside it | goal |", "|---|---|---|---|"]
    rows = _change_requests(r) + _work_per_change(r) + _migrations(r) + _ussd(r) + _usage(r) + _bill(r)
    notes = [
        f"Machine: {r['machine']}.",
        f"Command: `{r['command']}` ({r['total_seconds'] / 60:.1f} min), started {r['started_at']}.",
    ]
    if "server" in r:
        notes.append(
            f"Server: `{r['server']['command']}` ({r['server']['processes']} processes, "
            f"BASCULE_THREADS={r['server']['threads']}); the bare app runs with as many processes."
        )
    if "load_client" in r:
        ceiling = r["load_client"]["ceiling"]
        notes.append(
            f"Load client (asyncio, raw HTTP/1.1) ceiling against the bare app: "
            f"{_n(ceiling['requests_per_s'])} req/s with the same connections."
        )
    return "\n".join(head + rows + _costs(r)) + "\n\n" + "\n".join(notes) + "\n"
