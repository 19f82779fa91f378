"""What the persistence layer sends: the month's slot taken in one statement with the database enforcing
the limit, the audit insert without RETURNING, read-only units that keep psycopg's prepared statements,
and a pooled connection closed by the server replaced at checkout without a ping."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import replace
from datetime import UTC, datetime
from decimal import Decimal

import psycopg
import pytest
from psycopg.pq import TransactionStatus
from sqlalchemy import Engine, select, text
from sqlalchemy.exc import DBAPIError

from bascule.commands.answers import Answer
from bascule.evolutions.ports import CycleTemplate
from bascule.evolutions.rules import SLOT_SCOPE
from bascule.identity.model import OPERATOR, Channel
from bascule.identity.usecases import create_account
from bascule.notifications.outbox import notify
from bascule.persistence import tables as t
from bascule.persistence.engine import PREPARE_THRESHOLD, make_engine, make_read_engine
from bascule.persistence.uow import UnitOfWork
from bascule.provisioning.model import JobSpec, Operation
from tests.support.lines import line_on
from tests.support.sql import statements

SCOPE, PERIOD = "plan_changes", "2026-06"


def _slots(engine: Engine) -> dict[tuple[str, str, str], int]:
    with engine.connect() as connection:
        rows = connection.execute(select(t.monthly_slots)).all()
    return {(row.scope, row.subject_id, row.period): row.used for row in rows}


def _take(engine: Engine, subject: str, limit: int, scope: str = SCOPE) -> bool:
    with UnitOfWork(engine) as uow:
        taken = uow.slots.take(scope, subject, PERIOD, limit)
        uow.commit()
    return taken


def test_a_slot_under_the_limit_is_taken_in_one_statement_and_the_counter_moves_by_one(ctx) -> None:
    assert _take(ctx.engine, "svc_other", 5)  # a neighbour the takes below must not move
    before = _slots(ctx.engine)
    with statements(ctx.engine) as sent:
        assert _take(ctx.engine, "svc_a", 2)  # the month's first: the row is created at 1
    assert len(sent) == 1
    assert "ON CONFLICT" in sent[0]
    assert _slots(ctx.engine) == before | {(SCOPE, "svc_a", PERIOD): 1}
    with statements(ctx.engine) as sent:
        assert _take(ctx.engine, "svc_a", 2)  # the second of two
    assert len(sent) == 1
    assert _slots(ctx.engine) == before | {(SCOPE, "svc_a", PERIOD): 2}


def test_a_slot_at_the_limit_is_refused_and_nothing_changes(ctx) -> None:
    assert _take(ctx.engine, "svc_a", 1)
    before = _slots(ctx.engine)
    with statements(ctx.engine) as sent:
        assert not _take(ctx.engine, "svc_a", 1)
    assert len(sent) == 1
    assert _slots(ctx.engine) == before
    assert not _take(ctx.engine, "svc_b", 0)  # a limit of 0 gives nothing, and writes no row
    assert _slots(ctx.engine) == before
    with UnitOfWork(ctx.engine, write=False) as uow:
        assert uow.slots.used(SCOPE, "svc_a", PERIOD) == 1
        assert uow.slots.used(SCOPE, "svc_b", PERIOD) == 0


def test_a_slot_given_back_can_be_taken_again(ctx) -> None:
    assert _take(ctx.engine, "svc_a", 1)
    with UnitOfWork(ctx.engine) as uow:
        uow.slots.give_back(SCOPE, "svc_a", PERIOD)
        uow.commit()
    assert _slots(ctx.engine)[(SCOPE, "svc_a", PERIOD)] == 0
    assert _take(ctx.engine, "svc_a", 1)
    assert not _take(ctx.engine, "svc_a", 1)


@pytest.mark.slow
def test_two_takes_of_the_last_slot_give_it_once(ctx) -> None:
    """The second take waits for the first's transaction (row lock on PostgreSQL, BEGIN IMMEDIATE on SQLite),
    then sees the counter at the limit."""
    assert _take(ctx.engine, "svc_a", 2)
    outcome: list[bool] = []
    first = UnitOfWork(ctx.engine).__enter__()
    try:
        assert first.slots.take(SCOPE, "svc_a", PERIOD, 2)
        second = threading.Thread(target=lambda: outcome.append(_take(ctx.engine, "svc_a", 2)))
        second.start()
        time.sleep(0.5)
        assert second.is_alive(), "the second take did not wait for the first"
        first.commit()
    finally:
        first.__exit__(None, None, None)
    second.join(timeout=30)
    assert outcome == [False]
    assert _slots(ctx.engine)[(SCOPE, "svc_a", PERIOD)] == 2


def test_the_audit_insert_asks_nothing_back(ctx) -> None:
    at = datetime(2026, 6, 16, 7, 0, tzinfo=UTC)
    with statements(ctx.engine) as sent, UnitOfWork(ctx.engine) as uow:
        uow.audit.record(
            at=at,
            actor_kind="operator",
            actor_id="ops",
            channel="api",
            entity_kind="service",
            entity_id="svc_a",
            action="service.changed",
            before={"plan": "a"},
            after={"plan": "b"},
        )
        uow.commit()
    assert len(sent) == 1
    assert "RETURNING" not in sent[0].upper()
    with UnitOfWork(ctx.engine, write=False) as uow:
        [event_] = uow.audit.of_entity("service", "svc_a")
    assert (event_.action, event_.before, event_.after) == ("service.changed", {"plan": "a"}, {"plan": "b"})


def _record(uow: UnitOfWork, entity_id: str, action: str) -> None:
    uow.audit.record(
        at=datetime(2026, 6, 16, 7, 0, tzinfo=UTC),
        actor_kind="operator",
        actor_id="ops",
        channel="api",
        entity_kind="service",
        entity_id=entity_id,
        action=action,
        before=None,
        after={"n": action},
    )


def test_deferred_audit_rows_are_written_in_one_statement_in_their_order(ctx) -> None:
    with statements(ctx.engine) as sent, UnitOfWork(ctx.engine) as uow:
        with uow.appends_deferred():
            for n in range(3):
                _record(uow, "svc_a", f"step.{n}")
            assert sent == []  # nothing written yet
        uow.commit()
    assert len([s for s in sent if s.upper().startswith("INSERT INTO AUDIT_EVENTS")]) == 1
    with UnitOfWork(ctx.engine, write=False) as uow:
        assert [e.action for e in uow.audit.of_entity("service", "svc_a")] == ["step.0", "step.1", "step.2"]


def _notice(uow: UnitOfWork, to: str, body: str) -> None:
    notify(uow, "sms", to, None, body, datetime(2026, 6, 16, 7, 0, tzinfo=UTC))


def _job(uow: UnitOfWork, subject_id: str) -> None:
    uow.jobs.add(
        [JobSpec("orange", Operation.APPLY_PLAN, {"plan": "b"})],
        subject=("service", subject_id),
        change_request_id=None,
        max_attempts=5,
        now=datetime(2026, 6, 16, 7, 0, tzinfo=UTC),
    )


def _written(ctx, subject_id: str, to: str) -> tuple[list[str], list[str], list[tuple[str, str, str]]]:
    with UnitOfWork(ctx.engine, write=False) as uow:
        actions = [event_.action for event_ in uow.audit.of_entity("service", subject_id)]
        bodies = sorted(notice.body for notice in uow.notifications.search(to))
        jobs = uow.connection.execute(
            select(t.provisioning_jobs.c.network, t.provisioning_jobs.c.operation, t.provisioning_jobs.c.status).where(
                t.provisioning_jobs.c.subject_id == subject_id
            )
        )
        return actions, bodies, [tuple(job) for job in jobs]


def test_a_commands_audit_row_notice_and_job_are_one_statement_on_postgresql_and_one_per_table_on_sqlite(ctx) -> None:
    with statements(ctx.engine) as sent, UnitOfWork(ctx.engine) as uow:
        with uow.appends_deferred():
            _record(uow, "svc_a", "changed")
            _notice(uow, "+33612345678", "Votre forfait a changé.")
            _job(uow, "svc_a")
            assert sent == []
        uow.commit()
    if ctx.engine.dialect.name == "postgresql":
        together = " ".join(sent[0].split())
        assert len(sent) == 1
        assert together.startswith("WITH w0 AS (INSERT INTO audit_events")
        assert "), w1 AS (INSERT INTO notifications" in together
        assert ") INSERT INTO provisioning_jobs" in together
    else:
        assert [sql.split(" (")[0].upper() for sql in sent] == [
            "INSERT INTO AUDIT_EVENTS",
            "INSERT INTO NOTIFICATIONS",
            "INSERT INTO PROVISIONING_JOBS",
        ]
    assert _written(ctx, "svc_a", "+33612345678") == (
        ["changed"],
        ["Votre forfait a changé."],
        [("orange", "apply_plan", "pending")],
    )


def test_deferred_rows_of_more_than_two_hundred_values_are_written_one_table_at_a_time(ctx) -> None:
    """Seventeen audit rows (12 values each) and two notices (10 each): 224 values, past what one statement takes
    (`compiled._VALUES_TOGETHER_AT_MOST`); the audit rows, past 50 values, go as one executemany."""
    steps = [f"step.{n:02}" for n in range(17)]
    with statements(ctx.engine) as sent, UnitOfWork(ctx.engine) as uow:
        with uow.appends_deferred():
            for step in steps:
                _record(uow, "svc_a", step)
            for n in range(2):
                _notice(uow, "+33612345678", f"Message {n}")
        uow.commit()
    assert [sql.split(" (")[0].upper() for sql in sent] == ["INSERT INTO AUDIT_EVENTS", "INSERT INTO NOTIFICATIONS"]
    assert _written(ctx, "svc_a", "+33612345678") == (steps, ["Message 0", "Message 1"], [])


def _holding_unit(ctx) -> UnitOfWork:
    """A command's unit of work, entered, holding its writes (`hold_writes`) for its key's statement or its commit."""
    uow = UnitOfWork(ctx.engine)
    uow.__enter__()
    uow.hold_writes()
    return uow


def _store_key(uow: UnitOfWork, key: str) -> bool:
    answer = Answer(201, b'{"ok": true}', {"content-type": "application/json"})
    return uow.idempotency.add(
        "ops", key, "/api/v1/x", "f" * 64, answer, settled=True, at=datetime(2026, 6, 16, tzinfo=UTC)
    )


def test_a_commands_rows_go_with_its_idempotency_key_in_one_statement_on_postgresql(ctx) -> None:
    """Held after their block (`hold_writes`), the rows go with the key's INSERT; a second command
    with the same key is told the key was taken, and its rows, rolled back with it, are never written."""
    with statements(ctx.engine) as sent:
        uow = _holding_unit(ctx)
        with uow.appends_deferred():
            _record(uow, "svc_a", "first")
            _notice(uow, "+33612345678", "Premier.")
        assert len(sent) == (0 if ctx.engine.dialect.name == "postgresql" else 2)  # SQLite holds nothing
        assert _store_key(uow, "k-1") is True
        uow.commit()
        uow.__exit__(None, None, None)
    if ctx.engine.dialect.name == "postgresql":
        assert len(sent) == 1
        together = " ".join(sent[0].split())
        assert together.startswith("WITH w0 AS (INSERT INTO audit_events")
        assert ") INSERT INTO idempotency_keys" in together
        assert together.endswith("ON CONFLICT DO NOTHING RETURNING idempotency_keys.principal")
    else:
        assert [sql.split(" (")[0].upper() for sql in sent] == [
            "INSERT INTO AUDIT_EVENTS",
            "INSERT INTO NOTIFICATIONS",
            "INSERT INTO IDEMPOTENCY_KEYS",
        ]
    again = _holding_unit(ctx)
    with again.appends_deferred():
        _record(again, "svc_a", "repeat")
    assert _store_key(again, "k-1") is False
    again.__exit__(None, None, None)
    assert _written(ctx, "svc_a", "+33612345678") == (["first"], ["Premier."], [])


def test_held_rows_go_with_the_update_of_a_stored_answer_on_postgresql(ctx) -> None:
    """The networks' outcome: its audit row waits for the final answer's UPDATE of the key, and goes with it."""
    first = _holding_unit(ctx)
    assert _store_key(first, "k-2") is True
    first.commit()
    first.__exit__(None, None, None)
    final = Answer(200, b'{"status": "completed"}', {"content-type": "application/json"})
    with statements(ctx.engine) as sent:
        uow = _holding_unit(ctx)
        with uow.appends_deferred():
            _record(uow, "svc_a", "completed")
        uow.idempotency.settle("ops", "k-2", final)
        uow.commit()
        uow.__exit__(None, None, None)
    if ctx.engine.dialect.name == "postgresql":
        [together] = [" ".join(sql.split()) for sql in sent]
        assert together.startswith("WITH w0 AS (INSERT INTO audit_events")
        assert ") UPDATE idempotency_keys SET state=$" in together
    else:
        assert [sql.split(" (")[0].split()[0] for sql in sent] == ["INSERT", "UPDATE"]
    with UnitOfWork(ctx.engine, write=False) as uow:
        stored = uow.idempotency.find("ops", "k-2")
    assert stored is not None
    assert (stored.settled, stored.answer.status, stored.answer.body) == (True, 200, b'{"status": "completed"}')
    assert _written(ctx, "svc_a", "+33612345678") == (["completed"], [], [])


def _line_saved(ctx, line_id: str) -> tuple[str, str]:
    with UnitOfWork(ctx.engine, write=False) as uow:
        saved = uow.services.get(line_id)
    assert saved is not None
    return saved.apn, saved.network


def test_a_lines_save_waits_for_the_key_and_goes_with_it_and_a_second_save_writes_the_first(ctx) -> None:
    """A held UPDATE (a line saved by its id) goes as a CTE of the key's INSERT; saved twice, the first save is
    written when the second comes (one statement may not change a row twice); a read sees what was saved; a unit
    that rolls back writes none of it."""
    account = create_account(ctx, OPERATOR, Channel.API, "Sauvegardes", None)
    line = line_on(ctx, account.id, "+33655000031")
    apns = [apn.id for apn in ctx.catalog.apns]
    other_apn = next(apn for apn in apns if apn != line.apn)
    on_postgresql = ctx.engine.dialect.name == "postgresql"
    with statements(ctx.engine) as sent:
        uow = _holding_unit(ctx)
        uow.services.save(replace(line, apn=other_apn))
        assert len(sent) == (0 if on_postgresql else 1)
        assert _store_key(uow, "k-3") is True
        uow.commit()
        uow.__exit__(None, None, None)
    if on_postgresql:
        [together] = [" ".join(sql.split()) for sql in sent]
        assert together.startswith("WITH u0 AS (UPDATE services SET")
        assert ") INSERT INTO idempotency_keys" in together
    assert _line_saved(ctx, line.id) == (other_apn, line.network)

    with statements(ctx.engine) as sent:
        uow = _holding_unit(ctx)
        uow.services.save(replace(line, apn=line.apn))
        uow.services.save(replace(line, apn=line.apn, network="sfr"))
        assert [sql.split()[0] for sql in sent] == (["UPDATE"] if on_postgresql else ["UPDATE", "UPDATE"])
        assert uow.services.get(line.id).network == "sfr"  # the held save written before the read
        uow.commit()
        uow.__exit__(None, None, None)
    assert _line_saved(ctx, line.id) == (line.apn, "sfr")

    dropped = _holding_unit(ctx)
    dropped.services.save(replace(line, apn=other_apn, network="orange"))
    dropped.__exit__(None, None, None)
    assert _line_saved(ctx, line.id) == (line.apn, "sfr")


class _SlotGoneError(Exception):
    """The refusal a held take of a slot raises where it is written."""


def _slot_seen(uow: UnitOfWork, subject: str, used: int) -> None:
    """As a confirmation's read of its line brings the line's slot (`ChangeRequests.lock` with an instant)."""
    uow.slots.read_with_line(subject, PERIOD, used)


def _refused_at(uow: UnitOfWork, subject: str, refusal: _SlotGoneError, then: Callable[[], object]) -> str:
    """Where a slot seen free but gone is refused (the very refusal given): at its take, or at `then`."""
    _slot_seen(uow, subject, 0)
    for where, step in (
        ("at the take", lambda: uow.slots.take_or_refuse(SLOT_SCOPE, subject, PERIOD, 1, refusal)),
        ("at the next statement", then),
    ):
        try:
            step()
        except _SlotGoneError as error:
            return where if error is refusal else "another refusal"
    return "nowhere"


def _where_refused(ctx) -> str:
    """PostgreSQL holds the take for the next statement (the key's, or the commit's); SQLite, which holds nothing,
    takes at once."""
    return "at the next statement" if ctx.engine.dialect.name == "postgresql" else "at the take"


def test_a_slot_seen_free_is_taken_with_the_key_in_one_statement_on_postgresql_at_once_on_sqlite(ctx) -> None:
    """Seen free under the line's lock, the take waits for the key and goes with it as a CTE, its outcome counted
    in the key's RETURNING; SQLite, which holds nothing, takes it at once. Either way the counter moves by one."""
    on_postgresql = ctx.engine.dialect.name == "postgresql"
    with statements(ctx.engine) as sent:
        uow = _holding_unit(ctx)
        _slot_seen(uow, "svc_h", 0)
        uow.slots.take_or_refuse(SLOT_SCOPE, "svc_h", PERIOD, 1, _SlotGoneError())
        assert len(sent) == (0 if on_postgresql else 1)
        assert _store_key(uow, "k-slot") is True
        uow.commit()
        uow.__exit__(None, None, None)
    if on_postgresql:
        [together] = [" ".join(sql.split()) for sql in sent]
        assert together.startswith("WITH c0 AS (INSERT INTO monthly_slots")
        assert "RETURNING idempotency_keys.principal, (SELECT count(*) AS count_1 FROM c0) AS c0" in together
    else:
        assert [sql.split()[0] for sql in sent] == ["INSERT", "INSERT"]
    assert _slots(ctx.engine)[(SLOT_SCOPE, "svc_h", PERIOD)] == 1
    with UnitOfWork(ctx.engine, write=False) as uow:
        assert uow.idempotency.find("ops", "k-slot") is not None


