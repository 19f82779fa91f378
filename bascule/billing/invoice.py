"""An invoice's arithmetic: lines before VAT, VAT once on the total, and its number."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta
from decimal import Decimal
from fractions import Fraction
from functools import lru_cache

from bascule.kernel.calendar import Period
from bascule.kernel.money import Money, Rounding


@dataclass(frozen=True, slots=True)
class InvoiceLine:
    kind: str
    description: str
    amount: Money
    service_id: str | None
    at: datetime


@dataclass(frozen=True, slots=True)
class InvoiceTotals:
    before_vat: Money
    vat: Money
    with_vat: Money


def totals(lines: list[InvoiceLine], currency: str, vat_percent: int, rounding: Rounding) -> InvoiceTotals:
    """The invoice total equals the sum of the charges shown to the customer; VAT is rounded once."""
    for line in lines:
        if line.amount.currency != currency:
            raise ValueError(f"cannot mix {currency} and {line.amount.currency}")
    # Every amount is exact at the minor unit, so their Decimal sum is too (what `total` adds up, line by line).
    return _with_vat(Money(sum((line.amount.amount for line in lines), Decimal(0)), currency), vat_percent, rounding)


@lru_cache(maxsize=4096)
def _with_vat(before_vat: Money, vat_percent: int, rounding: Rounding) -> InvoiceTotals:
    vat = before_vat.times(Fraction(vat_percent, 100), rounding)
    return InvoiceTotals(before_vat, vat, before_vat + vat)


def invoice_number(year: int, sequence: int) -> str:
    """Sequential per calendar year with no gap, as French invoicing requires: 2026-000042."""
    return f"{year:04d}-{sequence:06d}"


def due_on(issued_on: date, payment_days: int) -> date:
    return issued_on + timedelta(days=payment_days)


def billable(period: Period, today: date) -> bool:
    """A period is invoiced once it has ended."""
    return today > period.last_day


@dataclass(frozen=True, slots=True)
class StoredInvoice:
    id: str
    account_id: str
    period: str
    number: str
    issued_on: date
    vat_percent: int
    totals: InvoiceTotals
    lines: list[InvoiceLine]
    created_at: datetime
