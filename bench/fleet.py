"""The fleet benchmark (issue 15): one account of 2 000 lines on PostgreSQL, the application in this process
(requests through Starlette's TestClient, so the time measured is the server's own: no network, no client).

- the Centre d'Opérations lines page (`/centre-operations/services/mobile`, 50 lines a page) and the API's first
  page (`GET /api/v1/services`, 100 lines): goal < 300 ms;
- the CSV export of the 2 000 lines (`Accept: text/csv`): goal < 1 s;
- a 500-line change batch (an APN change, the manager's token): quoted (`POST /change-batches`) in < 2 s and
  confirmed (`POST /change-batches/{id}/confirm`, the password checked once, the simulated networks answering
  at once) in < 5 s; three batches on three distinct sets of 500 lines (each line's month's slot is used once).

    .venv/bin/python -m bench.fleet          # prints the figures, writes bench/results/fleet.json

Not a timed test: figures depend on the machine (bench/README.md gives the latest)."""

from __future__ import annotations

import json
import statistics
import time
from collections.abc import Callable
from datetime import UTC, datetime
from functools import partial
from typing import Any

from sqlalchemy import event
from starlette.testclient import TestClient

from bascule.bootstrap import build_context, upgrade_schema
from bascule.channels.server import build_app
from bascule.kernel.calendar import Period
from bascule.settings import Settings
from bench.common import ADMIN_TOKEN, RESULTS, Database, database, log, machine, vacuum_analyze
from bench.costs import _cpu_seconds, _moved
from bench.seed import CATALOG, TZ, Lines, seed_lines

LINES = 2000
BATCH = 500
ROUNDS = 3
OPERATOR = {"Authorization": f"Bearer {ADMIN_TOKEN}"}
EMAIL, PASSWORD = "flotte@example.fr", "bench-flotte-secret"
GOALS = {"portal_page": 0.3, "api_page": 0.3, "csv_export": 1.0, "batch_quote": 2.0, "batch_confirm": 5.0}


STATEMENTS = [0]  # SQL statements sent by the application, counted on its engine
CPU: dict[str, list[float]] = {}
PG_CPU: dict[str, list[float]] = {}
SQL: dict[str, list[int]] = {}
BENCH_DB: list[Database] = []


def backends_cpu() -> dict[int, float]:
    """CPU seconds of each PostgreSQL backend connected to the benchmark's database."""
    if not BENCH_DB:
        return {}
    rows = BENCH_DB[0].execute(
        "SELECT pid FROM pg_stat_activity WHERE datname = %s "
        "AND backend_type = 'client backend' AND pid <> pg_backend_pid()",
        [BENCH_DB[0].name],
    )
    return {int(pid): seconds for (pid,) in rows if (seconds := _cpu_seconds(int(pid))) is not None}  # type: ignore[call-overload]


def timed(work: Callable[[], Any], name: str = "") -> tuple[float, Any]:
    """Wall time of `work`; with a name, also this process's CPU time (the application runs in it) and the SQL
    statements it sent."""
    statements, cpu, pg = STATEMENTS[0], time.process_time(), backends_cpu() if name else {}
    started = time.perf_counter()
    result = work()
    seconds = time.perf_counter() - started
    if name:
        CPU.setdefault(name, []).append(time.process_time() - cpu)
        PG_CPU.setdefault(name, []).append(_moved(pg, backends_cpu()))
        SQL.setdefault(name, []).append(STATEMENTS[0] - statements)
    return seconds, result


def seed(db: Database) -> Lines:
    lines = Lines(tag="f", count=LINES, per_account=LINES, msisdn_base=10_000_000)
    now = Period.at(datetime.now(UTC), TZ)
    seed_lines(db, lines, now.previous(), [now])
    return lines


