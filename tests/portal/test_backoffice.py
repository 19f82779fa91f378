"""Back office over HTTP: search, account, service and subscriber pages with their audit trails."""

from __future__ import annotations

from tests.api.helpers import OPERATOR, ok
from tests.portal.helpers import browser, login_centre, make_business, submit, text_of
from tests.portal.test_espace import MSISDN, make_subscriber
from tests.support.logins import operator_in_back_office


def test_the_operator_finds_an_account_a_service_and_a_subscriber_and_reads_their_trails(http, server_url):
    business = make_business(http, name="Livraisons Rapides")
    make_subscriber(http)
    base = f"/centre-operations/services/mobile/{business.service_id}"
    with browser(server_url) as customer:
        login_centre(customer, *business.manager)
        created = submit(customer, f"{base}/apn", f"{base}/apn", {"apn": "m2m.entreprise"})
        submit(
            customer,
            created.headers["location"],
            f"{created.headers['location']}/confirmer",
            {"password": business.manager[1]},
        )
    with browser(server_url) as client:
        operator_in_back_office(client)
        found = text_of(client.get("/back-office/", params={"q": "livraisons"}))
        assert "Compte Livraisons Rapides" in found
        by_number = text_of(client.get("/back-office/", params={"q": "612345678"}))
        assert "Service +33612345678" in by_number
        subscriber = text_of(client.get("/back-office/", params={"q": "0701234567"}))
        assert f"Abonné {MSISDN} Abonné prépayé — Novamix" in subscriber
        account = text_of(client.get(f"/back-office/comptes/{business.account_id}"))
        assert "chef-a@example.fr (gestionnaire), lecteur-a@example.fr (lecteur)" in account
        assert (
            "Compte créé Opérateur (jeton) Livraisons Rapides API Nom : Livraisons Rapides Fuseau : Europe/Paris"
        ) in account
        service = text_of(client.get(f"/back-office/services/{business.service_id}"))
        assert "APN : M2M entreprise (IP privée)" in service
        assert (
            "Service modifié chef-a@example.fr — Portail APN : Internet entreprise (public) → "
            "M2M entreprise (IP privée)"
        ) in service
        assert "Portail" in service
        sub = text_of(client.get(f"/back-office/abonnes/{MSISDN}"))
        assert "Profil Novamix" in sub
        assert (
            "Abonné créé Opérateur (jeton) Ligne +2250701234567 API Profil : Novamix Fuseau : Africa/Abidjan "
            "Devise : XOF"
        ) in sub
        assert (
            "Consommation Opérateur (jeton) Ligne +2250701234567 API Montant : 3 000 F CFA "
            "Date : 20 mai 2026 à 10:00 Pris sur les bonus : 0 F CFA Pris sur le crédit : 3 000 F CFA "
            "Solde : 7 000 F CFA"
        ) in sub
        assert "Tigre : possible" in sub
        catalogue = text_of(client.get("/back-office/catalogue"))
        assert "Data Mobile 10 Go 5G" in catalogue
        assert "8,50 €" in catalogue
        assert "au moins 8 000 F CFA consommés le mois précédent" in catalogue


def test_the_operator_reads_a_request_and_its_trail(http, server_url):
    business = make_business(http)
    base = f"/centre-operations/services/mobile/{business.service_id}"
    with browser(server_url) as customer:
        login_centre(customer, *business.manager)
        created = submit(customer, f"{base}/mno", f"{base}/mno", {"network": "sfr"})
        request_id = created.headers["location"].rsplit("/", 1)[1]
    with browser(server_url) as client:
        operator_in_back_office(client)
        listed = client.get(f"/back-office/services/{business.service_id}")
        assert f"/back-office/demandes/{request_id}" in listed.text
        page = text_of(client.get(f"/back-office/demandes/{request_id}"))
        assert "Statut En attente de confirmation" in page
        assert "Canal Portail" in page
        assert "Changement d'opérateur support (Orange → SFR) 10,00 €" in page
        assert (
            "Demande d'évolution créée chef-a@example.fr — Portail Statut : en attente de confirmation "
            "Opérateur réseau : SFR (demandé)"
        ) in page


def test_the_account_page_shows_the_billing_address_the_operator_set(http, server_url):
    business = make_business(http, name="Livraisons Rapides")
    with browser(server_url) as client:
        operator_in_back_office(client)
        before = text_of(client.get(f"/back-office/comptes/{business.account_id}"))
        assert "Adresse de facturation aucune" in before
        ok(
            http.patch(
                f"/api/v1/admin/accounts/{business.account_id}",
                headers=OPERATOR,
                json={"billing_address": {"line1": "4 quai des Docks", "postal_code": "13002", "city": "Marseille"}},
            )
        )
        after = text_of(client.get(f"/back-office/comptes/{business.account_id}"))
        assert "Adresse de facturation 4 quai des Docks, 13002 Marseille" in after
        assert "account.billing_address_changed" in after
