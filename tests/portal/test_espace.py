"""Espace client over HTTP: one-time code login, « Mon profil », a profile change, isolation."""

from __future__ import annotations

import re

from tests.api.helpers import OPERATOR, ok
from tests.portal.helpers import browser, csrf_of, submit, text_of

MSISDN = "+2250701234567"


def make_subscriber(http, msisdn: str = MSISDN, consumed: str = "3000") -> None:
    """A Novamix line that consumed `consumed` F CFA in May 2026 (the clock is on 16 June)."""
    ok(http.post("/api/v1/admin/subscribers", json={"msisdn": msisdn, "profile_id": "novamix"}, headers=OPERATOR), 201)
    ok(http.post(f"/api/v1/admin/subscribers/{msisdn}/recharges",
                 json={"amount": "10000", "at": "2026-05-02T10:00:00+00:00"}, headers=OPERATOR), 201)
    ok(http.post(f"/api/v1/admin/subscribers/{msisdn}/consumptions",
                 json={"amount": consumed, "at": "2026-05-20T10:00:00+00:00"}, headers=OPERATOR), 201)


def last_code(http, msisdn: str) -> str:
    notes = ok(http.get("/api/v1/admin/notifications", params={"to": msisdn}, headers=OPERATOR))
    found = re.search(r"\b(\d{6})\b", notes[0]["body"])
    assert found is not None
    return found.group(1)


def login_espace(client, http, msisdn: str = MSISDN):
    code_page = submit(client, "/espace-client/connexion", "/espace-client/code", {"msisdn": msisdn})
    assert code_page.status_code == 200
    return client.post("/espace-client/connexion", data={"msisdn": msisdn, "code": last_code(http, msisdn),
                                                        "csrf_token": csrf_of(code_page)})


def test_a_subscriber_logs_in_with_a_code_and_changes_profile(http, server_url):
    make_subscriber(http)
    with browser(server_url) as client:
        code_page = submit(client, "/espace-client/connexion", "/espace-client/code", {"msisdn": "+225 07 01 23 45 67"})
        wrong = client.post("/espace-client/connexion",
                            data={"msisdn": MSISDN, "code": "000000", "csrf_token": csrf_of(code_page)})
        assert wrong.status_code == 401
        assert "Code incorrect ou expiré." in text_of(wrong)
        logged = client.post("/espace-client/connexion", data={"msisdn": MSISDN, "code": last_code(http, MSISDN),
                                                              "csrf_token": csrf_of(code_page)})
        assert logged.headers["location"] == "/espace-client/"
        profile = text_of(client.get("/espace-client/profil"))
        assert "Profil Novamix" in profile
        assert "Consommation en mai 2026 3 000 F CFA" in profile
        assert "Changements de profil restants ce mois-ci 3" in profile
        choices = client.get("/espace-client/profil/changer")
        text = text_of(choices)
        assert "Indisponible : Il faut avoir consommé au moins 8 000 F CFA le mois passé (vous : 3 000 F CFA)." in text
        assert re.search(r'<input type="radio" name="profil" value="aigle" disabled', choices.text)
        assert re.search(r'<input type="radio" name="profil" value="tigre" aria-describedby', choices.text)
        confirm = client.get("/espace-client/profil/confirmation", params={"profil": "tigre"})
        assert "Passer du profil Novamix au profil Tigre ?" in text_of(confirm)
        done = client.post("/espace-client/profil/changer", data={"profil": "tigre", "csrf_token": csrf_of(confirm)})
        assert done.status_code == 303
        result = text_of(client.get(done.headers["location"]))
        assert "Votre profil est maintenant Tigre" in result
        assert "Changements de profil restants ce mois-ci 2" in result
    summary = ok(http.get(f"/api/v1/subscribers/{MSISDN}", headers=OPERATOR))
    assert summary["profile_id"] == "tigre"


def test_an_ineligible_profile_posted_directly_is_refused_and_uses_no_slot(http, server_url):
    make_subscriber(http)
    with browser(server_url) as client:
        login_espace(client, http)
        page = client.get("/espace-client/profil/changer")
        refused = client.post("/espace-client/profil/changer", data={"profil": "aigle", "csrf_token": csrf_of(page)})
        assert refused.status_code == 422
        assert "Il faut avoir consommé au moins 8 000 F CFA le mois passé (vous : 3 000 F CFA)." in text_of(refused)
    assert ok(http.get(f"/api/v1/subscribers/{MSISDN}", headers=OPERATOR))["migrations_left_this_month"] == 3


def test_one_subscribers_migration_page_is_not_found_for_another(http, server_url):
    make_subscriber(http)
    make_subscriber(http, msisdn="+2250709999999")
    with browser(server_url) as first, browser(server_url) as second:
        login_espace(first, http)
        page = first.get("/espace-client/profil/changer")
        done = first.post("/espace-client/profil/changer", data={"profil": "dauphin", "csrf_token": csrf_of(page)})
        login_espace(second, http, "+2250709999999")
        assert second.get(done.headers["location"]).status_code == 404
        assert "Ligne +2250709999999" in text_of(second.get("/espace-client/profil"))
