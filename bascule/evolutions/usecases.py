"""Change requests ("demandes d'évolution"): quote, create, confirm with identity, cancel, read."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, replace
from datetime import datetime
from typing import Any

from bascule.audit.trail import record
from bascule.catalog.model import Catalog, PlanKind
from bascule.catalog.pinning import PRICED_WITH, prices_used, with_prices
from bascule.context import Context
from bascule.evolutions.lifecycle import RequestStatus
from bascule.evolutions.model import ChangeRequest, Service
from bascule.evolutions.ports import EvolutionsUnit as Unit
from bascule.evolutions.provisioning import complete, move_request, tell_managers, write_jobs
from bascule.evolutions.quota import Bucket, BucketKind, carried_over_bytes
from bascule.evolutions.rules import (
    SLOT_SCOPE,
    Quote,
    RequestedChanges,
    ServiceState,
    Target,
    allowance_bytes,
    monthly_slot_refusal,
    quote,
    resolve,
)
from bascule.evolutions.services import account_zone, apply_status, current_service, save_line
from bascule.identity.model import Channel, Principal
from bascule.identity.usecases import confirm_identity
from bascule.kernel.calendar import Period, local_date, zone
from bascule.kernel.errors import DomainError, ErrorCode
from bascule.kernel.ids import new_id
from bascule.kernel.limits import Limited, monthly_limit_reached
from bascule.notifications import wording
from bascule.provisioning.model import Job, JobStatus

Ctx = Context[Unit]  # the context as these use cases see it: their ports, no database


def quote_as_json(value: Quote) -> dict[str, Any]:
    return {
        "charges": [
            {"kind": line.kind.value, "description": line.description, "amount": line.amount.as_json()}
            for line in value.charges
        ],
        "total": value.total.as_json(),
        "quota_after_bytes": value.quota_after_bytes,
        "notice": value.notice,
    }


def _price_lines(quote: dict[str, Any]) -> list[tuple[str, str, str]]:
    return [(line["kind"], line["amount"]["amount"], line["amount"]["currency"]) for line in quote["charges"]]


def _state(catalog: Catalog, uow: Unit, service: Service, now: datetime) -> ServiceState:
    return ServiceState(
        plan=catalog.plan(service.plan_id),
        network=service.network,
        apn=service.apn,
        ceiling_bytes=service.ceiling_bytes,
        buckets=tuple(uow.buckets.open_at(service.id, now)),
    )


def _visible_service(
    uow: Unit, actor: Principal, service_id: str, *, lock: bool, at: datetime | None = None
) -> Service:
    service = uow.services.lock(service_id, at) if lock else uow.services.get(service_id)
    if service is None or not actor.may_see_account(service.account_id):
        raise DomainError(ErrorCode.NOT_FOUND, what="service")
    return service


def _limit_reached(ctx: Ctx, period: Period) -> DomainError:
    return monthly_limit_reached(ctx.catalog.b2b.monthly_change_limit, period, Limited.CHANGE_REQUEST)


def _priced(
    ctx: Ctx, uow: Unit, service: Service, changes: RequestedChanges, now: datetime, catalog: Catalog | None = None
) -> tuple[Target, Quote, Period, ServiceState]:
    """Priced on the catalogue in force, or on `catalog` (the prices a request was quoted with)."""
    catalog = catalog or ctx.catalog
    tz = zone(account_zone(uow, service.account_id))
    period = Period.at(now, tz)
    state = _state(catalog, uow, service, now)
    target = resolve(changes, state, catalog)
    return target, quote(target, state, local_date(now, tz), period, catalog), period, state


def quote_change(ctx: Ctx, actor: Principal, service_id: str, changes: RequestedChanges) -> Quote:
    """The price and quota of a change, now; nothing is stored."""
    now = ctx.clock.now()
    with ctx.uow() as uow:  # a write unit so a turned month opens its cycle first; never committed
        service = current_service(ctx, uow, _visible_service(uow, actor, service_id, lock=True, at=now), now)
        return _priced(ctx, uow, service, changes, now)[1]


def create_change_request(
    ctx: Ctx, actor: Principal, channel: Channel, service_id: str, changes: RequestedChanges
) -> ChangeRequest:
    now = ctx.clock.now()
    with ctx.uow() as uow:
        with uow.appends_deferred():  # the request and its audit row, together
            request = open_change_request(ctx, uow, actor, channel, service_id, changes, now)
        uow.commit()
    return request


def open_change_request(
    ctx: Ctx, uow: Unit, actor: Principal, channel: Channel, service_id: str, changes: RequestedChanges, now: datetime
) -> ChangeRequest:
    """A new request, quoted and awaiting confirmation, in the caller's unit of work (which commits it)."""
    service = _visible_service(uow, actor, service_id, lock=True, at=now)
    actor.require_change_right()
    service = current_service(ctx, uow, service, now)
    target, priced, period, state = _priced(ctx, uow, service, changes, now)
    # Early, friendly refusal; the slot itself is only taken, atomically, at confirmation.
    refusal = monthly_slot_refusal(
        ctx.catalog.b2b.monthly_change_limit, uow.slots.used(SLOT_SCOPE, service.id, str(period)), period
    )
    if refusal is not None:
        raise refusal
    request = ChangeRequest(
        id=new_id("chr"),
        service_id=service.id,
        account_id=service.account_id,
        status=RequestStatus.AWAITING_CONFIRMATION,
        changes=changes.as_dict(),
        quote={**quote_as_json(priced), PRICED_WITH: prices_used(ctx.catalog, state.plan, target.plan)},
        channel=channel.value,
        actor_kind=actor.kind.value,
        actor_id=actor.audit_id,
        slot_period=None,
        created_at=now,
    )
    uow.change_requests.add(request)
    record(
        uow,
        at=now,
        actor=actor,
        channel=channel,
        entity=("change_request", request.id),
        customer=("account", request.account_id),
        action="change_request.created",
        after={"status": request.status.value, "changes": request.changes, "items": list(target.items)},
    )
    return request


