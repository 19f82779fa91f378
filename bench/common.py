"""What every benchmark needs: its own database, server processes on loopback, timing and peak memory."""

from __future__ import annotations

import contextlib
import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path

import psycopg

ROOT = Path(__file__).resolve().parent.parent
RESULTS = ROOT / "bench" / "results"
WORK = Path(os.environ.get("BENCH_WORK", Path(tempfile.gettempdir()) / "bascule-bench"))
PG_ADMIN = os.environ.get("BENCH_PG", "postgresql://postgres@127.0.0.1:5432/postgres")
ADMIN_TOKEN = "bench-operator-token-0123456789"  # noqa: S105 - a loopback-only benchmark token
USSD_TOKEN = "bench-ussd-token-0123456789"  # noqa: S105 - the gateway's token (bench/ussd.lua sends it)
BASCULE = [sys.executable, "-m", "bascule"]
SQL_COUNTERS = WORK / "sql-counters"  # where `bascule serve` counts its SQL (bascule.persistence.sqlcount)


def log(message: str) -> None:
    print(f"[bench {time.strftime('%H:%M:%S')}] {message}", file=sys.stderr, flush=True)


@dataclass
class Database:
    name: str

    @property
    def dsn(self) -> str:
        return PG_ADMIN.rsplit("/", 1)[0] + "/" + self.name

    @property
    def url(self) -> str:
        """The SQLAlchemy URL Bascule reads from BASCULE_DATABASE_URL."""
        return self.dsn.replace("postgresql://", "postgresql+psycopg://", 1)

    def connect(self) -> psycopg.Connection:
        return psycopg.connect(self.dsn, autocommit=True)

    def execute(self, sql: str, params: Sequence[object] | None = None) -> list[tuple[object, ...]]:
        with self.connect() as connection, connection.cursor() as cursor:
            cursor.execute(sql, params)  # type: ignore[arg-type]
            return cursor.fetchall() if cursor.description else []


@contextlib.contextmanager
def database(prefix: str = "bascule_bench") -> Iterator[Database]:
    """A fresh database on the local server, dropped afterwards whatever happens."""
    name = f"{prefix}_{os.getpid()}"
    with psycopg.connect(PG_ADMIN, autocommit=True) as admin:
        admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        admin.execute(f'CREATE DATABASE "{name}"')
    try:
        yield Database(name)
    finally:
        with psycopg.connect(PG_ADMIN, autocommit=True) as admin:
            admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def vacuum_analyze(db: Database, before: str) -> None:
    """VACUUM ANALYZE of the whole database between two phases: this machine's PostgreSQL runs without
    autovacuum (bench/README.md says why it matters)."""
    log(f"VACUUM ANALYZE before {before}")
    started = time.perf_counter()
    db.execute("VACUUM ANALYZE")
    log(f"VACUUM ANALYZE: {time.perf_counter() - started:.1f} s")


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def bascule_env(db: Database, **extra: str) -> dict[str, str]:
    env = {key: value for key, value in os.environ.items() if not key.startswith("BASCULE_")}
    env |= {
        "BASCULE_DATABASE_URL": db.url,
        "BASCULE_ADMIN_TOKEN": ADMIN_TOKEN,
        "BASCULE_USSD_TOKEN": USSD_TOKEN,
        "BASCULE_LOG_LEVEL": "WARNING",
        "PYTHONUNBUFFERED": "1",
    }
    return env | extra


@dataclass
class Server:
    process: subprocess.Popen[bytes]
    port: int
    name: str

    @property
    def base(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGINT)
            try:
                self.process.wait(timeout=15)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()


