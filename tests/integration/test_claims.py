"""A worker's claim of its due provisioning jobs, and a deliverer's of its due outbox rows, is one statement: the
oldest due rows, `limit` of them and no more, marked with an attempt and a lease; the others are left as they
were. On PostgreSQL a row another transaction holds locked is skipped, and the next due one taken instead."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from datetime import datetime, timedelta
from typing import Any

import pytest
from sqlalchemy import Connection, select, update

from bascule.notifications import notify
from bascule.persistence import tables as t
from bascule.provisioning.model import JobSpec, JobStatus, Operation
from tests.conftest import START
from tests.support.sql import statements

J = t.provisioning_jobs
N = t.notifications
LEASE = timedelta(seconds=60)


def _add_jobs(ctx, *due_at: datetime) -> list[str]:
    """One pending job per instant, due then (its payload: its rank); their ids in that order."""
    ids = []
    with ctx.uow() as uow:
        for n, at in enumerate(due_at):
            (job,) = uow.jobs.add(
                [JobSpec("orange", Operation.SET_APN, {"n": n})],
                subject=("load-test", str(n)),
                change_request_id=None,
                max_attempts=3,
                now=at,
            )
            ids.append(job.id)
        uow.commit()
    return ids


def _queue(ctx, *due_at: datetime) -> list[str]:
    """One pending outbox row per instant, due then; their ids in that order."""
    ids = []
    for n, at in enumerate(due_at):
        with ctx.uow() as uow:
            ids.append(notify(uow, "sms", f"+2250701{n:06d}", None, f"message {n}", at).id)
            uow.commit()
    return ids


def _rows(ctx, table: Any) -> dict[str, Any]:
    with ctx.engine.connect() as connection:
        return {row.id: row._asdict() for row in connection.execute(select(table))}


def _claim_jobs(ctx, limit: int, worker: str = "w1") -> tuple[list[Any], list[str]]:
    """The jobs claimed at START in one committed transaction, and the statements the claim sent."""
    with ctx.uow() as uow:
        with statements(ctx.engine) as sent:
            jobs = uow.jobs.claim(worker, START, LEASE, limit)
        uow.commit()
    return jobs, sent


def _claim_rows(ctx, batch: int) -> tuple[list[Any], list[str]]:
    with ctx.uow() as uow:
        with statements(ctx.engine) as sent:
            claimed = uow.outbox.claim(START, batch, START + LEASE)
        uow.commit()
    return claimed, sent


def test_a_claim_of_three_due_jobs_out_of_five_is_one_statement_and_takes_the_three_oldest(ctx) -> None:
    minutes = [3, 5, 1, 4, 2]  # written in this order, due so many minutes ago
    ids = dict(zip(minutes, _add_jobs(ctx, *(START - timedelta(minutes=m) for m in minutes)), strict=True))
    before = _rows(ctx, J)
    jobs, sent = _claim_jobs(ctx, 3)
    assert len(sent) == 1, sent
    assert sent[0].lstrip().startswith(("UPDATE", "WITH")), sent
    assert [job.id for job in jobs] == [ids[5], ids[4], ids[3]]  # the oldest due first
    assert [(job.status, job.attempts) for job in jobs] == [(JobStatus.RUNNING, 1)] * 3
    after = _rows(ctx, J)
    for job_id in (ids[5], ids[4], ids[3]):
        claim = {"status": "running", "attempts": 1, "locked_by": "w1", "locked_until": START + LEASE}
        assert after[job_id] == before[job_id] | claim  # and nothing else changed
    for job_id in (ids[2], ids[1]):
        assert after[job_id] == before[job_id]  # untouched: still pending, no attempt, no lease
        assert (after[job_id]["status"], after[job_id]["attempts"], after[job_id]["locked_by"]) == ("pending", 0, None)


def test_an_empty_poll_of_jobs_is_one_statement_and_changes_nothing(ctx) -> None:
    _add_jobs(ctx, START + timedelta(minutes=1), START + timedelta(minutes=2))  # not due yet
    before = _rows(ctx, J)
    jobs, sent = _claim_jobs(ctx, 3)
    assert jobs == []
    assert len(sent) == 1, sent
    assert _rows(ctx, J) == before


def test_a_claim_of_three_among_hundreds_of_due_jobs_changes_three(ctx) -> None:
    """The claim's subquery runs once: the UPDATE changes no more rows than its LIMIT, whatever the plan."""
    _add_jobs(ctx, *(START - timedelta(seconds=300 - n) for n in range(300)))
    jobs, sent = _claim_jobs(ctx, 3)
    assert len(sent) == 1
    assert [job.payload["n"] for job in jobs] == [0, 1, 2]
    statuses = [row["status"] for row in _rows(ctx, J).values()]
    assert (statuses.count("running"), statuses.count("pending")) == (3, 297)


