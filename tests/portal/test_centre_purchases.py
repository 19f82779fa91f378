"""Centre d'Opérations: top-ups and extensions from "Gérer le Service", and a used monthly slot said before any form."""

from __future__ import annotations

from tests.api.helpers import OPERATOR, ok
from tests.portal.helpers import GIB, browser, change_requests, login_centre, make_business, submit, text_of


def _charges(http, account_id):
    return ok(http.get(f"/api/v1/accounts/{account_id}/charges", headers=OPERATOR))


def _catalog_pack(http, group, data_bytes):
    return next(p for p in ok(http.get("/api/v1/catalog"))[group] if p["data_bytes"] == data_bytes)


def test_a_top_up_shows_its_price_and_quota_after_then_is_bought_with_the_password(http, server_url):
    business = make_business(http)  # 10 Go 4G at 6 €, 8 Go used
    pack = _catalog_pack(http, "topups", 5 * GIB)  # "Recharge ponctuelle 5 Go", 7,00 €
    base = f"/centre-operations/services/mobile/{business.service_id}"
    with browser(server_url) as client:
        login_centre(client, *business.manager)
        manage = text_of(client.get(f"{base}/gerer"))
        assert "Acheter une recharge data" in manage
        assert (
            "Changer le volume de data mensuel ou passer de 4G à 5G (et inversement). "
            "Sans frais de changement — facturation au prorata."
        ) in manage
        assert "Gratuit." not in manage
        offers = text_of(client.get(f"{base}/achat"))
        assert "Recharge ponctuelle 5 Go — 7,00 € HT + 5 Go : quota de 15 Go ensuite" in offers
        assert "Recharge ponctuelle 1 Go — 2,00 € HT + 1 Go : quota de 11 Go ensuite" in offers
        recap = text_of(client.get(f"{base}/achat", params={"offre": pack["id"]}))
        assert "Prix 7,00 € HT , facturé une fois" in recap
        assert "Quota data après l'achat 15 Go" in recap
        wrong = submit(
            client, f"{base}/achat?offre={pack['id']}", f"{base}/achat", {"offre": pack["id"], "password": "pas-le-bon"}
        )
        assert wrong.status_code == 401
        assert "Identité non confirmée : mot de passe incorrect." in text_of(wrong)
        assert _charges(http, business.account_id)["total"] == {"amount": "6.00", "currency": "EUR"}
        bought = submit(
            client,
            f"{base}/achat?offre={pack['id']}",
            f"{base}/achat",
            {"offre": pack["id"], "password": business.manager[1]},
        )
        assert (bought.status_code, bought.headers["location"]) == (303, base)
        service = text_of(client.get(base))
        assert (
            "« Recharge ponctuelle 5 Go » acheté sur la ligne +33612345678 : 7,00 € HT, ajoutés aux "
            "charges du mois. Quota data désormais : 15 Go."
        ) in service
        assert "Data utilisée : 8 Go sur 15 Go" in service
        assert "Achats du cycle" in service
        assert "16 juin 2026 à 09:00 Recharge ponctuelle 5 Go 7,00 € HT" in service
        charges = text_of(client.get("/centre-operations/charges"))
        assert "Recharge Recharge ponctuelle 5 Go 7,00 € HT" in charges
        assert "Total du mois 13,00 € HT" in charges
    lines = _charges(http, business.account_id)["lines"]
    assert [(line["kind"], line["description"], line["amount"]["amount"]) for line in lines] == [
        ("recurring", "Data Mobile 10 Go 4G, juin 2026", "6.00"),
        ("topup", "Recharge ponctuelle 5 Go", "7.00"),
    ]
    api = ok(http.get(f"/api/v1/services/{business.service_id}", headers=OPERATOR))
    assert (api["quota"]["total_bytes"], api["changes_left_this_month"]) == (15 * GIB, 1)  # no monthly slot used