@contextlib.contextmanager
def server(argv: list[str], env: dict[str, str], name: str, health: str = "/healthz") -> Iterator[Server]:
    """A server process on a free loopback port (`{port}` in argv), ready when `health` answers."""
    WORK.mkdir(parents=True, exist_ok=True)
    port = free_port()
    output = (WORK / f"{name}.log").open("wb")
    process = subprocess.Popen(
        [part.replace("{port}", str(port)) for part in argv], env=env, cwd=ROOT, stdout=output, stderr=subprocess.STDOUT
    )
    running = Server(process, port, name)
    try:
        deadline = time.monotonic() + 60
        while True:
            if process.poll() is not None:
                raise RuntimeError(f"{name} exited with {process.returncode}; see {WORK / (name + '.log')}")
            try:
                with urllib.request.urlopen(running.base + health, timeout=2):  # noqa: S310 - loopback
                    break
            except OSError:
                if time.monotonic() > deadline:
                    raise RuntimeError(f"{name} did not answer {health} within 60 s") from None
                time.sleep(0.2)
        yield running
    finally:
        running.stop()
        output.close()


@dataclass(frozen=True)
class Measured:
    seconds: float
    peak_rss_bytes: int
    returncode: int
    stdout: str
    stderr: str


def measured(argv: list[str], env: dict[str, str] | None = None, timeout: float = 1800) -> Measured:
    """Run a command to its end: wall time and the peak resident memory of that process (wait4)."""
    started = time.perf_counter()
    with tempfile.TemporaryFile() as out, tempfile.TemporaryFile() as err:
        process = subprocess.Popen(argv, env=env, cwd=ROOT, stdout=out, stderr=err)
        deadline = time.monotonic() + timeout
        while True:
            pid, status, usage = os.wait4(process.pid, os.WNOHANG)
            if pid:
                break
            if time.monotonic() > deadline:
                process.kill()
            time.sleep(0.05)
        seconds = time.perf_counter() - started
        process.returncode = os.waitstatus_to_exitcode(status)
        out.seek(0)
        err.seek(0)
        return Measured(
            seconds,
            usage.ru_maxrss * 1024,
            process.returncode,
            out.read().decode(errors="replace"),
            err.read().decode(errors="replace")[-4000:],
        )


def pgbench_tps(db: Database, script: str, clients: int, seconds: int, setup: str) -> dict[str, float]:
    """pgbench running `script` on `db` (after `setup`): transactions/s and latency."""
    binary = shutil.which("pgbench") or "/usr/lib/postgresql/15/bin/pgbench"
    with db.connect() as connection:
        for statement in filter(str.strip, setup.split(";")):
            connection.execute(statement)  # type: ignore[call-overload]
    WORK.mkdir(parents=True, exist_ok=True)
    path = WORK / "pgbench.sql"
    path.write_text(script)
    argv = [
        binary,
        "-n",
        "-M",
        "prepared",
        "-c",
        str(clients),
        "-j",
        "2",
        "-T",
        str(seconds),
        "-r",
        "-f",
        str(path),
        "-h",
        "127.0.0.1",
        "-U",
        "postgres",
        db.name,
    ]
    done = subprocess.run(argv, capture_output=True, text=True, check=True)
    tps = float(re.search(r"tps = ([\d.]+)", done.stdout).group(1))  # type: ignore[union-attr]
    latency = float(re.search(r"latency average = ([\d.]+) ms", done.stdout).group(1))  # type: ignore[union-attr]
    return {"tps": tps, "latency_avg_ms": latency, "clients": clients, "seconds": seconds}


def percentile(values: Sequence[float], fraction: float) -> float:
    if not values:
        return float("nan")
    ordered = sorted(values)
    index = min(len(ordered) - 1, max(0, round(fraction * (len(ordered) - 1))))
    return ordered[index]


def machine() -> str:
    cpu = "?"
    with contextlib.suppress(OSError):
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    memory = os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES") / 1024**3
    pg = "?"
    with contextlib.suppress(Exception), psycopg.connect(PG_ADMIN) as connection:
        row = connection.execute("SHOW server_version").fetchone()
        pg = row[0] if row else "?"
    return (
        f"{os.cpu_count()} cores ({cpu}), {memory:.0f} GiB, Linux {os.uname().release}, "
        f"Python {sys.version.split()[0]}, PostgreSQL {pg}"
    )
