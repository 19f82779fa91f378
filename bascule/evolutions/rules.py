"""What a change request asks for, what it costs now, and what quota follows (PRODUCT.md, Line A rules 1–3, 6–8)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from enum import StrEnum

from bascule.catalog.model import Catalog, Plan, PlanKind, Radio, require_on_sale
from bascule.evolutions.model import Service
from bascule.evolutions.quota import Bucket, quota_after_plan_change, quota_of
from bascule.kernel import limits
from bascule.kernel import messages_fr as words
from bascule.kernel.calendar import Period, days_remaining, remaining_fraction
from bascule.kernel.errors import DomainError, ErrorCode
from bascule.kernel.limits import Limited
from bascule.kernel.money import Money, total


class ChargeKind(StrEnum):
    RECURRING = "recurring"
    PRORATION = "proration"
    FEE = "fee"
    TOPUP = "topup"
    EXTENSION = "extension"
    USAGE = "usage"


@dataclass(frozen=True, slots=True)
class ChargeLine:
    kind: ChargeKind
    description: str
    amount: Money


@dataclass(frozen=True, slots=True)
class RequestedChanges:
    """The items of a change request as the customer sent them; any mix, at least one."""

    plan_id: str | None = None
    radio: Radio | None = None
    apn: str | None = None
    network: str | None = None
    ceiling_bytes: int | None = None

    @classmethod
    def from_dict(cls, values: dict[str, object]) -> RequestedChanges:
        radio = values.get("radio")
        return cls(
            plan_id=values.get("plan_id"),  # type: ignore[arg-type]
            radio=Radio(str(radio)) if radio is not None else None,
            apn=values.get("apn"),  # type: ignore[arg-type]
            network=values.get("network"),  # type: ignore[arg-type]
            ceiling_bytes=values.get("ceiling_bytes"),  # type: ignore[arg-type]
        )

    def as_dict(self) -> dict[str, object]:
        return {
            key: (value.value if isinstance(value, Radio) else value)
            for key, value in (
                ("plan_id", self.plan_id),
                ("radio", self.radio),
                ("apn", self.apn),
                ("network", self.network),
                ("ceiling_bytes", self.ceiling_bytes),
            )
            if value is not None
        }


@dataclass(frozen=True, slots=True)
class ServiceState:
    """What a change is quoted against: the service's settings and this cycle's buckets."""

    plan: Plan
    network: str
    apn: str
    ceiling_bytes: int | None
    buckets: tuple[Bucket, ...]


@dataclass(frozen=True, slots=True)
class Target:
    plan: Plan
    network: str
    apn: str
    ceiling_bytes: int | None
    items: tuple[str, ...]  # which items actually change: plan_id, radio, apn, network, ceiling_bytes

    @property
    def changes_volume(self) -> bool:
        return "plan_id" in self.items


@dataclass(frozen=True, slots=True)
class Quote:
    charges: tuple[ChargeLine, ...]
    total: Money
    quota_after_bytes: int
    notice: str


def _check_ceiling(plan: Plan, ceiling: int, used_bytes: int) -> None:
    if plan.kind is not PlanKind.METERED:
        raise DomainError(ErrorCode.NOT_APPLICABLE, reason="ceiling-metered-only")
    if ceiling <= 0:
        raise DomainError(ErrorCode.VALIDATION_ERROR, reason="ceiling-not-positive")
    if plan.ceiling_step_bytes and ceiling % plan.ceiling_step_bytes:
        raise DomainError(ErrorCode.VALIDATION_ERROR, reason="ceiling-step", step_bytes=plan.ceiling_step_bytes)
    if plan.max_ceiling_bytes and ceiling > plan.max_ceiling_bytes:
        raise DomainError(ErrorCode.VALIDATION_ERROR, reason="ceiling-too-high", max_bytes=plan.max_ceiling_bytes)
    if ceiling < used_bytes:
        raise DomainError(ErrorCode.VALIDATION_ERROR, reason="ceiling-below-usage")


def _target_plan(changes: RequestedChanges, current: Plan, catalog: Catalog) -> Plan:
    if changes.plan_id is None:
        if changes.radio is None or changes.radio is current.radio:
            return current
        return catalog.plan_on_radio(current, changes.radio)
    plan = catalog.plan(changes.plan_id)
    if plan.kind is not current.kind:
        raise DomainError(ErrorCode.NOT_APPLICABLE, reason="plan-kind-differs")
    if changes.radio is not None and changes.radio is not plan.radio:
        raise DomainError(
            ErrorCode.VALIDATION_ERROR,
            reason="plan-radio-differs",
            plan_id=plan.id,
            plan_radio=plan.radio.value,
            radio=changes.radio.value,
        )
    return plan


def resolve(changes: RequestedChanges, state: ServiceState, catalog: Catalog) -> Target:
    """Validate the items against the catalogue and the service; refuse a request that changes nothing."""
    plan = _target_plan(changes, state.plan, catalog)
    if plan.id != state.plan.id:
        require_on_sale(plan)  # a line may keep a withdrawn plan; nobody moves onto one
    apn = catalog.apn(changes.apn).id if changes.apn is not None else state.apn
    network = catalog.network(changes.network).id if changes.network is not None else state.network
    if plan.kind is PlanKind.METERED and state.plan.kind is PlanKind.METERED:
        ceiling = changes.ceiling_bytes if changes.ceiling_bytes is not None else state.ceiling_bytes
    else:
        ceiling = None
    if changes.ceiling_bytes is not None:
        _check_ceiling(plan, changes.ceiling_bytes, quota_of(list(state.buckets)).used_bytes)
    items: list[str] = []
    if plan.volume_key != state.plan.volume_key:
        items.append("plan_id")
    if plan.radio is not state.plan.radio:
        items.append("radio")
    if apn != state.apn:
        items.append("apn")
    if network != state.network:
        items.append("network")
    if ceiling != state.ceiling_bytes:
        items.append("ceiling_bytes")
    if not items:
        raise DomainError(ErrorCode.VALIDATION_ERROR, reason="nothing-changes")
    return Target(plan, network, apn, ceiling, tuple(items))


def _plan_lines(
    target: Target, state: ServiceState, effective_on: date, period: Period, catalog: Catalog
) -> list[ChargeLine]:
    old, new = state.plan, target.plan
    if old == new:
        return []
    fraction = remaining_fraction(effective_on, period)
    days = (days_remaining(effective_on, period), period.days)
    rounding = catalog.b2b.rounding
    if not target.changes_volume:  # rule 1: radio only, prorate the price difference
        amount = Money.from_exact((new.price.exact() - old.price.exact()) * fraction, new.price.currency, rounding)
        if amount.is_zero or (amount.is_negative and not catalog.b2b.credit_on_radio_downgrade):
            return []
        label = words.radio_proration(old.radio, new.radio, new.name, days, credit=amount.is_negative)
        return [ChargeLine(ChargeKind.PRORATION, label, amount)]
    # rule 2: the old plan stays billed in full; the new one is prorated for the rest of the cycle
    amount = new.price.times(fraction, rounding)
    return [ChargeLine(ChargeKind.PRORATION, words.plan_proration(new.name, days), amount)]


def _fee_lines(target: Target, state: ServiceState, catalog: Catalog) -> list[ChargeLine]:
    lines = []
    for item in target.items:
        fee = catalog.fee_for_item(item)
        if fee is None or fee.amount.is_zero:
            continue
        description = fee.name
        if item == "network":
            old_network, new_network = catalog.network(state.network).name, catalog.network(target.network).name
            description = words.network_fee(fee.name, old_network, new_network)
        lines.append(ChargeLine(ChargeKind.FEE, description, fee.amount))
    return lines


def _quota_after(target: Target, state: ServiceState) -> int:
    buckets = list(state.buckets)
    if target.plan.kind is PlanKind.METERED:
        one_off = sum(b.total_bytes for b in buckets if b.kind.value == "extension")
        return (target.ceiling_bytes or 0) + one_off
    if target.changes_volume:
        return quota_after_plan_change(buckets, target.plan.data_bytes or 0)
    return quota_of(buckets).total_bytes


def _notice(target: Target, state: ServiceState, catalog: Catalog) -> str:
    parts = [catalog.b2b.reboot_notice]
    if target.changes_volume:
        parts.append(words.plan_kept_notice(state.plan.price))
    return " ".join(part for part in parts if part)


def quote(target: Target, state: ServiceState, effective_on: date, period: Period, catalog: Catalog) -> Quote:
    charges = tuple(_plan_lines(target, state, effective_on, period, catalog) + _fee_lines(target, state, catalog))
    return Quote(
        charges=charges,
        total=total([line.amount for line in charges], catalog.b2b.currency),
        quota_after_bytes=_quota_after(target, state),
        notice=_notice(target, state, catalog),
    )


SLOT_SCOPE = "service-change"  # the scope of a line's monthly change slots (rule 6)


def monthly_slot_refusal(limit: int, slots_used: int, period: Period) -> DomainError | None:
    """Rule 6: a line takes `limit` change requests per calendar month (the rule of both lines:
    bascule.kernel.limits)."""
    return limits.monthly_slot_refusal(limit, slots_used, period, Limited.CHANGE_REQUEST)


def allowance_bytes(plan: Plan, service: Service) -> int:
    """A cycle's allowance: the plan's volume, or a metered line's ceiling (its own, else the plan's default)."""
    if plan.kind is PlanKind.METERED:
        return service.ceiling_bytes or plan.default_ceiling_bytes or 0
    return plan.data_bytes or 0


def usage_charge_label(period: Period) -> str:
    """The monthly line of metered usage: "Consommation au compteur, juin 2026"."""
    return words.metered_usage(period.year, period.month)


def started_units(used_bytes: int, unit_bytes: int) -> int:
    """Metered data is billed per started unit."""
    return -(-used_bytes // unit_bytes)


def metered_usage_charge(plan: Plan, used_before: int, used_after: int) -> Money:
    """What usage moving this cycle's metered count from `used_before` to `used_after` adds, in arrears."""
    if plan.kind is not PlanKind.METERED or plan.unit_price is None or not plan.unit_bytes:
        return Money.zero(plan.price.currency)
    units = started_units(used_after, plan.unit_bytes) - started_units(used_before, plan.unit_bytes)
    return Money(plan.unit_price.amount * units, plan.unit_price.currency)
