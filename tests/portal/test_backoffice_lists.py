"""The operator's lists: every request and migration, and the audit log; filters, keyset pages, CSV."""

from __future__ import annotations

import csv
import io
import re

from sqlalchemy import select

from bascule.identity.model import StaffRole
from bascule.persistence import tables
from tests.portal.helpers import GIB, browser, bundle_plan, make_business, submit, text_of
from tests.portal.staff_helpers import AGENT, login_staff, make_staff
from tests.portal.test_espace import MSISDN, make_subscriber

NEXT = re.compile(r'href="([^"]+)" rel="next"')


def _agent_changes(client, http, business):
    """A request cancelled, then one waiting for confirmation (an MNO change: 10,00 €)."""
    service = f"/back-office/services/{business.service_id}"
    current = {"plan_id": bundle_plan(http, 10 * GIB, "4G"), "network": "orange", "apn": "internet.pro"}
    first = submit(client, service, f"{service}/demandes", {**current, "apn": "m2m.entreprise"}).headers["location"]
    submit(client, first, f"{first}/annuler", {})
    second = submit(client, service, f"{service}/demandes", {**current, "network": "sfr"}).headers["location"]
    return first.rsplit("/", 1)[1], second.rsplit("/", 1)[1]


def _setting(ctx, http, client):
    agent = make_staff(ctx, AGENT, StaffRole.AGENT)
    business = make_business(http, name="Livraisons Rapides")
    make_subscriber(http)
    login_staff(client, AGENT)
    cancelled, waiting = _agent_changes(client, http, business)
    submit(client, f"/back-office/abonnes/{MSISDN}", f"/back-office/abonnes/{MSISDN}/profil", {"profile_id": "tigre"})
    with ctx.engine.connect() as connection:
        migration = connection.execute(select(tables.prepaid_migrations.c.id)).scalar_one()
    return agent, business, cancelled, waiting, migration


def _table_rows(page):
    body = text_of(page)
    return body[body.index("Date Type Client") :]


def test_the_requests_list_shows_requests_and_migrations_newest_first_and_filters_them(ctx, http, server_url):
    with browser(server_url) as client:
        _agent, business, _cancelled, _waiting, _migration = _setting(ctx, http, client)
        everything = _table_rows(client.get("/back-office/demandes"))
        assert everything.startswith(
            "Date Type Client Ligne Détail Canal Par Montant Statut "
            "16 juin 2026 à 09:00 Changement de profil Abonné prépayé +2250701234567 Novamix → Tigre Back-office "
            "Awa Koné — Effectuée "
            "16 juin 2026 à 09:00 Évolution Livraisons Rapides +33612345678 Opérateur réseau : SFR "
            "Back-office Awa Koné "
            "10,00 € En attente de confirmation "
            "16 juin 2026 à 09:00 Évolution Livraisons Rapides +33612345678 APN : M2M entreprise (IP privée) "
            "Back-office Awa Koné 0,00 € Annulée "
        )
        only = {
            "type=migration": ["Effectuée"],
            "statut=cancelled": ["Annulée"],
            "statut=completed": ["Effectuée"],
            f"compte={business.account_id}": ["En attente de confirmation", "Annulée"],
            "ligne=%2B33612345678": ["En attente de confirmation", "Annulée"],
            "canal=portal": [],
            "du=2026-06-16&au=2026-06-16": ["Effectuée", "En attente de confirmation", "Annulée"],
            "du=2026-06-17": [],
            "au=2026-06-15": [],
        }
        for query, expected in only.items():
            rows = _table_rows(client.get(f"/back-office/demandes?{query}"))
            found = re.findall(r"(Effectuée|En attente de confirmation|Annulée)(?= 16 juin| Bascule)", rows)
            assert found == expected, query
            if not expected:
                assert "Aucune demande ne correspond." in rows


def test_requests_page_by_keyset_and_a_bad_cursor_is_refused(ctx, http, server_url):
    with browser(server_url) as client:
        _agent, _business, cancelled, waiting, migration = _setting(ctx, http, client)
        seen, link = [], "/back-office/demandes?taille=1"
        while link:
            page = client.get(link.replace("&amp;", "&"))
            assert page.status_code == 200
            seen.extend(re.findall(r'href="/back-office/demandes/(chr_[0-9a-f]+)"', page.text) or ["migration"])
            found = NEXT.search(page.text)
            link = found.group(1) if found else None
        assert seen == ["migration", waiting, cancelled]
        bad = client.get("/back-office/demandes?apres=abc")
        assert bad.status_code == 422
        assert "Ce lien de page n'est plus valable : repartez de la première page." in text_of(bad)
        too_big = client.get("/back-office/demandes?taille=201")
        assert too_big.status_code == 422
        assert "Taille de page : un nombre de 1 à 200." in text_of(too_big)
    assert migration.startswith("mig")