def test_a_slot_seen_free_but_gone_by_the_key_refuses_there_and_nothing_is_written(ctx) -> None:
    """The read saw a slot left (a snapshot older than another's take): the key's statement takes nothing and
    raises the refusal; the unit rolls back, so neither the key nor the rows held with it are written. SQLite,
    which holds nothing, refuses at the take."""
    assert _take(ctx.engine, "svc_g", 1, SLOT_SCOPE)
    uow = _holding_unit(ctx)
    refusal = _SlotGoneError()

    def changed_then_keyed() -> None:
        with uow.appends_deferred():
            _record(uow, "svc_g", "changed")
        _store_key(uow, "k-gone")

    assert _refused_at(uow, "svc_g", refusal, changed_then_keyed) == _where_refused(ctx)
    uow.__exit__(_SlotGoneError, refusal, None)
    assert _slots(ctx.engine)[(SLOT_SCOPE, "svc_g", PERIOD)] == 1
    with UnitOfWork(ctx.engine, write=False) as uow:
        assert uow.idempotency.find("ops", "k-gone") is None
    assert _written(ctx, "svc_g", "+33612345678") == ([], [], [])


def test_a_held_take_is_written_before_any_other_statement_and_refuses_there(ctx) -> None:
    """A statement that comes before the key writes the held take first: a slot gone refuses at that statement
    (on SQLite, at the take)."""
    assert _take(ctx.engine, "svc_f", 1, SLOT_SCOPE)
    uow = _holding_unit(ctx)
    with statements(ctx.engine) as sent:
        where = _refused_at(uow, "svc_f", _SlotGoneError(), lambda: uow.idempotency.find("ops", "k-none"))
    assert where == _where_refused(ctx)
    assert [sql.split()[0] for sql in sent] == ["INSERT"]  # the take; the read never went
    uow.__exit__(_SlotGoneError, None, None)
    assert _slots(ctx.engine)[(SLOT_SCOPE, "svc_f", PERIOD)] == 1


