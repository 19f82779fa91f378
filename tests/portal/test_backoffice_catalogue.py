"""The back office's catalogue page: a supervisor withdraws an offer and changes a price, the Centre and the
Espace client follow at once; an agent sees the overrides and is refused (403) with nothing changed."""

from __future__ import annotations

from sqlalchemy import select

from bascule.identity.model import StaffRole
from bascule.persistence import tables
from tests.portal.helpers import GIB, browser, login_centre, make_business, submit, text_of
from tests.portal.staff_helpers import AGENT, SUPERVISOR, login_staff, make_staff
from tests.rows import row_counts

PAGE = "/back-office/catalogue"


def _override(client, kind, entry, field, value):
    return submit(client, PAGE, PAGE, {"kind": kind, "entry": entry, "field": field, "value": value})


def test_a_supervisor_withdraws_a_plan_and_the_centre_no_longer_offers_it(ctx, http, server_url):
    make_staff(ctx, SUPERVISOR, StaffRole.SUPERVISOR)
    business = make_business(http)  # 10 GB 4G
    with browser(server_url) as client:
        login_staff(client, SUPERVISOR)
        page = text_of(client.get(PAGE))
        assert "Aucune : le catalogue livré s'applique tel quel." in page
        assert "Retirer de la vente" in page
        done = _override(client, "plan", "data-30go-4g", "on_sale", "false")
        assert done.status_code == 303
        repriced = _override(client, "plan", "data-50go-4g", "price", "12,49")
        assert repriced.status_code == 303
        page = text_of(client.get(PAGE))
        assert "Catalogue modifié : c'est en vigueur sur tous les canaux." in page
        assert "Data Mobile 30 Go 4G Vente en vente retiré Marc Dupont 16 juin 2026 à 09:00" in page
        assert "Data Mobile 50 Go 4G Prix 12.00 12.49 Marc Dupont 16 juin 2026 à 09:00" in page
    base = f"/centre-operations/services/mobile/{business.service_id}"
    with browser(server_url) as client:
        login_centre(client, *business.manager)
        form = text_of(client.get(f"{base}/evolution"))
        assert "30 Go 5G : 11,50 € HT/mois" in form
        assert "4G : 9,00 €" not in form
        assert "4G : 12,49 € HT/mois" in form
        refused = submit(client, f"{base}/evolution", f"{base}/evolution", {"volume": str(30 * GIB), "radio": "4G"})
        assert refused.status_code == 422
        assert "« Data Mobile 30 Go 4G » n'est plus commercialisé." in text_of(refused)


def test_an_agent_sees_the_overrides_but_is_refused_and_nothing_changes(ctx, http, server_url):
    make_staff(ctx, SUPERVISOR, StaffRole.SUPERVISOR)
    make_staff(ctx, AGENT, StaffRole.AGENT)
    with browser(server_url) as client:
        login_staff(client, SUPERVISOR)
        _override(client, "profile", "tigre", "on_sale", "false")
    with browser(server_url) as client:
        login_staff(client, AGENT)
        page = text_of(client.get(PAGE))
        assert "Seul un superviseur peut modifier le catalogue." in page
        assert "Tigre Vente en vente retiré Marc Dupont" in page
        assert "Retirer de la vente" not in page
        before = row_counts(ctx)
        refused = _override(client, "profile", "tigre", "on_sale", "true")
        assert refused.status_code == 403
        assert "Réservé aux superviseurs." in text_of(refused)
        assert row_counts(ctx) == before
    assert ctx.catalog.profile("tigre").on_sale is False


def test_a_refused_value_shows_the_french_reason_and_changes_nothing(ctx, http, server_url):
    make_staff(ctx, SUPERVISOR, StaffRole.SUPERVISOR)
    with browser(server_url) as client:
        login_staff(client, SUPERVISOR)
        before = row_counts(ctx)
        refused = _override(client, "fee", "mno-change", "amount", "10,005")
        assert refused.status_code == 422
        assert "Au plus 2 décimale(s) en EUR : « 10,005 » ne se facture pas." in text_of(refused)
        assert row_counts(ctx) == before
    with ctx.engine.connect() as connection:
        assert connection.execute(select(tables.catalog_overrides)).all() == []


def test_a_withdrawn_top_up_is_not_offered_in_the_centre_and_a_repriced_one_shows_its_new_price(ctx, http, server_url):
    make_staff(ctx, SUPERVISOR, StaffRole.SUPERVISOR)
    business = make_business(http)  # 10 GB 4G, 8 GB used
    with browser(server_url) as client:
        login_staff(client, SUPERVISOR)
        assert _override(client, "topup", "recharge-1go", "on_sale", "false").status_code == 303
        assert _override(client, "topup", "recharge-5go", "price", "6.50").status_code == 303
    base = f"/centre-operations/services/mobile/{business.service_id}"
    with browser(server_url) as client:
        login_centre(client, *business.manager)
        offers = text_of(client.get(f"{base}/achat"))
        assert "Recharge ponctuelle 5 Go — 6,50 € HT + 5 Go : quota de 15 Go ensuite" in offers
        assert "Recharge ponctuelle 1 Go" not in offers
