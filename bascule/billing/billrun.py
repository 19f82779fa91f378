"""The monthly bill run: one invoice per account and period, numbered without gaps, safe to re-run.

Accounts are invoiced in batches, each batch in one transaction that opens the cycles its services
were missing, takes a block of invoice numbers from the year's counter and writes the batch's
invoices, lines and audit events: a run that is killed half-way leaves whole batches and an unbroken
sequence (the block commits with its invoices, or neither does); the next run makes the rest.
The first batch is small, so the first invoices are there at once; batches then double in size.

On PostgreSQL the cycles of a batch are opened in their own transaction, on a second connection,
while the previous batch is invoiced: opening is made once by keys (a cycle row, its recurring
line's `once_key`), so it may commit apart from the invoices; it always commits before its batch's
charges are read, so that a cycle of the billed month opened late is on the invoice.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass
from datetime import date, datetime

from bascule.billing.cycles import open_cycles_many
from bascule.billing.invoice import InvoiceLine, StoredInvoice, billable, invoice_number, totals
from bascule.billing.ports import BillingUnit as Unit
from bascule.context import Context
from bascule.identity.model import Account, BillingAddress, Channel, Principal
from bascule.kernel.calendar import Period, local_date, zone
from bascule.kernel.errors import DomainError, ErrorCode
from bascule.kernel.ids import new_id

Ctx = Context[Unit]  # the context as these use cases see it: their ports, no database

FIRST_BATCH = 25  # accounts in the first transaction
MAX_BATCH = 2000  # accounts per transaction once the run is going
# SQLite has one writer and no queue: between two batches the run steps aside a moment, so that the
# requests served meanwhile (and their busy-waits, which back off in steps of milliseconds) get a turn.
SQLITE_PAUSE_SECONDS = 0.05


@dataclass(frozen=True, slots=True)
class BillRunResult:
    period: Period
    created: list[str]  # the ids of the invoices this run made (the invoices themselves stay in the database)
    already_invoiced: int
    not_yet_billable: int


def _invoice(
    ctx: Ctx, account: Account, lines: list[InvoiceLine], period: str, now: datetime, number: str, issued_on: date
) -> StoredInvoice:
    b2b = ctx.catalog.b2b
    return StoredInvoice(
        id=new_id("inv"),
        account_id=account.id,
        period=period,
        number=number,
        issued_on=issued_on,
        vat_percent=b2b.vat_percent,
        totals=totals(lines, account.currency, b2b.vat_percent, b2b.rounding),
        lines=lines,
        created_at=now,
    )


def _write(uow: Unit, actor: Principal, channel: Channel, invoices: list[StoredInvoice], now: datetime) -> None:
    uow.bill_runs.issue(invoices, actor_kind=actor.kind.value, actor_id=actor.audit_id, channel=channel.value, at=now)


def _open_batch(ctx: Ctx, accounts: list[Account], now: datetime) -> None:
    """Open the missing cycles of the batch's services, in a transaction of their own."""
    with ctx.uow() as uow:
        zones = {account.id: zone(account.timezone) for account in accounts}
        services, latest = uow.bill_runs.services_and_latest_cycles(list(zones))
        open_cycles_many(uow, ctx.catalog, services, zones, now, latest)
        uow.commit()


def _issue_batch(
    ctx: Ctx,
    actor: Principal,
    channel: Channel,
    accounts: list[Account],
    period: Period,
    now: datetime,
    *,
    open_cycles: bool = True,
) -> list[str]:
    """Invoice the batch's accounts not yet invoiced for the period, in one transaction; returns the new ids.

    With `open_cycles`, the same transaction first opens the missing cycles of the batch's services."""
    with ctx.uow() as uow:
        uow.bill_runs.plan_again()
        zones = {account.id: zone(account.timezone) for account in accounts}
        if open_cycles:
            services, latest = uow.bill_runs.services_and_latest_cycles(list(zones))
            open_cycles_many(uow, ctx.catalog, services, zones, now, latest)
        days = {tz: local_date(now, tz) for tz in set(zones.values())}
        today = {account.id: days[zones[account.id]] for account in accounts}
        years = {day.year for day in today.values()}
        uow.bill_runs.lock_invoice_years(years)  # before looking: a concurrent run waits for this batch
        done = uow.bill_runs.invoiced_accounts(list(zones), str(period))
        todo = [account for account in accounts if account.id not in done]
        charges = uow.bill_runs.lines_of_accounts([account.id for account in todo], str(period))
        invoices: list[StoredInvoice] = []
        name = str(period)
        for year in sorted(years):
            of_year = [account for account in todo if today[account.id].year == year]
            if not of_year:
                continue
            first = uow.bill_runs.take_invoice_numbers(year, len(of_year))
            for offset, account in enumerate(of_year):
                lines = charges.get(account.id, [])
                invoices.append(
                    _invoice(ctx, account, lines, name, now, invoice_number(year, first + offset), today[account.id])
                )
        _write(uow, actor, channel, invoices, now)
        uow.commit()
    return [invoice.id for invoice in invoices]


