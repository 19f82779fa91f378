"""An invoice's arithmetic: lines before VAT, VAT once on the total, and its number."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta
from fractions import Fraction

from bascule.kernel.calendar import Period
from bascule.kernel.money import Money, Rounding, total


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
    before_vat = total([line.amount for line in lines], currency)
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
