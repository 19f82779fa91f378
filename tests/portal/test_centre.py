"""Centre d'Opérations over HTTP: the seed's journeys with the seed's numbers, refusals and charges."""

from __future__ import annotations

from tests.api.helpers import OPERATOR, ok
from tests.portal.helpers import GIB, browser, change_requests, csrf_of, login_centre, make_business, submit, text_of

REBOOT = (
    "Les modifications sont immédiates. Pour qu'elles soient prises en compte sur la carte SIM, "
    "redémarrez votre équipement."
)


def test_a_plan_change_at_mid_cycle_quotes_confirms_and_charges_as_in_the_seed(http, server_url):
    business = make_business(http)  # 10 GB 4G at 6 €, 8 GB used, on 16 June (15 of 30 days left)
    base = f"/centre-operations/services/mobile/{business.service_id}"
    with browser(server_url) as client:
        login_centre(client, *business.manager)
        created = submit(client, f"{base}/evolution", f"{base}/evolution", {"volume": str(30 * GIB), "radio": "4G"})
        assert created.status_code == 303
        quote = client.get(created.headers["location"])
        text = text_of(quote)
        assert "Forfait : Data Mobile 30 Go 4G" in text
        assert "Prorata Data Mobile 30 Go 4G, 15/30 jours 4,50 €" in text
        assert "Total 4,50 €" in text
        assert "Quota data après le changement : 32 Go" in text
        assert REBOOT in text
        wrong = client.post(
            f"{created.headers['location']}/confirmer", data={"password": "pas-le-bon", "csrf_token": csrf_of(quote)}
        )
        assert wrong.status_code == 401
        assert "Identité non confirmée : mot de passe incorrect." in text_of(wrong)
        done = client.post(
            f"{created.headers['location']}/confirmer",
            data={"password": business.manager[1], "csrf_token": csrf_of(quote)},
        )
        assert done.status_code == 303
        result = text_of(client.get(done.headers["location"]))
        assert "Votre demande d'évolution est effectuée" in result
        assert "Quota data désormais : 32 Go" in result
        service = text_of(client.get(base))
        assert "Data utilisée : 0 Go sur 32 Go" in service
        assert "Nouvelle demande possible à partir du 1er juillet 2026." in service
        charges = text_of(client.get("/centre-operations/charges"))
        assert "Charges de juin 2026" in charges
        assert "Prorata Data Mobile 30 Go 4G, 15/30 jours 4,50 €" in charges
        assert "Total du mois 10,50 €" in charges  # 6,00 € for June + 4,50 €
    (request,) = change_requests(http, business.service_id)
    assert (request["status"], request["channel"]) == ("completed", "portal")


def test_the_second_request_of_the_month_is_refused_with_the_date_of_the_next(http, server_url):
    business = make_business(http)
    base = f"/centre-operations/services/mobile/{business.service_id}"
    with browser(server_url) as client:
        login_centre(client, *business.manager)
        created = submit(client, f"{base}/apn", f"{base}/apn", {"apn": "m2m.entreprise"})
        submit(
            client,
            created.headers["location"],
            f"{created.headers['location']}/confirmer",
            {"password": business.manager[1]},
        )
        refused = submit(client, f"{base}/mno", f"{base}/mno", {"network": "sfr"})
        assert refused.status_code == 409
        assert (
            "Limite atteinte : 1 demande d'évolution par mois. Nouvelle demande possible à partir du 1er juillet 2026."
        ) in text_of(refused)
    assert [r["status"] for r in change_requests(http, business.service_id)] == ["completed"]


def test_a_form_that_changes_nothing_is_refused_in_the_domains_words(http, server_url):
    business = make_business(http)
    base = f"/centre-operations/services/mobile/{business.service_id}"
    with browser(server_url) as client:
        login_centre(client, *business.manager)
        refused = submit(client, f"{base}/evolution", f"{base}/evolution", {"volume": str(10 * GIB), "radio": "4G"})
        assert refused.status_code == 422
        assert "La demande ne change rien au service." in text_of(refused)
    assert change_requests(http, business.service_id) == []


def test_a_cancelled_request_changes_nothing_and_frees_the_month(http, server_url):
    business = make_business(http)
    base = f"/centre-operations/services/mobile/{business.service_id}"
    with browser(server_url) as client:
        login_centre(client, *business.manager)
        created = submit(client, f"{base}/mno", f"{base}/mno", {"network": "sfr"})
        quote = text_of(client.get(created.headers["location"]))
        assert "Changement d'opérateur support (Orange → SFR) 10,00 €" in quote
        cancelled = submit(client, created.headers["location"], f"{created.headers['location']}/annuler", {})
        assert cancelled.headers["location"] == "/centre-operations/demandes"
        listing = text_of(client.get("/centre-operations/demandes"))
        assert "La demande a été annulée : rien n'a été modifié ni facturé." in listing
        assert "Annulée" in listing
        again = submit(client, f"{base}/apn", f"{base}/apn", {"apn": "m2m.entreprise"})
        assert again.status_code == 303
    service = ok(http.get(f"/api/v1/services/{business.service_id}", headers=OPERATOR))
    assert (service["network"], service["changes_left_this_month"]) == ("orange", 1)


def test_a_metered_ceiling_is_changed_from_its_own_form(http, server_url):
    plans = ok(http.get("/api/v1/catalog"))["plans"]
    metered = next(p for p in plans if p["kind"] == "metered" and p["radio"] == "4G")
    business = make_business(http, plan_id=metered["id"], used_bytes=0)
    base = f"/centre-operations/services/mobile/{business.service_id}"
    with browser(server_url) as client:
        login_centre(client, *business.manager)
        manage = text_of(client.get(f"{base}/gerer"))
        assert "Modifier le plafond" in manage
        created = submit(client, f"{base}/plafond", f"{base}/plafond", {"ceiling_go": "12"})
        quote = text_of(client.get(created.headers["location"]))
        assert "Plafond : 12 Go" in quote
        assert "Plafond après le changement : 12 Go" in quote
        assert "Aucun montant à payer : ce changement est gratuit." in quote
