"""Invoices, their lines and the yearly invoice sequence."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import Connection, Row, insert, select, update

from bascule.billing.invoice import InvoiceLine, InvoiceTotals
from bascule.kernel.money import Money, minor_units
from bascule.persistence import tables as t
from bascule.persistence.repositories import _Repository, insert_ignoring_conflict


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


def _money(value: Any, currency: str) -> Money:
    return Money(Decimal(value).quantize(Decimal(1).scaleb(-minor_units(currency))), currency)


def lines_of_accounts(connection: Connection, account_ids: Sequence[str], period: str) -> dict[str, list[InvoiceLine]]:
    """Each account's charges of the period as invoice lines, in the order an invoice lists them (time, then id)."""
    from bascule.persistence import bulk

    found: dict[str, list[InvoiceLine]] = {}
    if connection.dialect.name != "postgresql":
        for account_id, charges in bulk.charges_of_accounts(connection, account_ids, period).items():
            found[account_id] = [InvoiceLine(c.kind, c.description, c.amount, c.service_id, c.at) for c in charges]
        return found
    # The same few amounts and instants come back again and again (a plan's price, a cycle's start):
    # each is made into Money / UTC once.
    amounts: dict[tuple[Any, str], Money] = {}
    instants: dict[datetime, datetime] = {}
    driver = connection.connection.driver_connection
    assert driver is not None
    with driver.cursor() as cursor:
        for part in bulk.chunks(account_ids, 20_000):
            cursor.execute(
                "SELECT account_id, kind, description, amount, currency, service_id, at FROM charges "
                "WHERE account_id = ANY(%s) AND period = %s ORDER BY account_id, at, id", (list(part), period))
            for account_id, kind, description, amount, currency, service_id, at in cursor:
                money = amounts.get((amount, currency))
                if money is None:
                    money = amounts[(amount, currency)] = _money(amount, currency)
                instant = instants.get(at)
                if instant is None:
                    instant = instants[at] = at.astimezone(UTC)
                lines = found.get(account_id)
                if lines is None:
                    lines = found[account_id] = []
                lines.append(InvoiceLine(kind, description, money, service_id, instant))
    return found


class Invoices(_Repository):
    def next_number(self, year: int) -> int:
        """Take the year's next number; the row stays locked until commit, so numbers have no gap."""
        insert_ignoring_conflict(self.connection, t.invoice_sequences, {"year": year, "last_number": 0})
        return int(self.connection.execute(
            update(t.invoice_sequences).where(t.invoice_sequences.c.year == year)
            .values(last_number=t.invoice_sequences.c.last_number + 1)
            .returning(t.invoice_sequences.c.last_number)
        ).scalar_one())

    def add(self, invoice: StoredInvoice) -> None:
        currency = invoice.totals.before_vat.currency
        self.connection.execute(insert(t.invoices).values(
            id=invoice.id, account_id=invoice.account_id, period=invoice.period, number=invoice.number,
            issued_on=invoice.issued_on, currency=currency, vat_percent=invoice.vat_percent,
            total=invoice.totals.before_vat.amount, vat=invoice.totals.vat.amount,
            total_with_vat=invoice.totals.with_vat.amount, created_at=invoice.created_at,
        ))
        if invoice.lines:
            self.connection.execute(insert(t.invoice_lines), [
                {"invoice_id": invoice.id, "position": position, "kind": line.kind,
                 "description": line.description, "amount": line.amount.amount, "service_id": line.service_id,
                 "at": line.at}
                for position, line in enumerate(invoice.lines, start=1)
            ])

    def _load(self, row: Row[Any]) -> StoredInvoice:
        lines = self.connection.execute(
            select(t.invoice_lines).where(t.invoice_lines.c.invoice_id == row.id).order_by(t.invoice_lines.c.position)
        )
        return StoredInvoice(
            id=row.id, account_id=row.account_id, period=row.period, number=row.number, issued_on=row.issued_on,
            vat_percent=row.vat_percent,
            totals=InvoiceTotals(_money(row.total, row.currency), _money(row.vat, row.currency),
                                 _money(row.total_with_vat, row.currency)),
            lines=[InvoiceLine(line.kind, line.description, _money(line.amount, row.currency), line.service_id,
                               line.at) for line in lines],
            created_at=row.created_at,
        )

    def of_period(self, account_id: str, period: str) -> StoredInvoice | None:
        row = self.connection.execute(
            select(t.invoices).where(t.invoices.c.account_id == account_id, t.invoices.c.period == period)
        ).first()
        return None if row is None else self._load(row)

    def of_account(self, account_id: str) -> list[StoredInvoice]:
        rows = self.connection.execute(
            select(t.invoices).where(t.invoices.c.account_id == account_id).order_by(t.invoices.c.number)
        ).all()
        return [self._load(row) for row in rows]

    def get(self, invoice_id: str) -> StoredInvoice | None:
        row = self.connection.execute(select(t.invoices).where(t.invoices.c.id == invoice_id)).first()
        return None if row is None else self._load(row)

    def numbers(self) -> list[str]:
        return list(self.connection.execute(select(t.invoices.c.number).order_by(t.invoices.c.number)).scalars())