def _apply_buckets(
    uow: Unit, ctx: Ctx, service: Service, target: Target, state: ServiceState, period: Period, now: datetime
) -> tuple[list[str], list[str]]:
    """Moves the cycle's buckets to the new plan; returns the ids it closed and the ids it opened."""
    tz = zone(account_zone(uow, service.account_id))
    end = period.end_instant(tz)
    if target.plan.kind is PlanKind.METERED:
        if "ceiling_bytes" in target.items:
            for bucket in state.buckets:
                if bucket.kind is BucketKind.ALLOWANCE:
                    uow.buckets.set_total(bucket.id, target.ceiling_bytes or 0)
        return [], []
    if not target.changes_volume:
        return [], []
    buckets = list(state.buckets)
    carried = carried_over_bytes(buckets)
    closed = [b.id for b in buckets if b.kind in (BucketKind.ALLOWANCE, BucketKind.CARRYOVER)]
    uow.buckets.close(closed, now)
    opened = []
    if carried:
        carry = Bucket(new_id("bkt"), BucketKind.CARRYOVER, carried, 0, now, end)
        uow.buckets.add(service.id, str(period), carry)
        opened.append(carry.id)
    new_service = replace(service, plan_id=target.plan.id)
    allowance = Bucket(new_id("bkt"), BucketKind.ALLOWANCE, allowance_bytes(target.plan, new_service), 0, now, end)
    uow.buckets.add(service.id, str(period), allowance)
    opened.append(allowance.id)
    return closed, opened


