"""Bill runs (operator) and invoices (customers), with the PDF for people."""

from __future__ import annotations

from fastapi import APIRouter, Depends
from fastapi.responses import JSONResponse, Response

from bascule.billing.billrun import bill_run, invoice, invoice_document, invoices_of
from bascule.billing.invoice import StoredInvoice
from bascule.channels.documents.invoice import invoice_pdf
from bascule.channels.rest.commands import Command, posted
from bascule.channels.rest.fields import PathId
from bascule.channels.rest.schemas import BillRunIn, BillRunOut, InvoiceLineOut, InvoiceOut, MoneyOut, period_of
from bascule.channels.rest.security import context, operator, principal
from bascule.context import Context
from bascule.identity.model import Channel, Principal

router = APIRouter(prefix="/api/v1", tags=["billing"])


def invoice_out(stored: StoredInvoice) -> InvoiceOut:
    return InvoiceOut(
        id=stored.id,
        account_id=stored.account_id,
        number=stored.number,
        period=stored.period,
        issued_on=stored.issued_on,
        total=MoneyOut.of(stored.totals.before_vat),
        vat_percent=stored.vat_percent,
        vat=MoneyOut.of(stored.totals.vat),
        total_with_vat=MoneyOut.of(stored.totals.with_vat),
        lines=[
            InvoiceLineOut(
                kind=line.kind,  # type: ignore[arg-type]
                description=line.description,
                amount=MoneyOut.of(line.amount),
                service_id=line.service_id,
                at=line.at,
            )
            for line in stored.lines
        ],
    )


@router.post("/admin/bill-runs", status_code=201, response_model=BillRunOut)
def post_bill_run(
    body: BillRunIn, actor: Principal = Depends(operator), command: Command = Depends(posted)
) -> Response:
    def work(ctx: Context) -> BillRunOut:  # in batches of accounts, each its own transaction: a run resumes
        result = bill_run(ctx, actor, Channel.API, period_of(body.period))
        with ctx.uow(write=False) as uow:
            everything = [
                found
                for account in uow.accounts.all()
                if (found := uow.invoices.of_period(account.id, body.period)) is not None
            ]
        return BillRunOut(
            period=body.period,
            invoices=[invoice_out(i) for i in everything],
            created=len(result.created),
            already_invoiced=result.already_invoiced,
            not_yet_billable=result.not_yet_billable,
        )

    return command.in_steps(actor, work, lambda out: JSONResponse(out.model_dump(mode="json"), status_code=201))


@router.get("/accounts/{account_id}/invoices", response_model=list[InvoiceOut])
def get_invoices(
    account_id: PathId, actor: Principal = Depends(principal), ctx: Context = Depends(context)
) -> list[InvoiceOut]:
    return [invoice_out(stored) for stored in invoices_of(ctx, actor, account_id)]


@router.get("/invoices/{invoice_id}", response_model=InvoiceOut)
def get_invoice(
    invoice_id: PathId, actor: Principal = Depends(principal), ctx: Context = Depends(context)
) -> InvoiceOut:
    return invoice_out(invoice(ctx, actor, invoice_id))


@router.get(
    "/invoices/{invoice_id}/pdf", response_class=Response, responses={200: {"content": {"application/pdf": {}}}}
)
def get_invoice_pdf(
    invoice_id: PathId, actor: Principal = Depends(principal), ctx: Context = Depends(context)
) -> Response:
    document = invoice_document(ctx, actor, invoice_id)
    return Response(
        invoice_pdf(document, ctx.catalog),
        media_type="application/pdf",
        headers={"Content-Disposition": f'attachment; filename="facture-{document.invoice.number}.pdf"'},
    )
