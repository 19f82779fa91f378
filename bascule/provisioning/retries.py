"""Failed provisioning jobs, as the operator's supervisors see and retry them.

A retry puts the job back in the queue with all its tries, only while it is still wanted: a Line A job's
request has been put back when its job failed (the customer makes a new request instead), and a prepaid
line's profile job only while the line still has that profile. The feature that owns the job's subject says
(`ctx.job_hooks.retry_wanted`, wired in `bascule.bootstrap`).
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from typing import Any, Protocol

from bascule.audit.ports import AuditUnit
from bascule.audit.trail import record
from bascule.context import Context
from bascule.identity.model import Channel, Principal
from bascule.kernel.errors import DomainError, ErrorCode
from bascule.provisioning.model import Job
from bascule.provisioning.ports import FailedJob, ProvisioningUnit

PAGE_SIZE = 50


class RetryUnit(ProvisioningUnit, AuditUnit, Protocol):
    """The jobs, and the trail that says who put one back in the queue."""


Ctx = Context[RetryUnit]  # the context as these use cases see it: their ports, no database
Wanted = Callable[[Any, Job], str | None]  # None: still wanted; else why not (a reason of INVALID_STATE)


def failed_jobs(
    ctx: Ctx, actor: Principal, after: tuple[datetime, str] | None = None, limit: int = PAGE_SIZE
) -> list[FailedJob]:
    actor.require_operator()
    with ctx.uow(write=False) as uow:
        return uow.jobs.failed_page(after, limit)


def retry_failed_job(ctx: Ctx, actor: Principal, channel: Channel, job_id: str) -> Job:
    actor.require_supervisor()
    now = ctx.clock.now()
    with ctx.uow() as uow:
        job = uow.jobs.get(job_id)
        if job is None:
            raise DomainError(ErrorCode.NOT_FOUND, what="job")
        wanted: Wanted | None = ctx.job_hooks.retry_wanted.get(job.subject_kind)
        reason = None if wanted is None else wanted(uow, job)
        if reason is not None:
            raise DomainError(ErrorCode.INVALID_STATE, reason=reason)
        if not uow.jobs.requeue_failed(job.id, now):
            raise DomainError(ErrorCode.INVALID_STATE, reason="job-not-failed")
        customer = ("subscriber", job.subject_id) if job.subject_kind == "subscriber" else None
        record(
            uow,
            at=now,
            actor=actor,
            channel=channel,
            entity=(job.subject_kind, job.subject_id),
            action="job.retried",
            customer=customer,
            after={"job_id": job.id, "operation": job.operation.value, "network": job.network},
        )
        retried = uow.jobs.get(job.id)
        uow.commit()
    if retried is None:  # requeued in this very transaction, so it is there
        raise DomainError(ErrorCode.NOT_FOUND, what="job")
    return retried
