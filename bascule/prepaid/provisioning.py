"""A profile migration and the charging system: the job that sets the profile there, and its outcome.

The migration is effective in Bascule at once (the seed: "immediate"); the charging system is told
through a provisioning job written in the same transaction. If it finally refuses, the operator sees
it in the audit trail of the line (and in the jobs' metrics) to act on it.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from bascule.audit.trail import record
from bascule.context import Context
from bascule.identity.model import SYSTEM, Channel
from bascule.prepaid.ports import PrepaidUnit as Unit
from bascule.provisioning.model import CHARGING_SYSTEM, JobSpec, Operation

Ctx = Context[Unit]  # the context as these use cases see it: their ports, no database


def push_profile(ctx: Ctx, uow: Unit, msisdn: str, profile_id: str, now: datetime) -> None:
    uow.jobs.add(
        [JobSpec(CHARGING_SYSTEM, Operation.SET_PROFILE, {"msisdn": msisdn, "profile_id": profile_id})],
        subject=("subscriber", msisdn),
        change_request_id=None,
        max_attempts=ctx.provisioning_max_attempts,
        now=now,
    )


def on_job_succeeded(ctx: Ctx, uow: Unit, job: Any, error: str | None) -> None:
    record(
        uow,
        at=ctx.clock.now(),
        actor=SYSTEM,
        channel=Channel.SYSTEM,
        entity=("subscriber", job.subject_id),
        action="profile.provisioned",
        after={"profile_id": job.payload.get("profile_id"), "job_id": job.id},
    )


def on_job_failed(ctx: Ctx, uow: Unit, job: Any, error: str | None) -> None:
    record(
        uow,
        at=ctx.clock.now(),
        actor=SYSTEM,
        channel=Channel.SYSTEM,
        entity=("subscriber", job.subject_id),
        action="profile.provisioning_failed",
        after={"profile_id": job.payload.get("profile_id"), "job_id": job.id, "error": error},
    )


def retry_wanted(uow: Unit, job: Any) -> str | None:
    """A failed profile job is worth retrying while the line still has that profile."""
    subscriber = uow.subscribers.get(job.subject_id)
    if subscriber is None or subscriber.profile_id != job.payload.get("profile_id"):
        return "profile-changed-since"
    return None
