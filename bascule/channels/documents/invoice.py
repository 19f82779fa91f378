"""Renders an invoice with the legal mentions of a French B2B invoice (HTML, and PDF through WeasyPrint).

The PDF and the portal's page share one style sheet (`invoice.css`), so the page reads like the PDF."""

from __future__ import annotations

from datetime import date
from functools import cache
from importlib.resources import files
from typing import Any

from jinja2 import Environment, PackageLoader, select_autoescape

from bascule.billing.billrun import InvoiceDocument
from bascule.billing.invoice import due_on
from bascule.catalog.model import Catalog
from bascule.kernel.calendar import Period
from bascule.kernel.messages_fr import day_fr, month_fr
from bascule.kernel.money import Money


@cache
def _environment() -> Environment:
    env = Environment(
        loader=PackageLoader("bascule.channels.documents", "templates"), autoescape=select_autoescape(["html"])
    )
    env.filters["euros"] = Money.french
    env.filters["day"] = day_fr
    return env


@cache
def invoice_css() -> str:
    return files("bascule.channels.documents").joinpath("templates/invoice.css").read_text("utf-8")


def french_period(period: str) -> str:
    parsed = Period.parse(period)
    return month_fr(parsed.year, parsed.month)


def invoice_context(document: InvoiceDocument, catalog: Catalog) -> dict[str, Any]:
    seller = catalog.b2b.seller
    invoice = document.invoice
    due: date = due_on(invoice.issued_on, seller.payment_days if seller else 30)
    return {
        "invoice": invoice,
        "account": document.account,
        "address": document.billing_address,
        "msisdn_of": document.msisdn_of,
        "seller": seller,
        "due_on": due,
        "period_label": french_period(invoice.period),
        "css": invoice_css(),
    }


def invoice_html(document: InvoiceDocument, catalog: Catalog) -> str:
    return _environment().get_template("invoice.html").render(**invoice_context(document, catalog))


def invoice_body_html(document: InvoiceDocument, catalog: Catalog) -> str:
    """The invoice without its page frame, for a portal page that has its own (and links `invoice.css`)."""
    return _environment().get_template("invoice_body.html").render(**invoice_context(document, catalog))


def invoice_pdf(document: InvoiceDocument, catalog: Catalog) -> bytes:
    from weasyprint import HTML

    pdf: bytes = HTML(string=invoice_html(document, catalog)).write_pdf()
    return pdf