def test_a_claim_of_the_oldest_due_outbox_rows_is_one_statement_and_leaves_the_rest(ctx) -> None:
    minutes = [3, 5, 1, 4, 2, 6]
    ids = dict(zip(minutes, _queue(ctx, *(START - timedelta(minutes=m) for m in minutes)), strict=True))
    with ctx.engine.begin() as connection:  # the oldest of all, but no longer pending: never claimed
        connection.execute(update(N).where(N.c.id == ids[6]).values(status="sent", sent_at=START))
    before = _rows(ctx, N)
    claimed, sent = _claim_rows(ctx, 3)
    assert len(sent) == 1, sent
    assert [n.id for n in claimed] == [ids[5], ids[4], ids[3]]
    after = _rows(ctx, N)
    for message_id in (ids[5], ids[4], ids[3]):
        lease = {"status": "pending", "attempts": 1, "next_attempt_at": START + LEASE}
        assert after[message_id] == before[message_id] | lease  # and nothing else changed
    for message_id in (ids[2], ids[1], ids[6]):
        assert after[message_id] == before[message_id]
    assert after[ids[6]]["status"] == "sent"


def test_an_empty_poll_of_the_outbox_is_one_statement_and_changes_nothing(ctx) -> None:
    ids = _queue(ctx, START - timedelta(minutes=1), START + timedelta(minutes=1))
    with ctx.engine.begin() as connection:
        connection.execute(update(N).where(N.c.id == ids[0]).values(status="failed", next_attempt_at=None))
    before = _rows(ctx, N)
    claimed, sent = _claim_rows(ctx, 3)
    assert claimed == []
    assert len(sent) == 1, sent
    assert _rows(ctx, N) == before


def test_a_claim_of_three_among_hundreds_of_due_outbox_rows_changes_three(ctx) -> None:
    with ctx.uow() as uow:
        ids = [
            notify(uow, "sms", "+2250701020304", None, f"message {n}", START - timedelta(seconds=300 - n)).id
            for n in range(300)
        ]
        uow.commit()
    claimed, sent = _claim_rows(ctx, 3)
    assert len(sent) == 1
    assert [n.id for n in claimed] == ids[:3]
    attempts = [row["attempts"] for row in _rows(ctx, N).values()]
    assert (attempts.count(1), attempts.count(0)) == (3, 297)


@contextmanager
def _locked_elsewhere(ctx, table: Any, row_id: str) -> Iterator[Connection]:
    """Another transaction holding `row_id` locked (`SELECT … FOR UPDATE`) until the block ends."""
    with ctx.engine.connect() as connection, connection.begin() as transaction:
        assert connection.execute(select(table.c.id).where(table.c.id == row_id).with_for_update()).scalar() == row_id
        yield connection
        transaction.rollback()


@pytest.fixture
def on_postgresql(ctx) -> None:
    if ctx.engine.dialect.name != "postgresql":
        pytest.skip("PostgreSQL only: SQLite has no row locks (its writers are serialised)")


@pytest.mark.usefixtures("on_postgresql")
def test_a_job_another_transaction_holds_locked_is_skipped_for_the_next_due_one(ctx) -> None:
    oldest, second, third = _add_jobs(ctx, *(START - timedelta(minutes=m) for m in (3, 2, 1)))
    with _locked_elsewhere(ctx, J, oldest):
        jobs, sent = _claim_jobs(ctx, 2)
    assert len(sent) == 1
    assert [job.id for job in jobs] == [second, third]
    after = _rows(ctx, J)
    assert (after[oldest]["status"], after[oldest]["attempts"], after[oldest]["locked_by"]) == ("pending", 0, None)
    jobs, _ = _claim_jobs(ctx, 2, worker="w2")  # once released, the next claim takes it
    assert [job.id for job in jobs] == [oldest]


