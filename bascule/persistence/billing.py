"""Invoices, their lines and the yearly invoice sequence."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import Connection, Row, insert, select, update

from bascule.billing.invoice import InvoiceLine, InvoiceTotals, StoredInvoice
from bascule.evolutions.model import Service
from bascule.kernel.money import Money, stored
from bascule.persistence import bulk
from bascule.persistence import tables as t
from bascule.persistence.statements import _Repository, insert_ignoring_conflict


def lines_of_accounts(connection: Connection, account_ids: Sequence[str], period: str) -> dict[str, list[InvoiceLine]]:
    """Each account's charges of the period as invoice lines, in the order an invoice lists them (time, then id)."""
    found: dict[str, list[InvoiceLine]] = {}
    if connection.dialect.name != "postgresql":
        for account_id, charges in bulk.charges_of_accounts(connection, account_ids, period).items():
            found[account_id] = [InvoiceLine(c.kind, c.description, c.amount, c.service_id, c.at) for c in charges]
        return found
    # The same few amounts and instants come back again and again (a plan's price, a cycle's start):
    # each is made into Money / UTC once.
    amounts: dict[tuple[Any, str], Money] = {}
    instants: dict[datetime, datetime] = {}
    driver = bulk.driver_of(connection)
    with driver.cursor() as cursor:
        for part in bulk.chunks(account_ids, 20_000):
            cursor.execute(
                "SELECT account_id, kind, description, amount, currency, service_id, at FROM charges "
                "WHERE account_id = ANY(%s) AND period = %s ORDER BY account_id, at, id",
                (list(part), period),
            )
            for account_id, kind, description, amount, currency, service_id, at in cursor:
                money = amounts.get((amount, currency))
                if money is None:
                    money = amounts[(amount, currency)] = stored(amount, currency)
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
        return int(
            self.connection.execute(
                update(t.invoice_sequences)
                .where(t.invoice_sequences.c.year == year)
                .values(last_number=t.invoice_sequences.c.last_number + 1)
                .returning(t.invoice_sequences.c.last_number)
            ).scalar_one()
        )

    def add(self, invoice: StoredInvoice) -> None:
        currency = invoice.totals.before_vat.currency
        self.connection.execute(
            insert(t.invoices).values(
                id=invoice.id,
                account_id=invoice.account_id,
                period=invoice.period,
                number=invoice.number,
                issued_on=invoice.issued_on,
                currency=currency,
                vat_percent=invoice.vat_percent,
                total=invoice.totals.before_vat.amount,
                vat=invoice.totals.vat.amount,
                total_with_vat=invoice.totals.with_vat.amount,
                created_at=invoice.created_at,
            )
        )
        if invoice.lines:
            self.connection.execute(
                insert(t.invoice_lines),
                [
                    {
                        "invoice_id": invoice.id,
                        "position": position,
                        "kind": line.kind,
                        "description": line.description,
                        "amount": line.amount.amount,
                        "service_id": line.service_id,
                        "at": line.at,
                    }
                    for position, line in enumerate(invoice.lines, start=1)
                ],
            )

    def _load(self, row: Row[Any]) -> StoredInvoice:
        lines = self.connection.execute(
            select(t.invoice_lines).where(t.invoice_lines.c.invoice_id == row.id).order_by(t.invoice_lines.c.position)
        )
        return StoredInvoice(
            id=row.id,
            account_id=row.account_id,
            period=row.period,
            number=row.number,
            issued_on=row.issued_on,
            vat_percent=row.vat_percent,
            totals=InvoiceTotals(
                stored(row.total, row.currency), stored(row.vat, row.currency), stored(row.total_with_vat, row.currency)
            ),
            lines=[
                InvoiceLine(line.kind, line.description, stored(line.amount, row.currency), line.service_id, line.at)
                for line in lines
            ],
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


class BillRuns(_Repository):
    """The SQL of a bill run's batch: the accounts' services, the yearly sequence, the invoices written at once."""

    def services_and_latest_cycles(self, account_ids: Sequence[str]) -> tuple[list[Service], dict[str, str]]:
        return bulk.services_and_latest_cycles(self.connection, account_ids)

    def plan_again(self) -> None:
        if self.connection.dialect.name == "postgresql":
            # Each line's key check (invoice_lines → invoices) keeps the plan made when the connection first
            # ran it: with statistics taken while `invoices` was small, a sequential scan of an ever larger
            # table per line, and a run that grows with the square of the invoices. Planned again per batch.
            self.connection.exec_driver_sql("DISCARD PLANS")

    def lock_invoice_years(self, years: Iterable[int]) -> None:
        bulk.lock_invoice_years(self.connection, years)

    def invoiced_accounts(self, account_ids: Sequence[str], period: str) -> set[str]:
        return bulk.invoiced_accounts(self.connection, account_ids, period)

    def lines_of_accounts(self, account_ids: Sequence[str], period: str) -> dict[str, list[InvoiceLine]]:
        return lines_of_accounts(self.connection, account_ids, period)

    def take_invoice_numbers(self, year: int, count: int) -> int:
        return bulk.take_invoice_numbers(self.connection, year, count)

    def issue(
        self, invoices: Sequence[StoredInvoice], *, actor_kind: str, actor_id: str, channel: str, at: datetime
    ) -> None:
        """The invoices, their lines and their `invoice.issued` audit events, in a few statements."""
        connection = self.connection
        bulk.insert_rows(
            connection,
            t.invoices,
            [
                {
                    "id": i.id,
                    "account_id": i.account_id,
                    "period": i.period,
                    "number": i.number,
                    "issued_on": i.issued_on,
                    "currency": i.totals.before_vat.currency,
                    "vat_percent": i.vat_percent,
                    "total": i.totals.before_vat.amount,
                    "vat": i.totals.vat.amount,
                    "total_with_vat": i.totals.with_vat.amount,
                    "created_at": i.created_at,
                }
                for i in invoices
            ],
        )
        bulk.insert_rows(
            connection,
            t.invoice_lines,
            [
                {
                    "invoice_id": i.id,
                    "position": position,
                    "kind": line.kind,
                    "description": line.description,
                    "amount": line.amount.amount,
                    "service_id": line.service_id,
                    "at": line.at,
                }
                for i in invoices
                for position, line in enumerate(i.lines, start=1)
            ],
        )
        bulk.insert_rows(
            connection,
            t.audit_events,
            bulk.audit_rows(
                {
                    "at": at,
                    "actor_kind": actor_kind,
                    "actor_id": actor_id,
                    "channel": channel,
                    "entity_kind": "invoice",
                    "entity_id": i.id,
                    "action": "invoice.issued",
                    "after": {
                        "number": i.number,
                        "period": i.period,
                        "total": i.totals.before_vat,
                        "account_id": i.account_id,
                    },
                }
                for i in invoices
            ),
        )
