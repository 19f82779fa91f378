"""Fleet journeys in a real browser: search, CSV export, a batch with one refused line (confirmed, then the refused
line quoted again), a line's daily usage chart, and the list at phone width."""

from __future__ import annotations

from playwright.sync_api import expect

from tests.api.helpers import OPERATOR, make_service, ok
from tests.browser.conftest import screenshot
from tests.browser.journeys import heading, login_centre
from tests.portal.helpers import GIB, make_business

LIST = "/centre-operations/services/mobile"
LIMIT_REASON = (
    "Limite atteinte : 1 demande d'évolution par mois. Nouvelle demande possible à partir du 1er juillet 2026."
)


def _fleet(http):  # type: ignore[no-untyped-def]
    business = make_business(http)  # +33612345678, 10 Go 4G on Orange, 8 Go used
    metered = make_service(http, business.account_id, plan_id="compteur-4g", msisdn="+33612340001")["id"]
    used = make_service(http, business.account_id, msisdn="+33612340002", network="sfr")["id"]
    created = ok(
        http.post(
            f"/api/v1/services/{used}/change-requests", json={"changes": {"apn": "m2m.entreprise"}}, headers=OPERATOR
        ),
        201,
    )
    ok(http.post(f"/api/v1/change-requests/{created['id']}/confirm", json={}, headers=OPERATOR))
    return business, metered, used


def rows(page):  # type: ignore[no-untyped-def]
    return page.locator("tbody tr.fleet-row")


def test_search_then_export_the_matching_lines(http, page):
    business, _, _ = _fleet(http)
    login_centre(page, *business.manager, start=LIST)
    expect(rows(page)).to_have_count(3)
    page.get_by_label("Rechercher (numéro ou offre)").fill("compteur")
    page.get_by_role("button", name="Filtrer").click()
    expect(rows(page)).to_have_count(1)
    expect(rows(page).first).to_contain_text("+33612340001")
    assert "q=compteur" in page.url
    page.reload()  # the filter lives in the URL
    expect(page.get_by_label("Rechercher (numéro ou offre)")).to_have_value("compteur")
    with page.expect_download() as download:
        page.get_by_role("link", name="Exporter en CSV").click()
    with open(download.value.path(), encoding="utf-8") as file:
        exported = file.read().splitlines()
    assert exported == [
        "msisdn,plan_id,radio,network,apn,status,quota_used_bytes,quota_total_bytes,changes_left_this_month",
        "+33612340001,compteur-4g,4G,orange,internet.pro,active,0,5368709120,1",
    ]
    page.get_by_label("Statut").select_option("active")
    page.get_by_label("Rechercher (numéro ou offre)").fill("")
    page.get_by_label("Tri").select_option("-msisdn")
    page.get_by_role("button", name="Filtrer").click()
    expect(rows(page).locator("th")).to_have_text(["+33612345678", "+33612340002", "+33612340001"])


def test_a_batch_with_one_refused_line_confirmed_and_the_refused_line_retried(http, page):
    business, _, _ = _fleet(http)
    login_centre(page, *business.manager, start=LIST)
    for number in ("+33612345678", "+33612340001", "+33612340002"):
        page.get_by_label(f"Sélectionner la ligne {number}").check()
    page.get_by_label("Technologie radio").select_option("5G")
    page.get_by_label("Opérateur support (MNO)").select_option("sfr")
    page.get_by_role("button", name="Obtenir le devis").click()
    expect(heading(page)).to_have_text("Devis de la modification groupée")
    lines = page.locator("tbody tr.fleet-row")
    # in the list's order: +33612340001 (metered), +33612340002 (its month's change made), +33612345678
    expect(lines.locator(".fleet-line-state")).to_have_text(["À confirmer", "Refusée", "À confirmer"])
    expect(lines.locator(".fleet-line-total")).to_have_text(["10,50 € HT", "—", "11,25 € HT"])
    expect(lines.nth(1).locator(".fleet-line-reason")).to_have_text(LIMIT_REASON)
    expect(page.locator(".fleet-batch-total")).to_have_text("21,75 € HT")
    screenshot(page, "b2b-lot-devis")
    page.get_by_label("Mot de passe").fill(business.manager[1])
    page.get_by_role("button", name="Confirmer pour 2 lignes").click()
    expect(heading(page)).to_have_text("Résultat de la modification groupée")
    expect(lines.locator(".fleet-line-state")).to_have_text(["Effectuée", "Refusée", "Effectuée"])
    expect(lines.locator(".fleet-line-total")).to_have_text(["10,50 € HT", "—", "11,25 € HT"])
    expect(lines.nth(1).locator(".fleet-line-reason")).to_have_text(LIMIT_REASON)
    screenshot(page, "b2b-lot-resultat")
    page.get_by_role("button", name="Refaire un devis pour ces lignes").click()
    expect(heading(page)).to_have_text("Devis de la modification groupée")
    expect(lines).to_have_count(1)
    expect(lines.first).to_contain_text("+33612340002")
    expect(lines.first.locator(".fleet-line-reason")).to_have_text(LIMIT_REASON)
    for service in ok(http.get("/api/v1/services", headers=OPERATOR, params={"account_id": business.account_id})):
        expected = ("4G", "sfr") if service["msisdn"] == "+33612340002" else ("5G", "sfr")
        assert (service["radio"], service["network"]) == expected


def test_the_daily_chart_of_a_line(http, page):
    business, _, _ = _fleet(http)
    ok(
        http.post(
            f"/api/v1/admin/services/{business.service_id}/usage",
            json={"bytes": GIB, "at": "2026-06-03T10:00:00+02:00"},
            headers=OPERATOR,
        )
    )
    login_centre(page, *business.viewer, start=f"{LIST}/{business.service_id}")
    page.get_by_role("link", name="Consommation jour par jour et achats du cycle").click()
    expect(heading(page)).to_have_text("Consommation de la ligne +33612345678")
    chart = page.locator("svg.fleet-chart-svg")
    expect(chart).to_be_visible()
    expect(chart.locator("rect.day-bar")).to_have_count(30)
    expect(chart.locator("rect.day-bar").nth(15)).to_have_attribute("height", "60.0")  # 16 June: 8 Go
    expect(chart.locator("rect.day-bar").nth(2)).to_have_attribute("height", "7.5")  # 3 June: 1 Go
    expect(page.locator(".fleet-usage-total")).to_have_text("9 Go")
    box = chart.bounding_box()
    assert box is not None
    assert box["width"] > 600
    screenshot(page, "b2b-consommation")


def test_the_list_at_phone_width_is_one_compact_row_per_line(http, new_page):
    business, _, _ = _fleet(http)
    phone = new_page(390)
    login_centre(phone, *business.manager, start=LIST)
    expect(rows(phone)).to_have_count(3)
    heights = [rows(phone).nth(i).bounding_box()["height"] for i in range(3)]
    assert max(heights) < 130, heights  # short lines: number, usage, links, a used slot
    width = phone.evaluate("document.documentElement.scrollWidth")
    assert width <= 390, width
    screenshot(phone, "390-lignes")
    # a line whose month's change is made says so, with the next date, before any form
    expect(rows(phone).nth(1).locator(".fleet-slot")).to_have_text("Utilisée — prochaine le 1er juillet 2026")
    expect(rows(phone).nth(0).locator(".fleet-slot")).to_be_hidden()
