"""The B2B journeys of the seed, in a real browser: both paths to a request, APN, MNO, the limit, a viewer."""

from __future__ import annotations

import re

from playwright.sync_api import expect

from tests.api.helpers import ok
from tests.browser.conftest import screenshot
from tests.browser.journeys import confirm_with_password, heading, login_centre, nav
from tests.portal.helpers import make_business
from tests.support.logins import account_user

REBOOT = "Pour qu'elles soient prises en compte sur la carte SIM, redémarrez votre équipement."


def test_create_a_request_from_gerer_mes_demandes_d_evolution(http, page):
    business = make_business(http)  # 10 Go 4G, 8 Go used, 16 June: 15 of 30 days left
    login_centre(page, *business.manager)
    expect(heading(page)).to_have_text("Centre d'Opérations")
    nav(page, "Gérer mes demandes d'évolution")
    page.get_by_role("link", name="Créer une demande").click()
    page.get_by_role("radio", name=re.compile(r"^\+33612345678")).check()
    page.get_by_role("button", name="Continuer").click()
    expect(page.get_by_role("heading", name="Sélectionnez les options à modifier")).to_be_visible()
    page.get_by_role("radio", name=re.compile(r"^30 Go")).check()
    page.get_by_role("button", name="Valider").click()
    expect(heading(page)).to_have_text("Récapitulatif de votre demande d'évolution")
    expect(page.get_by_role("table")).to_contain_text("Prorata Data Mobile 30 Go 4G, 15/30 jours")
    expect(page.get_by_role("table")).to_contain_text("4,50 €")
    expect(page.locator(".quota-after")).to_have_text("Quota data après le changement : 32 Go")
    expect(page.get_by_text(REBOOT)).to_be_visible()
    confirm_with_password(page, business.manager[1])
    expect(heading(page)).to_have_text("Votre demande d'évolution est effectuée")
    expect(page.locator(".quota-after")).to_have_text("Quota data désormais : 32 Go")
    screenshot(page, "b2b-creer-une-demande")
    nav(page, "Gérer mes demandes d'évolution")
    expect(page.get_by_role("table")).to_contain_text("Effectuée")


def test_evolve_from_the_active_service_to_5g(http, page):
    business = make_business(http)
    login_centre(page, *business.manager)
    nav(page, "Consulter mes Services Actifs")
    page.get_by_role("link", name="Solutions Mobile").click()
    expect(page.locator("meter")).to_have_attribute("value", str(8 * 1024**3))
    page.get_by_role("link", name="Gérer le Service +33612345678").click()
    page.get_by_role("link", name="Faire évoluer le Service").click()
    page.get_by_role("radio", name=re.compile(r"^5G")).check()
    page.get_by_role("button", name="Valider").click()
    expect(page.get_by_role("table")).to_contain_text("Prorata passage 4G → 5G (Data Mobile 10 Go 5G), 15/30 jours")
    expect(page.get_by_role("table")).to_contain_text("1,25 €")
    expect(page.locator(".quota-after")).to_have_text("Quota data après le changement : 10 Go")
    confirm_with_password(page, business.manager[1])
    expect(heading(page)).to_have_text("Votre demande d'évolution est effectuée")
    screenshot(page, "b2b-faire-evoluer-le-service")
    page.get_by_role("link", name="Voir le service").click()
    expect(page.locator(".facts")).to_contain_text("Technologie radio5G")


def test_change_the_apn_then_see_it_on_the_service(http, page):
    business = make_business(http)
    login_centre(page, *business.manager, start=f"/centre-operations/services/mobile/{business.service_id}")
    page.get_by_role("link", name="Gérer le Service").click()
    page.get_by_role("link", name="Modifier l'APN").click()
    page.get_by_role("radio", name=re.compile(r"^VPN entreprise")).check()
    page.get_by_role("button", name="Valider").click()
    expect(page.get_by_role("table")).to_contain_text("Aucun montant à payer : ce changement est gratuit.")
    expect(page.get_by_role("table")).to_contain_text("0,00 €")
    confirm_with_password(page, business.manager[1])
    expect(heading(page)).to_have_text("Votre demande d'évolution est effectuée")
    screenshot(page, "b2b-modifier-l-apn")
    page.get_by_role("link", name="Voir le service").click()
    expect(page.locator(".facts")).to_contain_text("VPN entreprise (réseau privé)")


