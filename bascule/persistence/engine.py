"""Engines for SQLite (embedded default) and PostgreSQL (psycopg 3), with the same transaction semantics."""

from __future__ import annotations

import select
from pathlib import Path
from typing import Any

import psycopg
from psycopg.pq import TransactionStatus
from sqlalchemy import Engine, create_engine, event, exc, make_url
from sqlalchemy.pool import StaticPool

from bascule.persistence.compiled import held_before

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


def _closed_by_server(dbapi_connection: Any, record: Any, _proxy: Any) -> None:
    """At checkout, without a round trip: an idle connection that has something to read was closed by the
    server (a restart, `pg_terminate_backend`, `idle_session_timeout`: PostgreSQL sends a FATAL error, then
    closes the socket). Raising `DisconnectionError` makes the pool replace it and hand out the new one.

    This stands in for `pool_pre_ping`, whose `SELECT 1` cost a transaction of its own and a round trip per
    checkout. What it cannot see (a connection dropped silently on the way) fails its unit of work as it did
    under a ping that raced with the drop; SQLAlchemy then invalidates the pool, and `pool_recycle` bounds the
    age of any connection. (Bascule never LISTENs, so an idle connection has no notification to read.)

    The poller is made once per driver connection and kept with its pool record: a checkout is then one poll(2),
    not a poller made and its socket registered again each time."""
    pgconn = getattr(driver_connection(dbapi_connection), "pgconn", None)
    if pgconn is None:
        return
    kept = record.info.get(_POLLER)
    try:
        if kept is None or kept[0] is not pgconn:  # a new driver connection behind the record
            poller = select.poll()
            poller.register(pgconn.socket, select.POLLIN)
            record.info[_POLLER] = kept = (pgconn, poller)
        ready = kept[1].poll(0)
    except (psycopg.Error, OSError, ValueError) as error:  # no socket any more: the connection is gone
        raise exc.DisconnectionError(f"connection unusable: {error}") from error
    if ready:
        raise exc.DisconnectionError("the server closed this pooled connection")


_POLLER = "bascule.poller"  # in a pool record's `info`: (psycopg's PGconn, a poller with its socket registered)


def _end_a_transaction_left_open(dbapi_connection: Any, _record: Any, state: Any) -> None:
    """The pool's reset of a connection given back: a ROLLBACK only if a transaction is still open on it. A unit of
    work ends its transaction before it gives its connection back; SQLAlchemy's own reset (`pool_reset_on_return`)
    calls the driver's rollback at every return all the same, and on the loop's engines (`make_loop_engines`) that
    call goes through the asyncio bridge and psycopg's connection lock: about 40 µs of CPU a unit on a slow 2-core
    machine, for a rollback that had nothing to do (`bench/README.md`, eighteenth pass)."""
    if state.transaction_was_reset or state.terminate_only or not state.asyncio_safe:
        return
    pgconn = getattr(driver_connection(dbapi_connection), "pgconn", None)
    if pgconn is None or pgconn.transaction_status != TransactionStatus.IDLE:
        dbapi_connection.rollback()  # an error here makes the pool close the connection, as before


WROTE = "bascule.wrote"  # in a connection's `info`: a statement of the unit of work under way may have written


def _note_writes(connection: Any, _cursor: Any, statement: str, *_args: Any) -> None:
    """What may write is anything but a read (`SELECT`, `SELECT … FOR UPDATE` included: its locks go with a
    COMMIT as with a ROLLBACK) or a savepoint taken: `UnitOfWork` ends a unit that wrote nothing in COMMIT."""
    if not statement.startswith(("SELECT", "SAVEPOINT")):
        connection.info[WROTE] = True


# The sessions of the read engine (`make_read_engine`): every statement a transaction of its own, read only.
READ_ONLY_SESSION = "-c default_transaction_read_only=on"


def driver_connection(dbapi_connection: Any) -> Any:
    """psycopg's own connection behind what the pool holds: itself, or the `AsyncConnection` that SQLAlchemy's
    asyncio adapter wraps (`make_loop_engines`)."""
    return getattr(dbapi_connection, "_connection", dbapi_connection)