@pytest.mark.usefixtures("on_postgresql")
def test_an_outbox_row_another_transaction_holds_locked_is_skipped_for_the_next_due_one(ctx) -> None:
    oldest, second, third = _queue(ctx, *(START - timedelta(minutes=m) for m in (3, 2, 1)))
    with _locked_elsewhere(ctx, N, oldest):
        claimed, sent = _claim_rows(ctx, 2)
    assert len(sent) == 1
    assert [n.id for n in claimed] == [second, third]
    assert _rows(ctx, N)[oldest]["attempts"] == 0


# Settling a round: what a worker or deliverer finished, in one statement


def _one_statement(sent: list[str]) -> None:
    """One statement for the round, which the driver runs for each row (an executemany)."""
    assert len(sent) == 1, sent
    assert sent[0].lstrip().startswith("UPDATE")


def test_a_rounds_messages_are_marked_sent_in_one_statement_each_at_its_own_instant(ctx) -> None:
    ids = _queue(ctx, *(START - timedelta(minutes=m) for m in (4, 3, 2, 1)))
    claimed, _ = _claim_rows(ctx, 3)
    assert [n.id for n in claimed] == ids[:3]
    with ctx.engine.begin() as connection:  # the third's lease ran out and another deliverer claimed it again
        connection.execute(update(N).where(N.c.id == ids[2]).values(attempts=2))
    before = _rows(ctx, N)
    instants = [START + timedelta(seconds=s) for s in (1, 2, 3)]
    with ctx.uow() as uow:
        with statements(ctx.engine) as sent:
            recorded = uow.outbox.sent(list(zip(claimed, instants, strict=True)))
        uow.commit()
    assert recorded == 2
    _one_statement(sent)
    after = _rows(ctx, N)
    for message_id, at in zip(ids[:2], instants, strict=False):
        assert after[message_id] == before[message_id] | {"status": "sent", "sent_at": at, "next_attempt_at": None}
    assert after[ids[2]] == before[ids[2]]  # the other deliverer's claim stands
    assert after[ids[3]] == before[ids[3]]  # never claimed
    assert (after[ids[3]]["status"], after[ids[3]]["attempts"]) == ("pending", 0)


def test_a_rounds_jobs_are_marked_succeeded_in_one_statement_and_a_lost_lease_is_told(ctx) -> None:
    ids = _add_jobs(ctx, *(START - timedelta(minutes=m) for m in (4, 3, 2, 1)))
    jobs, _ = _claim_jobs(ctx, 3)
    assert [job.id for job in jobs] == ids[:3]
    with ctx.engine.begin() as connection:
        connection.execute(update(J).where(J.c.id == ids[1]).values(work_order_id="WO-asked-before"))
        connection.execute(update(J).where(J.c.id == ids[2]).values(locked_by="w2"))  # its lease went to w2
    before = _rows(ctx, J)
    done_at = START + timedelta(seconds=5)
    with ctx.uow() as uow:
        with statements(ctx.engine) as sent:
            all_held = uow.jobs.succeed_all([(ids[0], "WO-1"), (ids[1], None), (ids[2], "WO-3")], "w1", done_at)
        uow.commit()
    assert all_held is False  # two of three: the caller records each on its own (`Provisioner._record_succeeded`)
    _one_statement(sent)
    after = _rows(ctx, J)
    done = {"status": "succeeded", "finished_at": done_at, "locked_by": None, "locked_until": None}
    assert after[ids[0]] == before[ids[0]] | done | {"work_order_id": "WO-1"}
    assert after[ids[1]] == before[ids[1]] | done  # no order given: the one asked before is kept
    assert after[ids[1]]["work_order_id"] == "WO-asked-before"
    assert after[ids[2]] == before[ids[2]]  # w2's
    assert after[ids[3]] == before[ids[3]]
    with ctx.uow() as uow:
        assert uow.jobs.succeed_all([(ids[2], None), (ids[3], None)], "w1", done_at) is False  # neither is w1's
        assert uow.jobs.succeed_all([(ids[2], None)], "w2", done_at) is True
        uow.commit()