def test_a_slot_seen_gone_or_not_read_is_taken_or_refused_at_once(ctx) -> None:
    """Only a slot seen free waits: one seen gone goes to the database at once (which may still give it, the read
    being older than a give-back), as does one no read brought; a limit of 0 refuses without a statement."""
    assert _take(ctx.engine, "svc_e", 1, SLOT_SCOPE)
    uow = _holding_unit(ctx)
    _slot_seen(uow, "svc_e", 1)
    with statements(ctx.engine) as sent, pytest.raises(_SlotGoneError):
        uow.slots.take_or_refuse(SLOT_SCOPE, "svc_e", PERIOD, 1, _SlotGoneError())
    assert len(sent) == 1
    with statements(ctx.engine) as sent:
        uow.slots.take_or_refuse(SLOT_SCOPE, "svc_d", PERIOD, 1, _SlotGoneError())  # no read of it: taken at once
    assert len(sent) == 1
    _slot_seen(uow, "svc_c", 0)
    with statements(ctx.engine) as sent, pytest.raises(_SlotGoneError):
        uow.slots.take_or_refuse(SLOT_SCOPE, "svc_c", PERIOD, 0, _SlotGoneError())
    assert sent == []
    uow.commit()
    uow.__exit__(None, None, None)
    slots = _slots(ctx.engine)
    assert (slots[(SLOT_SCOPE, "svc_e", PERIOD)], slots[(SLOT_SCOPE, "svc_d", PERIOD)]) == (1, 1)
    assert (SLOT_SCOPE, "svc_c", PERIOD) not in slots


