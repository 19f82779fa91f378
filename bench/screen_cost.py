"""The work of one USSD screen in one process, without HTTP: CPU time a screen, or instructions a screen.

    .venv/bin/python -m bench.screen_cost                  # CPU µs a screen, three rounds (~1 min)
    .venv/bin/python -m bench.screen_cost --instructions   # instructions a screen under callgrind (~6 min)

The USSD benchmark (`bench/run --only ussd`) measures the server whole, and on this shared 2-core machine its rate,
and even its CPU a screen, move by 15 % or more from one run to the next. This one runs the channel's own endpoint
(`channels.ussd.routes.UssdEndpoint`: the gateway's form parsed, the session read from Redis, the screen on the
event loop against PostgreSQL, the session saved) in this process, for the sessions `bench/ussd.lua` sends: a
profile migration (`#121#`, `1`, `1*3`, `1*3*1`, Novamix → Dauphin) on a fresh subscriber, then a balance
(`#121#`, `3`), eight sessions at a time. What it leaves out is the HTTP server's part (parsing, the front door's
telemetry, the socket writes) and the in-process worker's.

With `--instructions` each measurement runs in a process of its own under valgrind's callgrind, which counts the
instructions the process executes: the same from one run to the next whatever else the machine does (PostgreSQL
and Redis are other processes, left out). Two runs of different sizes on the same database and the difference
divided by the screens between them leave out the start (imports, the catalogue, the first connections).
`valgrind` comes from Debian's package; the benchmark installs it when run as root.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import re
import shutil
import subprocess
import sys
import time
import uuid
from typing import Any

from bench.common import USSD_TOKEN, Database, database, log
from bench.seed import seed_subscribers

REDIS_URL = os.environ.get("BENCH_REDIS", "redis://127.0.0.1:6379/15")
CONCURRENCY = 8
MIGRATION = ("", "1", "1*3", "1*3*1")
BALANCE = ("", "3")
SCREENS_A_PAIR = len(MIGRATION) + len(BALANCE)  # a subscriber's two sessions
FIRST_SUBSCRIBER = 3_000_000  # the subscribers seeded here: +22507<FIRST_SUBSCRIBER + n>
WARM_PAIRS = 40  # per client, before a round measured by its CPU time


def _form(session_id: str, msisdn: str, text: str) -> bytes:
    from urllib.parse import urlencode

    fields = {"sessionId": session_id, "serviceCode": "#121#", "phoneNumber": msisdn, "networkCode": "62001"}
    return urlencode({**fields, "text": text}).encode()


class Gateway:
    """The gateway's side: a call to the endpoint as ASGI, its answer's status and text."""

    def __init__(self, endpoint: Any) -> None:
        self.endpoint = endpoint
        self.scope = {
            "type": "http",
            "method": "POST",
            "path": "/ussd",
            "query_string": b"",
            "headers": [
                (b"content-type", b"application/x-www-form-urlencoded"),
                (b"x-ussd-token", USSD_TOKEN.encode()),
            ],
        }

    async def call(self, body: bytes) -> tuple[int, str]:
        sent: list[dict[str, Any]] = []

        async def receive() -> dict[str, Any]:
            return {"type": "http.request", "body": body, "more_body": False}

        async def send(message: dict[str, Any]) -> None:
            sent.append(message)

        await self.endpoint(self.scope, receive, send)
        return int(sent[0]["status"]), bytes(sent[1]["body"]).decode()


async def _client(gateway: Gateway, tag: str, subscribers: list[str], migrated: list[int]) -> None:
    """Each subscriber's migration session, then its balance session, as `bench/ussd.lua` sends them."""
    for n, msisdn in enumerate(subscribers):
        for kind, steps in (("m", MIGRATION), ("b", BALANCE)):
            for text in steps:
                status, answer = await gateway.call(_form(f"{tag}-{kind}{n}", msisdn, text))
                if status != 200 or not answer.startswith(("CON ", "END ")) or "indisponible" in answer:
                    raise RuntimeError(f"{msisdn} {text!r}: {status} {answer!r}")
            migrated[0] += "maintenant Dauphin" in answer if kind == "m" else 0


