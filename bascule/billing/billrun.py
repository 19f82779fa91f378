"""The monthly bill run: one invoice per account and period, numbered without gaps, safe to re-run.

Each invoice is made in its own transaction together with the number it takes, so a run that is
killed half-way leaves whole invoices and an unbroken sequence; the next run makes the rest.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime

from bascule.audit.trail import record
from bascule.billing.invoice import InvoiceLine, InvoiceTotals, billable, invoice_number, totals
from bascule.context import Context
from bascule.evolutions.services import refresh_cycles
from bascule.identity.model import Account, Channel, Principal
from bascule.kernel.calendar import Period, local_date, zone
from bascule.kernel.errors import DomainError, ErrorCode
from bascule.persistence.billing import StoredInvoice
from bascule.persistence.repositories import new_id


@dataclass(frozen=True, slots=True)
class BillRunResult:
    period: Period
    created: list[StoredInvoice]
    already_invoiced: int
    not_yet_billable: int


def _issue(ctx: Context, actor: Principal, channel: Channel, account: Account, period: Period,
           now: datetime) -> StoredInvoice | None:
    with ctx.uow() as uow:
        if uow.invoices.of_period(account.id, str(period)) is not None:
            return None
        issued_on = local_date(now, zone(account.timezone))
        lines = [
            InvoiceLine(charge.kind, charge.description, charge.amount, charge.service_id, charge.at)
            for charge in uow.charges.of_account(account.id, str(period))
        ]
        amounts: InvoiceTotals = totals(lines, account.currency, ctx.catalog.b2b.vat_percent, ctx.catalog.b2b.rounding)
        sequence = uow.invoices.next_number(issued_on.year)
        invoice = StoredInvoice(
            id=new_id("inv"), account_id=account.id, period=str(period),
            number=invoice_number(issued_on.year, sequence), issued_on=issued_on,
            vat_percent=ctx.catalog.b2b.vat_percent, totals=amounts, lines=lines, created_at=now,
        )
        uow.invoices.add(invoice)
        record(uow, at=now, actor=actor, channel=channel, entity=("invoice", invoice.id), action="invoice.issued",
               after={"number": invoice.number, "period": str(period), "total": amounts.before_vat,
                      "account_id": account.id})
        uow.commit()
    return invoice


def bill_run(ctx: Context, actor: Principal, channel: Channel, period: Period,
             progress: Callable[[int, int], None] | None = None) -> BillRunResult:
    """Invoice every account whose period has ended; accounts already invoiced are left as they are."""
    actor.require_operator()
    now = ctx.clock.now()
    with ctx.uow(write=False) as uow:
        accounts = uow.accounts.all()
    created: list[StoredInvoice] = []
    existing = pending = 0
    for done, account in enumerate(accounts, start=1):
        if not billable(period, local_date(now, zone(account.timezone))):
            pending += 1
        else:
            with ctx.uow(write=False) as uow:
                refresh_cycles(ctx, uow.services.of_account(account.id))
            invoice = _issue(ctx, actor, channel, account, period, now)
            if invoice is None:
                existing += 1
            else:
                created.append(invoice)
        if progress is not None:
            progress(done, len(accounts))
    if pending == len(accounts) and accounts:
        raise DomainError(ErrorCode.VALIDATION_ERROR, f"La période {period} n'est pas terminée : rien à facturer.")
    return BillRunResult(period, created, existing, pending)


def invoices_of(ctx: Context, actor: Principal, account_id: str) -> list[StoredInvoice]:
    actor.require_account(account_id)
    with ctx.uow(write=False) as uow:
        if uow.accounts.get(account_id) is None:
            raise DomainError(ErrorCode.NOT_FOUND, what="account")
        return uow.invoices.of_account(account_id)


def invoice(ctx: Context, actor: Principal, invoice_id: str) -> StoredInvoice:
    with ctx.uow(write=False) as uow:
        found = uow.invoices.get(invoice_id)
    if found is None or not actor.may_see_account(found.account_id):
        raise DomainError(ErrorCode.NOT_FOUND, what="invoice")
    return found


__all__ = ["BillRunResult", "bill_run", "invoice", "invoices_of"]
