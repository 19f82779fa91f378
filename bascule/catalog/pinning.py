"""A quote keeps its prices: the catalogue prices a request was quoted with are kept with its quote, and its
confirmation is priced with them, whatever a supervisor changed in between (the rest — days left, quota —
is priced again, and a quote it no longer matches is refused as expired)."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import replace
from typing import Any

from bascule.catalog.model import Catalog, Plan
from bascule.kernel.money import Money

PRICED_WITH = "priced_with"  # the key under which a stored quote keeps them (not shown to clients)


def prices_used(catalog: Catalog, *plans: Plan) -> dict[str, dict[str, str]]:
    """The prices of `plans` and of every fee, as a quote used them."""
    return {
        "plans": {plan.id: str(plan.price.amount) for plan in plans},
        "fees": {fee.id: str(fee.amount.amount) for fee in catalog.fees},
    }


def with_prices(catalog: Catalog, kept: Any) -> Catalog:
    """`catalog` with the prices a quote kept (a quote stored before prices were kept: the catalogue as is). When
    none changed since the quote, as nearly always, the catalogue itself: a copy would be the same, at a cost."""
    if not isinstance(kept, dict):
        return catalog
    plans = kept.get("plans") or {}
    fees = kept.get("fees") or {}
    if _as_kept(((plan.id, plan.price) for plan in catalog.plans), plans) and _as_kept(
        ((fee.id, fee.amount) for fee in catalog.fees), fees
    ):
        return catalog
    return replace(
        catalog,
        plans=tuple(
            replace(plan, price=Money.of(plans[plan.id], plan.price.currency)) if plan.id in plans else plan
            for plan in catalog.plans
        ),
        fees=tuple(
            replace(fee, amount=Money.of(fees[fee.id], fee.amount.currency)) if fee.id in fees else fee
            for fee in catalog.fees
        ),
    )


def _as_kept(prices: Iterable[tuple[str, Money]], kept: dict[str, str]) -> bool:
    """Whether each price that a quote kept is the one it has now."""
    return all(str(price.amount) == kept[item_id] for item_id, price in prices if item_id in kept)
