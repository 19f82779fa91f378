"""Line B rules as pure functions: amounts, bonus grants, the order buckets are drawn in, eligibility.

No database, no web framework: the use cases feed these with what they read and apply what they return.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal
from fractions import Fraction
from zoneinfo import ZoneInfo

from bascule.catalog.model import Bonus, BonusKind, BonusTrigger, Profile
from bascule.kernel.calendar import Period, add_days
from bascule.kernel.errors import DomainError, ErrorCode
from bascule.kernel.messages_fr import message
from bascule.kernel.money import Money, to_minor
from bascule.kernel.msisdn import require_msisdn as require_line_msisdn
from bascule.prepaid.model import BonusBucket

DECIMAL = re.compile(r"^-?\d{1,15}(\.\d{1,15})?$")
MIGRATION_SLOT_SCOPE = "profile-migration"


def require_msisdn(msisdn: str) -> str:
    return require_line_msisdn(msisdn, example="+2250701020304")  # Line B's lines are in Côte d'Ivoire


def parse_amount(value: str | int | Decimal | Money, currency: str) -> Money:
    """A positive amount, exact in the currency ("2500" or 2500 for XOF); anything else is a validation error."""
    if isinstance(value, Money):
        money = value
    else:
        if isinstance(value, bool | float):
            raise DomainError(ErrorCode.VALIDATION_ERROR, reason="amount-type")
        text = str(value).strip()
        if not DECIMAL.match(text):
            raise DomainError(ErrorCode.VALIDATION_ERROR, reason="amount-unreadable", text=text[:40])
        try:
            money = Money.of(text, currency)
        except (ValueError, TypeError):
            raise DomainError(
                ErrorCode.VALIDATION_ERROR, reason="amount-precision", text=str(value), currency=currency
            ) from None
    if money.currency != currency:
        raise DomainError(ErrorCode.VALIDATION_ERROR, reason="amount-currency", currency=currency)
    if money.amount <= 0:
        raise DomainError(ErrorCode.VALIDATION_ERROR, reason="amount-not-positive")
    return money


@dataclass(frozen=True, slots=True)
class Grant:
    """A bonus bucket to create; `monthly_index` is set for once-a-month bonuses."""

    kind: BonusKind
    quantity: int
    expires_at: datetime
    label: str
    monthly_index: int | None = None


def _quantity(bonus: Bonus, recharge: Money) -> int:
    if bonus.percent_of_recharge is not None:
        return to_minor(recharge.times(Fraction(bonus.percent_of_recharge, 100)))
    if bonus.amount is not None:
        return to_minor(bonus.amount)
    return bonus.quantity or 0


def _qualifies(bonus: Bonus, recharge: Money) -> bool:
    return bonus.min_recharge is None or recharge >= bonus.min_recharge


def recharge_grants(profile: Profile, recharge: Money, at: datetime, tz: ZoneInfo) -> list[Grant]:
    """Every bonus a recharge of `recharge` may grant, in catalogue order.

    Monthly ones carry their index: the caller grants them only if this month's key is still free.
    Zero-sized grants (a tiny percentage rounded to nothing) are dropped.
    """
    grants = []
    for index, bonus in enumerate(profile.bonuses):
        if not _qualifies(bonus, recharge):
            continue
        quantity = _quantity(bonus, recharge)
        if quantity <= 0:
            continue
        monthly = index if bonus.trigger is BonusTrigger.MONTHLY else None
        grants.append(Grant(bonus.kind, quantity, add_days(at, bonus.validity_days, tz), bonus.label, monthly))
    return grants


def monthly_key(msisdn: str, period: Period, profile_id: str, index: int) -> str:
    return f"monthly:{msisdn}:{period}:{profile_id}:{index}"


@dataclass(frozen=True, slots=True)
class DrawPlan:
    from_buckets: tuple[tuple[str, int], ...]  # (bucket id, minor units)
    from_main: int

    @property
    def from_bonus(self) -> int:
        return sum(units for _, units in self.from_buckets)


def draw_order(buckets: list[BonusBucket], at: datetime) -> list[BonusBucket]:
    """Credit buckets usable at `at`: earliest expiry first, then earliest grant, then id."""
    usable = [b for b in buckets if b.kind is BonusKind.CREDIT and b.usable_at(at)]
    return sorted(usable, key=lambda b: (b.expires_at, b.granted_at, b.id))


def plan_draw(buckets: list[BonusBucket], amount_minor: int, at: datetime) -> DrawPlan:
    """Bonus credit first, then main credit (whether the main balance suffices is the database's call)."""
    left = amount_minor
    taken: list[tuple[str, int]] = []
    for bucket in draw_order(buckets, at):
        if left == 0:
            break
        units = min(bucket.remaining, left)
        taken.append((bucket.id, units))
        left -= units
    return DrawPlan(tuple(taken), left)


@dataclass(frozen=True, slots=True)
class Verdict:
    eligible: bool
    code: ErrorCode | None = None
    params: dict[str, object] = field(default_factory=dict)  # what the refusal's sentence names

    def refuse(self, **params: object) -> DomainError:
        if self.code is None:
            raise ValueError("an eligible verdict refuses nothing")
        return DomainError(self.code, None, **self.params, **params)

    @property
    def reason(self) -> str | None:
        """Why not, in French (bascule.kernel.messages_fr words it)."""
        return None if self.code is None else message(self.refuse())


def eligibility(target: Profile, current_profile_id: str, consumed_last_month: Money) -> Verdict:
    """May a subscriber on `current_profile_id` who consumed this much last month move to `target`?"""
    if target.id == current_profile_id:
        return Verdict(False, ErrorCode.SAME_PROFILE, {"profile": target.name})
    needed = target.min_consumption_last_month
    if needed is not None and consumed_last_month < needed:
        return Verdict(False, ErrorCode.NOT_ELIGIBLE, {"required": needed, "consumed": consumed_last_month})
    return Verdict(True)