def run(db: Database) -> dict[str, Any]:
    BENCH_DB[:] = [db]
    upgrade_schema(db.url)
    lines = seed(db)
    vacuum_analyze(db, "the fleet benchmark")
    settings = Settings(database_url=db.url, admin_token=ADMIN_TOKEN, log_level="WARNING")  # type: ignore[call-arg]
    ctx = build_context(settings)

    @event.listens_for(ctx.engine, "before_cursor_execute")
    def count(*_: Any) -> None:
        STATEMENTS[0] += 1

    figures: dict[str, list[float]] = {name: [] for name in GOALS}
    with TestClient(build_app(settings, ctx), base_url="http://127.0.0.1") as client:
        account = "acc_f" + "1".zfill(12)
        answer = client.post(
            f"/api/v1/admin/accounts/{account}/users",
            json={"email": EMAIL, "password": PASSWORD, "role": "manager"},
            headers=OPERATOR,
        )
        answer.raise_for_status()
        token = client.post("/api/v1/auth/login", json={"email": EMAIL, "password": PASSWORD}).json()["token"]
        manager = {"Authorization": f"Bearer {token}"}
        portal_login(client)
        for _ in range(5):
            seconds, page = timed(lambda: client.get("/centre-operations/services/mobile"), "portal_page")
            assert page.status_code == 200, page.status_code
            figures["portal_page"].append(seconds)
            seconds, page = timed(lambda: client.get("/api/v1/services", headers=manager), "api_page")
            assert page.status_code == 200
            assert len(page.json()) == 100
            figures["api_page"].append(seconds)
        for _ in range(3):
            seconds, csv = timed(
                lambda: client.get("/api/v1/services", headers=manager | {"Accept": "text/csv"}), "csv_export"
            )
            assert csv.status_code == 200
            assert len(csv.text.splitlines()) == LINES + 1
            figures["csv_export"].append(seconds)
        apn = CATALOG.apns[1].id
        warm_up = [lines.service_id(n) for n in range(LINES - 19, LINES + 1)]  # not among the measured lines
        answer = client.post(
            "/api/v1/change-batches", json={"service_ids": warm_up, "changes": {"apn": apn}}, headers=manager
        )
        client.post(
            f"/api/v1/change-batches/{answer.json()['id']}/confirm", json={"password": PASSWORD}, headers=manager
        ).raise_for_status()
        for round_ in range(ROUNDS):
            ids = [lines.service_id(n) for n in range(1 + round_ * BATCH, 1 + (round_ + 1) * BATCH)]
            body = {"service_ids": ids, "changes": {"apn": apn}}
            seconds, quoted = timed(
                partial(client.post, "/api/v1/change-batches", json=body, headers=manager), "batch_quote"
            )
            assert quoted.status_code == 201, quoted.text[:300]
            batch = quoted.json()
            assert [item["status"] for item in batch["items"]] == ["quoted"] * BATCH
            figures["batch_quote"].append(seconds)
            seconds, confirmed = timed(
                partial(
                    client.post,
                    f"/api/v1/change-batches/{batch['id']}/confirm",
                    json={"password": PASSWORD},
                    headers=manager,
                ),
                "batch_confirm",
            )
            assert confirmed.status_code == 200, confirmed.text[:300]
            statuses = {item["status"] for item in confirmed.json()["items"]}
            log(
                f"batch {round_ + 1}: quoted in {figures['batch_quote'][-1]:.2f} s, confirmed in {seconds:.2f} s, "
                f"status {confirmed.json()['status']}, lines {sorted(statuses)}"
            )
            figures["batch_confirm"].append(seconds)
    ctx.engine.dispose()
    return {
        name: {
            "median_s": round(statistics.median(values), 4),
            "max_s": round(max(values), 4),
            "cpu_median_s": round(statistics.median(CPU[name]), 4),
            "postgres_cpu_median_s": round(statistics.median(PG_CPU[name]), 4),
            "statements": int(statistics.median(SQL[name])),
            "runs": len(values),
            "goal_s": GOALS[name],
            "met": max(values) < GOALS[name],
        }
        for name, values in figures.items()
    }


def portal_login(client: TestClient) -> None:
    form = client.get("/centre-operations/connexion").text
    token = form.split('name="csrf_token" value="', 1)[1].split('"', 1)[0]
    answer = client.post(
        "/centre-operations/connexion",
        follow_redirects=False,
        data={"email": EMAIL, "password": PASSWORD, "csrf_token": token},
    )
    assert answer.status_code == 303, answer.status_code


def main() -> None:
    with database("bascule_fleet") as db:
        results = run(db)
    RESULTS.mkdir(parents=True, exist_ok=True)
    (RESULTS / "fleet.json").write_text(
        json.dumps({"machine": machine(), "lines": LINES, "batch": BATCH, "results": results}, indent=2) + "\n"
    )
    for name, figure in results.items():
        log(
            f"{name}: median {figure['median_s'] * 1000:.0f} ms, max {figure['max_s'] * 1000:.0f} ms "
            f"(goal < {figure['goal_s'] * 1000:.0f} ms): {'met' if figure['met'] else 'NOT MET'}; "
            f"CPU {figure['cpu_median_s'] * 1000:.0f} ms + PostgreSQL {figure['postgres_cpu_median_s'] * 1000:.0f} ms, "
            f"{figure['statements']} SQL statements"
        )


if __name__ == "__main__":
    main()