def _apply(
    ctx: Ctx,
    uow: Unit,
    actor: Principal,
    channel: Channel,
    service: Service,
    target: Target,
    priced: Quote,
    state: ServiceState,
    period: Period,
    request: ChangeRequest,
    now: datetime,
) -> tuple[Service, dict[str, Any]]:
    """Applies the change, priced on `state`, at once; returns the new service and what a failure would put back."""
    closed, opened = _apply_buckets(uow, ctx, service, target, state, period, now)
    snapshot = {**service.audit_view(), "closed_buckets": closed, "opened_buckets": opened}
    changed = replace(
        service, plan_id=target.plan.id, network=target.network, apn=target.apn, ceiling_bytes=target.ceiling_bytes
    )
    save_line(uow, service, changed, "service.changed", now, actor, channel)
    for line in priced.charges:
        uow.charges.add(
            account_id=service.account_id,
            service_id=service.id,
            period=str(period),
            kind=line.kind.value,
            description=line.description,
            amount=line.amount,
            at=now,
            change_request_id=request.id,
        )
    unchanged = None if closed or opened or "ceiling_bytes" in target.items else state.buckets
    return apply_status(ctx, uow, changed, now, actor, channel, unchanged), snapshot


_move = move_request


@dataclass(frozen=True, slots=True)
class Confirmed:
    """A confirmed request, and the network jobs this process holds for it (`await_networks` asks them)."""

    request: ChangeRequest
    leased: tuple[Job, ...] = ()


def confirm_change_request(
    ctx: Ctx, actor: Principal, channel: Channel, request_id: str, password: str | None
) -> Confirmed:
    """Identity first (a customer re-enters the password), then `confirm_as_identified`. The networks are
    asked once this has committed: `await_networks`."""
    if not actor.is_operator:  # an unknown request is "not found" before the password is looked at
        with ctx.uow(write=False) as uow:
            existing = uow.change_requests.get(request_id)
        if existing is None or not actor.may_see_account(existing.account_id):
            raise DomainError(ErrorCode.NOT_FOUND, what="change_request")
        actor.require_change_right()
        confirm_identity(ctx, actor, password)
    return confirm_as_identified(ctx, actor, channel, request_id)


def confirm_as_identified(ctx: Ctx, actor: Principal, channel: Channel, request_id: str) -> Confirmed:
    """The confirmation of a request once the caller has confirmed the actor's identity, in one unit of work:
    take the month's slot, apply, charge, write the network jobs (or complete)."""
    now = ctx.clock.now()
    with ctx.uow() as uow:
        confirmed = confirm_in(ctx, uow, actor, channel, request_id, now)
        uow.commit()
    return confirmed


def confirm_in(ctx: Ctx, uow: Unit, actor: Principal, channel: Channel, request_id: str, now: datetime) -> Confirmed:
    """`confirm_as_identified` in the caller's unit of work (which commits it): a batch confirms a group of
    lines per transaction, each in a savepoint of its own. Its audit rows, notices and jobs are written when it
    ends, together (`UnitOfWork.appends_deferred`)."""
    with uow.appends_deferred():
        return _confirm_in(ctx, uow, actor, channel, request_id, now)


def _confirm_in(ctx: Ctx, uow: Unit, actor: Principal, channel: Channel, request_id: str, now: datetime) -> Confirmed:
    request = uow.change_requests.lock(request_id, at=now)
    if request is None or not actor.may_see_account(request.account_id):
        raise DomainError(ErrorCode.NOT_FOUND, what="change_request")
    actor.require_change_right()
    if request.status is not RequestStatus.AWAITING_CONFIRMATION:
        raise DomainError(ErrorCode.INVALID_STATE, current_status=request.status.value)
    service = current_service(ctx, uow, _visible_service(uow, actor, request.service_id, lock=True), now)
    period = Period.at(now, zone(account_zone(uow, service.account_id)))
    uow.slots.take_or_refuse(
        SLOT_SCOPE, service.id, str(period), ctx.catalog.b2b.monthly_change_limit, _limit_reached(ctx, period)
    )
    try:
        # Priced again at confirmation: only the price the customer was shown may be charged.
        target, priced, period, state = _priced(
            ctx,
            uow,
            service,
            RequestedChanges.from_dict(request.changes),
            now,
            with_prices(ctx.catalog, request.quote.get(PRICED_WITH)),
        )
        if _price_lines(quote_as_json(priced)) != _price_lines(request.quote):
            raise DomainError(ErrorCode.QUOTE_EXPIRED, quoted=request.quote["total"], now_priced=priced.total)
    except DomainError:
        uow.slots.take_held_now()  # the month's limit comes first: a slot seen free but gone refuses here
        raise
    changed, snapshot = _apply(ctx, uow, actor, channel, service, target, priced, state, period, request, now)
    request = _move(
        uow,
        request,
        RequestStatus.PROVISIONING,
        actor,
        channel,
        now,
        confirmed_at=now,
        slot_period=str(period),
        quote=quote_as_json(priced),
        service_before=snapshot,
    )
    jobs = write_jobs(ctx, uow, request, service, changed, target.items, now)
    if not jobs:
        request = complete(uow, ctx.catalog, request, actor, now, msisdn=service.msisdn)
    else:
        tell_managers(uow, ctx.catalog, request, wording.confirmed, now, msisdn=service.msisdn)
    leased = tuple(job for job in jobs if job.status is JobStatus.RUNNING)
    return Confirmed(request, leased)


