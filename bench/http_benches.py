"""The HTTP benchmarks: change requests, profile migrations and USSD sessions, each beside its limit."""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
import time
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from bench import load
from bench.common import ADMIN_TOKEN, BASCULE, SQL_COUNTERS, WORK, Database, bascule_env, log, pgbench_tps, server
from bench.costs import Probe
from bench.seed import CATALOG, PLAN_MIX, Lines

PGBENCH_SETUP = """
DROP TABLE IF EXISTS pgb_services, pgb_requests, pgb_charges, pgb_audit, pgb_jobs;
CREATE TABLE pgb_services (id int PRIMARY KEY, plan text NOT NULL, version int NOT NULL DEFAULT 1);
INSERT INTO pgb_services SELECT i, 'data-10go-4g' FROM generate_series(1, 100000) i;
CREATE TABLE pgb_requests (id bigserial PRIMARY KEY, service_id int NOT NULL, status text NOT NULL,
                           changes jsonb NOT NULL, created_at timestamptz NOT NULL DEFAULT now());
CREATE INDEX ON pgb_requests (service_id, status);
CREATE TABLE pgb_charges (id bigserial PRIMARY KEY, service_id int NOT NULL, amount numeric(14, 4) NOT NULL,
                          at timestamptz NOT NULL DEFAULT now());
CREATE TABLE pgb_audit (id bigserial PRIMARY KEY, entity_id int NOT NULL, action text NOT NULL, after jsonb,
                        at timestamptz NOT NULL DEFAULT now());
CREATE TABLE pgb_jobs (id bigserial PRIMARY KEY, service_id int NOT NULL, status text NOT NULL, payload jsonb,
                       at timestamptz NOT NULL DEFAULT now());
VACUUM ANALYZE;
"""

# One SELECT … FOR UPDATE, one indexed count, four inserts: the shape of one of our transactions.
PGBENCH_SCRIPT = """\\set sid random(1, 100000)
BEGIN;
SELECT plan, version FROM pgb_services WHERE id = :sid FOR UPDATE;
SELECT count(*) FROM pgb_requests WHERE service_id = :sid AND status = 'awaiting_confirmation';
INSERT INTO pgb_requests (service_id, status, changes) VALUES (:sid, 'awaiting_confirmation', '{"radio": "5G"}');
INSERT INTO pgb_charges (service_id, amount) VALUES (:sid, 2.5);
INSERT INTO pgb_audit (entity_id, action, after) VALUES (:sid, 'service.changed', '{"plan_id": "data-10go-5g"}');
INSERT INTO pgb_jobs (service_id, status, payload) VALUES (:sid, 'pending', '{"operation": "apply_plan"}');
END;
"""

OPERATOR = {"Authorization": f"Bearer {ADMIN_TOKEN}"}


def pgbench_limit(db: Database, clients: int, seconds: int) -> dict[str, float]:
    log(f"pgbench: the equivalent transaction, {clients} clients, {seconds} s")
    return pgbench_tps(db, PGBENCH_SCRIPT, clients, seconds, PGBENCH_SETUP)


SERVER_PROCESSES = int(os.environ.get("BENCH_SERVER_PROCESSES", os.cpu_count() or 1))
SERVER_THREADS = os.environ.get("BENCH_SERVER_THREADS", "8")


def bascule_server(db: Database, name: str = "bascule") -> Any:
    """`bascule serve` as an operator would run it on this machine: one process per core, sessions and
    login counts in Redis, a thread pool sized for short transactions."""
    shutil.rmtree(SQL_COUNTERS, ignore_errors=True)
    env = bascule_env(
        db,
        BASCULE_REDIS_URL="redis://127.0.0.1:6379/15",
        BASCULE_THREADS=SERVER_THREADS,
        BASCULE_SQL_COUNTERS=str(SQL_COUNTERS),
    )
    return server([*BASCULE, "serve", "--port", "{port}", "--workers", str(SERVER_PROCESSES)], env, name)


def bare_server() -> Any:
    return server([sys.executable, "-m", "bench.bare", "{port}", str(SERVER_PROCESSES)], {}, "bare", health="/healthz")


def _changes(lines: Lines) -> Iterator[tuple[str, dict[str, str]]]:
    """Each service once, with a change its plan allows (4G → 5G, 5G → 4G)."""
    for n in range(1, lines.count + 1):
        plan = CATALOG.plan(PLAN_MIX[n % 10])
        yield lines.service_id(n), {"radio": "4G" if plan.radio.value == "5G" else "5G"}


def change_flow(headers: dict[str, str], password: str | None = None) -> load.Flow:
    async def flow(connection: load.Connection, item: tuple[str, dict[str, str]], tally: load.Tally) -> bool:
        service_id, changes = item
        key = {"Idempotency-Key": uuid.uuid4().hex}
        status, body = await load.timed(
            tally,
            connection.request(
                "POST", f"/api/v1/services/{service_id}/change-requests", {"changes": changes}, headers | key
            ),
        )
        if status != 201:
            tally.fail(f"create {status}: {body[:120]!r}")
            return False
        request_id = json.loads(body)["id"]
        confirm = {} if password is None else {"password": password}
        key = {"Idempotency-Key": uuid.uuid4().hex}
        status, body = await load.timed(
            tally, connection.request("POST", f"/api/v1/change-requests/{request_id}/confirm", confirm, headers | key)
        )
        if status != 200:
            tally.fail(f"confirm {status}: {body[:120]!r}")
            return False
        state = json.loads(body)["status"]
        if state not in ("completed", "provisioning"):
            tally.fail(f"confirmed as {state}")
            return False
        return True

    return flow


