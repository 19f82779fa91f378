"""The provisioning worker: claims due jobs, calls the networks outside any transaction, records the outcome.

A job's outcome is handed to the feature that owns its subject (registered in `ctx.job_hooks`),
inside the same transaction that marks the job, so a request completes or is reversed exactly once.
"""

from __future__ import annotations

import random
import socket
import threading
import time
import uuid
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import timedelta

import structlog

from bascule.context import Context
from bascule.kernel.upkeep import upkeep_round
from bascule.provisioning.model import Job, backoff
from bascule.provisioning.network import Networks, PermanentNetworkError, TransientNetworkError, WorkOrderState
from bascule.provisioning.ports import ProvisioningUnit

log = structlog.get_logger("bascule.provisioning")

Outcome = Callable[[Context, ProvisioningUnit, Job, str | None], object]


class _LeaseLostError(Exception):
    """A job's lease ran out before its success was recorded: another worker owns the job now."""


@dataclass(frozen=True, slots=True)
class NetworkFault:
    """Why a job is not done yet: a network error, or the work order's state."""

    cause: Exception | WorkOrderState
    work_order: str | None


@dataclass
class WorkerConfig:
    lease: timedelta = timedelta(seconds=60)
    backoff_base: timedelta = timedelta(seconds=2)
    backoff_cap: timedelta = timedelta(minutes=10)
    poll_interval: timedelta = timedelta(seconds=2)
    inline_seconds: float = 3.0
    batch: int = 50
    gather_seconds: float = 0.05  # after a round that found less than a batch: what arrives meanwhile goes together


