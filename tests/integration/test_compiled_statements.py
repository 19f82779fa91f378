"""The busiest statements run compiled once on the driver's cursor (`bascule.persistence.compiled`): the same rows
and values as SQLAlchemy's own execution, the same exceptions, the same statement listeners, on both databases."""

from __future__ import annotations

import time
from datetime import UTC, date, datetime
from typing import Any

import psycopg
import pytest
from sqlalchemy import bindparam, event, select, text
from sqlalchemy.exc import DBAPIError, IntegrityError, StatementError

from bascule.identity.model import OPERATOR, Channel, Role
from bascule.identity.usecases import create_account, create_user
from bascule.persistence import compiled
from bascule.persistence import tables as t
from bascule.persistence.engine import make_engine
from bascule.persistence.evolutions import _INSERT_REQUEST, _LOCK_LINE_AT
from bascule.persistence.identity import manager_emails_of
from bascule.persistence.uow import UnitOfWork
from tests.support.lines import line_on
from tests.support.sql import statements

MID_JUNE = datetime(2026, 6, 16, 9, 30, tzinfo=UTC)
_READ_LINE = _LOCK_LINE_AT[False]  # the line with its cycle, slot, account and open buckets, unlocked


def _line(ctx):
    account = create_account(ctx, OPERATOR, Channel.API, "Flotte Exemple", None)
    return line_on(ctx, account.id, "+33655000011")


def test_a_line_read_on_the_driver_gives_what_sqlalchemy_gives_value_for_value(ctx) -> None:
    line = _line(ctx)
    params = {"id": line.id, "instant": MID_JUNE}
    with UnitOfWork(ctx.engine, write=False) as uow:
        ours = [row._asdict() for row in compiled.run(uow.connection, _READ_LINE, params)]
        theirs = [dict(row._mapping) for row in uow.connection.execute(_READ_LINE, params)]
    assert ours == theirs
    [row] = ours  # the June bucket is the only one open mid-June
    assert (row["id"], row["msisdn"], row["account__name"]) == (line.id, "+33655000011", "Flotte Exemple")
    assert row["activated_on"] == date(2026, 6, 1)
    assert row["bucket_valid_from"] == datetime(2026, 5, 31, 22, 0, tzinfo=UTC)  # aware UTC on both databases
    assert row["bucket_valid_from"].tzinfo is UTC


def test_a_statement_is_compiled_once_and_each_execution_is_told_to_the_listeners(ctx) -> None:
    line = _line(ctx)
    params = {"id": line.id, "instant": MID_JUNE}
    with statements(ctx.engine) as sent, UnitOfWork(ctx.engine, write=False) as uow:
        first = compiled.run(uow.connection, _READ_LINE, params).all()
        second = compiled.run(uow.connection, _READ_LINE, params).all()
    assert first == second
    assert len(sent) == 2
    assert sent[0] == sent[1]
    assert sent[0].startswith("SELECT services.id")
    plans = compiled._PLANS[_READ_LINE]
    assert list(plans) == [(ctx.engine.dialect.name, ("id", "instant"))]


def test_a_value_written_into_the_sql_is_written_once_and_the_statement_runs_on_the_driver(ctx) -> None:
    """aggregate_strings' separator is rendered into the SQL at each of SQLAlchemy's executions (a literal bind);
    here once, when the statement is planned."""
    account = create_account(ctx, OPERATOR, Channel.API, "Flotte Exemple", None)
    for email in ("b@flotte.example", "a@flotte.example"):
        create_user(ctx, OPERATOR, Channel.API, account.id, email, "gestion-secret", Role.MANAGER)
    managers = select(manager_emails_of(bindparam("account_id")).label("emails"))
    with statements(ctx.engine) as sent, UnitOfWork(ctx.engine, write=False) as uow:
        ours = compiled.run(uow.connection, managers, {"account_id": account.id}).one()
    with UnitOfWork(ctx.engine, write=False) as uow:
        theirs = uow.connection.execute(managers, {"account_id": account.id}).one()
    assert sorted(ours.emails.split(" ")) == ["a@flotte.example", "b@flotte.example"]
    assert ours.emails == theirs.emails
    assert "' '" in sent[0]
    assert "POSTCOMPILE" not in sent[0]
    [plan] = compiled._PLANS[managers].values()
    assert isinstance(plan, compiled._Plan)


