"""Invoices in the Centre d'Opérations: the list, the page (same text as the PDF) and the download."""

from __future__ import annotations

import io

from pypdf import PdfReader

from tests.api.helpers import OPERATOR, ok, set_clock
from tests.portal.helpers import browser, login_centre, make_business, text_of


def _june_invoice(http):
    business = make_business(http, used_bytes=0)  # 10 GB 4G at 6 € from 1 January
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
        assert f"{mine['number']} juin 2026 02/07/2026 6,00 € 7,20 € Télécharger" in listing
        page = client.get(f"/centre-operations/factures/{mine['id']}")
        assert page.status_code == 200
        text = text_of(page)
        for expected in (f"Facture n° {mine['number']}", "Période facturée : juin 2026", "Transports Exemple",
                         "SIREN 912345678", "Total HT 6,00 €", "TVA 20 % 1,20 €", "Total TTC 7,20 €"):
            assert expected in text, expected
        pdf = client.get(f"/centre-operations/factures/{mine['id']}/pdf")
        assert pdf.headers["content-type"] == "application/pdf"
        pdf_text = " ".join(" ".join(p.extract_text() or "" for p in PdfReader(io.BytesIO(pdf.content)).pages).split())
        assert "Total TTC 7,20 €" in pdf_text


def test_another_account_s_invoice_is_not_found(http, server_url):
    business, _, theirs = _june_invoice(http)
    with browser(server_url) as client:
        login_centre(client, *business.manager)
        assert client.get(f"/centre-operations/factures/{theirs['id']}").status_code == 404
        assert client.get(f"/centre-operations/factures/{theirs['id']}/pdf").status_code == 404
        assert theirs["number"] not in text_of(client.get("/centre-operations/factures"))