def test_an_extension_raises_the_metered_ceiling_of_the_cycle(http, server_url):
    plans = ok(http.get("/api/v1/catalog"))["plans"]
    metered = next(p for p in plans if p["kind"] == "metered" and p["radio"] == "4G")
    business = make_business(http, plan_id=metered["id"], used_bytes=GIB)
    pack = _catalog_pack(http, "extensions", GIB)  # "Extension de plafond 1 Go", 1,50 €
    before = ok(http.get(f"/api/v1/services/{business.service_id}", headers=OPERATOR))["quota"]["total_bytes"]
    base = f"/centre-operations/services/mobile/{business.service_id}"
    with browser(server_url) as client:
        login_centre(client, *business.manager)
        assert "Acheter une extension de plafond" in text_of(client.get(f"{base}/gerer"))
        recap = text_of(client.get(f"{base}/achat", params={"offre": pack["id"]}))
        after_go = (before + GIB) // GIB
        assert "Prix 1,50 € HT , facturé une fois" in recap
        assert f"Plafond du cycle après l'achat {after_go} Go" in recap
        bought = submit(
            client,
            f"{base}/achat?offre={pack['id']}",
            f"{base}/achat",
            {"offre": pack["id"], "password": business.manager[1]},
        )
        assert bought.status_code == 303
        service = text_of(client.get(base))
        assert f"Plafond du cycle désormais : {after_go} Go." in service
        assert "Extension de plafond 1 Go 1,50 € HT" in service
    assert ok(http.get(f"/api/v1/services/{business.service_id}", headers=OPERATOR))["quota"]["total_bytes"] == (
        before + GIB
    )


def test_a_viewer_cannot_buy_and_nothing_is_charged(http, server_url):
    business = make_business(http, tag="v")
    pack = _catalog_pack(http, "topups", GIB)
    base = f"/centre-operations/services/mobile/{business.service_id}"
    with browser(server_url) as client:
        login_centre(client, *business.viewer)
        assert client.get(f"{base}/achat").status_code == 403
        refused = submit(client, base, f"{base}/achat", {"offre": pack["id"], "password": business.viewer[1]})
        assert refused.status_code == 403
    assert [line["kind"] for line in _charges(http, business.account_id)["lines"]] == ["recurring"]


def test_a_used_monthly_slot_is_said_before_any_form(http, server_url):
    business = make_business(http, tag="s")
    base = f"/centre-operations/services/mobile/{business.service_id}"
    limit = "Limite atteinte : 1 demande d'évolution par mois. Nouvelle demande possible à partir du 1er juillet 2026."
    with browser(server_url) as client:
        login_centre(client, *business.manager)
        created = submit(client, f"{base}/apn", f"{base}/apn", {"apn": "m2m.entreprise"})
        submit(
            client,
            created.headers["location"],
            f"{created.headers['location']}/confirmer",
            {"password": business.manager[1]},
        )
        manage = client.get(f"{base}/gerer")
        assert f"La demande d'évolution du mois est utilisée pour cette ligne. {limit}" in text_of(manage)
        assert f'href="{base}/evolution"' not in manage.text  # no way into a form that can only be refused
        assert f'href="{base}/achat"' in manage.text  # a top-up has no monthly limit
        form = client.get(f"{base}/mno")
        assert limit in text_of(form)
        assert 'name="network"' not in form.text
        choose = client.get("/centre-operations/demandes/nouvelle")
        assert f"+33612345678 Data Mobile 10 Go 4G — Orange — APN m2m.entreprise Demande du mois utilisée. {limit}" in (
            text_of(choose)
        )
        assert f'value="{business.service_id}" disabled' in choose.text
        assert limit in text_of(client.get(f"/centre-operations/demandes/nouvelle/{business.service_id}"))
    assert [r["status"] for r in change_requests(http, business.service_id)] == ["completed"]


def test_a_request_page_names_the_line_and_the_change_not_an_internal_id(http, server_url):
    business = make_business(http, tag="w")
    base = f"/centre-operations/services/mobile/{business.service_id}"
    with browser(server_url) as client:
        login_centre(client, *business.manager)
        created = submit(client, f"{base}/mno", f"{base}/mno", {"network": "sfr"})
        request_id = created.headers["location"].rsplit("/", 1)[1]
        quote = client.get(created.headers["location"])
        assert "+33612345678 — opérateur support SFR" in text_of(quote)
        assert "Changement d'opérateur support (Orange → SFR) 10,00 € HT" in text_of(quote)
        submit(
            client,
            created.headers["location"],
            f"{created.headers['location']}/confirmer",
            {"password": business.manager[1]},
        )
        result = client.get(created.headers["location"])
        assert "+33612345678 — opérateur support SFR" in text_of(result)
        assert request_id not in text_of(result)
        assert "Créée le 16 juin 2026 à 09:00" in text_of(result)