def _request_row(line) -> dict[str, object]:
    return {
        "id": "cr_compiled_1",
        "service_id": line.id,
        "account_id": line.account_id,
        "status": "awaiting_confirmation",
        "changes": {"radio": "5G"},
        "quote": {"fee": "5.00"},
        "channel": "api",
        "actor_kind": "operator",
        "actor_id": "ops",
        "created_at": MID_JUNE,
    }


def test_a_few_rows_go_as_one_insert_with_the_values_sqlalchemy_would_send(ctx) -> None:
    line = _line(ctx)
    rows = [_request_row(line) | {"id": f"cr_compiled_{n}", "created_at": MID_JUNE.replace(minute=n)} for n in range(3)]
    with statements(ctx.engine) as sent, UnitOfWork(ctx.engine) as uow:
        compiled.insert_rows(uow.connection, _INSERT_REQUEST, rows)
        uow.commit()
    assert len(sent) == 1
    assert sent[0].count("), (") == 2  # three rows after VALUES
    with ctx.engine.connect() as connection:
        stored = connection.execute(
            select(t.change_requests.c.id, t.change_requests.c.created_at, t.change_requests.c.changes).order_by(
                t.change_requests.c.id
            )
        ).all()
    assert [tuple(row) for row in stored] == [
        (f"cr_compiled_{n}", MID_JUNE.replace(minute=n), {"radio": "5G"}) for n in range(3)
    ]


def test_many_rows_go_as_one_executemany_of_the_one_row_insert_and_all_are_stored(ctx) -> None:
    """Past 50 values psycopg would parse a many-row INSERT again at each execution: the one-row INSERT goes
    instead, once for all rows, through the driver's executemany."""
    line = _line(ctx)
    rows = [_request_row(line) | {"id": f"cr_compiled_{n:02}"} for n in range(40)]
    many: list[bool] = []

    def told(*args) -> None:
        if not args[2].startswith("BEGIN"):  # SQLite's, sent by the engine itself
            many.append(args[5])  # the listeners' `executemany`

    event.listen(ctx.engine, "before_cursor_execute", told)
    try:
        with statements(ctx.engine) as sent, UnitOfWork(ctx.engine) as uow:
            compiled.insert_rows(uow.connection, _INSERT_REQUEST, rows)
            uow.commit()
    finally:
        event.remove(ctx.engine, "before_cursor_execute", told)
    assert len(sent) == 1
    assert "), (" not in sent[0]
    assert many == [True]
    with ctx.engine.connect() as connection:
        stored = connection.execute(select(t.change_requests.c.id).order_by(t.change_requests.c.id)).scalars().all()
    assert stored == [f"cr_compiled_{n:02}" for n in range(40)]
    assert (tuple(rows[0]), 40) not in compiled._MULTI_ROW.get(_INSERT_REQUEST, {})  # no statement of 40 rows


def test_run_many_changes_each_row_and_counts_them_all(ctx) -> None:
    line = _line(ctx)
    rows = [_request_row(line) | {"id": f"cr_compiled_{n:02}"} for n in range(3)]
    rename = t.change_requests.update().where(t.change_requests.c.id == bindparam("old")).values(id=bindparam("new"))
    with UnitOfWork(ctx.engine) as uow:
        compiled.insert_rows(uow.connection, _INSERT_REQUEST, rows)
        changed = compiled.run_many(
            uow.connection,
            rename,
            [
                {"old": "cr_compiled_00", "new": "cr_renamed_0"},
                {"old": "cr_nowhere", "new": "x"},
                {"old": "cr_compiled_02", "new": "cr_renamed_2"},
            ],
        )
        uow.commit()
    assert changed == 2
    with ctx.engine.connect() as connection:
        stored = connection.execute(select(t.change_requests.c.id).order_by(t.change_requests.c.id)).scalars().all()
    assert stored == ["cr_compiled_01", "cr_renamed_0", "cr_renamed_2"]