@dataclass
class Provisioner:
    ctx: Context
    networks: Networks
    config: WorkerConfig = field(default_factory=WorkerConfig)
    worker_id: str = field(default_factory=lambda: f"{socket.gethostname()}-{uuid.uuid4().hex[:8]}")
    draw: Callable[[], float] = random.random

    def _outcomes(self, job: Job) -> tuple[Outcome | None, Outcome | None]:
        hooks: Mapping[str, tuple[Outcome, Outcome]] = self.ctx.job_hooks.outcomes
        return hooks.get(job.subject_kind, (None, None))

    def _all_held_done(self, job: Job) -> Outcome | None:
        """What records a subject all of whose jobs this worker held and did: its owner's hook for that, if it has
        one, else the hook of a job's success."""
        return self.ctx.job_hooks.all_held_done.get(job.subject_kind, self._outcomes(job)[0])

    def run_once(self, change_request_id: str | None = None) -> int:
        """Claim and run the due jobs (of one request, if given); returns how many were run."""
        with self.ctx.uow() as uow:
            jobs = uow.jobs.claim(
                self.worker_id, self.ctx.clock.now(), self.config.lease, self.config.batch, change_request_id
            )
            wanted = [self._still_wanted(uow, job) for job in jobs]  # read in the claim's transaction
            uow.commit()
        seen: set[str] = set()
        succeeded: list[tuple[Job, str]] = []  # jobs of no request, done, recorded together
        for job, wanted_at_claim in zip(jobs, wanted, strict=True):
            if job.change_request_id is None and wanted_at_claim:
                self._run_alone(job, succeeded)
                continue
            self._record_succeeded(succeeded)  # a request's jobs keep their order with every other write
            # An earlier job of the same request in this batch may have failed it meanwhile: ask again.
            still_wanted = self._asked_again(job) if job.change_request_id in seen else wanted_at_claim
            if job.change_request_id is not None:
                seen.add(job.change_request_id)
            if still_wanted:
                self._execute(job)
            else:
                self._finish(job, succeeded=False, error="abandoned: its request is no longer in progress")
        self._record_succeeded(succeeded)
        return len(jobs)

    def _run_alone(self, job: Job, succeeded: list[tuple[Job, str]]) -> None:
        """A job of no request (a line's profile at the charging system): when done, it joins `succeeded`, to be
        recorded with the others; any other outcome is recorded at once, after the successes before it."""
        asked = self._ask(job)
        if not isinstance(asked, str):
            self._record_succeeded(succeeded)
            self._settle_one(job, asked)
            return
        if any((other.subject_kind, other.subject_id) == (job.subject_kind, job.subject_id) for other, _ in succeeded):
            self._record_succeeded(succeeded)  # one job per subject in a group: each hook sees what it saw alone
        succeeded.append((job, asked))

    def _record_succeeded(self, succeeded: list[tuple[Job, str]]) -> None:
        """Jobs done, each of its own subject, in one transaction: their marks in one statement, then each one's
        hook, its rows written together; if a lease ran out meanwhile (seldom), each is recorded on its own."""
        if len(succeeded) > 1 and not self._recorded_together(succeeded):
            for job, work_order in succeeded:
                self._finish(job, succeeded=True, error=None, work_order=work_order)
        elif len(succeeded) == 1:
            self._finish(succeeded[0][0], succeeded=True, error=None, work_order=succeeded[0][1])
        succeeded.clear()

    def _recorded_together(self, succeeded: list[tuple[Job, str]]) -> bool:
        now = self.ctx.clock.now()
        with self.ctx.uow() as uow:
            if not uow.jobs.succeed_all([(job.id, order) for job, order in succeeded], self.worker_id, now):
                return False  # rolled back: recorded one by one, the lost one by the worker that took it over
            with uow.appends_deferred():
                for job, _ in succeeded:
                    on_success = self._outcomes(job)[0]
                    if on_success is not None:
                        on_success(self.ctx, uow, job, None)
            uow.commit()
        for job, _ in succeeded:
            log.info("job_done", job=job.id, network=job.network, error=None)
        return True

    def run_leased(self, jobs: list[Job], also: Callable[[ProvisioningUnit, object], None] | None = None) -> bool:
        # `jobs` are every job of their subject (a confirmation leases them all): when all are done, the owner
        # of the subject may record it from what it knows (`job_hooks.all_held_done`), without reading back.
        """Jobs written already leased to this worker by a command that has just committed: ask the networks
        now. When every network is done at once (the usual case), the jobs and their subject's outcome are
        recorded in one transaction; otherwise each job goes on as a claimed job would. True when all are done."""
        done: list[tuple[Job, str]] = []
        for job in jobs:
            asked = self._ask(job)
            if not isinstance(asked, str):
                self._record_done(done, None)
                self._release(jobs[len(done) + 1 :])
                self._settle_one(job, asked)
                return False
            done.append((job, asked))
        return self._record_done(done, also, all_of_subject=True)

    def run_leased_many(self, subjects: list[list[Job]], deadline: float, group: int = 50) -> None:
        """Several subjects' leased jobs (a batch's lines, each every job of its subject), asked in one pass;
        the subjects whose networks are all done at once are recorded `group` per transaction, each in a
        savepoint (a lost lease undoes that subject only). A subject with a network not done goes on as
        `run_leased` leaves it; those not asked by `deadline` (time.monotonic()) go back to the queue."""
        done_subjects: list[list[tuple[Job, str]]] = []
        for index, jobs in enumerate(subjects):
            if time.monotonic() >= deadline:
                self._release([job for rest in subjects[index:] for job in rest])
                break
            done: list[tuple[Job, str]] = []
            for job in jobs:
                asked = self._ask(job)
                if not isinstance(asked, str):
                    self._record_done(done, None)
                    self._release(jobs[len(done) + 1 :])
                    self._settle_one(job, asked)
                    break
                done.append((job, asked))
            else:
                if done:
                    done_subjects.append(done)
        for start in range(0, len(done_subjects), group):
            self._record_done_many(done_subjects[start : start + group])

    def _record_done_many(self, subjects: list[list[tuple[Job, str]]]) -> None:
        """Every job of the group succeeded in one statement and each subject's outcome recorded; if a lease ran
        out meanwhile (seldom), that is rolled back and each subject is recorded in a savepoint of its own."""
        now = self.ctx.clock.now()
        with self.ctx.uow() as uow:
            if uow.jobs.succeed_all(
                [(job.id, work_order) for done in subjects for job, work_order in done], self.worker_id, now
            ):
                with uow.appends_deferred():
                    for done in subjects:
                        on_success = self._all_held_done(done[-1][0])
                        if on_success is not None:
                            on_success(self.ctx, uow, done[-1][0], None)
                uow.commit()
                return
        with self.ctx.uow() as uow:
            for done in subjects:
                on_success = self._all_held_done(done[-1][0])
                savepoint = uow.connection.begin_nested()
                if not uow.jobs.succeed_all([(job.id, work_order) for job, work_order in done], self.worker_id, now):
                    savepoint.rollback()  # a lease ran out meanwhile: the worker that took the job over records it
                    continue
                if on_success is not None:
                    on_success(self.ctx, uow, done[-1][0], None)
                savepoint.commit()
            uow.commit()

    def _ask(self, job: Job) -> str | NetworkFault:
        """The work order, when the network has done it; else its state or the error."""
        adapter = self.networks[job.network] if job.network in self.networks.names() else None
        work_order = job.work_order_id
        try:
            if adapter is None:
                raise PermanentNetworkError(f"no adapter for network {job.network!r}")
            work_order = work_order or adapter.submit(job.id, job.operation.value, job.payload)
            state = adapter.state(work_order)
        except (TransientNetworkError, PermanentNetworkError) as error:
            return NetworkFault(error, work_order)
        return work_order if state is WorkOrderState.DONE else NetworkFault(state, work_order)

    def _record_done(
        self,
        done: list[tuple[Job, str]],
        also: Callable[[ProvisioningUnit, object], None] | None,
        *,
        all_of_subject: bool = False,
    ) -> bool:
        """`also` runs in the same transaction, once the outcome is recorded (the caller's answer, say), with what
        the subject's outcome hook returned."""
        if not done:
            return False
        on_success = self._all_held_done(done[-1][0]) if all_of_subject else self._outcomes(done[-1][0])[0]
        now = self.ctx.clock.now()
        with self.ctx.uow() as uow:
            if also is not None:
                # The outcome's rows go with what `also` writes (the caller's answer); a job's success goes with
                # the subject's first statement (a request completed).
                uow.hold_writes()
            try:
                uow.jobs.succeed_or_refuse(
                    [(job.id, work_order) for job, work_order in done], self.worker_id, now, _LeaseLostError()
                )
                outcome = None
                if on_success is not None:  # once: the outcome hooks look at every job of the subject
                    with uow.appends_deferred():  # its audit rows and notices in one statement
                        outcome = on_success(self.ctx, uow, done[-1][0], None)
                if also is not None:
                    also(uow, outcome)
                uow.commit()
            except _LeaseLostError:
                return False  # a lease ran out meanwhile: rolled back, the worker that took the job over records it
        return True

    def _release(self, jobs: list[Job]) -> None:
        """Jobs not asked yet go back to the queue at once (not counted as a try)."""
        for job in jobs:
            with self.ctx.uow() as uow:
                uow.jobs.retry_at(job.id, self.worker_id, self.ctx.clock.now(), None, counts=False)
                uow.commit()

    def _settle_one(self, job: Job, fault: NetworkFault) -> None:
        if isinstance(fault.cause, TransientNetworkError):
            self._retry(job, str(fault.cause), fault.work_order)
        elif isinstance(fault.cause, PermanentNetworkError):
            self._finish(job, succeeded=False, error=str(fault.cause), work_order=fault.work_order)
        elif fault.cause is WorkOrderState.FAILED:
            self._finish(
                job,
                succeeded=False,
                error=f"work order {fault.work_order} refused by {job.network}",
                work_order=fault.work_order,
            )
        else:
            with self.ctx.uow() as uow:
                uow.jobs.retry_at(
                    job.id,
                    self.worker_id,
                    self.ctx.clock.now() + self.config.poll_interval,
                    None,
                    counts=False,
                    work_order_id=fault.work_order,
                )
                uow.commit()

    def run_for_request(
        self, change_request_id: str, settled: Callable[[], bool], seconds: float | None = None
    ) -> None:
        """Work on one request's jobs for a moment (a confirmation waits this long for the networks), until
        `settled` says the request is done with."""
        deadline = time.monotonic() + (self.config.inline_seconds if seconds is None else seconds)
        while time.monotonic() < deadline:
            ran = self.run_once(change_request_id)
            if settled():
                return
            if not ran:
                time.sleep(0.02)

    def run_forever(
        self,
        stop: threading.Event,
        idle_seconds: float = 0.5,
        also: Callable[[], object] | None = None,
        idle_at_most: float = 2.0,
    ) -> None:
        """Rounds of work until `stop`: the jobs due, then `also` (the outbox: what it returns, if a number, is
        what it did). A round that found a full batch of jobs is followed by another at once; one that found
        less waits `gather_seconds`, so that the jobs and messages written meanwhile are claimed and recorded
        together: under load, a round's four transactions serve a batch, not a handful (bench/README.md,
        twelfth pass). After an idle round the wait doubles from `idle_seconds` up to `idle_at_most` (a job put
        back is due `poll_interval` later anyway), so that an idle server does not poll its database several
        times a second for nothing."""
        wait = idle_seconds
        while not stop.is_set():
            with upkeep_round() as this_round:  # a round that finds nothing is the worker's own upkeep
                try:
                    jobs = ran = self.run_once()
                    if also is not None:
                        done = also()
                        ran += done if isinstance(done, int) else 0
                except Exception:  # a worker survives a bad round; the jobs stay for the next one
                    log.exception("worker_round_failed", worker=self.worker_id)
                    jobs = ran = 0
                this_round.idle = not ran
            if ran:
                wait = idle_seconds
                if jobs < self.config.batch:
                    stop.wait(self.config.gather_seconds)
                continue
            stop.wait(wait)
            wait = min(wait * 2, idle_at_most)

    def _still_wanted(self, uow: ProvisioningUnit, job: Job) -> bool:
        hooks: dict[str, Callable[[ProvisioningUnit, Job], bool]] = self.ctx.job_hooks.wanted
        wanted = hooks.get(job.subject_kind)
        return True if wanted is None else wanted(uow, job)

    def _asked_again(self, job: Job) -> bool:
        with self.ctx.uow(write=False) as uow:
            return self._still_wanted(uow, job)

    def _execute(self, job: Job) -> None:
        """Submit (once: the job id is the operator's idempotency key) and ask the work order's state; the
        outcome and the work order id are then written in one transaction."""
        asked = self._ask(job)
        if isinstance(asked, str):
            self._finish(job, succeeded=True, error=None, work_order=asked)
        else:
            self._settle_one(job, asked)

    def _retry(self, job: Job, error: str, work_order: str | None) -> None:
        if job.attempts >= job.max_attempts:
            self._finish(job, succeeded=False, error=f"{error} (after {job.attempts} attempts)", work_order=work_order)
            return
        wait = backoff(job.attempts, self.config.backoff_base, self.config.backoff_cap, self.draw())
        with self.ctx.uow() as uow:
            uow.jobs.retry_at(job.id, self.worker_id, self.ctx.clock.now() + wait, error, work_order_id=work_order)
            uow.commit()
        log.info("job_retry", job=job.id, network=job.network, attempt=job.attempts, wait_s=wait.total_seconds())

    def _finish(self, job: Job, *, succeeded: bool, error: str | None, work_order: str | None = None) -> None:
        on_success, on_failure = self._outcomes(job)
        now = self.ctx.clock.now()
        with self.ctx.uow() as uow:
            marked = (
                uow.jobs.succeed(job.id, self.worker_id, now, work_order)
                if succeeded
                else uow.jobs.fail(job.id, self.worker_id, now, error or "failed", work_order)
            )
            if not marked:
                return  # our lease ran out and another worker owns the job: it will finish it
            hook = on_success if succeeded else on_failure
            if hook is not None:
                hook(self.ctx, uow, job, error)
            uow.commit()
        log.info("job_done" if succeeded else "job_failed", job=job.id, network=job.network, error=error)