async def _screens(database_url: str, first: int, pairs: int, warm: int) -> dict[str, float]:
    """`pairs` subscribers' sessions per client, after `warm` of warm-up, from subscriber `first` on."""
    from bascule.bootstrap import build_context
    from bascule.channels.threads import CallThreads
    from bascule.channels.ussd.routes import UssdEndpoint, screens_off_the_loop, session_store
    from bascule.channels.ussd.service import UssdService
    from bascule.settings import Settings

    settings = Settings(database_url=database_url, redis_url=REDIS_URL, ussd_token=USSD_TOKEN)
    ctx = build_context(settings)
    store = session_store(settings, ctx)
    screens_ctx, off_loop, dispose = screens_off_the_loop(settings, ctx, CallThreads(1))
    gateway = Gateway(UssdEndpoint(settings, UssdService(screens_ctx, store), off_loop))
    tag = uuid.uuid4().hex[:8]

    def subscribers(start: int, count: int, client: int) -> list[str]:
        return [f"+22507{start + client * count + n:08d}" for n in range(1, count + 1)]

    async def round_of(name: str, start: int, count: int) -> list[int]:
        migrated = [0]
        await asyncio.gather(
            *(_client(gateway, f"{tag}{name}{c}", subscribers(start, count, c), migrated) for c in range(CONCURRENCY))
        )
        return migrated

    await round_of("w", first, warm)
    cpu, wall = time.process_time(), time.perf_counter()
    migrated = await round_of("m", first + CONCURRENCY * warm, pairs)
    cpu, wall = time.process_time() - cpu, time.perf_counter() - wall
    if dispose is not None:
        await dispose()
    await store.close()  # type: ignore[attr-defined]
    ctx.dispose()
    screens = CONCURRENCY * pairs * SCREENS_A_PAIR
    return {"screens": screens, "migrated": migrated[0], "cpu_seconds": cpu, "wall_seconds": wall}


def _subscribers_needed(pairs: int, warm: int = WARM_PAIRS) -> int:
    return CONCURRENCY * (warm + pairs)


def run_screens(database_url: str, first: int, pairs: int, warm: int = WARM_PAIRS) -> dict[str, float]:
    import uvloop

    return uvloop.run(_screens(database_url, first, pairs, warm))


def _cpu(db: Database, rounds: int, pairs: int) -> list[dict[str, float]]:
    results = []
    for n in range(rounds):
        first = FIRST_SUBSCRIBER + n * _subscribers_needed(pairs)
        result = run_screens(db.url, first, pairs)
        log(
            f"round {n + 1}: {1e6 * result['cpu_seconds'] / result['screens']:.0f} µs CPU a screen "
            f"({result['screens']} screens, {result['migrated']} migrations)"
        )
        results.append(result)
    return results


def _instructions_of(db: Database, first: int, pairs: int) -> int:
    """The instructions of one process running `pairs` per client (warm-up and start included), under callgrind."""
    command = ["valgrind", "--tool=callgrind", "--callgrind-out-file=/dev/null", sys.executable, "-m", __spec__.name]
    command += ["--one-run", db.url, str(first), str(pairs)]  # no warm-up: the smaller run is the larger's
    finished = subprocess.run(command, capture_output=True, text=True, check=False)
    counted = re.search(r"Collected : (\d+)", finished.stderr)
    if finished.returncode != 0 or counted is None:
        raise RuntimeError(f"callgrind run failed:\n{finished.stdout}\n{finished.stderr[-3000:]}")
    return int(counted.group(1))


def _instructions(db: Database, small: int, large: int) -> dict[str, float]:
    if shutil.which("valgrind") is None:
        if os.geteuid() != 0:
            raise SystemExit("valgrind is needed: apt-get install valgrind")
        subprocess.run(["apt-get", "install", "-y", "-q", "valgrind"], check=True, capture_output=True)
    from concurrent.futures import ThreadPoolExecutor

    firsts = (FIRST_SUBSCRIBER, FIRST_SUBSCRIBER + _subscribers_needed(small, 0))
    log(f"callgrind: two processes, {small} and {large} subscribers a client (several minutes)")
    with ThreadPoolExecutor(2) as pool:
        counts = list(pool.map(lambda args: _instructions_of(db, *args), zip(firsts, (small, large), strict=True)))
    screens = CONCURRENCY * (large - small) * SCREENS_A_PAIR
    per_screen = (counts[1] - counts[0]) / screens
    log(f"{per_screen:,.0f} instructions a screen ({counts[0]:,} and {counts[1]:,} in all)")
    return {"instructions_a_screen": per_screen, "screens_between": screens, "runs": counts}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--instructions", action="store_true", help="count instructions under callgrind")
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--pairs", type=int, default=150, help="subscribers a client in a measured round")
    parser.add_argument("--one-run", nargs=3, metavar=("URL", "FIRST", "PAIRS"), help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.one_run:
        url, first, pairs = args.one_run
        print(json.dumps(run_screens(url, int(first), int(pairs), warm=0)))
        return
    from bascule.bootstrap import upgrade_schema

    small, large = 10, 60
    needed = 2 * _subscribers_needed(large, 0) if args.instructions else args.rounds * _subscribers_needed(args.pairs)
    with database("bascule_screens") as db:
        log(f"database {db.name}: schema, {needed} subscribers")
        upgrade_schema(db.url)
        seed_subscribers(db, needed, FIRST_SUBSCRIBER)
        db.execute("VACUUM ANALYZE")  # autovacuum is off on this machine's PostgreSQL (bench/README.md)
        result: Any = _instructions(db, small, large) if args.instructions else _cpu(db, args.rounds, args.pairs)
    print(json.dumps(result, indent=2))


if __name__ == "__main__":
    main()
