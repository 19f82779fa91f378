"""Every page: lang="fr", a label for every field, and no horizontal scroll on a 360 px wide phone."""

from __future__ import annotations

from typing import Any

from playwright.sync_api import expect

from tests.browser.conftest import screenshot
from tests.browser.journeys import login_backoffice, login_centre
from tests.portal.helpers import make_business
from tests.portal.test_espace import MSISDN, last_code, make_subscriber

PHONE = 360

AUDIT = """() => {
  const problems = [];
  if (document.documentElement.getAttribute("lang") !== "fr") problems.push("lang=" + document.documentElement.lang);
  for (const field of document.querySelectorAll("input, select, textarea")) {
    if (field.type === "hidden") continue;
    const byFor = field.id && document.querySelector('label[for="' + CSS.escape(field.id) + '"]');
    const named = byFor || field.closest("label") || field.getAttribute("aria-label")
      || field.getAttribute("aria-labelledby");
    if (!named) problems.push("field without label: " + (field.name || field.id || field.type));
  }
  if (!document.title.trim()) problems.push("no title");
  if (document.querySelectorAll("h1").length !== 1) problems.push("h1 count " + document.querySelectorAll("h1").length);
  const overflow = document.documentElement.scrollWidth - window.innerWidth;
  if (overflow > 0) {
    const wide = [...document.querySelectorAll("body *")]
      .filter(e => e.getBoundingClientRect().right > window.innerWidth + 1)
      .slice(0, 3).map(e => e.tagName + "." + e.className);
    problems.push("horizontal scroll of " + overflow + "px: " + wide.join(", "));
  }
  return problems;
}"""


def test_the_audit_sees_a_missing_label_and_a_horizontal_scroll(chromium):
    tab = chromium.new_page(viewport={"width": PHONE, "height": 700})
    tab.set_content(
        '<html lang="en"><body><h1>x</h1><input name="q"><div style="width:500px">large</div></body></html>'
    )
    problems = tab.evaluate(AUDIT)
    tab.close()
    assert problems == ["lang=en", "field without label: q", "no title", "horizontal scroll of 148px: DIV."]


def audit_here(tab: Any) -> list[str]:
    """The page the last click led to, once it has loaded (never a document half-way through navigation)."""
    tab.wait_for_load_state("load")
    return list(tab.evaluate(AUDIT))


def audit(tab: Any, path: str) -> list[str]:
    response = tab.goto(path)
    assert response is not None, path
    assert response.status == 200, f"{path}: {response.status}"
    return [f"{path}: {problem}" for problem in tab.evaluate(AUDIT)]


def test_pages_are_french_labelled_and_fit_a_360_px_phone(http, new_page):
    business = make_business(http)
    make_subscriber(http)
    problems: list[str] = []

    visitor = new_page(PHONE)
    for path in ("/", "/centre-operations/connexion", "/espace-client/connexion", "/back-office/connexion"):
        problems += audit(visitor, path)

    simulating = new_page(PHONE)  # outside the demo the simulator is for logged-in operators
    login_backoffice(simulating, start="/simulateur-ussd")
    problems += audit(simulating, "/simulateur-ussd")
    simulating.get_by_label("Numéro de la ligne").fill(MSISDN)
    simulating.get_by_role("button", name="Appeler").click()
    expect(simulating.locator(".phone-screen")).to_contain_text("Gamme mobile #121#")
    problems += [f"simulateur en session: {p}" for p in audit_here(simulating)]
    screenshot(simulating, "360-simulateur-ussd")

    manager = new_page(PHONE)
    login_centre(manager, *business.manager)
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
        f"/centre-operations/demandes/nouvelle/{business.service_id}",
        "/centre-operations/demandes/nouvelle",
        "/centre-operations/charges",
    ):
        problems += audit(manager, path)
    manager.goto("/centre-operations/services/mobile")
    screenshot(manager, "360-solutions-mobile")
    manager.goto(f"{base}/mno")
    manager.get_by_role("radio", name="SFR").check()
    manager.get_by_role("button", name="Valider").click()
    problems += [f"récapitulatif: {p}" for p in audit_here(manager)]
    screenshot(manager, "360-recapitulatif")
    problems += audit(manager, "/centre-operations/demandes")
    screenshot(manager, "360-demandes")

    subscriber = new_page(PHONE)
    subscriber.goto("/espace-client/connexion")
    subscriber.get_by_label("Numéro de téléphone").fill(MSISDN)
    subscriber.get_by_role("button", name="Recevoir un code").click()
    problems += [f"saisie du code: {p}" for p in audit_here(subscriber)]
    subscriber.get_by_label("Code reçu par SMS").fill(last_code(http, MSISDN))
    subscriber.get_by_role("button", name="Se connecter").click()
    for path in (
        "/espace-client/",
        "/espace-client/profil",
        "/espace-client/profil/changer",
        "/espace-client/profil/confirmation?profil=tigre",
    ):
        problems += audit(subscriber, path)
    subscriber.goto("/espace-client/profil/changer")
    screenshot(subscriber, "360-changer-de-profil")

    operator = new_page(PHONE)
    login_backoffice(operator)
    for path in (
        "/back-office/",
        "/back-office/?q=%2B336",
        f"/back-office/comptes/{business.account_id}",
        f"/back-office/services/{business.service_id}",
        f"/back-office/abonnes/{MSISDN}",
        "/back-office/catalogue",
    ):
        problems += audit(operator, path)
    operator.goto(f"/back-office/services/{business.service_id}")
    screenshot(operator, "360-back-office-service")

    assert problems == []