def _postgresql_engine(url: str, *, read_only_sessions: bool = False, on_loop: bool = False) -> Engine:
    connect_args: dict[str, Any] = {"prepare_threshold": PREPARE_THRESHOLD}
    options: dict[str, Any] = {"pool_reset_on_return": None}  # `_end_a_transaction_left_open` instead
    if read_only_sessions:
        given = make_url(url).query.get("options")  # the URL's own, kept: psycopg takes one `options`
        connect_args["options"] = f"{given} {READ_ONLY_SESSION}" if isinstance(given, str) else READ_ONLY_SESSION
        options["isolation_level"] = "AUTOCOMMIT"
    if on_loop:
        from sqlalchemy.ext.asyncio import create_async_engine

        # One event loop's connections: as many as its calls under way at once, kept between bursts (a pool
        # that closes and opens connections under load makes PostgreSQL start a backend each time).
        options |= {"pool_size": 10, "max_overflow": 10}
        engine = create_async_engine(
            url, pool_recycle=RECYCLE_SECONDS, connect_args=connect_args, **options
        ).sync_engine
    else:
        # At most 40 connections each; the read engine keeps 10 open between bursts, not 20, so that a process
        # keeps 30 sessions on the server, not 40 (two processes beside a default max_connections of 100).
        options |= {"pool_size": 10 if read_only_sessions else 20, "max_overflow": 30 if read_only_sessions else 20}
        engine = create_engine(url, pool_recycle=RECYCLE_SECONDS, connect_args=connect_args, **options)
    # An executemany of an INSERT goes as one `INSERT … VALUES (…), (…)` per batch, rewritten from the statement
    # compiled once (SQLAlchemy's "insertmanyvalues"), as it already does for an INSERT with RETURNING. psycopg
    # would send it through its pipeline, a statement per row: a confirmation's audit rows cost more that way
    # than the statement itself; and the multi-row VALUES built by hand before this was compiled at every
    # execution, since SQLAlchemy does not cache such statements.
    engine.dialect.use_insertmanyvalues_wo_returning = True
    event.listen(engine.pool, "checkout", _closed_by_server)
    if not read_only_sessions:  # in autocommit nothing is left open but by a BEGIN, which nothing sends there
        event.listen(engine.pool, "reset", _end_a_transaction_left_open)
    event.listen(engine, "before_cursor_execute", _note_writes)
    event.listen(engine, "before_execute", held_before)  # rows a unit holds go before any other statement
    return engine


def make_engine(url: str, *, sql_counters: Path | None = None) -> Engine:
    """The engine of `url`; with `sql_counters` (the benchmark's), what it sends is counted in that directory."""
    return _counted(_sqlite_engine(url) if is_sqlite(url) else _postgresql_engine(url), sql_counters)


def make_read_engine(url: str, *, sql_counters: Path | None = None) -> Engine | None:
    """On PostgreSQL, the engine of the read-only units of work: its sessions run each statement in autocommit,
    as a read-only transaction of its own (`default_transaction_read_only`), so that a read sends no BEGIN and no
    COMMIT. Measured apart with psycopg, those two round trips cost a one-statement read 60 µs of the client's CPU
    and 50 µs of PostgreSQL's, as much again as the statement. Nothing is lost: at PostgreSQL's READ COMMITTED each
    statement of a transaction already reads its own snapshot, and a write is refused as in a READ ONLY
    transaction. None on SQLite, whose read units stay `BEGIN DEFERRED` transactions of the one engine."""
    if is_sqlite(url):
        return None
    return _counted(_postgresql_engine(url, read_only_sessions=True), sql_counters)


def make_loop_engines(url: str, *, sql_counters: Path | None = None) -> tuple[Engine, Engine] | None:
    """On PostgreSQL, the engines of units of work run on an event loop (`persistence.context.on_event_loop`): the same
    as `make_engine` and `make_read_engine`, but their connections are psycopg's `AsyncConnection`, reached through
    SQLAlchemy's asyncio bridge. A unit of work on them is written as any other; run by `greenlet_spawn` on the
    loop, each of its round trips awaits on the loop, and no thread waits for the server. Measured in the bench's
    server, a screen's read so cost half what it cost from a worker thread (bench/README.md, eleventh pass).
    They are given as SQLAlchemy's synchronous faces of the asynchronous engines; None on SQLite."""
    if is_sqlite(url):
        return None
    return (
        _counted(_postgresql_engine(url, on_loop=True), sql_counters),
        _counted(_postgresql_engine(url, read_only_sessions=True, on_loop=True), sql_counters),
    )


async def dispose_loop_engine(engine: Engine) -> None:
    """Close the pooled connections of an engine of `make_loop_engines`, on the loop they belong to."""
    from sqlalchemy.ext.asyncio import AsyncEngine

    await AsyncEngine(engine).dispose()


def _counted(engine: Engine, sql_counters: Path | None) -> Engine:
    if sql_counters is not None:
        from bascule.persistence import sqlcount

        sqlcount.install(engine, sql_counters)
    return engine