def test_run_many_of_one_row_sends_it_as_one_execution(ctx) -> None:
    line = _line(ctx)
    compiled_rows = [_request_row(line) | {"id": f"cr_one_{n}"} for n in range(2)]
    rename = t.change_requests.update().where(t.change_requests.c.id == bindparam("old")).values(id=bindparam("new"))
    sent: list[tuple[str, bool]] = []

    def record(_conn: Any, _cursor: Any, statement: str, _parameters: Any, _context: Any, many: bool) -> None:
        sent.append((statement.split(maxsplit=1)[0], many))

    with UnitOfWork(ctx.engine) as uow:
        compiled.insert_rows(uow.connection, _INSERT_REQUEST, compiled_rows)
        event.listen(ctx.engine, "before_cursor_execute", record)
        try:
            changed = compiled.run_many(uow.connection, rename, [{"old": "cr_one_1", "new": "cr_one_renamed"}])
            missed = compiled.run_many(uow.connection, rename, [{"old": "cr_nowhere", "new": "x"}])
        finally:
            event.remove(ctx.engine, "before_cursor_execute", record)
        uow.commit()
    assert (changed, missed) == (1, 0)
    assert sent == [("UPDATE", False), ("UPDATE", False)]
    with ctx.engine.connect() as connection:
        stored = connection.execute(select(t.change_requests.c.id).order_by(t.change_requests.c.id)).scalars().all()
    assert stored == ["cr_one_0", "cr_one_renamed"]


def test_a_duplicate_key_raises_sqlalchemys_integrity_error_and_the_first_row_stays(ctx) -> None:
    line = _line(ctx)
    with UnitOfWork(ctx.engine) as uow:
        compiled.run(uow.connection, _INSERT_REQUEST, _request_row(line))
        uow.commit()
    with pytest.raises(IntegrityError), UnitOfWork(ctx.engine) as uow:
        compiled.run(uow.connection, _INSERT_REQUEST, _request_row(line) | {"status": "provisioning"})
    with ctx.engine.connect() as connection:
        rows = connection.execute(select(t.change_requests.c.id, t.change_requests.c.status)).all()
    assert [tuple(row) for row in rows] == [("cr_compiled_1", "awaiting_confirmation")]


def test_a_naive_instant_is_refused_before_anything_is_sent(ctx) -> None:
    line = _line(ctx)
    naive = pytest.raises(StatementError, match="naive datetime refused")
    with statements(ctx.engine) as sent, UnitOfWork(ctx.engine, write=False) as uow, naive:
        compiled.run(uow.connection, _READ_LINE, {"id": line.id, "instant": datetime(2026, 6, 16, 9, 30)})
    assert sent == []


def test_a_value_left_out_is_refused_as_sqlalchemy_refuses_it_before_anything_is_sent(ctx) -> None:
    line = _line(ctx)
    missing = pytest.raises(StatementError, match="A value is required for bind parameter 'instant'")
    with statements(ctx.engine) as sent, UnitOfWork(ctx.engine, write=False) as uow, missing:
        compiled.run(uow.connection, _READ_LINE, {"id": line.id})
    assert sent == []


def test_a_connection_lost_under_a_statement_is_invalidated_and_the_next_unit_gets_a_new_one(
    ctx, database_url: str
) -> None:
    if ctx.engine.dialect.name != "postgresql":
        pytest.skip("PostgreSQL only: a server to lose")
    line = _line(ctx)
    engine = make_engine(database_url)
    try:
        with UnitOfWork(engine, write=False) as uow:
            pid = uow.connection.execute(text("SELECT pg_backend_pid()")).scalar_one()
            _terminate(database_url, pid)
            with pytest.raises(DBAPIError) as lost:
                compiled.run(uow.connection, _READ_LINE, {"id": line.id, "instant": MID_JUNE})
        assert lost.value.connection_invalidated
        with UnitOfWork(engine, write=False) as uow:
            assert uow.connection.execute(text("SELECT pg_backend_pid()")).scalar_one() != pid
            [row] = compiled.run(uow.connection, _READ_LINE, {"id": line.id, "instant": MID_JUNE})
        assert row.msisdn == "+33655000011"
    finally:
        engine.dispose()


def _terminate(database_url: str, pid: int) -> None:
    admin = database_url.replace("postgresql+psycopg://", "postgresql://", 1)
    with psycopg.connect(admin, autocommit=True) as connection:
        assert connection.execute("SELECT pg_terminate_backend(%s)", (pid,)).fetchone() == (True,)
        deadline = time.monotonic() + 10
        while connection.execute("SELECT 1 FROM pg_stat_activity WHERE pid = %s", (pid,)).fetchone():
            assert time.monotonic() < deadline, "the terminated backend did not exit"
            time.sleep(0.05)
