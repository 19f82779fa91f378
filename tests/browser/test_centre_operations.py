"""Centre d'Opérations in Chromium: top-ups and extensions from "Gérer le Service", the menu folded on a 390 px
phone, and axe-core on every page (no serious or critical violation)."""

from __future__ import annotations

import re
from typing import Any

import pytest
from playwright.sync_api import expect

from tests.api.helpers import OPERATOR, ok, set_clock
from tests.browser.axe import axe_source, blocking_violations
from tests.browser.conftest import screenshot
from tests.browser.journeys import MAIN_NAV, heading, login_centre, nav
from tests.portal.helpers import GIB, make_business

PHONE = 390


def _charges(http: Any, account_id: str) -> list[tuple[str, str, str]]:
    lines = ok(http.get(f"/api/v1/accounts/{account_id}/charges", headers=OPERATOR))["lines"]
    return [(line["kind"], line["description"], line["amount"]["amount"]) for line in lines]


def test_buy_a_top_up_from_gerer_le_service(http, page):
    business = make_business(http)  # 10 Go 4G, 8 Go used, 16 June
    login_centre(page, *business.manager, start=f"/centre-operations/services/mobile/{business.service_id}")
    page.get_by_role("link", name="Gérer le Service").click()
    page.get_by_role("link", name="Acheter une recharge data").click()
    expect(heading(page)).to_have_text("Acheter une recharge data")
    page.get_by_role("radio", name=re.compile(r"^Recharge ponctuelle 5 Go")).check()
    expect(page.get_by_role("radio", name=re.compile(r"^Recharge ponctuelle 5 Go"))).to_have_accessible_name(
        "Recharge ponctuelle 5 Go — 7,00 € HT + 5 Go : quota de 15 Go ensuite"
    )
    page.get_by_role("button", name="Continuer").click()
    expect(page.locator(".purchase-price")).to_have_text("7,00 € HT")
    expect(page.locator(".purchase-after")).to_have_text("15 Go")
    page.get_by_label("Mot de passe").fill("pas-le-bon")
    page.get_by_role("button", name="Confirmer l'achat").click()
    expect(page.get_by_role("alert")).to_have_text("Identité non confirmée : mot de passe incorrect.")
    assert _charges(http, business.account_id) == [("recurring", "Data Mobile 10 Go 4G, juin 2026", "6.00")]
    page.get_by_label("Mot de passe").fill(business.manager[1])
    page.get_by_role("button", name="Confirmer l'achat").click()
    expect(heading(page)).to_have_text("Ligne +33612345678")
    expect(page.get_by_role("status").first).to_have_text(
        "« Recharge ponctuelle 5 Go » acheté sur la ligne +33612345678 : 7,00 € HT, ajoutés aux charges "
        "du mois. Quota data désormais : 15 Go."
    )
    expect(page.locator("meter")).to_have_attribute("max", str(15 * GIB))
    expect(page.locator("table.purchases tbody tr")).to_have_text(
        re.compile(r"16 juin 2026 à 09:00\s*Recharge ponctuelle 5 Go\s*7,00 € HT")
    )
    screenshot(page, "b2b-recharge-achetee")
    nav(page, "Charges du mois")
    expect(page.get_by_role("table")).to_contain_text("Recharge ponctuelle 5 Go")
    expect(page.locator("tfoot")).to_contain_text("13,00 € HT")
    assert _charges(http, business.account_id) == [
        ("recurring", "Data Mobile 10 Go 4G, juin 2026", "6.00"),
        ("topup", "Recharge ponctuelle 5 Go", "7.00"),
    ]