def test_requests_export_as_csv_every_matching_row(ctx, http, server_url):
    with browser(server_url) as client:
        agent, business, cancelled, waiting, migration = _setting(ctx, http, client)
        export = client.get("/back-office/demandes.csv")
        assert export.status_code == 200
        assert export.headers["content-type"] == "text/csv; charset=utf-8"
        rows = list(csv.reader(io.StringIO(export.text)))
        assert rows == [
            [
                "type",
                "id",
                "date",
                "statut",
                "canal",
                "compte",
                "nom_du_compte",
                "ligne",
                "detail",
                "montant",
                "devise",
                "par",
            ],
            [
                "migration",
                migration,
                "2026-06-16T07:00:00+00:00",
                "completed",
                "backoffice",
                "",
                "",
                MSISDN,
                "Novamix → Tigre",
                "",
                "",
                "Awa Koné",
            ],
            [
                "evolution",
                waiting,
                "2026-06-16T07:00:00+00:00",
                "awaiting_confirmation",
                "backoffice",
                business.account_id,
                "Livraisons Rapides",
                "+33612345678",
                "Opérateur réseau : SFR",
                "10.00",
                "EUR",
                "Awa Koné",
            ],
            [
                "evolution",
                cancelled,
                "2026-06-16T07:00:00+00:00",
                "cancelled",
                "backoffice",
                business.account_id,
                "Livraisons Rapides",
                "+33612345678",
                "APN : M2M entreprise (IP privée)",
                "0.00",
                "EUR",
                "Awa Koné",
            ],
        ]
        filtered = list(csv.reader(io.StringIO(client.get("/back-office/demandes.csv?statut=cancelled").text)))
        assert [row[1] for row in filtered[1:]] == [cancelled]
    assert agent.name == "Awa Koné"


def test_the_audit_log_names_the_agent_and_the_customer_with_filters_pages_and_csv(ctx, http, server_url):
    with browser(server_url) as client:
        agent, business, cancelled, _waiting, _migration = _setting(ctx, http, client)
        mine = text_of(client.get(f"/back-office/audit?qui={agent.id}"))
        log = mine[mine.index("Date Action Qui") :]
        assert log.startswith(
            "Date Action Qui Pour le client Canal Détail "
            "16 juin 2026 à 09:00 Changement de profil Awa Koné Ligne +2250701234567 Back-office "
            "Profil : Novamix → Tigre "
            "16 juin 2026 à 09:00 Demande d'évolution créée Awa Koné Livraisons Rapides Back-office "
            "Statut : en attente de confirmation Opérateur réseau : SFR (demandé) "
            "16 juin 2026 à 09:00 Demande annulée Awa Koné Livraisons Rapides Back-office "
            "Statut : en attente de confirmation → annulée "
        )
        assert "Opérateur (jeton)" not in log
        for_customer = text_of(client.get(f"/back-office/audit?client={business.account_id}&action=change_request"))
        assert for_customer.count("Awa Koné Livraisons Rapides") == 3
        assert "Ligne +2250701234567" not in for_customer
        first = client.get(f"/back-office/audit?qui={agent.id}&taille=2")
        link = NEXT.search(first.text).group(1).replace("&amp;", "&")
        second = text_of(client.get(link))
        assert "Demande annulée Awa Koné" in second
        assert "Changement de profil Awa Koné" not in second
        wanted = {"qui": agent.id, "action": "change_request.cancelled"}
        export = list(csv.reader(io.StringIO(client.get("/back-office/audit.csv", params=wanted).text)))
        assert export[0] == [
            "id",
            "date",
            "action",
            "libelle",
            "qui",
            "pour_le_client",
            "client",
            "canal",
            "objet",
            "detail",
        ]
        assert export[1][1:] == [
            "2026-06-16T07:00:00+00:00",
            "change_request.cancelled",
            "Demande annulée",
            "Awa Koné",
            "Livraisons Rapides",
            "Livraisons Rapides",
            "Back-office",
            f"change_request {cancelled}",
            "Statut : en attente de confirmation → annulée",
        ]
        assert len(export) == 2


def test_a_csv_cell_that_a_spreadsheet_would_run_stays_text(ctx, http, server_url):
    make_staff(ctx, AGENT, StaffRole.AGENT)
    with browser(server_url) as client:
        login_staff(client, AGENT)
        submit(client, "/back-office/", "/back-office/comptes", {"name": '=HYPERLINK("http://x")'})
        export = list(csv.reader(io.StringIO(client.get("/back-office/audit.csv?action=account.created").text)))
    assert export[1][5:7] == ['\'=HYPERLINK("http://x")', '\'=HYPERLINK("http://x")']
    assert export[1][9] == 'Nom : =HYPERLINK("http://x") ; Fuseau : Europe/Paris'  # a letter first