def test_without_a_key_a_held_take_goes_with_the_held_rows_in_one_statement_at_the_commit_on_postgresql(ctx) -> None:
    """A command without an Idempotency-Key (USSD, the portal) holds its writes for its commit: the slot's take and
    the rows go in one statement there, `WITH c0 AS (the take), w0 AS (the rows) SELECT 1, (SELECT count(*) FROM
    c0)`; SQLite, which holds nothing, takes at once and writes the row at the end of its block."""
    on_postgresql = ctx.engine.dialect.name == "postgresql"
    with statements(ctx.engine) as sent:
        uow = _holding_unit(ctx)
        _slot_seen(uow, "svc_k", 0)
        uow.slots.take_or_refuse(SLOT_SCOPE, "svc_k", PERIOD, 1, _SlotGoneError())
        with uow.appends_deferred():
            _record(uow, "svc_k", "changed")
        assert len(sent) == (0 if on_postgresql else 2)
        uow.commit()
        uow.__exit__(None, None, None)
    if on_postgresql:
        [together] = [" ".join(sql.split()) for sql in sent]
        assert together.startswith("WITH c0 AS (INSERT INTO monthly_slots")
        assert ", w0 AS (INSERT INTO audit_events" in together
        assert together.endswith("SELECT 1 AS written, (SELECT count(*) AS count_1 FROM c0) AS c0")
    assert _slots(ctx.engine)[(SLOT_SCOPE, "svc_k", PERIOD)] == 1
    assert _written(ctx, "svc_k", "+33612345678") == (["changed"], [], [])


