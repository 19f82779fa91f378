"""The catalogue, read by anyone (it is the operator's public offer)."""

from __future__ import annotations

from fastapi import APIRouter, Depends

from bascule.catalog.model import Bonus, Catalog, DataPack, Plan, Profile
from bascule.channels.rest.schemas import (
    BonusOut,
    CatalogOut,
    FeeOut,
    MoneyOut,
    NamedOut,
    PackOut,
    PlanOut,
    PoliciesOut,
    ProfileOut,
)
from bascule.channels.rest.security import context
from bascule.context import Context

router = APIRouter(prefix="/api/v1", tags=["catalogue"])


def plan_out(plan: Plan) -> PlanOut:
    return PlanOut(
        id=plan.id,
        name=plan.name,
        kind=plan.kind.value,
        radio=plan.radio.value,
        price=MoneyOut.of(plan.price),
        data_bytes=plan.data_bytes,
        unit_price=MoneyOut.of(plan.unit_price) if plan.unit_price else None,
        unit_bytes=plan.unit_bytes,
        default_ceiling_bytes=plan.default_ceiling_bytes,
        ceiling_step_bytes=plan.ceiling_step_bytes,
        max_ceiling_bytes=plan.max_ceiling_bytes,
        on_sale=plan.on_sale,
    )


def _bonus(bonus: Bonus) -> BonusOut:
    return BonusOut(
        kind=bonus.kind.value,
        trigger=bonus.trigger.value,
        label=bonus.label,
        validity_days=bonus.validity_days,
        amount=MoneyOut.of(bonus.amount) if bonus.amount else None,
        quantity=bonus.quantity,
        percent_of_recharge=bonus.percent_of_recharge,
        min_recharge=MoneyOut.of(bonus.min_recharge) if bonus.min_recharge else None,
    )


def profile_out(profile: Profile) -> ProfileOut:
    threshold = profile.min_consumption_last_month
    return ProfileOut(
        id=profile.id,
        name=profile.name,
        description=profile.description,
        bonuses=[_bonus(b) for b in profile.bonuses],
        min_consumption_last_month=MoneyOut.of(threshold) if threshold else None,
        on_sale=profile.on_sale,
    )


def _pack(pack: DataPack) -> PackOut:
    return PackOut(
        id=pack.id, name=pack.name, data_bytes=pack.data_bytes, price=MoneyOut.of(pack.price), on_sale=pack.on_sale
    )


def catalog_out(catalog: Catalog) -> CatalogOut:
    return CatalogOut(
        plans=[plan_out(plan) for plan in catalog.plans],
        profiles=[profile_out(profile) for profile in catalog.profiles],
        networks=[NamedOut(id=n.id, name=n.name) for n in catalog.networks],
        apns=[NamedOut(id=a.id, name=a.name) for a in catalog.apns],
        fees=[FeeOut(id=f.id, name=f.name, amount=MoneyOut.of(f.amount)) for f in catalog.fees],
        topups=[_pack(p) for p in catalog.topups],
        extensions=[_pack(p) for p in catalog.extensions],
        policies=PoliciesOut(
            monthly_change_limit=catalog.b2b.monthly_change_limit,
            credit_on_radio_downgrade=catalog.b2b.credit_on_radio_downgrade,
            monthly_migration_limit=catalog.prepaid.monthly_migration_limit,
        ),
    )


@router.get("/catalog", response_model=CatalogOut)
def read_catalog(ctx: Context = Depends(context)) -> CatalogOut:
    return catalog_out(ctx.catalog)
