"""What one command costs, measured around a load: SQL statements, transactions, prepared statements, CPU.

Taken at the start and at the end of the measured window of `load.drive`, and divided by the flows that
ended within it (in a steady state as many flows straddle the start as the end, so the quotient is
the cost of one flow):

- the server's own counts (`bascule.persistence.sqlcount`): `bascule serve` runs with
  BASCULE_SQL_COUNTERS, each process counts the statements it sends, its transactions, how psycopg
  sent each statement (prepared or not), checkouts and new connections;
- transactions as PostgreSQL counts them (`pg_stat_database`, xact_commit + xact_rollback of the
  benchmark's database; each backend reports at most once a second, hence "≈" over a short window);
- write calls of the server's processes (`syscw` of /proc/<pid>/io: write(2) and writev(2), which is how the
  event loop sends an HTTP answer and how a log line goes out; psycopg and redis-py use send(2), not counted);
- WAL that PostgreSQL wrote (`pg_stat_wal`: bytes and records, every database of the server, the benchmark's
  being the only one at work): the rows and index entries a command writes, a count as firm as the statements';
- CPU time of the server's processes (the `bascule serve` process and its children) and of the
  PostgreSQL backends connected to the benchmark's database, from /proc/<pid>/stat (utime + stime).
  PostgreSQL's shared processes (WAL writer, checkpointer...) are left out.

`pg_stat_statements` would count statements on the server's side, but it must be in
`shared_preload_libraries`, which this machine's PostgreSQL does not load (changing it means
restarting a server other test suites use); the server's own counts stand in for it.
"""

from __future__ import annotations

import os
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import psycopg

from bench.common import PG_ADMIN, Database

TICK = os.sysconf("SC_CLK_TCK")


def _cpu_seconds(pid: int) -> float | None:
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except (OSError, IndexError):
        return None
    return (int(fields[11]) + int(fields[12])) / TICK  # utime, stime (fields 14 and 15 of stat(5))


def _children() -> dict[int, list[int]]:
    tree: dict[int, list[int]] = {}
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            parent = int((entry / "stat").read_text().rsplit(")", 1)[1].split()[1])
        except (OSError, IndexError, ValueError):
            continue
        tree.setdefault(parent, []).append(int(entry.name))
    return tree


def _write_calls(pid: int) -> float | None:
    try:
        lines = Path(f"/proc/{pid}/io").read_text().splitlines()
    except OSError:
        return None
    return next((float(line.split()[1]) for line in lines if line.startswith("syscw:")), None)


def _tree(root: int, measure: Callable[[int], float | None]) -> dict[int, float]:
    """`measure` of `root` and of every process under it, by pid."""
    tree, found, todo = _children(), {}, [root]
    while todo:
        pid = todo.pop()
        value = measure(pid)
        if value is not None:
            found[pid] = value
        todo.extend(tree.get(pid, []))
    return found


def tree_cpu(root: int) -> dict[int, float]:
    """CPU seconds of `root` and of every process under it, by pid."""
    return _tree(root, _cpu_seconds)


def _moved(before: dict[int, float], after: dict[int, float]) -> float:
    """What moved between two readings (CPU, write calls); a process that appeared counts from zero, one that
    left is lost."""
    return sum(seconds - before.get(pid, 0.0) for pid, seconds in after.items())


@dataclass
class Reading:
    at: float
    flows: int
    counts: dict[str, int]
    server_cpu: dict[int, float]
    server_writes: dict[int, float]
    backend_cpu: dict[int, float]
    xacts: int
    wal: tuple[int, int]  # bytes, records


@dataclass
class Probe:
    """Readings of one server (`server_pid`, its SQL counters in `counters`) on `db`."""

    db: Database
    server_pid: int
    counters: Path
    readings: list[Reading] = field(default_factory=list)

    def __post_init__(self) -> None:
        self._admin = psycopg.connect(PG_ADMIN, autocommit=True)  # in the admin database: not counted in ours

    def close(self) -> None:
        self._admin.close()

    def read(self, flows: int) -> None:
        from bascule.persistence import sqlcount

        rows = self._admin.execute(
            "SELECT pid FROM pg_stat_activity WHERE datname = %s AND backend_type = 'client backend'", (self.db.name,)
        ).fetchall()
        backends = {pid: seconds for (pid,) in rows if (seconds := _cpu_seconds(pid)) is not None}
        row = self._admin.execute(
            "SELECT xact_commit + xact_rollback FROM pg_stat_database WHERE datname = %s", (self.db.name,)
        ).fetchone()
        wal = self._admin.execute("SELECT wal_bytes, wal_records FROM pg_stat_wal").fetchone()
        self.readings.append(
            Reading(
                time.perf_counter(),
                flows,
                sqlcount.read(self.counters),
                tree_cpu(self.server_pid),
                _tree(self.server_pid, _write_calls),
                backends,
                int(row[0]) if row else 0,
                (int(wal[0]), int(wal[1])) if wal else (0, 0),
            )
        )

    def per_flow(self) -> dict[str, Any]:
        """The last two readings, per flow ended between them."""
        start, end = self.readings[-2], self.readings[-1]
        flows = end.flows - start.flows
        if flows <= 0:
            return {"flows": 0}
        counts = {name: end.counts[name] - start.counts[name] for name in end.counts}
        statements = counts["statements"]
        sent = counts["prepared_reused"] + counts["prepared_now"] + counts["not_prepared"]
        return {
            "flows": flows,
            "seconds": end.at - start.at,
            "statements": statements / flows,
            "transactions": (counts["commits"] + counts["rollbacks"]) / flows,
            "commits": counts["commits"] / flows,
            "rollbacks": counts["rollbacks"] / flows,
            "pg_transactions": (end.xacts - start.xacts) / flows,
            "prepared_reused": counts["prepared_reused"] / flows,
            "prepared_now": counts["prepared_now"] / flows,
            "not_prepared": counts["not_prepared"] / flows,
            "prepared_share": counts["prepared_reused"] / sent if sent else 0.0,
            "cache_cleared": counts["cache_cleared"] / flows,
            "checkouts": counts["checkouts"] / flows,
            "connects": counts["connects"],
            "server_cpu_ms": 1000 * _moved(start.server_cpu, end.server_cpu) / flows,
            "postgres_cpu_ms": 1000 * _moved(start.backend_cpu, end.backend_cpu) / flows,
            "server_write_calls": _moved(start.server_writes, end.server_writes) / flows,
            "wal_bytes": (end.wal[0] - start.wal[0]) / flows,
            "wal_records": (end.wal[1] - start.wal[1]) / flows,
            # the servers' own rounds (kernel/upkeep.py), left out of the counts above: per second, not per flow
            "upkeep_transactions_per_s": (counts["upkeep_commits"] + counts["upkeep_rollbacks"]) / (end.at - start.at),
            "upkeep_statements_per_s": counts["upkeep_statements"] / (end.at - start.at),
            "totals": counts,
        }