def test_without_a_key_a_slot_gone_by_the_commit_refuses_there_and_nothing_is_written(ctx) -> None:
    """Seen free, gone by the commit (another's take committed after the read's snapshot): the commit's statement
    takes nothing and raises the refusal, the unit rolls back, and the rows held with the take are not written.
    SQLite refuses at the take."""
    assert _take(ctx.engine, "svc_j", 1, SLOT_SCOPE)
    uow = _holding_unit(ctx)
    refusal = _SlotGoneError()

    def changed_then_committed() -> None:
        with uow.appends_deferred():
            _record(uow, "svc_j", "changed")
        uow.commit()

    assert _refused_at(uow, "svc_j", refusal, changed_then_committed) == _where_refused(ctx)
    uow.__exit__(_SlotGoneError, refusal, None)
    assert _slots(ctx.engine)[(SLOT_SCOPE, "svc_j", PERIOD)] == 1
    assert _written(ctx, "svc_j", "+33612345678") == ([], [], [])


def _completing(uow: UnitOfWork, request_id: str, at: datetime, completed: list[object]) -> Callable[[], None]:
    return lambda: completed.append(uow.change_requests.complete(request_id, at))


def test_an_update_that_changes_no_row_still_tells_what_its_joined_condition_did(ctx) -> None:
    """`run_joining_conditions`: the conditions' outcome comes back even when the UPDATE they join changed no row
    (a request no longer in provisioning): a condition that did its work leaves an empty answer, one that did
    nothing raises its refusal. On SQLite nothing is held: the take goes at once."""
    assert _take(ctx.engine, "svc_k", 1, SLOT_SCOPE)
    at = datetime(2026, 6, 16, tzinfo=UTC)
    for subject, expected in (("svc_j", "nowhere"), ("svc_k", _where_refused(ctx))):
        uow = _holding_unit(ctx)
        completed: list[object] = []
        with statements(ctx.engine) as sent:
            where = _refused_at(uow, subject, _SlotGoneError(), _completing(uow, "chg_none", at, completed))
        assert where == expected
        assert completed == ([None] if where == "nowhere" else [])
        if ctx.engine.dialect.name == "postgresql":
            [joined] = [" ".join(sql.split()) for sql in sent]
            assert joined.startswith("WITH c0 AS (INSERT INTO monthly_slots")
            assert joined.endswith("FROM (SELECT 1 AS one) AS one LEFT OUTER JOIN m ON true")
        if where == "nowhere":
            uow.commit()
        uow.__exit__(None, None, None)
    slots = _slots(ctx.engine)
    assert (slots[(SLOT_SCOPE, "svc_j", PERIOD)], slots[(SLOT_SCOPE, "svc_k", PERIOD)]) == (1, 1)


def test_a_savepoints_rollback_drops_a_condition_held_after_it_without_refusing(ctx) -> None:
    """What is held after a savepoint goes with its rollback, unwritten: a slot seen free but gone, held there, is
    neither taken nor refused, and the rows held before the savepoint are kept."""
    if ctx.engine.dialect.name != "postgresql":
        pytest.skip("PostgreSQL only: SQLite holds nothing (a take goes at once)")
    assert _take(ctx.engine, "svc_m", 1, SLOT_SCOPE)
    uow = _holding_unit(ctx)
    with uow.appends_deferred():
        _record(uow, "svc_m", "before.savepoint")
    savepoint = uow.savepoint()
    _slot_seen(uow, "svc_m", 0)
    uow.slots.take_or_refuse(SLOT_SCOPE, "svc_m", PERIOD, 1, _SlotGoneError())
    with uow.appends_deferred():
        _record(uow, "svc_m", "undone")
    with statements(ctx.engine) as sent:
        savepoint.rollback()
    assert [sql.split()[0] for sql in sent] == ["ROLLBACK"]
    assert _store_key(uow, "k-savepoint") is True
    uow.commit()
    uow.__exit__(None, None, None)
    assert _written(ctx, "svc_m", "+33612345678") == (["before.savepoint"], [], [])
    assert _slots(ctx.engine)[(SLOT_SCOPE, "svc_m", PERIOD)] == 1


