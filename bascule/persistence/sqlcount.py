"""Counts of the SQL one process sends, kept in a small file that the benchmark reads (bench/README.md).

Off unless `BASCULE_SQL_COUNTERS` names a directory: then every engine of the process gets a file there,
`<pid>-<random>.counts`, a memory-mapped array of 64-bit counters (in the order of `NAMES`) moved by
SQLAlchemy's and the pool's events. A reader adds up the files of every process (`read`), at any time,
without asking the server anything. Each thread of the process counts in a row of the file of its own (a
process's first `THREAD_ROWS - 1` threads; any further ones share the first row, under a lock): a lock shared
by the sixteen threads of a server, taken at every statement, held 4.6 % of the samples of its threads holding
the GIL (py-spy) under the change benchmark.

- `statements`: statements sent through SQLAlchemy (an `executemany` is one);
- `commits`, `rollbacks`: transactions that ran at least one statement, by how they ended (psycopg and
  SQLite send nothing for a transaction that ran none); each costs two round trips on PostgreSQL, the
  `BEGIN` psycopg sends before the first statement and the `COMMIT` or `ROLLBACK`;
- `prepared_reused`, `prepared_now`, `not_prepared`: on psycopg, statements executed with a statement
  already prepared on that connection (neither parsed nor planned again... except when PostgreSQL chooses
  to plan again), statements prepared at this execution (one more round trip), and statements sent
  unnamed (parsed and planned for this execution only);
- `cache_cleared`: psycopg emptied its prepared-statement cache (after a `ROLLBACK`, a `DROP`, an
  `ALTER`...; one more round trip, `DEALLOCATE ALL`);
- `checkouts`, `connects`: connections taken from the pool, and new connections to the server;
- `upkeep_…`: the same counts for the process's own upkeep (`kernel/upkeep.py`: a worker's round that found
  nothing to do, a look at the catalogue's stamp), kept out of the others, which are the commands' work.

psycopg has no public counter of its prepared statements: the three `prepared` counts wrap the
`PrepareManager` of each connection (`psycopg/_preparing.py`), which is psycopg's internals, hence
only here, for the benchmark. If psycopg changes them, the counts stay at zero rather than fail.
"""

from __future__ import annotations

import itertools
import mmap
import os
import threading
import uuid
from collections import Counter
from pathlib import Path
from typing import Any

from sqlalchemy import Engine, event

from bascule.kernel.upkeep import current_tally, when_a_round_ends
from bascule.persistence.engine import driver_connection

_COUNTED = (
    "statements",
    "commits",
    "rollbacks",
    "prepared_reused",
    "prepared_now",
    "not_prepared",
    "cache_cleared",
    "checkouts",
    "connects",
)
NAMES = (*_COUNTED, *(f"upkeep_{name}" for name in _COUNTED))
_INDEX = {name: n for n, name in enumerate(NAMES)}
THREAD_ROWS = 64
_SIZE = 8 * len(NAMES) * THREAD_ROWS


class SqlCounters:
    """This process's counters for one engine, in a memory-mapped file of `directory`."""

    def __init__(self, directory: Path) -> None:
        directory.mkdir(parents=True, exist_ok=True)
        self.path = directory / f"{os.getpid()}-{uuid.uuid4().hex[:8]}.counts"
        self.path.write_bytes(bytes(_SIZE))
        with self.path.open("r+b") as file:
            self._map = mmap.mmap(file.fileno(), _SIZE)
        self._values = memoryview(self._map).cast("q")
        self._lock = threading.Lock()  # for the shared first row
        self._rows = itertools.count(1)  # the next thread's own row (`next` of a count is atomic in CPython)
        self._thread = threading.local()

    def add(self, name: str, count: int = 1) -> None:
        tally = current_tally()
        if tally is not None:  # in a round of upkeep: counted when the round ends, as what it turned out to be
            tally[(self, name)] += count  # by counters: each engine of the process has its own
            return
        self._add(name, count)

    def _add(self, name: str, count: int) -> None:
        start = getattr(self._thread, "start", None)
        if start is None:
            row = next(self._rows)
            start = self._thread.start = row * len(NAMES) if row < THREAD_ROWS else 0
        if start:
            self._values[start + _INDEX[name]] += count  # this thread's row: no other thread writes it
            return
        with self._lock:
            self._values[_INDEX[name]] += count

    def round_ended(self, tally: Counter[Any], idle: bool) -> None:
        for (owner, name), count in tally.items():
            if owner is self:
                self._add(f"upkeep_{name}" if idle else name, count)

    def value(self, name: str) -> int:
        return sum(int(self._values[row * len(NAMES) + _INDEX[name]]) for row in range(THREAD_ROWS))


def read(directory: Path) -> dict[str, int]:
    """The sum of the counters of every file in `directory` (processes gone included: their counts stay)."""
    totals = dict.fromkeys(NAMES, 0)
    for path in directory.glob("*.counts"):
        values = memoryview(path.read_bytes()[:_SIZE]).cast("q")
        for n, value in enumerate(values):
            totals[NAMES[n % len(NAMES)]] += int(value)
    return totals


def _in_transaction(dbapi_connection: Any) -> bool:
    info = getattr(dbapi_connection, "info", None)
    status = getattr(info, "transaction_status", None)
    if status is not None:  # psycopg: IDLE (0) when no statement ran since the last COMMIT or ROLLBACK
        return int(status) != 0
    return bool(getattr(dbapi_connection, "in_transaction", False))  # sqlite3


def _watch_prepared(counters: SqlCounters, dbapi_connection: Any) -> None:
    manager = getattr(driver_connection(dbapi_connection), "_prepared", None)
    if manager is None or not hasattr(manager, "get") or not hasattr(manager, "clear"):
        return
    get, clear = manager.get, manager.clear

    def counted_get(query: Any, prepare: bool | None = None) -> Any:
        prep, name = get(query, prepare)
        kind = getattr(prep, "name", "")
        counters.add({"YES": "prepared_reused", "SHOULD": "prepared_now"}.get(kind, "not_prepared"))
        return prep, name

    def counted_clear() -> bool:
        cleared = bool(clear())
        if cleared:
            counters.add("cache_cleared")
        return cleared

    manager.get = counted_get
    manager.clear = counted_clear


def install(engine: Engine, directory: Path) -> SqlCounters:
    """Count what `engine` sends from now on, in a new file of `directory`."""
    counters = SqlCounters(directory)
    when_a_round_ends(counters.round_ended)

    @event.listens_for(engine, "before_cursor_execute")
    def _statement(*_args: Any) -> None:
        counters.add("statements")

    @event.listens_for(engine, "commit")
    def _commit(connection: Any) -> None:
        if _in_transaction(connection.connection.driver_connection):
            counters.add("commits")

    @event.listens_for(engine, "rollback")
    def _rollback(connection: Any) -> None:
        if _in_transaction(connection.connection.driver_connection):
            counters.add("rollbacks")

    @event.listens_for(engine.pool, "reset", insert=True)  # before the engine's own reset rolls it back
    def _reset(dbapi_connection: Any, _record: Any, _state: Any) -> None:
        if _in_transaction(dbapi_connection):  # a connection given back in a transaction: the pool rolls back
            counters.add("rollbacks")

    @event.listens_for(engine.pool, "checkout")
    def _checkout(*_args: Any) -> None:
        counters.add("checkouts")

    @event.listens_for(engine.pool, "connect")
    def _connect(dbapi_connection: Any, _record: Any) -> None:
        counters.add("connects")
        _watch_prepared(counters, dbapi_connection)

    return counters