def bill_run(
    ctx: Ctx, actor: Principal, channel: Channel, period: Period, progress: Callable[[int, int], None] | None = None
) -> BillRunResult:
    """Invoice every account whose period has ended; accounts already invoiced are left as they are."""
    actor.require_operator()
    now = ctx.clock.now()
    with ctx.uow(write=False) as uow:
        accounts = uow.accounts.all()
    due = [account for account in accounts if billable(period, local_date(now, zone(account.timezone)))]
    pending = len(accounts) - len(due)
    if accounts and not due:
        raise DomainError(ErrorCode.VALIDATION_ERROR, reason="period-not-over", period=str(period))
    batches, start, size = [], 0, FIRST_BATCH
    while start < len(due):
        batches.append(due[start : start + size])
        start += size
        size = min(size * 2, MAX_BATCH)
    created: list[str] = []
    done = 0
    if not ctx.units.concurrent_writers:
        for batch in batches:
            created.extend(_issue_batch(ctx, actor, channel, batch, period, now))
            done += len(batch)
            if progress is not None:
                progress(pending + done, len(accounts))
            if done < len(due):
                time.sleep(SQLITE_PAUSE_SECONDS)
        return BillRunResult(period, created, len(due) - len(created), pending)
    with ThreadPoolExecutor(max_workers=1, thread_name_prefix="bill-run-cycles") as opener:
        opening: Future[None] | None = opener.submit(_open_batch, ctx, batches[0], now) if batches else None
        for n, batch in enumerate(batches):
            if opening is None:  # submitted for every batch before its turn
                raise RuntimeError(f"the cycles of batch {n} were never opened")
            opening.result()  # this batch's cycles are committed (or the error is raised here)
            opening = opener.submit(_open_batch, ctx, batches[n + 1], now) if n + 1 < len(batches) else None
            try:
                created.extend(_issue_batch(ctx, actor, channel, batch, period, now, open_cycles=False))
            except BaseException:
                if opening is not None:
                    opening.cancel()
                raise
            done += len(batch)
            if progress is not None:
                progress(pending + done, len(accounts))
    return BillRunResult(period, created, len(due) - len(created), pending)


def invoices_of(ctx: Ctx, actor: Principal, account_id: str) -> list[StoredInvoice]:
    actor.require_account(account_id)
    with ctx.uow(write=False) as uow:
        if uow.accounts.get(account_id) is None:
            raise DomainError(ErrorCode.NOT_FOUND, what="account")
        return uow.invoices.of_account(account_id)


def invoice(ctx: Ctx, actor: Principal, invoice_id: str) -> StoredInvoice:
    with ctx.uow(write=False) as uow:
        found = uow.invoices.get(invoice_id)
    if found is None or not actor.may_see_account(found.account_id):
        raise DomainError(ErrorCode.NOT_FOUND, what="invoice")
    return found


@dataclass(frozen=True, slots=True)
class InvoiceDocument:
    """What an invoice shows beyond its lines: whom it is addressed to, and each line's MSISDN (a fleet customer
    splits its costs by line)."""

    invoice: StoredInvoice
    account: Account
    billing_address: BillingAddress | None
    msisdns: dict[str, str]  # service id → MSISDN

    def msisdn_of(self, service_id: str | None) -> str:
        return self.msisdns.get(service_id or "", "")


def invoice_document(ctx: Context, actor: Principal, invoice_id: str) -> InvoiceDocument:
    found = invoice(ctx, actor, invoice_id)
    with ctx.uow(write=False) as uow:
        account = uow.accounts.get(found.account_id)
        if account is None:
            raise DomainError(ErrorCode.NOT_FOUND, what="account")
        msisdns = {service.id: service.msisdn for service in uow.services.of_account(found.account_id)}
        return InvoiceDocument(found, account, uow.accounts.billing_address(found.account_id), msisdns)


__all__ = ["BillRunResult", "InvoiceDocument", "bill_run", "invoice", "invoice_document", "invoices_of"]