def test_held_rows_are_written_before_any_other_statement_and_dropped_with_a_rollback(ctx) -> None:
    """Rows held for the key are there for any statement that comes first (a read, a savepoint and its
    rollback), and go at the commit when no key comes; a unit that ends without commit writes none."""
    uow = _holding_unit(ctx)
    with uow.appends_deferred():
        _record(uow, "svc_a", "first.held")
    with statements(ctx.engine) as sent:
        assert uow.idempotency.find("ops", "k-none") is None  # a compiled statement, on the driver's cursor
    held = ctx.engine.dialect.name == "postgresql"
    assert [sql.split(" (")[0].split()[0] for sql in sent] == (["INSERT", "SELECT"] if held else ["SELECT"])
    with uow.appends_deferred():
        _record(uow, "svc_a", "read.back")
    assert [e.action for e in uow.audit.of_entity("service", "svc_a")] == ["first.held", "read.back"]
    with uow.appends_deferred():
        _record(uow, "svc_a", "before.savepoint")
    savepoint = uow.savepoint()
    with uow.appends_deferred():
        _record(uow, "svc_a", "undone")
    savepoint.rollback()
    with uow.appends_deferred():
        _notice(uow, "+33612345678", "Au commit.")
    uow.commit()
    uow.__exit__(None, None, None)
    dropped = _holding_unit(ctx)
    with dropped.appends_deferred():
        _record(dropped, "svc_a", "never")
    dropped.__exit__(None, None, None)
    assert _written(ctx, "svc_a", "+33612345678") == (
        ["first.held", "read.back", "before.savepoint"],
        ["Au commit."],
        [],
    )


def test_deferred_rows_of_a_block_that_fails_are_never_written(ctx) -> None:
    def refused(uow: UnitOfWork) -> None:
        with uow.appends_deferred():
            _record(uow, "svc_a", "dropped")
            _notice(uow, "+33612345678", "Jamais envoyé.")
            _job(uow, "svc_a")
            raise RuntimeError("refused")

    with UnitOfWork(ctx.engine) as uow:
        with pytest.raises(RuntimeError, match="refused"):
            refused(uow)
        _record(uow, "svc_a", "kept")  # written at once again, outside the block
        _notice(uow, "+33612345678", "Envoyé.")
        uow.commit()
    assert _written(ctx, "svc_a", "+33612345678") == (["kept"], ["Envoyé."], [])


def test_a_unit_makes_each_repository_once_on_its_connection_and_forgets_them_at_its_end(ctx) -> None:
    with UnitOfWork(ctx.engine) as uow:
        services = uow.services
        assert uow.services is services
        assert services.connection is uow.connection
        assert uow.change_requests._services is services  # a repository made of others shares them
        joined = uow.joined(write=False)
        with joined:
            assert joined.services is services  # a use case inside the command: the command's repositories
        uow.commit()
    assert {"services", "change_requests", "buckets", "users"} & vars(uow).keys() == set()
    with pytest.raises(AttributeError, match="services"):
        _ = uow.services  # a unit that ended has no connection to make one on
    with UnitOfWork(ctx.engine, write=False) as again:
        assert again.services is not services
        assert again.services.connection is again.connection


# PostgreSQL only: prepared statements, READ ONLY, a connection the server closes.


@pytest.fixture
def pg_engine(ctx, database_url: str) -> Iterator[Engine]:
    """An engine of its own on the test database: one pooled connection, whatever the suite's engine holds."""
    if ctx.engine.dialect.name != "postgresql":
        pytest.skip("PostgreSQL only")
    engine = make_engine(database_url)
    yield engine
    engine.dispose()


def _session(uow: UnitOfWork) -> tuple[int, set[str]]:
    """The server process of the unit's connection, and the statements prepared in that session."""
    pid = uow.connection.execute(text("SELECT pg_backend_pid()")).scalar_one()
    prepared = uow.connection.execute(text("SELECT statement FROM pg_prepared_statements")).scalars().all()
    return pid, set(prepared)


def test_read_only_units_keep_their_prepared_statements(pg_engine: Engine) -> None:
    with UnitOfWork(pg_engine, write=False) as uow:
        first_pid, prepared = _session(uow)
    assert not any("services" in statement for statement in prepared)
    assert PREPARE_THRESHOLD == 1  # prepared at its second execution on the connection
    for _ in range(3):  # the same read, three read-only units, one connection
        with UnitOfWork(pg_engine, write=False) as uow:
            assert uow.services.get("svc_nobody") is None
    with UnitOfWork(pg_engine, write=False) as uow:
        pid, prepared = _session(uow)
    assert pid == first_pid
    assert [s for s in prepared if "FROM services" in s and "services.id =" in s], prepared


def test_a_write_unit_that_wrote_nothing_keeps_its_prepared_statements(pg_engine: Engine) -> None:
    """A quote, or a refusal before any write: a write unit left without commit that only read (and locked)."""
    with UnitOfWork(pg_engine) as uow:
        first_pid, _ = _session(uow)
    for _ in range(3):
        with UnitOfWork(pg_engine) as uow:
            assert uow.services.lock("svc_nobody") is None
    with UnitOfWork(pg_engine) as uow:
        pid, prepared = _session(uow)
    assert pid == first_pid
    assert [s for s in prepared if "FROM services" in s and "FOR UPDATE" in s], prepared


