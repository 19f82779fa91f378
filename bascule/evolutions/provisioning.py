"""A confirmed change and the networks: its jobs, its completion, and its reversal on final failure.

The change is applied to the service and charged when it is confirmed (its effect is immediate);
the request stays `provisioning` until every network has done its part. If one finally fails, the
request becomes `failed`: the service is put back as it was, the month's slot is given back, every
charge line of the request is reversed by a credit line, and the customer is told.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace
from datetime import datetime, timedelta
from typing import Any

from bascule.audit.trail import record
from bascule.catalog.model import Catalog
from bascule.context import Context
from bascule.evolutions.lifecycle import RequestStatus, move
from bascule.evolutions.model import ChangeRequest, Service
from bascule.evolutions.ports import EvolutionsUnit as Unit
from bascule.evolutions.quota import BucketKind
from bascule.evolutions.rules import SLOT_SCOPE
from bascule.evolutions.services import account_zone, apply_status, save_line
from bascule.identity.model import SYSTEM, Channel, Principal
from bascule.kernel.calendar import Period, zone
from bascule.kernel.messages_fr import REVERSAL_PREFIX, reversal
from bascule.kernel.money import Money
from bascule.notifications import notify, wording
from bascule.provisioning.model import Job, JobStatus, line_jobs

Ctx = Context[Unit]  # the context as these use cases see it: their ports, no database


def write_jobs(
    ctx: Ctx,
    uow: Unit,
    request: ChangeRequest,
    service: Service,
    changed: Service,
    items: tuple[str, ...],
    now: datetime,
) -> list[Job]:
    """The request's network jobs; with a provisioner in this process that confirmations wait for, leased to it
    already, for it asks the networks as soon as the confirmation has committed (`await_networks`)."""
    before = {**service.audit_view(), "radio": ctx.catalog.plan(service.plan_id).radio.value}
    after = {**changed.audit_view(), "radio": ctx.catalog.plan(changed.plan_id).radio.value}
    provisioner = ctx.provisioner
    if provisioner is not None and provisioner.config.inline_seconds <= 0:
        provisioner = None  # confirmations do not wait for the networks here: the workers take the jobs
    return uow.jobs.add(
        line_jobs(service.msisdn, before, after, items),
        subject=("service", service.id),
        change_request_id=request.id,
        max_attempts=ctx.provisioning_max_attempts,
        now=now,
        leased_to=None if provisioner is None else provisioner.worker_id,
        lease=timedelta(0) if provisioner is None else provisioner.config.lease,
    )


def notify_managers(uow: Unit, account_id: str, subject: str, body: str, now: datetime) -> None:
    for email in uow.users.manager_emails(account_id):
        notify(uow, "email", email, subject, body, now)


def tell_managers(
    uow: Unit,
    catalog: Catalog,
    request: ChangeRequest,
    say: Callable[..., wording.Notice],
    now: datetime,
    *details: str,
    msisdn: str | None = None,
) -> None:
    """Tell the account's managers about a request in words: `say` (from `notifications.wording`) names the
    line by its MSISDN (read from the service unless the caller knows it) and the change by its items."""
    if msisdn is None:
        service = uow.services.get(request.service_id)
        msisdn = service.msisdn if service is not None else ""
    notice = say(msisdn, request.changes, catalog, *details)
    notify_managers(uow, request.account_id, notice.subject, notice.body, now)


def move_request(
    uow: Unit,
    request: ChangeRequest,
    status: RequestStatus,
    actor: Principal,
    channel: Channel,
    now: datetime,
    **fields: Any,
) -> ChangeRequest:
    moved = replace(request, status=move(request.status, status), **fields)
    uow.change_requests.save(moved)
    record(
        uow,
        at=now,
        actor=actor,
        channel=channel,
        entity=("change_request", request.id),
        customer=("account", request.account_id),
        action=f"change_request.{status.value}",
        before={"status": request.status.value},
        after={"status": status.value},
    )
    return moved


def complete(
    uow: Unit, catalog: Catalog, request: ChangeRequest, actor: Principal, now: datetime, msisdn: str | None = None
) -> ChangeRequest:
    done = move_request(uow, request, RequestStatus.COMPLETED, actor, Channel.SYSTEM, now, completed_at=now)
    tell_managers(uow, catalog, done, wording.applied, now, msisdn=msisdn)
    return done


def complete_held(ctx: Ctx, uow: Unit, job: Any, error: str | None = None) -> ChangeRequest | None:
    """Every job of the request has just succeeded in this process's hands (its confirmation leased them all):
    complete the request with what is known, without reading it back."""
    now = ctx.clock.now()
    done = uow.change_requests.complete(job.change_request_id, now)
    if done is None:
        return None  # failed or cancelled meanwhile: nothing to complete
    move(RequestStatus.PROVISIONING, RequestStatus.COMPLETED)  # the lifecycle allows it: checked, not assumed
    record(
        uow,
        at=now,
        actor=SYSTEM,
        channel=Channel.SYSTEM,
        entity=("change_request", done.id),
        customer=("account", done.account_id),
        action=f"change_request.{RequestStatus.COMPLETED.value}",
        before={"status": RequestStatus.PROVISIONING.value},
        after={"status": RequestStatus.COMPLETED.value},
    )
    tell_managers(uow, ctx.catalog, done, wording.applied, now, msisdn=job.payload.get("msisdn"))
    return done


def complete_if_done(uow: Unit, catalog: Catalog, request_id: str, now: datetime) -> None:
    """Called when a job succeeds: the request completes once every job of it has."""
    request = uow.change_requests.lock(request_id)
    if request is None or request.status is not RequestStatus.PROVISIONING:
        return
    if all(job.status is JobStatus.SUCCEEDED for job in uow.jobs.of_request(request_id)):
        complete(uow, catalog, request, SYSTEM, now)


def _restore(ctx: Ctx, uow: Unit, request: ChangeRequest, now: datetime) -> None:
    snapshot = request.service_before or {}
    service = uow.services.lock(request.service_id)
    if service is None or not snapshot:
        return
    restored = replace(
        service,
        plan_id=snapshot["plan_id"],
        network=snapshot["network"],
        apn=snapshot["apn"],
        ceiling_bytes=snapshot["ceiling_bytes"],
    )
    uow.buckets.close(snapshot.get("opened_buckets", []), now)
    uow.buckets.reopen(snapshot.get("closed_buckets", []))
    if snapshot["ceiling_bytes"] is not None and snapshot["ceiling_bytes"] != service.ceiling_bytes:
        for bucket in uow.buckets.open_at(service.id, now):
            if bucket.kind is BucketKind.ALLOWANCE:
                uow.buckets.set_total(bucket.id, max(snapshot["ceiling_bytes"], bucket.used_bytes))
    save_line(uow, service, restored, "service.restored", now)
    apply_status(ctx, uow, restored, now, SYSTEM, Channel.SYSTEM)


def _reverse_charges(uow: Unit, request: ChangeRequest, period: Period, now: datetime) -> None:
    for line in uow.charges.of_request(request.id):
        if line.amount.is_zero or line.description.startswith(REVERSAL_PREFIX):
            continue
        uow.charges.add(
            account_id=line.account_id,
            service_id=line.service_id,
            period=str(period),
            kind=line.kind,
            description=reversal(line.description),
            amount=Money(-line.amount.amount, line.amount.currency),
            at=now,
            change_request_id=request.id,
            once_key=f"reversal:{line.id}",
        )


def fail(ctx: Ctx, uow: Unit, request_id: str, reason: str, now: datetime) -> None:
    """Final failure of a network: put everything back and say so."""
    request = uow.change_requests.lock(request_id)
    if request is None or request.status is not RequestStatus.PROVISIONING:
        return
    period = Period.at(now, zone(account_zone(uow, request.account_id)))
    _restore(ctx, uow, request, now)
    if request.slot_period is not None:
        uow.slots.give_back(SLOT_SCOPE, request.service_id, request.slot_period)
    _reverse_charges(uow, request, period, now)
    uow.jobs.abandon_request(request.id, now, "la demande a échoué")
    move_request(uow, request, RequestStatus.FAILED, SYSTEM, Channel.SYSTEM, now, failed_at=now)
    tell_managers(uow, ctx.catalog, request, wording.refused_by_network, now, reason)


def on_job_succeeded(ctx: Ctx, uow: Unit, job: Any, error: str | None) -> None:
    if job.change_request_id is not None:
        complete_if_done(uow, ctx.catalog, job.change_request_id, ctx.clock.now())


def on_job_failed(ctx: Ctx, uow: Unit, job: Any, error: str | None) -> None:
    if job.change_request_id is not None:
        fail(ctx, uow, job.change_request_id, error or "échec réseau", ctx.clock.now())


def job_wanted(uow: Unit, job: Any) -> bool:
    """A job runs only while its request is being provisioned (not after the request failed)."""
    if job.change_request_id is None:
        return True
    request = uow.change_requests.get(job.change_request_id)
    return request is not None and request.status is RequestStatus.PROVISIONING


def retry_wanted(uow: Unit, job: Any) -> str | None:
    """A failed Line A job is never retried: its request was put back (service, slot, charges) when it failed."""
    if job_wanted(uow, job):
        return None
    return "request-failed-and-cancelled"
