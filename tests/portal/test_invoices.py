"""Invoices in the Centre d'Opérations: the list, the page (same text as the PDF) and the download."""

from __future__ import annotations

import io

from pypdf import PdfReader

from tests.api.helpers import OPERATOR, ok, set_clock
from tests.portal.helpers import browser, login_centre, make_business, text_of

ADDRESS = {"line1": "12 rue des Entrepôts", "line2": "Bâtiment B", "postal_code": "69007", "city": "Lyon"}


def _june_invoice(http):
    business = make_business(http, used_bytes=0)  # 10 GB 4G at 6 € from 1 January
    ok(http.patch(f"/api/v1/admin/accounts/{business.account_id}", json={"billing_address": ADDRESS}, headers=OPERATOR))
    other = make_business(http, tag="b", msisdn="+33612345600", used_bytes=0, name="Autre Client")
    set_clock(http, "2026-07-02T08:00:00+02:00")
    run = ok(http.post("/api/v1/admin/bill-runs", json={"period": "2026-06"}, headers=OPERATOR), 201)
    mine = next(i for i in run["invoices"] if i["account_id"] == business.account_id)
    theirs = next(i for i in run["invoices"] if i["account_id"] == other.account_id)
    return business, mine, theirs


def test_a_manager_reads_and_downloads_the_invoice_of_last_month(http, server_url):
    business, mine, _ = _june_invoice(http)
    with browser(server_url) as client:
        login_centre(client, *business.manager)
        listing = text_of(client.get("/centre-operations/factures"))
        assert f"{mine['number']} juin 2026 2 juillet 2026 6,00 € 7,20 € Télécharger" in listing
        page = client.get(f"/centre-operations/factures/{mine['id']}")
        assert page.status_code == 200
        assert '<link rel="stylesheet" href="/centre-operations/factures/facture.css">' in page.text
        text = text_of(page)
        lines = (
            "Client Transports Exemple 12 rue des Entrepôts Bâtiment B 69007 Lyon",
            "Ligne Désignation Date Montant HT",
            "+33612345678 Data Mobile 10 Go 4G, juin 2026 16 juin 2026 6,00 €",
            "Total HT 6,00 € TVA 20 % 1,20 € Total TTC 7,20 €",
        )
        for expected in (f"Facture n° {mine['number']}", "Période facturée : juin 2026", "SIREN 912345678", *lines):
            assert expected in text, expected
        assert business.account_id not in text  # no internal id for the customer
        style = client.get("/centre-operations/factures/facture.css")
        assert style.headers["content-type"].startswith("text/css")
        assert ".invoice-document .amount { text-align: right;" in style.text
        pdf = client.get(f"/centre-operations/factures/{mine['id']}/pdf")
        assert pdf.headers["content-type"] == "application/pdf"
        pdf_text = " ".join(" ".join(p.extract_text() or "" for p in PdfReader(io.BytesIO(pdf.content)).pages).split())
        for expected in lines:
            assert expected in pdf_text, expected


def test_another_account_s_invoice_is_not_found(http, server_url):
    business, _, theirs = _june_invoice(http)
    with browser(server_url) as client:
        login_centre(client, *business.manager)
        assert client.get(f"/centre-operations/factures/{theirs['id']}").status_code == 404
        assert client.get(f"/centre-operations/factures/{theirs['id']}/pdf").status_code == 404
        assert theirs["number"] not in text_of(client.get("/centre-operations/factures"))
