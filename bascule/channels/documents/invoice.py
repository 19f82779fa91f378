"""Renders an invoice with the legal mentions of a French B2B invoice (HTML, and PDF through WeasyPrint)."""

from __future__ import annotations

from datetime import date
from functools import cache
from typing import Any

from jinja2 import Environment, PackageLoader, select_autoescape

from bascule.billing.invoice import StoredInvoice, due_on
from bascule.catalog.model import Catalog
from bascule.identity.model import Account
from bascule.kernel.calendar import Period
from bascule.kernel.messages_fr import month_fr
from bascule.kernel.money import Money


@cache
def _environment() -> Environment:
    env = Environment(loader=PackageLoader("bascule.channels.documents", "templates"),
                      autoescape=select_autoescape(["html"]))
    env.filters["euros"] = Money.french
    env.filters["day"] = lambda value: value.strftime("%d/%m/%Y")
    return env


def french_period(period: str) -> str:
    parsed = Period.parse(period)
    return month_fr(parsed.year, parsed.month)


def invoice_context(invoice: StoredInvoice, account: Account, catalog: Catalog) -> dict[str, Any]:
    seller = catalog.b2b.seller
    due: date = due_on(invoice.issued_on, seller.payment_days if seller else 30)
    return {"invoice": invoice, "account": account, "seller": seller, "due_on": due,
            "period_label": french_period(invoice.period)}


def invoice_html(invoice: StoredInvoice, account: Account, catalog: Catalog) -> str:
    return _environment().get_template("invoice.html").render(**invoice_context(invoice, account, catalog))


def invoice_body_html(invoice: StoredInvoice, account: Account, catalog: Catalog) -> str:
    """The invoice without its page frame, for a portal page that has its own."""
    return _environment().get_template("invoice_body.html").render(**invoice_context(invoice, account, catalog))


def invoice_pdf(invoice: StoredInvoice, account: Account, catalog: Catalog) -> bytes:
    from weasyprint import HTML

    pdf: bytes = HTML(string=invoice_html(invoice, account, catalog)).write_pdf()
    return pdf