def probe(db: Database, app: Any) -> Probe:
    """Readings of the SQL, transactions and CPU of `app` (a `bascule_server`) around a measurement."""
    return Probe(db, app.process.pid, SQL_COUNTERS)


def _with_costs(tally: load.Tally, readings: Probe | None) -> dict[str, Any]:
    summary = tally.summary()
    if readings is not None:
        summary["costs"] = readings.per_flow()
    return summary


def change_requests(
    port: int, lines: Lines, clients: int, seconds: float, readings: Probe | None = None
) -> dict[str, Any]:
    log(f"change requests: create + confirm, operator token, {clients} clients, {seconds} s")
    tally = load.drive(
        port, clients, seconds, _changes(lines), change_flow(OPERATOR), probe=readings.read if readings else None
    )
    return _with_costs(tally, readings)


def change_requests_with_password(port: int, lines: Lines, clients: int, seconds: float) -> dict[str, Any]:
    """The customer path: a manager's token and the argon2id password re-entered at confirmation."""
    log(f"change requests: customer token + password at confirmation, {clients} clients, {seconds} s")
    conn = load.Connection("127.0.0.1", port)

    async def login() -> str:
        status, body = await conn.request(
            "POST", "/api/v1/auth/login", {"email": "bench-manager@bench.test", "password": "bench-password"}
        )
        conn.close()
        if status != 200:
            raise RuntimeError(f"login {status}: {body[:200]!r}")
        return str(json.loads(body)["token"])

    token = load.uvloop.run(login()) if load.uvloop else __import__("asyncio").run(login())
    headers = {"Authorization": f"Bearer {token}"}
    return load.drive(port, clients, seconds, _changes(lines), change_flow(headers, "bench-password")).summary()


def migrations(
    port: int, msisdns: list[str], clients: int, seconds: float, readings: Probe | None = None
) -> dict[str, Any]:
    log(f"profile migrations: Novamix → Dauphin, operator token, {clients} clients, {seconds} s")

    async def flow(connection: load.Connection, msisdn: str, tally: load.Tally) -> bool:
        key = {"Idempotency-Key": uuid.uuid4().hex}
        status, body = await load.timed(
            tally,
            connection.request(
                "POST",
                f"/api/v1/subscribers/{msisdn.replace('+', '%2B')}/profile-migrations",
                {"profile_id": "dauphin"},
                OPERATOR | key,
            ),
        )
        if status != 201:
            tally.fail(f"{status}: {body[:120]!r}")
            return False
        return True

    return _with_costs(
        load.drive(port, clients, seconds, iter(msisdns), flow, probe=readings.read if readings else None), readings
    )


def client_ceiling(port: int, clients: int) -> dict[str, Any]:
    log(f"load client ceiling against the bare app, {clients} clients")
    return load.ceiling(port, "/echo", clients)


def wrk(port: int, connections: int, seconds: int, first: int, per_thread: int, tag: str) -> dict[str, Any]:
    binary = shutil.which("wrk")
    if binary is None:
        raise RuntimeError("wrk is not installed (apt-get install wrk)")
    script = Path(__file__).with_name("ussd.lua")
    argv = [
        binary,
        "-t",
        str(connections),
        "-c",
        str(connections),
        "-d",
        f"{seconds}s",
        "--timeout",
        "10s",
        "-s",
        str(script),
        f"http://127.0.0.1:{port}",
        "--",
        str(first),
        str(per_thread),
        tag,
    ]
    done = subprocess.run(argv, capture_output=True, text=True, check=True)
    (WORK / f"wrk-{tag}.txt").write_text(done.stdout + done.stderr)
    found = re.search(r"^JSON (.*)$", done.stdout, re.MULTILINE)
    if found is None:
        raise RuntimeError(f"wrk printed no result: {done.stdout} {done.stderr}")
    result: dict[str, Any] = json.loads(found.group(1))
    result["requests_per_s"] = result["requests"] / result["seconds"]
    return result


def ussd(
    port: int, connections: int, seconds: int, first: int, per_thread: int, tag: str, readings: Probe | None = None
) -> dict[str, Any]:
    """`readings`: the costs of one screen (one `POST /ussd`), read around the measured run."""
    log(f"USSD sessions with wrk: {connections} connections, {seconds} s ({tag})")
    wrk(port, connections, 3, first + connections * per_thread, per_thread, tag + "-warm")  # other subscribers
    time.sleep(0.5)
    if readings is None:
        return wrk(port, connections, seconds, first, per_thread, tag)
    readings.read(0)
    result = wrk(port, connections, seconds, first, per_thread, tag)
    readings.read(int(result["requests"]))
    result["costs"] = readings.per_flow()
    result["flows_per_s"] = result["requests_per_s"]
    return result


def unique(prefix: str) -> str:
    return f"{prefix}{int(time.time())}"
