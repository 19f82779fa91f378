"""Services of business accounts: created by the operator, read by customers, drawn by usage."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, replace
from datetime import date, datetime, timedelta

from bascule.audit.trail import record
from bascule.catalog.model import Catalog, Plan, PlanKind, require_on_sale
from bascule.context import Context
from bascule.evolutions.model import Service, ServiceStatus
from bascule.evolutions.ports import CYCLE_OPENER, CycleOpener
from bascule.evolutions.ports import EvolutionsUnit as Unit
from bascule.evolutions.quota import Bucket, Quota, draw, exhaustion_status, quota_of, status_for
from bascule.evolutions.rules import SLOT_SCOPE, metered_usage_charge, monthly_slot_refusal, usage_charge_label
from bascule.identity.model import SYSTEM, Channel, Principal
from bascule.kernel.calendar import Period, local_date, zone
from bascule.kernel.errors import DomainError, ErrorCode
from bascule.kernel.ids import new_id
from bascule.kernel.msisdn import require_msisdn

Ctx = Context[Unit]  # the context as these use cases see it: their ports, no database

USAGE_LATEST_ARRIVAL = timedelta(days=400)  # records older than a closed year of billing are refused
BACK_DATING_MONTHS = 12  # a back-dated activation is billed from its month: at most a year of back-billing


@dataclass(frozen=True, slots=True)
class ServiceView:
    service: Service
    plan: Plan
    period: Period
    quota: Quota
    changes_left_this_month: int
    # Why no change request can be made this month (its slot is used), as the use case would refuse it.
    month_refusal: DomainError | None = None


def _account_zone(uow: Unit, account_id: str) -> str:
    account = uow.accounts.get(account_id)
    if account is None:
        raise DomainError(ErrorCode.NOT_FOUND, what="account")
    return account.timezone


def view_of(ctx: Ctx, uow: Unit, service: Service, now: datetime) -> ServiceView:
    tz = zone(_account_zone(uow, service.account_id))
    period = Period.at(now, tz)
    used = uow.slots.used(SLOT_SCOPE, service.id, str(period))
    return ServiceView(
        service=service,
        plan=ctx.catalog.plan(service.plan_id),
        period=period,
        quota=quota_of(uow.buckets.open_at(service.id, now)),
        changes_left_this_month=changes_left(ctx.catalog, used),
        month_refusal=monthly_slot_refusal(ctx.catalog.b2b.monthly_change_limit, used, period),
    )


def changes_left(catalog: Catalog, slots_used: int) -> int:
    """Change requests a line may still confirm this month."""
    return max(0, catalog.b2b.monthly_change_limit - slots_used)


def cycle_opener(ctx: Ctx) -> CycleOpener:
    """Billing's opening of cycles, as `bascule.bootstrap` wired it on the context."""
    opener = ctx.kept.get(CYCLE_OPENER)
    if opener is None:
        raise RuntimeError("no cycle opener on this context: bascule.bootstrap.install_features wires billing's")
    return opener


def _current(ctx: Ctx, uow: Unit, service: Service, now: datetime) -> Service:
    return cycle_opener(ctx).open(uow, ctx.catalog, service, zone(_account_zone(uow, service.account_id)), now)


def refresh_cycles(ctx: Ctx, services: list[Service]) -> None:
    """Open the current cycle of any service whose month has turned since it was last touched."""
    now = ctx.clock.now()
    stale = []
    with ctx.uow(write=False) as uow:
        for service in services:
            period = Period.at(now, zone(_account_zone(uow, service.account_id)))
            if not uow.cycles.is_open(service.id, str(period)):
                stale.append(service.id)
    if not stale:
        return
    with ctx.uow() as uow:
        for service_id in stale:
            locked = uow.services.lock(service_id)
            if locked is not None:
                _current(ctx, uow, locked, now)
        uow.commit()


def create_service(
    ctx: Ctx,
    actor: Principal,
    channel: Channel,
    *,
    account_id: str,
    plan_id: str,
    network: str,
    apn: str,
    msisdn: str,
    activated_on: date | None,
) -> ServiceView:
    actor.require_operator()
    plan = ctx.catalog.plan(plan_id)
    require_on_sale(plan)
    ctx.catalog.network(network)
    ctx.catalog.apn(apn)
    msisdn = require_msisdn(msisdn)
    now = ctx.clock.now()
    with ctx.uow() as uow:
        tz = zone(_account_zone(uow, account_id))
        today = local_date(now, tz)
        start = activated_on or today
        if start > today:
            raise DomainError(ErrorCode.VALIDATION_ERROR, reason="activation-in-future")
        earliest = Period.containing(today).previous_by(BACK_DATING_MONTHS).first_day
        if start < earliest:
            raise DomainError(
                ErrorCode.VALIDATION_ERROR, reason="activation-too-early", earliest=earliest, months=BACK_DATING_MONTHS
            )
        if uow.services.msisdn_taken(msisdn):
            raise DomainError(ErrorCode.CONFLICT, reason="msisdn-has-service")
        ceiling = plan.default_ceiling_bytes if plan.kind is PlanKind.METERED else None
        service = Service(
            new_id("svc"), account_id, msisdn, plan.id, network, apn, ceiling, ServiceStatus.ACTIVE, start
        )
        uow.services.add(service, now)
        record(
            uow,
            at=now,
            actor=actor,
            channel=channel,
            entity=("service", service.id),
            customer=("account", service.account_id),
            action="service.created",
            after=service.audit_view(),
        )
        service = cycle_opener(ctx).open(uow, ctx.catalog, service, tz, now)
        view = view_of(ctx, uow, service, now)
        uow.commit()
    return view


