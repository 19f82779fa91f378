"""Where a USSD screen's statements run (`channels/ussd/routes.screens_off_the_loop`): on PostgreSQL on the server's
event loop, through psycopg's `AsyncConnection`, with no thread waiting for the server; on SQLite in one of the
application's call threads. And how many a migration's and a balance's screens send."""

from __future__ import annotations

import threading
from typing import Any

from sqlalchemy import Engine, event

from tests.ussd.conftest import Gateway, add_subscriber


def _screen_statements(ctx: Any, play: Any) -> list[tuple[str, bool, str]]:
    """(thread name, asynchronous driver, first words) of each statement on the subscribers' table during `play`."""
    seen: list[tuple[str, bool, str]] = []
    database = ctx.engine.url.database

    def record(connection: Any, _cursor: Any, statement: str, *_args: Any) -> None:
        if connection.engine.url.database == database and "prepaid_subscribers" in statement:
            seen.append((threading.current_thread().name, connection.dialect.is_async, " ".join(statement.split()[:1])))

    event.listen(Engine, "before_cursor_execute", record)
    try:
        play()
    finally:
        event.remove(Engine, "before_cursor_execute", record)
    return seen


def test_a_screens_statements_run_on_the_event_loop_on_postgresql_and_in_a_call_thread_on_sqlite(http, ctx):
    add_subscriber(http, consumed_last_month=3000)
    gateway = Gateway(http)

    def walk() -> None:
        gateway.dial()
        gateway.press("1", "2", "1")  # the list of profiles, Tigre, confirmed: a read, then the migration's writes

    seen = _screen_statements(ctx, walk)
    kinds = [kind for _, _, kind in seen]
    on_postgresql = ctx.engine.dialect.name == "postgresql"
    # dial, list, the migration's lock, its change (on PostgreSQL with the month's slot: `WITH slot AS (…) …`)
    assert kinds == ["SELECT", "SELECT", "SELECT", "WITH" if on_postgresql else "UPDATE"]
    threads = {name for name, _, _ in seen}
    assert {is_async for _, is_async, _ in seen} == {on_postgresql}
    if on_postgresql:
        assert not any(name.startswith("bascule-call-") for name in threads), threads
        assert len(threads) == 1  # one thread: the server's event loop
    else:
        assert all(name.startswith("bascule-call-") for name in threads), threads


def test_a_migration_screen_costs_two_statements_on_postgresql_and_its_balance_screen_one(http, ctx):
    """Beside its session's: the migration locks the subscriber with last month's consumption, then writes the
    month's slot, the profile, the record, the charging system's job, the SMS and the audit row in one statement at
    its commit (held, as an Idempotency-Key's command holds them for its key). The balance reads the subscriber, its
    standing and its bonuses in one. SQLite writes one statement per table."""
    add_subscriber(http, consumed_last_month=3000)
    sent: list[str] = []
    database = ctx.engine.url.database

    def record(connection: Any, _cursor: Any, statement: str, *_args: Any) -> None:
        verb = statement.split(maxsplit=1)[0]
        if connection.engine.url.database != database or verb == "BEGIN":  # SQLite's BEGIN IMMEDIATE
            return
        if not any(table in statement for table in ("ussd_sessions", "catalog_stamp")):
            sent.append(verb)

    migration, balance = Gateway(http), Gateway(http)
    migration.dial()
    migration.press("1", "2")  # the list, Tigre
    balance.dial()
    event.listen(Engine, "before_cursor_execute", record)
    try:
        assert migration.press("1")[0] == "END"
        migrated, sent[:] = list(sent), []
        assert balance.press("3")[0] == "END"
    finally:
        event.remove(Engine, "before_cursor_execute", record)
    if ctx.engine.dialect.name == "postgresql":
        assert (migrated, sent) == (["SELECT", "WITH"], ["SELECT"])
    else:  # the lock, the slot, the profile, then the record, job, SMS and audit row, one table at a time
        assert (migrated, sent) == (["SELECT", "INSERT", "UPDATE", "INSERT", "INSERT", "INSERT", "INSERT"], ["SELECT"])