def test_a_read_unit_runs_on_read_only_sessions_without_begin_or_commit(ctx, pg_engine: Engine) -> None:
    """`ctx.uow(write=False)` on PostgreSQL: the read engine, in autocommit, each statement a read-only
    transaction of its own; no transaction is left open after a statement, so none was begun."""
    assert _take(pg_engine, "svc_a", 1)
    with ctx.uow(write=False) as uow:
        assert uow.slots.used(SCOPE, "svc_a", PERIOD) == 1
        driver = uow.connection.connection.driver_connection
        assert (driver.autocommit, driver.info.transaction_status) == (True, TransactionStatus.IDLE)
        assert not uow.connection.in_transaction()  # nor one of SQLAlchemy's, which would have to be ended
        assert uow.connection.execute(text("SHOW default_transaction_read_only")).scalar_one() == "on"
    with ctx.uow() as uow:  # a write unit: the main engine, a transaction
        uow.slots.used(SCOPE, "svc_a", PERIOD)
        driver = uow.connection.connection.driver_connection
        assert (driver.autocommit, driver.info.transaction_status) == (False, TransactionStatus.INTRANS)


def test_a_write_in_a_read_unit_is_refused_and_changes_nothing(ctx, pg_engine: Engine) -> None:
    assert _take(pg_engine, "svc_a", 2)
    with pytest.raises(DBAPIError) as refused, ctx.uow(write=False) as uow:
        uow.slots.take(SCOPE, "svc_a", PERIOD, 2)
    assert isinstance(refused.value.orig, psycopg.errors.ReadOnlySqlTransaction)
    assert _slots(pg_engine) == {(SCOPE, "svc_a", PERIOD): 1}


def test_the_read_engine_keeps_the_options_of_its_url(ctx, database_url: str) -> None:
    if ctx.engine.dialect.name != "postgresql":
        pytest.skip("PostgreSQL only: SQLite reads on its one engine")
    reads = make_read_engine(f"{database_url}?options=-c%20application_name%3Dbascule-reads")
    assert reads is not None
    try:
        with UnitOfWork(reads, write=False, autocommitted=True) as uow:
            shown = [uow.connection.execute(text(f"SHOW {name}")).scalar_one() for name in _SHOWN]
    finally:
        reads.dispose()
    assert shown == ["bascule-reads", "on"]


_SHOWN = ("application_name", "default_transaction_read_only")


def test_a_write_unit_left_without_commit_keeps_none_of_its_writes(pg_engine: Engine) -> None:
    with UnitOfWork(pg_engine) as uow:
        assert uow.slots.take(SCOPE, "svc_a", PERIOD, 1)
    assert _slots(pg_engine) == {}
    with UnitOfWork(pg_engine) as uow:  # a read, then a failed read the caller gets past: still rolled back
        assert uow.slots.used(SCOPE, "svc_a", PERIOD) == 0
        with pytest.raises(DBAPIError, match="division by zero"):
            uow.connection.execute(text("SELECT 1 / 0"))
    with UnitOfWork(pg_engine) as uow:  # the pooled connection is usable
        assert uow.slots.take(SCOPE, "svc_a", PERIOD, 1)
        uow.commit()
    assert _slots(pg_engine) == {(SCOPE, "svc_a", PERIOD): 1}


def test_a_write_in_a_read_only_unit_fails_on_postgresql(pg_engine: Engine) -> None:
    with pytest.raises(DBAPIError, match="read-only transaction"), UnitOfWork(pg_engine, write=False) as uow:
        uow.slots.take(SCOPE, "svc_a", PERIOD, 1)
    assert _slots(pg_engine) == {}
    with UnitOfWork(pg_engine, write=True) as uow:  # the connection went back to the pool READ WRITE
        assert uow.slots.take(SCOPE, "svc_a", PERIOD, 1)
        uow.commit()


def test_a_pooled_connection_the_server_closed_is_replaced_at_checkout(pg_engine: Engine, database_url: str) -> None:
    with UnitOfWork(pg_engine, write=False) as uow:
        pid, _ = _session(uow)
    admin = database_url.replace("postgresql+psycopg://", "postgresql://", 1)
    with psycopg.connect(admin, autocommit=True) as connection:
        assert connection.execute("SELECT pg_terminate_backend(%s)", (pid,)).fetchone() == (True,)
        deadline = time.monotonic() + 10
        while connection.execute("SELECT 1 FROM pg_stat_activity WHERE pid = %s", (pid,)).fetchone():
            assert time.monotonic() < deadline, "the terminated backend did not exit"
            time.sleep(0.05)
    with UnitOfWork(pg_engine, write=False) as uow:  # no error: the dead connection was dropped at checkout
        new_pid, _ = _session(uow)
    assert new_pid != pid


def test_the_pool_rolls_back_a_connection_given_back_inside_a_transaction_and_only_such_a_one(
    pg_engine: Engine,
) -> None:
    """The pool's reset sends a ROLLBACK only where a transaction is open: a unit of work ends its own before it
    gives its connection back, and a rollback for nothing cost a read on the event loop 40 µs of CPU."""
    raw = pg_engine.raw_connection()
    driver = raw.driver_connection
    assert driver is not None
    rollbacks: list[TransactionStatus] = []
    rollback = driver.rollback

    def counted_rollback() -> None:
        rollbacks.append(driver.info.transaction_status)
        rollback()

    driver.rollback = counted_rollback  # type: ignore[method-assign]
    raw.cursor().execute("CREATE TEMPORARY TABLE left_open (n int)")
    raw.close()  # given back inside the transaction that created the table
    assert rollbacks == [TransactionStatus.INTRANS]
    with UnitOfWork(pg_engine) as uow:  # the same pooled connection, after the pool's rollback
        assert uow.connection.connection.driver_connection is driver
        assert uow.connection.execute(text("SELECT to_regclass('pg_temp.left_open')")).scalar_one() is None
        uow.commit()
    with UnitOfWork(pg_engine, write=False) as uow:
        assert uow.services.get("svc_nobody") is None
    assert rollbacks == [TransactionStatus.INTRANS]  # nothing more: each unit had ended its transaction


