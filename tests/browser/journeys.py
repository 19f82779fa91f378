"""Steps a person takes in the portal, written once for the browser tests."""

from __future__ import annotations

import re
from typing import Any

from tests.conftest import ADMIN_TOKEN

MAIN_NAV = "Navigation principale"


def nav(tab: Any, name: str) -> None:
    tab.get_by_role("navigation", name=MAIN_NAV).get_by_role("link", name=name, exact=True).click()


def login_centre(tab: Any, email: str, password: str, start: str = "/centre-operations/") -> None:
    tab.goto(start)
    tab.get_by_label("Adresse e-mail").fill(email)
    tab.get_by_label("Mot de passe").fill(password)
    tab.get_by_role("button", name="Se connecter").click()
    tab.wait_for_url(re.compile(r"/centre-operations/(?!connexion)"))


def login_backoffice(tab: Any, start: str = "/back-office/") -> None:
    tab.goto(start)
    tab.get_by_label("Jeton opérateur").fill(ADMIN_TOKEN)
    tab.get_by_role("button", name="Se connecter").click()
    tab.wait_for_url(re.compile(r"/(back-office/(?!connexion)|simulateur-ussd)"))


def confirm_with_password(tab: Any, password: str) -> None:
    tab.get_by_label("Mot de passe").fill(password)
    tab.get_by_role("button", name="Confirmer la demande").click()


def heading(tab: Any) -> Any:
    return tab.get_by_role("heading", level=1)