def test_buy_an_extension_of_a_metered_ceiling(http, page):
    plans = ok(http.get("/api/v1/catalog"))["plans"]
    metered = next(p for p in plans if p["kind"] == "metered" and p["radio"] == "4G")
    business = make_business(http, plan_id=metered["id"], used_bytes=GIB)
    ceiling = ok(http.get(f"/api/v1/services/{business.service_id}", headers=OPERATOR))["quota"]["total_bytes"]
    after = f"{(ceiling + 5 * GIB) // GIB} Go"
    login_centre(page, *business.manager, start=f"/centre-operations/services/mobile/{business.service_id}/gerer")
    page.get_by_role("link", name="Acheter une extension de plafond").click()
    page.get_by_role("radio", name=re.compile(r"^Extension de plafond 5 Go")).check()
    page.get_by_role("button", name="Continuer").click()
    expect(page.locator(".purchase-price")).to_have_text("6,00 € HT")
    expect(page.locator(".purchase-after")).to_have_text(after)
    page.get_by_label("Mot de passe").fill(business.manager[1])
    page.get_by_role("button", name="Confirmer l'achat").click()
    expect(page.get_by_role("status").first).to_contain_text(
        f"6,00 € HT, ajoutés aux charges du mois. Plafond du cycle désormais : {after}."
    )
    expect(page.locator("table.purchases")).to_contain_text("Extension de plafond 5 Go")
    assert ok(http.get(f"/api/v1/services/{business.service_id}", headers=OPERATOR))["quota"]["total_bytes"] == (
        ceiling + 5 * GIB
    )
    assert _charges(http, business.account_id)[-1] == ("extension", "Extension de plafond 5 Go", "6.00")


def test_the_menu_folds_on_a_390_px_phone_and_opens_without_script(http, chromium, server_url):
    business = make_business(http)
    for scripts in (True, False):
        context = chromium.new_context(
            base_url=server_url, locale="fr-FR", java_script_enabled=scripts, viewport={"width": PHONE, "height": 800}
        )
        tab = context.new_page()
        login_centre(tab, *business.manager)
        menu = tab.get_by_role("navigation", name=MAIN_NAV)
        expect(menu).to_have_count(0)  # folded: no link of the menu is shown
        toggle = tab.locator("summary.nav-toggle")
        expect(toggle).to_be_visible()
        expect(toggle).to_have_text("Menu")
        assert tab.evaluate("document.documentElement.scrollWidth") <= PHONE
        assert tab.locator("header.topbar").bounding_box()["height"] < 200
        toggle.click()
        expect(menu.get_by_role("link", name="Charges du mois")).to_be_visible()
        screenshot(tab, f"390-menu-ouvert{'' if scripts else '-sans-script'}")
        menu.get_by_role("link", name="Charges du mois").click()
        expect(heading(tab)).to_have_text("Charges de juin 2026")
        expect(tab.get_by_role("navigation", name=MAIN_NAV)).to_have_count(0)  # folded again on the new page
        context.close()
    wide = chromium.new_context(base_url=server_url, locale="fr-FR", viewport={"width": 1280, "height": 800})
    tab = wide.new_page()
    login_centre(tab, *business.manager)
    expect(tab.locator("summary.nav-toggle")).to_be_hidden()
    expect(tab.get_by_role("navigation", name=MAIN_NAV).get_by_role("link", name="Mes factures")).to_be_visible()
    wide.close()


def test_axe_runs_from_the_local_file_and_sees_a_serious_violation(chromium):
    tab = chromium.new_page()
    tab.set_content(
        '<html lang="fr"><head><title>t</title></head><body><main><h1>t</h1>'
        '<button></button><p style="color:#777;background:#888">peu lisible</p></main></body></html>'
    )
    found = blocking_violations(tab, axe_source())
    tab.close()
    assert [line.split(" ")[0] for line in found] == ["button-name", "color-contrast"]


