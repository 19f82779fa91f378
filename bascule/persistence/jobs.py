"""Provisioning jobs: written in the change's transaction, claimed by workers with a lease.

A claim is one statement: an UPDATE of the due jobs a subquery picks, oldest first, returning them; on
PostgreSQL that subquery (a materialized CTE, `statements.picked`) locks them `FOR UPDATE SKIP LOCKED`, so
concurrent workers never take the same job; SQLite serialises writers already. A worker that dies leaves its
jobs `running` until the lease ends, then any worker takes them again; the operator's idempotency key (the job
id) makes that safe.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import Row, and_, bindparam, exists, func, insert, or_, select, update

from bascule.kernel.ids import new_id
from bascule.persistence import tables as t
from bascule.persistence.compiled import hold_condition, run_many, written_in
from bascule.persistence.statements import _Deferring, picked
from bascule.provisioning.model import Job, JobSpec, JobStatus, Operation
from bascule.provisioning.ports import FailedJob

J = t.provisioning_jobs
_INSERT = insert(J)


def _job(row: Row[Any]) -> Job:
    return Job(
        id=row.id,
        change_request_id=row.change_request_id,
        subject_kind=row.subject_kind,
        subject_id=row.subject_id,
        network=row.network,
        operation=Operation(row.operation),
        payload=row.payload,
        status=JobStatus(row.status),
        attempts=row.attempts,
        max_attempts=row.max_attempts,
        next_attempt_at=row.next_attempt_at,
        work_order_id=row.work_order_id,
    )


class Jobs(_Deferring):
    _insert = _INSERT

    def add(
        self,
        specs: Sequence[JobSpec],
        *,
        subject: tuple[str, str],
        change_request_id: str | None,
        max_attempts: int,
        now: datetime,
        leased_to: str | None = None,
        lease: timedelta = timedelta(0),
    ) -> list[Job]:
        """`leased_to`: written already claimed by that worker (a confirmation that asks the networks at once
        once it has committed), as a claim would leave them: running, one attempt, locked until the lease ends."""
        jobs = [
            Job(
                id=new_id("job"),
                change_request_id=change_request_id,
                subject_kind=subject[0],
                subject_id=subject[1],
                network=spec.network,
                operation=spec.operation,
                payload=spec.payload,
                status=JobStatus.PENDING if leased_to is None else JobStatus.RUNNING,
                attempts=0 if leased_to is None else 1,
                max_attempts=max_attempts,
                next_attempt_at=now,
                work_order_id=None,
            )
            for spec in specs
        ]
        if jobs:
            self._append_all(
                [
                    {
                        "id": job.id,
                        "change_request_id": change_request_id,
                        "subject_kind": subject[0],
                        "subject_id": subject[1],
                        "network": job.network,
                        "operation": job.operation.value,
                        "payload": job.payload,
                        "status": job.status.value,
                        "attempts": job.attempts,
                        "max_attempts": max_attempts,
                        "next_attempt_at": now,
                        "created_at": now,
                        "locked_by": leased_to,
                        "locked_until": None if leased_to is None else now + lease,
                        "depends_on": jobs[index - 1].id if spec.after_previous and index else None,
                    }
                    for index, (job, spec) in enumerate(zip(jobs, specs, strict=True))
                ],
            )
        return jobs

    def succeed_all(self, done: Sequence[tuple[str, str | None]], worker: str, now: datetime) -> bool:
        """Jobs (id, work order) this worker holds, all succeeded, in one statement; False if a lease was lost."""
        rows = [
            {"job_id": job_id, "worker": worker, "now": now, "work_order_id": work_order} for job_id, work_order in done
        ]
        if len(rows) == 1:
            return bool(self._run(_SUCCEED_HELD, rows[0]).rowcount == 1)
        return run_many(self.connection, _SUCCEED_HELD, rows) == len(rows)

    def succeed_or_refuse(
        self, done: Sequence[tuple[str, str | None]], worker: str, now: datetime, refusal: Exception
    ) -> None:
        """`succeed_all`, or `refusal` raised when a lease was lost. One job, in a unit holding its writes for an
        answer (`compiled.start_holding`): it waits for the next statement and goes in it (the request it completes:
        `ChangeRequests.complete`), and `refusal` is raised there, the unit to roll back."""
        if len(done) == 1:
            (job_id, work_order), *_ = done
            params = {"job_id": job_id, "worker": worker, "now": now, "work_order_id": work_order}
            hold_condition(self.connection, _SUCCEED_HELD_SAYING, params, refusal)
        elif not self.succeed_all(done, worker, now):
            raise refusal

    def claim(
        self, worker: str, now: datetime, lease: timedelta, limit: int, change_request_id: str | None = None
    ) -> list[Job]:
        params: dict[str, Any] = {"now": now, "limit": limit, "worker": worker, "locked_until": now + lease}
        if change_request_id is not None:
            params["of_request"] = change_request_id
        rows = self._run(_CLAIM[(self.locks_rows, change_request_id is not None)], params).all()
        return sorted((_job(row) for row in rows), key=lambda job: (job.next_attempt_at, job.id))

    def _mine(self, job_id: str, worker: str) -> Any:
        return and_(J.c.id == job_id, J.c.locked_by == worker, J.c.status == JobStatus.RUNNING.value)

    def succeed(self, job_id: str, worker: str, now: datetime, work_order_id: str | None = None) -> bool:
        """False when the lease was lost meanwhile: another worker owns the job now."""
        return self.succeed_all([(job_id, work_order_id)], worker, now)

    def fail(self, job_id: str, worker: str, now: datetime, error: str, work_order_id: str | None = None) -> bool:
        values = _with_work_order(
            {
                "status": JobStatus.FAILED.value,
                "finished_at": now,
                "last_error": error[:2000],
                "locked_by": None,
                "locked_until": None,
            },
            work_order_id,
        )
        return self.connection.execute(update(J).where(self._mine(job_id, worker)).values(**values)).rowcount == 1

    def retry_at(
        self,
        job_id: str,
        worker: str,
        at: datetime,
        error: str | None,
        *,
        counts: bool = True,
        work_order_id: str | None = None,
    ) -> bool:
        """Back to pending until `at`; a work order still in progress at the operator does not count as a try."""
        values = _with_work_order(
            {"status": JobStatus.PENDING.value, "next_attempt_at": at, "locked_by": None, "locked_until": None},
            work_order_id,
        )
        if error is not None:
            values["last_error"] = error[:2000]
        if not counts:
            values["attempts"] = J.c.attempts - 1
        return self.connection.execute(update(J).where(self._mine(job_id, worker)).values(**values)).rowcount == 1

    def abandon_request(self, change_request_id: str, now: datetime, reason: str) -> None:
        """A failed request's other jobs will not run (a running one finds its request failed and stops)."""
        self.connection.execute(
            update(J)
            .where(J.c.change_request_id == change_request_id, J.c.status == JobStatus.PENDING.value)
            .values(status=JobStatus.FAILED.value, finished_at=now, last_error=reason)
        )

    def of_request(self, change_request_id: str) -> list[Job]:
        query = select(J).where(J.c.change_request_id == change_request_id).order_by(J.c.created_at, J.c.id)
        return [_job(row) for row in self.connection.execute(query)]

    def get(self, job_id: str) -> Job | None:
        row = self.connection.execute(select(J).where(J.c.id == job_id)).first()
        return None if row is None else _job(row)

    def failed_page(self, after: tuple[datetime, str] | None, limit: int) -> list[FailedJob]:
        """Failed jobs, the latest failure first, a keyset on (finished_at, id) read through a partial index."""
        query = select(J).where(J.c.status == JobStatus.FAILED.value)
        if after is not None:
            query = query.where(or_(J.c.finished_at < after[0], and_(J.c.finished_at == after[0], J.c.id < after[1])))
        query = query.order_by(J.c.finished_at.desc(), J.c.id.desc()).limit(limit)
        return [FailedJob(_job(row), row.finished_at, row.last_error) for row in self.connection.execute(query)]

    def requeue_failed(self, job_id: str, now: datetime) -> bool:
        """A failed job back in the queue with all its tries, due now; False when it was not failed (any more)."""
        return (
            self.connection.execute(
                update(J)
                .where(J.c.id == job_id, J.c.status == JobStatus.FAILED.value)
                .values(
                    status=JobStatus.PENDING.value,
                    attempts=0,
                    next_attempt_at=now,
                    finished_at=None,
                    locked_by=None,
                    locked_until=None,
                )
            ).rowcount
            == 1
        )

    def counts(self) -> dict[str, int]:
        rows = self.connection.execute(select(J.c.status, func.count()).group_by(J.c.status)).all()
        return {status: int(count) for status, count in rows}


