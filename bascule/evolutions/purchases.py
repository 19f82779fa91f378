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

Ctx = Context[Unit]  # the context as these use cases see it: their ports, no database


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
_REFUSAL = {
    ChargeKind.TOPUP: (
        "Les recharges ponctuelles s'appliquent aux forfaits ; un service au compteur prend une extension."
    ),
    ChargeKind.EXTENSION: "Les extensions de plafond s'appliquent aux services au compteur.",
}


def _buy(ctx: Ctx, actor: Principal, channel: Channel, service_id: str, kind: ChargeKind, pack: DataPack,
         password: str | None) -> Purchase:
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
        assert service is not None
        service = current_service(ctx, uow, service, now)
        if ctx.catalog.plan(service.plan_id).kind is not _FITS[kind]:
            raise DomainError(ErrorCode.NOT_APPLICABLE, _REFUSAL[kind])
        tz = zone(account_zone(uow, service.account_id))
        period = Period.at(now, tz)
        bucket = Bucket(new_id("bkt"), _BUCKET[kind], pack.data_bytes, 0, now, period.end_instant(tz))
        uow.buckets.add(service.id, str(period), bucket, source_ref=pack.id)
        uow.charges.add(account_id=service.account_id, service_id=service.id, period=str(period), kind=kind.value,
                        description=pack.name, amount=pack.price, at=now)
        record(uow, at=now, actor=actor, channel=channel, entity=("service", service.id),
               customer=("account", service.account_id),
               action=f"service.{kind.value}", after={"pack_id": pack.id, "data_bytes": pack.data_bytes,
                                                      "price": pack.price, "valid_until": bucket.valid_until})
        service = apply_status(ctx, uow, service, now, actor, channel)
        view = view_of(ctx, uow, service, now)
        uow.commit()
    return Purchase(bucket.id, kind, pack, bucket.valid_until, now, view)


def buy_topup(ctx: Ctx, actor: Principal, channel: Channel, service_id: str, topup_id: str,
              password: str | None) -> Purchase:
    """A data pack usable until the cycle ends, charged once ("recharge ponctuelle")."""
    return _buy(ctx, actor, channel, service_id, ChargeKind.TOPUP, ctx.catalog.topup(topup_id), password)


def buy_extension(ctx: Ctx, actor: Principal, channel: Channel, service_id: str, extension_id: str,
                  password: str | None) -> Purchase:
    """Raises this cycle's metered ceiling at once, charged once."""
    return _buy(ctx, actor, channel, service_id, ChargeKind.EXTENSION, ctx.catalog.extension(extension_id), password)