def test_the_benchmark_counters_count_statements_transactions_and_prepared_executions(
    ctx, database_url: str, tmp_path
) -> None:
    from bascule.persistence import sqlcount

    engine = make_engine(database_url, sql_counters=tmp_path)
    try:
        for _ in range(3):
            with UnitOfWork(engine, write=False) as uow:
                assert uow.services.get("svc_nobody") is None
        with UnitOfWork(engine) as uow:
            assert uow.slots.take(SCOPE, "svc_a", PERIOD, 1)
            uow.commit()
        counts = sqlcount.read(tmp_path)
    finally:
        engine.dispose()
    assert counts["checkouts"] == 4
    assert counts["connects"] == 1
    if engine.dialect.name == "postgresql":
        assert (counts["statements"], counts["commits"], counts["rollbacks"]) == (4, 4, 0)
        # the read: sent unnamed, prepared at its second execution, reused at its third
        assert (counts["prepared_now"], counts["prepared_reused"]) == (1, 1)
        assert counts["cache_cleared"] == 0
    else:  # SQLite: BEGIN is a statement the engine sends, and a read-only unit still rolls back
        assert (counts["statements"], counts["commits"], counts["rollbacks"]) == (8, 1, 3)


def test_the_benchmark_counters_add_up_every_threads_counts_beyond_a_row_each(tmp_path) -> None:
    """Each thread counts in a row of its own; threads past `THREAD_ROWS - 1` share the first, under a lock."""
    from bascule.persistence import sqlcount

    counters = sqlcount.SqlCounters(tmp_path)
    threads_count = sqlcount.THREAD_ROWS + 6
    start = threading.Barrier(threads_count)

    def count() -> None:
        start.wait()
        for _ in range(500):
            counters.add("statements")
            counters.add("commits", 2)

    threads = [threading.Thread(target=count) for _ in range(threads_count)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    totals = sqlcount.read(tmp_path)
    assert (totals["statements"], totals["commits"], totals["rollbacks"]) == (
        500 * threads_count,
        1000 * threads_count,
        0,
    )
    assert counters.value("statements") == 500 * threads_count


def test_a_round_of_upkeep_is_counted_apart_when_it_found_nothing_and_as_work_when_it_did(
    ctx, database_url: str, tmp_path
) -> None:
    """A worker's round that found nothing (or a look at the catalogue's stamp) is the server's own upkeep: the
    benchmark divides the other counts by the commands measured."""
    from bascule.kernel.upkeep import upkeep_round
    from bascule.persistence import sqlcount

    engine = make_engine(database_url, sql_counters=tmp_path)
    try:
        with upkeep_round(), UnitOfWork(engine) as uow:  # idle: nothing due
            assert uow.services.get("svc_nobody") is None
            uow.commit()
        after_idle = sqlcount.read(tmp_path)
        with upkeep_round() as busy:  # found work: the commands' own count
            with UnitOfWork(engine) as uow:
                assert uow.slots.take(SCOPE, "svc_a", PERIOD, 1)
                uow.commit()
            busy.idle = False
        after_busy = sqlcount.read(tmp_path)
    finally:
        engine.dispose()
    sqlite_begin = 0 if engine.dialect.name == "postgresql" else 1  # SQLite's BEGIN is a statement of its own
    assert (after_idle["statements"], after_idle["commits"], after_idle["checkouts"]) == (0, 0, 0)
    assert (after_idle["upkeep_statements"], after_idle["upkeep_commits"]) == (1 + sqlite_begin, 1)
    assert after_idle["upkeep_checkouts"] == 1
    assert (after_busy["statements"], after_busy["commits"], after_busy["checkouts"]) == (1 + sqlite_begin, 1, 1)
    assert (after_busy["upkeep_statements"], after_busy["upkeep_commits"]) == (1 + sqlite_begin, 1)


def test_a_cycle_opened_in_bulk_is_seen_by_the_next_open_at_of_a_line_read_before_it(ctx) -> None:
    """A line read `at` an instant keeps its open buckets for the next `open_at`; a cycle opened in bulk
    (`Cycles.open_many`, as a fleet page does) writes a bucket past that reading, which must not be answered."""
    account = create_account(ctx, OPERATOR, Channel.API, "Flotte Exemple", None)
    line = line_on(ctx, account.id, "+33655000009")  # activated in June: its June cycle is open
    july_start, august_start = datetime(2026, 6, 30, 22, tzinfo=UTC), datetime(2026, 7, 31, 22, tzinfo=UTC)
    mid_july = datetime(2026, 7, 15, 10, tzinfo=UTC)
    template = CycleTemplate(
        "recurring", "Forfait juillet", Decimal("10.00"), "EUR", mid_july, 5 * 1024**3, july_start, august_start
    )
    with UnitOfWork(ctx.engine) as uow:
        assert uow.services.lock(line.id, at=mid_july) is not None  # June's bucket ended: none open mid-July
        uow.cycles.open_many([(line.id, account.id, "2026-07", 0)], [template], mid_july)
        opened = uow.buckets.open_at(line.id, mid_july)
    assert [(b.total_bytes, b.valid_from, b.valid_until) for b in opened] == [(5 * 1024**3, july_start, august_start)]