def _due(*, locks: bool, of_one_request: bool) -> Any:
    """The jobs a worker may claim now (ready, due or their lease ended), oldest first; built once per shape."""
    prerequisite = J.alias("prerequisite")
    ready = or_(
        J.c.depends_on.is_(None),
        exists().where(prerequisite.c.id == J.c.depends_on, prerequisite.c.status == JobStatus.SUCCEEDED.value),
    )
    now: Any = bindparam("now")
    due = and_(
        ready,
        or_(
            and_(J.c.status == written_in(JobStatus.PENDING.value), J.c.next_attempt_at <= now),
            and_(J.c.status == written_in(JobStatus.RUNNING.value), J.c.locked_until < now),
        ),
    )
    query = select(J.c.id).where(due).order_by(J.c.next_attempt_at, J.c.id).limit(bindparam("limit"))
    if of_one_request:
        query = query.where(J.c.change_request_id == bindparam("of_request"))
    return query.with_for_update(skip_locked=True) if locks else query


def _claiming(*, locks: bool, of_one_request: bool) -> Any:
    """The claim of the due jobs (`limit` of them, oldest first) in one statement, returning them; built once
    per shape. The subquery runs once, so it locks, and the UPDATE changes, `limit` jobs at most (`picked`)."""
    return (
        update(J)
        .where(J.c.id.in_(picked(_due(locks=locks, of_one_request=of_one_request), locks=locks)))
        .values(
            status=JobStatus.RUNNING.value,
            locked_by=bindparam("worker"),
            locked_until=bindparam("locked_until"),
            attempts=J.c.attempts + 1,
        )
        .returning(*J.c)
    )


_CLAIM = {(locks, one): _claiming(locks=locks, of_one_request=one) for locks in (False, True) for one in (False, True)}
_SUCCEED_HELD = (
    update(J)
    .where(J.c.id == bindparam("job_id"), J.c.locked_by == bindparam("worker"), J.c.status == JobStatus.RUNNING.value)
    .values(
        status=JobStatus.SUCCEEDED.value,
        finished_at=bindparam("now"),
        locked_by=None,
        locked_until=None,
        work_order_id=func.coalesce(bindparam("work_order_id"), J.c.work_order_id),
    )
)

_SUCCEED_HELD_SAYING = _SUCCEED_HELD.returning(J.c.id)  # a row when it succeeded: a held condition


def _with_work_order(values: dict[str, Any], work_order_id: str | None) -> dict[str, Any]:
    """The operator's work-order id is kept with the outcome, so that a retry asks after the same order."""
    return values if work_order_id is None else values | {"work_order_id": work_order_id}
