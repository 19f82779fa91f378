"""Line B in a real browser: one-time code login, profile change with an ineligible profile, nothing to click when
the month's changes are used, the demo's « SMS envoyés », USSD simulator."""

from __future__ import annotations

import re

from playwright.sync_api import expect

from tests.api.helpers import OPERATOR, ok
from tests.browser.conftest import screenshot
from tests.browser.journeys import heading, nav
from tests.conftest import ADMIN_TOKEN
from tests.portal.test_espace import MSISDN, last_code, make_subscriber, use_every_change_of_the_month


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
    page.get_by_role("main").get_by_role("link", name="Changer de profil", exact=True).click()  # the button
    expect(heading(page)).to_have_text("Changer de profil")
    expect(page.locator(".lead")).to_have_text(
        "Profil actuel : Novamix. Le changement de profil est gratuit ; il vous en reste 3 ce mois-ci."
    )
    aigle = page.get_by_role("radio", name=re.compile(r"^Aigle"))
    expect(aigle).to_be_disabled()
    expect(page.locator("#raison-aigle")).to_have_text(
        "Il faut avoir consommé au moins 8\u202f000 F CFA le mois passé (vous : 3\u202f000 F CFA)."
    )
    expect(page.get_by_role("button", name="Continuer")).to_be_enabled()
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
        "Votre profil est maintenant Tigre. Vos bonus en cours sont conservés."
    )
    expect(screen).to_contain_text("Session terminée")
    screenshot(page, "ussd-simulateur")


def log_in(http, page, msisdn: str = MSISDN) -> None:
    page.goto("/espace-client/connexion")
    page.get_by_label("Numéro de téléphone").fill(msisdn)
    page.get_by_role("button", name="Recevoir un code").click()
    page.get_by_label("Code reçu par SMS").fill(last_code(http, msisdn))
    page.get_by_role("button", name="Se connecter").click()
    expect(heading(page)).to_have_text("Espace client")


def test_when_no_profile_can_be_chosen_continuer_is_disabled_and_the_page_says_why(http, page):
    make_subscriber(http)
    use_every_change_of_the_month(http)  # Dauphin, Novamix, then Tigre: the month's three changes
    log_in(http, page)
    expect(page.get_by_text("Vous avez fait tous vos changements de profil de ce mois-ci.")).to_be_visible()
    nav(page, "Changer de profil")
    expect(page.locator(".lead")).to_have_text(
        "Profil actuel : Tigre. Vous avez fait vos 3 changements de profil de ce mois-ci : le prochain sera possible "
        "à partir du 1er juillet 2026."
    )
    for name in ("Novamix", "Tigre", "Dauphin", "Aigle"):
        expect(page.get_by_role("radio", name=re.compile(rf"^{name}"))).to_be_disabled()
    expect(page.locator("#raison-dauphin")).to_have_text("Plus de changement de profil possible ce mois-ci.")
    button = page.get_by_role("button", name="Continuer")
    expect(button).to_be_disabled()
    expect(button).to_have_accessible_description("Aucun profil ne peut être choisi avant le 1er juillet 2026.")
    screenshot(page, "prepaid-aucun-choix")
    page.get_by_role("link", name="Retour").click()
    expect(page.locator(".facts")).to_contain_text("Changements de profil restants ce mois-ci")
    expect(page.locator(".facts")).to_contain_text("aucun")
    assert ok(http.get(f"/api/v1/subscribers/{MSISDN}", headers=OPERATOR))["profile_id"] == "tigre"


def test_in_the_demo_the_code_is_read_on_the_sms_page_and_logs_in(http, chromium, other_server):
    make_subscriber(http)
    with other_server(demo=True) as demo:
        context = chromium.new_context(
            base_url=str(demo.base_url), locale="fr-FR", viewport={"width": 1280, "height": 900}
        )
        context.set_default_timeout(15_000)
        try:
            tab = context.new_page()
            tab.goto("/espace-client/connexion")
            tab.get_by_label("Numéro de téléphone").fill(MSISDN)
            tab.get_by_role("button", name="Recevoir un code").click()
            with context.expect_page() as opened:
                tab.get_by_role("link", name="« SMS envoyés »").click()
            sms = opened.value
            expect(heading(sms)).to_have_text("SMS envoyés")
            expect(sms.get_by_label("Numéro de téléphone")).to_have_value(MSISDN)
            row = sms.get_by_role("row").filter(has_text=MSISDN).first
            expect(row).to_contain_text("Votre code de connexion : ")
            found = re.search(r"code de connexion : (\d{6})\.", row.inner_text())
            assert found is not None
            assert found.group(1) == last_code(http, MSISDN)  # the outbox's own message
            screenshot(sms, "prepaid-sms-envoyes")
            tab.get_by_label("Code reçu par SMS").fill(found.group(1))
            tab.get_by_role("button", name="Se connecter").click()
            expect(heading(tab)).to_have_text("Espace client")
        finally:
            context.close()
