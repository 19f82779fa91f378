"""In a real browser: a supervisor withdraws an offer from sale in the back office, and the customer's Centre
d'Opérations no longer offers it; the supervisor puts it back on sale, and the Centre offers it again."""

from __future__ import annotations

import re

from playwright.sync_api import expect

from bascule.identity.model import StaffRole
from tests.browser.journeys import heading, login_centre, nav
from tests.portal.helpers import make_business
from tests.portal.staff_helpers import SUPERVISOR, make_staff


def _login_supervisor(page) -> None:
    page.goto("/back-office/")
    page.get_by_label("Adresse e-mail").fill(SUPERVISOR[0])
    page.get_by_label("Mot de passe").fill(SUPERVISOR[1])
    page.get_by_role("button", name="Connexion agent ou superviseur").click()
    expect(heading(page)).to_have_text("Back-office opérateur")


def test_a_supervisor_withdraws_an_offer_and_the_centre_no_longer_offers_it(ctx, http, page, new_page):
    make_staff(ctx, SUPERVISOR, StaffRole.SUPERVISOR)
    business = make_business(http)  # a 10 GB 4G line
    form_url = f"/centre-operations/services/mobile/{business.service_id}/evolution"
    customer = new_page()
    login_centre(customer, *business.manager)
    customer.goto(form_url)
    volumes = customer.get_by_role("group", name="Volume de data mensuel")
    expect(volumes).to_contain_text("4G : 9,00 € HT/mois")

    _login_supervisor(page)
    nav(page, "Catalogue")
    expect(heading(page)).to_have_text("Catalogue")
    page.get_by_role("button", name="Retirer de la vente : Data Mobile 30 Go 4G").click()
    expect(page.get_by_text("Catalogue modifié : c'est en vigueur sur tous les canaux.")).to_be_visible()
    expect(page.get_by_role("table").first).to_contain_text("Data Mobile 30 Go 4G")
    expect(page.get_by_role("table").first).to_contain_text("Marc Dupont")

    customer.goto(form_url)
    expect(volumes).to_contain_text("30 Go")
    expect(volumes).not_to_contain_text("4G : 9,00 € HT/mois")
    customer.get_by_role("radio", name=re.compile(r"^30 Go")).check()
    customer.get_by_role("button", name="Valider").click()
    expect(customer.get_by_text("« Data Mobile 30 Go 4G » n'est plus commercialisé.")).to_be_visible()

    page.get_by_role("button", name="Remettre en vente : Data Mobile 30 Go 4G").click()
    expect(page.get_by_role("table").first).to_contain_text("Aucune : le catalogue livré s'applique tel quel.")
    customer.goto(form_url)
    expect(volumes).to_contain_text("4G : 9,00 € HT/mois")
