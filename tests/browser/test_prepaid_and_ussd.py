"""Line B in a real browser: one-time code login, profile change with an ineligible profile, USSD simulator."""

from __future__ import annotations

import re

from playwright.sync_api import expect

from tests.browser.conftest import screenshot
from tests.browser.journeys import heading, nav
from tests.conftest import ADMIN_TOKEN
from tests.portal.test_espace import MSISDN, last_code, make_subscriber


def test_a_subscriber_logs_in_with_a_code_and_changes_profile(http, page):
    make_subscriber(http)  # Novamix, 3 000 F CFA consumed in May: Tigre yes, Aigle no
    page.goto("/")
    page.get_by_role("link", name="Espace client").click()
    page.get_by_label("Numéro de téléphone").fill(MSISDN)
    page.get_by_role("button", name="Recevoir un code").click()
    page.get_by_label("Code reçu par SMS").fill(last_code(http, MSISDN))
    page.get_by_role("button", name="Se connecter").click()
    nav(page, "Mon profil")
    expect(heading(page)).to_have_text("Mon profil")
    expect(page.locator(".facts")).to_contain_text("Consommation en mai 2026")
    expect(page.locator(".facts")).to_contain_text("3 000 F CFA")
    page.get_by_role("link", name="changer de profil", exact=True).click()
    aigle = page.get_by_role("radio", name=re.compile(r"^Aigle"))
    expect(aigle).to_be_disabled()
    expect(page.locator("#raison-aigle")).to_have_text(
        "Indisponible : Il faut avoir consommé au moins 8 000 F CFA le mois passé (vous : 3 000 F CFA).")
    expect(page.get_by_role("radio", name=re.compile(r"^Novamix"))).to_be_disabled()
    screenshot(page, "prepaid-choix-du-profil")
    page.get_by_role("radio", name=re.compile(r"^Tigre")).check()
    page.get_by_role("button", name="Continuer").click()
    expect(page.get_by_text("Passer du profil Novamix au profil Tigre ?")).to_be_visible()
    page.get_by_role("button", name="Confirmer").click()
    expect(heading(page)).to_have_text("Votre profil est maintenant Tigre")
    screenshot(page, "prepaid-changement-de-profil")


def test_a_ussd_session_in_the_simulator_changes_profile(http, page):
    make_subscriber(http)
    page.goto("/")
    page.get_by_role("link", name="Simulateur USSD").click()
    # Outside the demo the simulator dials as any line: the operator logs in to the back office first.
    expect(page).to_have_url(re.compile(r"/back-office/connexion\?suite=/simulateur-ussd$"))
    page.get_by_label("Jeton opérateur").fill(ADMIN_TOKEN)
    page.get_by_role("button", name="Se connecter").click()
    expect(page).to_have_url(re.compile(r"/simulateur-ussd$"))
    page.get_by_label("Numéro de la ligne").fill(MSISDN)
    expect(page.get_by_label("Code à composer")).to_have_value("#121#")
    page.get_by_role("button", name="Appeler").click()
    screen = page.locator(".phone-screen")
    expect(screen).to_contain_text("Gamme mobile #121#")
    page.get_by_role("button", name="1", exact=True).click()  # the on-screen keypad
    expect(page.get_by_label("Votre réponse")).to_have_value("1")
    page.get_by_role("button", name="Envoyer").click()
    expect(screen).to_contain_text("4 Aigle (non éligible)")
    page.get_by_label("Votre réponse").fill("2")
    page.get_by_role("button", name="Envoyer").click()
    expect(screen).to_contain_text("Passer au profil Tigre ?")
    page.get_by_label("Votre réponse").fill("1")
    page.get_by_role("button", name="Envoyer").click()
    expect(page.locator(".screen-text")).to_have_text(
        "Votre profil est maintenant Tigre. Vos bonus en cours sont conservés.")
    expect(screen).to_contain_text("Session terminée")
    screenshot(page, "ussd-simulateur")
