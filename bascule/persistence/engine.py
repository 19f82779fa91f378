"""Engines for SQLite (embedded default) and PostgreSQL (psycopg 3), with the same transaction semantics."""

from __future__ import annotations

import select
from pathlib import Path
from typing import Any

import psycopg
from sqlalchemy import Engine, create_engine, event, exc
from sqlalchemy.pool import StaticPool

# psycopg prepares a statement on a connection once it has run it this many times there (its default is 5):
# from the second execution on, a statement is bound and run without being parsed and planned again. Every
# statement of the hot paths runs on each pooled connection within its first few units of work; a one-off
# (a search with its own filters, an IN list of a new length, a report) runs once and is never prepared, so
# it costs neither the extra round trip of preparing (psycopg sends Parse, then Bind/Execute) nor a place in
# the connection's 100 prepared statements (psycopg's `prepared_max`, each eviction another round trip).
# At 0 every statement would be prepared at its first execution, one-offs included. psycopg empties the
# cache at each ROLLBACK (psycopg/_preparing.py), hence read-only units of work that end in COMMIT (uow.py).
PREPARE_THRESHOLD = 1
# A pooled connection older than this is replaced at checkout (no round trip): a bound on what a server
# session accumulates (plans of prepared statements, caches) and on an idle connection dropped silently on
# the way (no FIN, so nothing to read: see `_closed_by_server`).
RECYCLE_SECONDS = 1800


def is_sqlite(url: str) -> bool:
    return url.startswith("sqlite")


def _sqlite_engine(url: str) -> Engine:
    memory = url in ("sqlite://", "sqlite:///:memory:")
    engine = create_engine(
        url,
        connect_args={"check_same_thread": False, "timeout": 30},
        poolclass=StaticPool if memory else None,
    )

    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_connection: Any, _record: Any) -> None:
        # Take transaction control from pysqlite so BEGIN IMMEDIATE can serialise writers.
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        if not memory:
            cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.execute("PRAGMA busy_timeout=30000")
        cursor.execute("PRAGMA synchronous=NORMAL")
        cursor.close()

    @event.listens_for(engine, "begin")
    def _on_begin(connection: Any) -> None:
        mode = connection.get_execution_options().get("sqlite_begin", "IMMEDIATE")
        connection.exec_driver_sql(f"BEGIN {mode}")

    return engine


def _closed_by_server(dbapi_connection: Any, _record: Any, _proxy: Any) -> None:
    """At checkout, without a round trip: an idle connection that has something to read was closed by the
    server (a restart, `pg_terminate_backend`, `idle_session_timeout`: PostgreSQL sends a FATAL error, then
    closes the socket). Raising `DisconnectionError` makes the pool replace it and hand out the new one.

    This stands in for `pool_pre_ping`, whose `SELECT 1` cost a transaction of its own and a round trip per
    checkout. What it cannot see (a connection dropped silently on the way) fails its unit of work as it did
    under a ping that raced with the drop; SQLAlchemy then invalidates the pool, and `pool_recycle` bounds the
    age of any connection. (Bascule never LISTENs, so an idle connection has no notification to read.)"""
    pgconn = getattr(dbapi_connection, "pgconn", None)
    if pgconn is None:
        return
    try:
        poller = select.poll()
        poller.register(pgconn.socket, select.POLLIN)
        ready = poller.poll(0)
    except (psycopg.Error, OSError, ValueError) as error:  # no socket any more: the connection is gone
        raise exc.DisconnectionError(f"connection unusable: {error}") from error
    if ready:
        raise exc.DisconnectionError("the server closed this pooled connection")


WROTE = "bascule.wrote"  # in a connection's `info`: a statement of the unit of work under way may have written


def _note_writes(connection: Any, _cursor: Any, statement: str, *_args: Any) -> None:
    """What may write is anything but a read (`SELECT`, `SELECT … FOR UPDATE` included: its locks go with a
    COMMIT as with a ROLLBACK) or a savepoint taken: `UnitOfWork` ends a unit that wrote nothing in COMMIT."""
    if not statement.startswith(("SELECT", "SAVEPOINT")):
        connection.info[WROTE] = True


def _postgresql_engine(url: str) -> Engine:
    engine = create_engine(
        url,
        pool_size=20,
        max_overflow=20,
        pool_recycle=RECYCLE_SECONDS,
        connect_args={"prepare_threshold": PREPARE_THRESHOLD},
    )
    # An executemany of an INSERT goes as one `INSERT … VALUES (…), (…)` per batch, rewritten from the statement
    # compiled once (SQLAlchemy's "insertmanyvalues"), as it already does for an INSERT with RETURNING. psycopg
    # would send it through its pipeline, a statement per row: a confirmation's audit rows cost more that way
    # than the statement itself; and the multi-row VALUES built by hand before this was compiled at every
    # execution, since SQLAlchemy does not cache such statements.
    engine.dialect.use_insertmanyvalues_wo_returning = True
    event.listen(engine.pool, "checkout", _closed_by_server)
    event.listen(engine, "before_cursor_execute", _note_writes)
    return engine


def make_engine(url: str, *, sql_counters: Path | None = None) -> Engine:
    """The engine of `url`; with `sql_counters` (the benchmark's), what it sends is counted in that directory."""
    engine = _sqlite_engine(url) if is_sqlite(url) else _postgresql_engine(url)
    if sql_counters is not None:
        from bascule.persistence import sqlcount

        sqlcount.install(engine, sql_counters)
    return engine