def await_networks(
    ctx: Ctx,
    confirmed: Confirmed,
    seconds: float | None = None,
    within: Callable[[Unit, ChangeRequest], None] | None = None,
) -> ChangeRequest:
    """Ask the networks now (after the confirmation's commit), so that a fast network gives a `completed`
    answer at once; a slower one gets a moment (the provisioner's own, or `seconds`), then the workers.

    `within` runs in the transaction that records the networks' answer, with the request as it then is."""
    provisioner = ctx.provisioner
    request = confirmed.request
    if provisioner is None or request.status is not RequestStatus.PROVISIONING:
        return request
    latest = [request]

    def read(uow: Unit, completed: object = None) -> None:
        if isinstance(completed, ChangeRequest):  # as the networks' outcome left it, no need to read it back
            latest[0] = completed
        else:
            latest[0] = uow.change_requests.get(request.id) or latest[0]
        if within is not None:
            within(uow, latest[0])

    if confirmed.leased and provisioner.run_leased(list(confirmed.leased), also=read):
        return latest[0]

    def settled() -> bool:  # completed or failed: every job of it has then been run or abandoned
        with ctx.uow(write=False) as uow:
            latest[0] = uow.change_requests.get(request.id) or latest[0]
        return latest[0].status is not RequestStatus.PROVISIONING

    provisioner.run_for_request(request.id, settled, seconds)
    with ctx.uow() as uow:
        read(uow)
        uow.commit()
    return latest[0]


def cancel_change_request(ctx: Ctx, actor: Principal, channel: Channel, request_id: str) -> ChangeRequest:
    now = ctx.clock.now()
    with ctx.uow() as uow:
        request = withdraw_change_request(uow, actor, channel, request_id, now)
        uow.commit()
    return request


def withdraw_change_request(
    uow: Unit, actor: Principal, channel: Channel, request_id: str, now: datetime
) -> ChangeRequest:
    """Cancel a request not confirmed yet, in the caller's unit of work; it never held a slot."""
    request = uow.change_requests.lock(request_id)
    if request is None or not actor.may_see_account(request.account_id):
        raise DomainError(ErrorCode.NOT_FOUND, what="change_request")
    actor.require_change_right()
    return _move(uow, request, RequestStatus.CANCELLED, actor, channel, now, cancelled_at=now)


def get_change_request(ctx: Ctx, actor: Principal, request_id: str) -> ChangeRequest:
    with ctx.uow(write=False) as uow:
        request = uow.change_requests.get(request_id)
    if request is None or not actor.may_see_account(request.account_id):
        raise DomainError(ErrorCode.NOT_FOUND, what="change_request")
    return request


def list_change_requests(
    ctx: Ctx, actor: Principal, service_id: str | None, status: RequestStatus | None
) -> list[ChangeRequest]:
    account_id = actor.business_scope()
    with ctx.uow(write=False) as uow:
        return uow.change_requests.search(account_id, service_id, status.value if status else None)