def get_service(ctx: Ctx, actor: Principal, service_id: str) -> ServiceView:
    with ctx.uow(write=False) as uow:
        service = uow.services.get(service_id)
    if service is None or not actor.may_see_account(service.account_id):
        raise DomainError(ErrorCode.NOT_FOUND, what="service")
    refresh_cycles(ctx, [service])
    with ctx.uow(write=False) as uow:
        fresh = uow.services.get(service_id)
        if fresh is None:
            raise DomainError(ErrorCode.NOT_FOUND, what="service")
        return view_of(ctx, uow, fresh, ctx.clock.now())


def list_services(ctx: Ctx, actor: Principal, account_id: str | None) -> list[ServiceView]:
    scope = actor.business_scope(account_id)
    with ctx.uow(write=False) as uow:
        found = uow.services.of_account(scope) if scope is not None else uow.services.all()
    refresh_cycles(ctx, found)
    now = ctx.clock.now()
    with ctx.uow(write=False) as uow:
        fresh = uow.services.of_account(scope) if scope is not None else uow.services.all()
        return [view_of(ctx, uow, service, now) for service in fresh]


def apply_usage(
    ctx: Ctx, uow: Unit, service_id: str, used_bytes: int, instant: datetime, actor: Principal, channel: Channel
) -> Service:
    """Usage draws the buckets open at its instant, earliest expiry first; an exhausted quota bars the line.

    The caller's unit of work holds the service's lock until it commits."""
    now = ctx.clock.now()
    service = uow.services.lock(service_id)
    if service is None:
        raise DomainError(ErrorCode.NOT_FOUND, what="service")
    service = _current(ctx, uow, service, now)
    buckets = uow.buckets.open_at(service.id, instant)
    by_id = {bucket.id: bucket for bucket in buckets}
    drawn = draw(buckets, used_bytes).updated
    for bucket in drawn:
        uow.buckets.draw(bucket.id, bucket.used_bytes, by_id[bucket.id].used_bytes)
    before = quota_of(buckets).used_bytes
    _charge_metered(
        ctx, uow, service, instant, before, before + sum(b.used_bytes - by_id[b.id].used_bytes for b in drawn)
    )
    return _apply_status(ctx, uow, service, now, actor, channel)


def check_usage_instant(ctx: Ctx, used_bytes: int, at: datetime | None) -> datetime:
    now = ctx.clock.now()
    if used_bytes < 0:
        raise DomainError(ErrorCode.VALIDATION_ERROR, reason="usage-negative")
    instant = at or now
    if instant > now:
        raise DomainError(ErrorCode.VALIDATION_ERROR, reason="usage-in-future")
    if instant < now - USAGE_LATEST_ARRIVAL:
        raise DomainError(ErrorCode.VALIDATION_ERROR, reason="usage-too-late", days=USAGE_LATEST_ARRIVAL.days)
    return instant


def record_usage(
    ctx: Ctx,
    actor: Principal,
    channel: Channel,
    service_id: str,
    used_bytes: int,
    at: datetime | None,
    record_id: str | None = None,
) -> ServiceView:
    """One usage record, kept for the usage by day; with a `record_id`, a record already received changes
    nothing."""
    actor.require_operator()
    instant = check_usage_instant(ctx, used_bytes, at)
    with ctx.uow() as uow:
        found = uow.services.get(service_id)
        if found is None:
            raise DomainError(ErrorCode.NOT_FOUND, what="service")
        service = found  # a repeated record draws nothing
        if uow.usage.receive(record_id or new_id("use"), service_id, used_bytes, instant, ctx.clock.now()):
            service = apply_usage(ctx, uow, service_id, used_bytes, instant, actor, channel)
        view = view_of(ctx, uow, service, ctx.clock.now())
        uow.commit()
    return view


def _charge_metered(ctx: Ctx, uow: Unit, service: Service, instant: datetime, before: int, after: int) -> None:
    """Metered usage is billed in arrears on one growing line per service and cycle."""
    plan = ctx.catalog.plan(service.plan_id)
    added = metered_usage_charge(plan, before, after)
    if added.is_zero:
        return
    period = Period.at(instant, zone(_account_zone(uow, service.account_id)))
    uow.charges.accumulate(
        once_key=f"usage:{service.id}:{period}",
        account_id=service.account_id,
        service_id=service.id,
        period=str(period),
        kind="usage",
        description=usage_charge_label(period),
        amount=added,
        at=instant,
    )


def _apply_status(
    ctx: Ctx,
    uow: Unit,
    service: Service,
    now: datetime,
    actor: Principal,
    channel: Channel,
    buckets: Sequence[Bucket] | None = None,
) -> Service:
    """`buckets`: the open buckets, when the caller holds them as they are now (else they are read)."""
    when_exhausted = exhaustion_status(ctx.catalog, ctx.catalog.plan(service.plan_id))
    status = status_for(uow.buckets.open_at(service.id, now) if buckets is None else list(buckets), when_exhausted)
    if status is service.status:
        return service
    action = f"service.{status.value}" if status.restricted else "service.unbarred"
    return save_line(uow, service, replace(service, status=status), action, now, actor, channel)


def save_line(
    uow: Unit,
    before: Service,
    after: Service,
    action: str,
    now: datetime,
    actor: Principal = SYSTEM,
    channel: Channel = Channel.SYSTEM,
) -> Service:
    """The line saved as `after`, and its audit row: `action`, before → after."""
    uow.services.save(after)
    record(
        uow,
        at=now,
        actor=actor,
        channel=channel,
        entity=("service", before.id),
        action=action,
        customer=("account", before.account_id),
        before=before.audit_view(),
        after=after.audit_view(),
    )
    return after


apply_status = _apply_status
current_service = _current
account_zone = _account_zone
