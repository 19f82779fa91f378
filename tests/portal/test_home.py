"""The home page leads to every space; in demo mode it lists the demo logins."""

from __future__ import annotations

import re

from tests.portal.helpers import browser, text_of
from tests.portal.test_espace import MSISDN, make_subscriber


def test_the_home_page_links_every_space_and_every_link_answers(http, server_url):
    with browser(server_url) as client:
        home = client.get("/")
        assert home.status_code == 200
        assert '<html lang="fr">' in home.text
        links = re.findall(r'href="(/[^"]*)"', home.text)
        spaces = [link for link in links if link not in ("/", "/portail-static/portal.css")]
        assert spaces == ["/centre-operations/", "/espace-client/", "/back-office/", "/simulateur-ussd"]
        for link in links:
            assert client.get(link, follow_redirects=True).status_code == 200, link
        assert "Mode démonstration" not in text_of(home)


def test_in_demo_mode_the_home_page_lists_the_demo_logins(http, other_server):
    make_subscriber(http)
    with other_server(demo=True) as client:
        home = text_of(client.get("/"))
    assert "Gestionnaire : gestionnaire@demo.bascule.test / mot de passe demo-gestion" in home
    assert "Lecteur (consultation seule) : lecteur@demo.bascule.test / mot de passe demo-lecture" in home
    assert f"{MSISDN} — profil Novamix" in home
    assert "Agent (Awa Koné) : agent@demo.bascule.test / mot de passe demo-agent" in home
    assert (
        "Superviseur (Marc Dupont, comptes, catalogue et relances en plus) : superviseur@demo.bascule.test "
        "/ mot de passe demo-supervision"
    ) in home