def test_change_the_mno_with_its_fee(http, page):
    business = make_business(http)
    login_centre(page, *business.manager, start=f"/centre-operations/services/mobile/{business.service_id}/gerer")
    expect(page.get_by_text("Changer d'opérateur support. Frais : 10,00 € HT.")).to_be_visible()
    page.get_by_role("link", name="Modifier le MNO").click()
    expect(page.get_by_text("Changer d'opérateur support : 10,00 € HT de frais, facturés une fois.")).to_be_visible()
    page.get_by_role("radio", name=re.compile(r"^SFR")).check()
    page.get_by_role("button", name="Valider").click()
    expect(page.get_by_role("table")).to_contain_text("Changement d'opérateur support (Orange → SFR)")
    expect(page.locator("tfoot")).to_contain_text("10,00 €")
    confirm_with_password(page, business.manager[1])
    expect(heading(page)).to_have_text("Votre demande d'évolution est effectuée")
    screenshot(page, "b2b-modifier-le-mno")
    nav(page, "Charges du mois")
    expect(page.get_by_role("table")).to_contain_text("Changement d'opérateur support (Orange → SFR)")
    expect(page.locator("tfoot")).to_contain_text("16,00 €")


def test_a_used_monthly_slot_is_said_before_any_form_with_the_next_date(http, page):
    business = make_business(http)
    headers = account_user(http, *business.manager)
    created = ok(
        http.post(
            f"/api/v1/services/{business.service_id}/change-requests",
            json={"changes": {"radio": "5G"}},
            headers=headers,
        ),
        201,
    )
    ok(
        http.post(
            f"/api/v1/change-requests/{created['id']}/confirm", json={"password": business.manager[1]}, headers=headers
        )
    )
    limit = "Limite atteinte : 1 demande d'évolution par mois. Nouvelle demande possible à partir du 1er juillet 2026."
    login_centre(page, *business.manager, start=f"/centre-operations/services/mobile/{business.service_id}")
    expect(page.get_by_text("Nouvelle demande possible à partir du 1er juillet 2026.")).to_be_visible()
    page.get_by_role("link", name="Gérer le Service").click()
    expect(page.locator(".month-used")).to_have_text(
        f"La demande d'évolution du mois est utilisée pour cette ligne. {limit}"
    )
    expect(page.get_by_role("link", name="Modifier l'APN")).to_have_count(0)
    expect(page.get_by_role("heading", name="Modifier l'APN")).to_be_visible()
    expect(page.get_by_role("link", name="Acheter une recharge data")).to_be_visible()  # no monthly limit
    screenshot(page, "b2b-limite-mensuelle-avant-le-formulaire")
    nav(page, "Gérer mes demandes d'évolution")
    page.get_by_role("link", name="Créer une demande").click()
    line = page.get_by_role("radio", name=re.compile(r"^\+33612345678"))
    expect(line).to_be_disabled()
    expect(page.locator(".choice-reason")).to_have_text(f"Demande du mois utilisée. {limit}")
    page.goto(f"/centre-operations/services/mobile/{business.service_id}/apn")
    expect(page.locator(".month-used")).to_contain_text(limit)
    expect(page.get_by_role("button", name="Valider")).to_have_count(0)


def test_a_viewer_sees_but_cannot_change(http, page):
    business = make_business(http)
    login_centre(page, *business.viewer)
    expect(page.get_by_text("Votre rôle de lecteur permet de consulter")).to_be_visible()
    nav(page, "Consulter mes Services Actifs")
    page.get_by_role("link", name="Solutions Mobile").click()
    expect(page.get_by_role("link", name=re.compile("Gérer le Service"))).to_have_count(0)
    page.get_by_role("link", name="Voir le service +33612345678").click()
    expect(page.get_by_text("Vous consultez ce service en lecture seule.")).to_be_visible()
    nav(page, "Gérer mes demandes d'évolution")
    expect(page.get_by_role("link", name="Créer une demande")).to_have_count(0)
    page.goto(f"/centre-operations/services/mobile/{business.service_id}/evolution")
    expect(page.get_by_role("alert")).to_have_text("Un lecteur peut consulter mais pas modifier.")
    screenshot(page, "b2b-lecteur-bloque")