@pytest.mark.parametrize("width", [1280, PHONE])
def test_axe_finds_no_serious_or_critical_violation_nor_a_scroll_on_any_centre_page(http, chromium, server_url, width):
    source = axe_source()
    business = make_business(http)
    metered_plan = next(p for p in ok(http.get("/api/v1/catalog"))["plans"] if p["kind"] == "metered")
    metered = make_business(http, tag="m", plan_id=metered_plan["id"], msisdn="+33612345699", used_bytes=GIB)
    topups = sorted(ok(http.get("/api/v1/catalog"))["topups"], key=lambda pack: pack["data_bytes"])
    context = chromium.new_context(
        base_url=server_url, locale="fr-FR", bypass_csp=True, viewport={"width": width, "height": 900}
    )
    context.set_default_timeout(15_000)
    tab = context.new_page()
    problems: list[str] = []

    def check(label: str) -> None:
        problems.extend(f"{label}: {found}" for found in blocking_violations(tab, source))
        overflow = tab.evaluate("document.documentElement.scrollWidth - window.innerWidth")
        if overflow > 0:
            problems.append(f"{label}: horizontal scroll of {overflow} px at {width} px")

    def visit(path: str) -> None:
        response = tab.goto(path)
        assert response is not None, path
        assert response.status == 200, path
        check(path)

    visit("/centre-operations/connexion")
    login_centre(tab, *business.manager)
    base = f"/centre-operations/services/mobile/{business.service_id}"
    for path in (
        "/centre-operations/",
        "/centre-operations/services",
        "/centre-operations/services/mobile",
        base,
        f"{base}/gerer",
        f"{base}/evolution",
        f"{base}/apn",
        f"{base}/mno",
        f"{base}/achat",
        f"{base}/achat?offre={topups[-1]['id']}",
        "/centre-operations/demandes",
        "/centre-operations/demandes/nouvelle",
        f"/centre-operations/demandes/nouvelle/{business.service_id}",
        "/centre-operations/charges",
        "/centre-operations/factures",
    ):
        visit(path)
    tab.goto(f"{base}/mno")
    tab.get_by_role("radio", name="SFR").check()
    tab.get_by_role("button", name="Valider").click()
    check("récapitulatif")
    tab.get_by_label("Mot de passe").fill("pas-le-bon")
    tab.get_by_role("button", name="Confirmer la demande").click()
    check("récapitulatif refusé")
    tab.get_by_label("Mot de passe").fill(business.manager[1])
    tab.get_by_role("button", name="Confirmer la demande").click()
    expect(heading(tab)).to_have_text("Votre demande d'évolution est effectuée")
    check("demande effectuée")
    visit(f"{base}/gerer")  # the month's slot used: said before the forms
    visit(f"{base}/apn")
    visit("/centre-operations/demandes/nouvelle")
    tab.goto(f"{base}/achat?offre={topups[0]['id']}")
    tab.get_by_label("Mot de passe").fill(business.manager[1])
    tab.get_by_role("button", name="Confirmer l'achat").click()
    check("recharge achetée")
    if width == PHONE:
        tab.locator("summary.nav-toggle").click()
        check("menu ouvert")
    context.close()
    context = chromium.new_context(
        base_url=server_url, locale="fr-FR", bypass_csp=True, viewport={"width": width, "height": 900}
    )
    context.set_default_timeout(15_000)
    tab = context.new_page()
    login_centre(tab, *metered.manager)
    meter_base = f"/centre-operations/services/mobile/{metered.service_id}"
    for path in (f"{meter_base}/gerer", f"{meter_base}/plafond", f"{meter_base}/achat"):
        visit(path)
    set_clock(http, "2026-07-02T08:00:00+02:00")
    invoice = ok(http.post("/api/v1/admin/bill-runs", json={"period": "2026-06"}, headers=OPERATOR), 201)
    mine = next(i for i in invoice["invoices"] if i["account_id"] == metered.account_id)
    login_centre(tab, *metered.manager, start="/centre-operations/factures")  # a new day: log in again
    expect(heading(tab)).to_have_text("Mes factures")
    check("/centre-operations/factures")
    visit(f"/centre-operations/factures/{mine['id']}")
    expect(tab.get_by_role("heading", level=1)).to_have_text(f"Facture n° {mine['number']}")
    screenshot(tab, f"{width}-facture")
    context.close()
    assert problems == []
