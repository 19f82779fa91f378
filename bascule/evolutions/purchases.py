"""One-off purchases of Line A: top-ups for bundles, extensions of a metered ceiling. No monthly limit."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from bascule.audit.trail import record
from bascule.catalog.model import DataPack, PlanKind, require_on_sale
from bascule.context import Context
from bascule.evolutions.ports import EvolutionsUnit as Unit
from bascule.evolutions.quota import Bucket, BucketKind
from bascule.evolutions.rules import ChargeKind
from bascule.evolutions.services import ServiceView, account_zone, apply_status, current_service, view_of
from bascule.identity.model import Channel, Principal
from bascule.identity.usecases import confirm_identity
from bascule.kernel.calendar import Period, zone
from bascule.kernel.errors import DomainError, ErrorCode
from bascule.kernel.ids import new_id
from bascule.kernel.money import Money

Ctx = Context[Unit]  # the context as these use cases see it: their ports, no database


@dataclass(frozen=True, slots=True)
class PurchaseOffer:
    """A pack the line can take now, with what the line has after it (quota, or this cycle's ceiling)."""

    kind: ChargeKind
    pack: DataPack
    total_after_bytes: int


@dataclass(frozen=True, slots=True)
class CyclePurchase:
    kind: ChargeKind
    description: str
    amount: Money
    at: datetime


@dataclass(frozen=True, slots=True)
class Purchase:
    id: str
    kind: ChargeKind
    pack: DataPack
    valid_until: datetime
    at: datetime
    service: ServiceView


_FITS = {ChargeKind.TOPUP: PlanKind.BUNDLE, ChargeKind.EXTENSION: PlanKind.METERED}
_BUCKET = {ChargeKind.TOPUP: BucketKind.TOPUP, ChargeKind.EXTENSION: BucketKind.EXTENSION}
_REFUSAL = {  # the reason of the NOT_APPLICABLE refusal (bascule.kernel.messages_fr words it)
    ChargeKind.TOPUP: "topup-on-bundles-only",
    ChargeKind.EXTENSION: "extension-on-metered-only",
}


def purchase_kind(plan_kind: PlanKind) -> ChargeKind:
    """What a line buys: a top-up for a bundle, an extension for a metered ceiling."""
    return next(kind for kind, fits in _FITS.items() if fits is plan_kind)


def _packs(ctx: Ctx, kind: ChargeKind) -> tuple[DataPack, ...]:
    """The packs on sale (a withdrawn one is offered to nobody)."""
    return ctx.catalog.topups_on_sale() if kind is ChargeKind.TOPUP else ctx.catalog.extensions_on_sale()


def purchase_offers(ctx: Ctx, view: ServiceView) -> list[PurchaseOffer]:
    """The catalogue's packs for a line, each with the quota (or ceiling) the line has once it is bought:
    what it has this cycle plus the pack, as `_buy` adds it."""
    kind = purchase_kind(view.plan.kind)
    return [PurchaseOffer(kind, pack, view.quota.total_bytes + pack.data_bytes) for pack in _packs(ctx, kind)]


def cycle_purchases(ctx: Ctx, actor: Principal, view: ServiceView) -> list[CyclePurchase]:
    """The top-ups and extensions bought for a line during its current cycle, oldest first."""
    if not actor.may_see_account(view.service.account_id):
        raise DomainError(ErrorCode.NOT_FOUND, what="service")
    with ctx.uow(write=False) as uow:
        found = uow.charges.of_service(view.service.id, str(view.period), [k.value for k in _FITS])
    return [CyclePurchase(ChargeKind(line.kind), line.description, line.amount, line.at) for line in found]


def _buy(
    ctx: Ctx,
    actor: Principal,
    channel: Channel,
    service_id: str,
    kind: ChargeKind,
    pack: DataPack,
    password: str | None,
) -> Purchase:
    with ctx.uow(write=False) as uow:
        found = uow.services.get(service_id)
    if found is None or not actor.may_see_account(found.account_id):
        raise DomainError(ErrorCode.NOT_FOUND, what="service")
    actor.require_change_right()
    require_on_sale(pack)
    confirm_identity(ctx, actor, password)
    now = ctx.clock.now()
    with ctx.uow() as uow:
        service = uow.services.lock(service_id)
        if service is None:
            raise DomainError(ErrorCode.NOT_FOUND, what="service")
        service = current_service(ctx, uow, service, now)
        if ctx.catalog.plan(service.plan_id).kind is not _FITS[kind]:
            raise DomainError(ErrorCode.NOT_APPLICABLE, reason=_REFUSAL[kind])
        tz = zone(account_zone(uow, service.account_id))
        period = Period.at(now, tz)
        bucket = Bucket(new_id("bkt"), _BUCKET[kind], pack.data_bytes, 0, now, period.end_instant(tz))
        uow.buckets.add(service.id, str(period), bucket, source_ref=pack.id)
        uow.charges.add(
            account_id=service.account_id,
            service_id=service.id,
            period=str(period),
            kind=kind.value,
            description=pack.name,
            amount=pack.price,
            at=now,
        )
        record(
            uow,
            at=now,
            actor=actor,
            channel=channel,
            entity=("service", service.id),
            customer=("account", service.account_id),
            action=f"service.{kind.value}",
            after={
                "pack_id": pack.id,
                "data_bytes": pack.data_bytes,
                "price": pack.price,
                "valid_until": bucket.valid_until,
            },
        )
        service = apply_status(ctx, uow, service, now, actor, channel)
        view = view_of(ctx, uow, service, now)
        uow.commit()
    return Purchase(bucket.id, kind, pack, bucket.valid_until, now, view)


def buy_pack(
    ctx: Ctx, actor: Principal, channel: Channel, service_id: str, kind: ChargeKind, pack_id: str, password: str | None
) -> Purchase:
    """A top-up or an extension named by its kind, as a channel that offers both in one place asks for it."""
    if kind is ChargeKind.TOPUP:
        return buy_topup(ctx, actor, channel, service_id, pack_id, password)
    if kind is ChargeKind.EXTENSION:
        return buy_extension(ctx, actor, channel, service_id, pack_id, password)
    raise DomainError(ErrorCode.NOT_APPLICABLE)


def buy_topup(
    ctx: Ctx, actor: Principal, channel: Channel, service_id: str, topup_id: str, password: str | None
) -> Purchase:
    """A data pack usable until the cycle ends, charged once ("recharge ponctuelle")."""
    return _buy(ctx, actor, channel, service_id, ChargeKind.TOPUP, ctx.catalog.topup(topup_id), password)


def buy_extension(
    ctx: Ctx, actor: Principal, channel: Channel, service_id: str, extension_id: str, password: str | None
) -> Purchase:
    """Raises this cycle's metered ceiling at once, charged once."""
    return _buy(ctx, actor, channel, service_id, ChargeKind.EXTENSION, ctx.catalog.extension(extension_id), password)
