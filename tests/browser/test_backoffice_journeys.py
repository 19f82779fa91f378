"""The back office's first journey in a real browser: an agent logs in with their own password, opens an account
for a customer with a user and two lines, changes one line on the customer's behalf, cancels a request on the
other, and finds their own name beside the customer's in the audit log."""

from __future__ import annotations

import re

from playwright.sync_api import expect

from bascule.identity.model import StaffRole
from tests.browser.conftest import screenshot
from tests.browser.journeys import heading, nav
from tests.portal.helpers import GIB, bundle_plan
from tests.portal.staff_helpers import AGENT, make_staff


def _add_line(page, msisdn: str, plan_id: str) -> None:
    form = page.locator("form", has=page.get_by_role("heading", name="Ajouter une ligne"))
    form.get_by_label("Numéro (MSISDN)").fill(msisdn)
    form.get_by_label("Offre").select_option(plan_id)
    form.get_by_label("Opérateur réseau").select_option(label="Orange")
    form.get_by_label("APN").select_option(label="Internet entreprise (public)")
    form.get_by_role("button", name="Créer la ligne").click()
    expect(heading(page)).to_have_text(f"Service {msisdn}")


def test_an_agent_serves_a_new_customer_and_the_audit_names_them(ctx, http, page):
    make_staff(ctx, AGENT, StaffRole.AGENT)
    plan = bundle_plan(http, 10 * GIB, "4G")
    page.goto("/back-office/")
    expect(page).to_have_url(re.compile(r"/back-office/connexion"))
    page.get_by_label("Adresse e-mail").fill(AGENT[0])
    page.get_by_label("Mot de passe").fill(AGENT[1])
    page.get_by_role("button", name="Connexion agent ou superviseur").click()
    expect(heading(page)).to_have_text("Back-office opérateur")
    expect(page.locator(".who-name")).to_have_text("Awa Koné (agent)")
    expect(page.get_by_role("navigation", name="Navigation principale")).not_to_contain_text("Travaux en échec")

    page.get_by_label("Nom du compte").fill("Fleurs du Midi")
    page.get_by_role("button", name="Créer le compte").click()
    expect(heading(page)).to_have_text("Fleurs du Midi")
    expect(page.get_by_text("Compte « Fleurs du Midi » créé.")).to_be_visible()
    account_url = page.url

    users = page.locator("form", has=page.get_by_role("heading", name="Ajouter un utilisateur"))
    users.get_by_label("Adresse e-mail").fill("chef@fleurs.fr")
    users.get_by_label("Mot de passe initial (8 caractères au moins)").fill("gestion-secret")
    users.get_by_label("Rôle").select_option(label="Gestionnaire")
    users.get_by_role("button", name="Ajouter l'utilisateur").click()
    expect(page.get_by_text("Utilisateur chef@fleurs.fr ajouté.")).to_be_visible()
    expect(page.locator(".facts")).to_contain_text("chef@fleurs.fr (gestionnaire)")

    _add_line(page, "+33611223344", plan)
    change = page.locator("form", has=page.get_by_role("heading", name="Nouvelle demande pour le client"))
    change.get_by_label("Opérateur réseau").select_option(label="SFR")
    change.get_by_role("button", name="Créer la demande").click()
    expect(page.get_by_role("table").first).to_contain_text("Changement d'opérateur support (Orange → SFR)")
    expect(page.get_by_role("table").first).to_contain_text("10,00 €")
    page.get_by_role("button", name="Confirmer pour le client").click()
    expect(page.get_by_text("La demande est confirmée pour le client.")).to_be_visible()
    expect(page.locator(".facts")).to_contain_text("Effectuée")

    page.goto(account_url)
    _add_line(page, "+33611223355", plan)
    change = page.locator("form", has=page.get_by_role("heading", name="Nouvelle demande pour le client"))
    change.get_by_label("APN").select_option(label="M2M entreprise (IP privée)")
    change.get_by_role("button", name="Créer la demande").click()
    page.get_by_role("button", name="Annuler la demande").click()
    expect(page.get_by_text("La demande a été annulée : rien n'a été modifié ni facturé.")).to_be_visible()
    expect(page.locator(".facts")).to_contain_text("Annulée")

    nav(page, "Journal d'audit")
    expect(heading(page)).to_have_text("Journal d'audit")
    log = page.get_by_role("table")
    cancelled = log.get_by_role("row").filter(has_text="Demande annulée")
    expect(cancelled).to_contain_text("Awa Koné")
    expect(cancelled).to_contain_text("Fleurs du Midi")
    confirmed = log.get_by_role("row").filter(has_text="Service modifié")
    expect(confirmed).to_contain_text("Awa Koné")
    expect(confirmed).to_contain_text("Fleurs du Midi")
    expect(confirmed).to_contain_text("Opérateur réseau : Orange → SFR")
    expect(log.get_by_role("row").filter(has_text="Compte créé")).to_contain_text("Awa Koné")
    expect(log).not_to_contain_text("usr_")
    screenshot(page, "back-office-journal-audit")

    nav(page, "Demandes")
    rows = page.get_by_role("table").get_by_role("row")
    expect(rows.filter(has_text="+33611223344")).to_contain_text("Effectuée")
    expect(rows.filter(has_text="+33611223355")).to_contain_text("Annulée")
