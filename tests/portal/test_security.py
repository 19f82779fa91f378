"""Portal security over plain HTTP: CSRF, cookies, roles, tenant isolation, throttling, logout, redirects."""

from __future__ import annotations

from urllib.parse import quote

from tests.api.helpers import OPERATOR, ok
from tests.conftest import ADMIN_TOKEN
from tests.portal.helpers import (
    browser,
    change_requests,
    csrf_of,
    login_centre,
    make_business,
    submit,
    text_of,
)

CSRF_REFUSAL = "Ce formulaire a expiré ou ne vient pas de cette page. Rechargez la page et recommencez."
NOT_FOUND = "Cette page n'existe pas, ou vous n'y avez pas accès."


def test_a_login_post_without_or_with_a_wrong_csrf_token_is_refused(http, server_url):
    business = make_business(http)
    with browser(server_url) as client:
        client.get("/centre-operations/connexion")
        email, password = business.manager
        missing = client.post("/centre-operations/connexion", data={"email": email, "password": password})
        wrong = client.post(
            "/centre-operations/connexion", data={"email": email, "password": password, "csrf_token": "0" * 64}
        )
        assert missing.status_code == 403
        assert wrong.status_code == 403
        assert CSRF_REFUSAL in text_of(missing)
        assert client.get("/centre-operations/").status_code == 303  # still not logged in


def test_a_token_from_another_session_is_refused(http, server_url):
    business = make_business(http)
    with browser(server_url) as attacker, browser(server_url) as victim:
        login_centre(victim, *business.manager)
        stolen_page_token = csrf_of(attacker.get("/centre-operations/connexion"))
        forged = victim.post(
            f"/centre-operations/services/mobile/{business.service_id}/apn",
            data={"apn": "m2m.entreprise", "csrf_token": stolen_page_token},
        )
        assert forged.status_code == 403
        assert CSRF_REFUSAL in text_of(forged)
    assert change_requests(http, business.service_id) == []


def test_the_session_cookie_is_httponly_lax_and_secure_only_over_https(http, server_url):
    with browser(server_url) as client:
        plain = client.get("/centre-operations/connexion").headers["set-cookie"]
        assert plain.startswith("bascule_portail=")
        assert "HttpOnly" in plain
        assert "SameSite=lax" in plain or "SameSite=Lax" in plain
        assert "Secure" not in plain
    with browser(server_url) as client:
        # uvicorn trusts X-Forwarded-Proto from loopback: the request is then HTTPS.
        secure = client.get("/centre-operations/connexion", headers={"X-Forwarded-Proto": "https"})
        assert "Secure" in secure.headers["set-cookie"]


def test_portal_pages_carry_protective_headers(http, server_url):
    with browser(server_url) as client:
        page = client.get("/")
    assert page.headers["content-security-policy"].startswith("default-src 'self'")
    assert page.headers["x-frame-options"] == "DENY"
    assert page.headers["x-content-type-options"] == "nosniff"


def test_a_viewer_sees_the_service_but_a_direct_post_is_refused_with_the_domain_message(http, server_url):
    business = make_business(http)
    with browser(server_url) as client:
        assert login_centre(client, *business.viewer).status_code == 303
        page = client.get(f"/centre-operations/services/mobile/{business.service_id}")
        assert page.status_code == 200
        assert "Vous consultez ce service en lecture seule." in text_of(page)
        assert "/gerer" not in page.text
        assert "Créer une demande" not in text_of(client.get("/centre-operations/demandes"))
        refused = client.post(
            f"/centre-operations/services/mobile/{business.service_id}/evolution",
            data={"radio": "5G", "csrf_token": csrf_of(page)},
        )
        assert refused.status_code == 403
        assert "Un lecteur peut consulter mais pas modifier." in text_of(refused)
        form = client.get(f"/centre-operations/services/mobile/{business.service_id}/mno")
        assert form.status_code == 403
    assert change_requests(http, business.service_id) == []


def test_a_viewer_cannot_confirm_a_request_created_by_a_manager(http, server_url):
    business = make_business(http)
    with browser(server_url) as manager, browser(server_url) as viewer:
        login_centre(manager, *business.manager)
        created = submit(
            manager,
            f"/centre-operations/services/mobile/{business.service_id}/apn",
            f"/centre-operations/services/mobile/{business.service_id}/apn",
            {"apn": "m2m.entreprise"},
        )
        request_url = created.headers["location"]
        login_centre(viewer, *business.viewer)
        page = viewer.get(request_url)
        assert "Seul un gestionnaire du compte peut confirmer ou annuler cette demande." in text_of(page)
        refused = viewer.post(
            f"{request_url}/confirmer", data={"password": business.viewer[1], "csrf_token": csrf_of(page)}
        )
        assert refused.status_code == 403
        assert "Un lecteur peut consulter mais pas modifier." in text_of(refused)
    assert [r["status"] for r in change_requests(http, business.service_id)] == ["awaiting_confirmation"]


def test_another_customers_pages_are_not_found(http, server_url):
    first = make_business(http, tag="a", msisdn="+33612345601")
    second = make_business(http, tag="b", msisdn="+33612345602", name="Autre Client")
    with browser(server_url) as owner, browser(server_url) as other:
        login_centre(owner, *first.manager)
        created = submit(
            owner,
            f"/centre-operations/services/mobile/{first.service_id}/apn",
            f"/centre-operations/services/mobile/{first.service_id}/apn",
            {"apn": "m2m.entreprise"},
        )
        request_url = created.headers["location"]
        login_centre(other, *second.manager)
        for url in (
            f"/centre-operations/services/mobile/{first.service_id}",
            f"/centre-operations/services/mobile/{first.service_id}/gerer",
            f"/centre-operations/services/mobile/{first.service_id}/evolution",
            f"/centre-operations/demandes/nouvelle/{first.service_id}",
            request_url,
        ):
            page = other.get(url)
            assert page.status_code == 404, url
            assert NOT_FOUND in text_of(page)
        token = csrf_of(other.get("/centre-operations/"))
        for url in (f"{request_url}/confirmer", f"{request_url}/annuler"):
            assert other.post(url, data={"password": second.manager[1], "csrf_token": token}).status_code == 404
        listed = text_of(other.get("/centre-operations/services/mobile"))
        assert "+33612345602" in listed
        assert "+33612345601" not in listed
    assert [r["status"] for r in change_requests(http, first.service_id)] == ["awaiting_confirmation"]


def test_five_failed_logins_block_the_sixth_for_fifteen_minutes(http, server_url, clock):
    business = make_business(http)
    email, password = business.manager
    with browser(server_url) as client:
        for _ in range(5):
            failed = login_centre(client, email, "mauvais-mot-de-passe")
            assert failed.status_code == 401
            assert "Identifiant ou mot de passe incorrect." in text_of(failed)
        blocked = login_centre(client, email, password)
        assert blocked.status_code == 429
        assert "Trop de tentatives de connexion infructueuses. Réessayez dans 15 minutes." in text_of(blocked)
        clock.advance(minutes=14)
        assert login_centre(client, email, password).status_code == 429
        clock.advance(minutes=1, seconds=1)
        assert login_centre(client, email, password).status_code == 303


def test_wrong_operator_tokens_are_throttled_too(http, server_url):
    with browser(server_url) as client:
        for _ in range(5):
            refused = submit(client, "/back-office/connexion", "/back-office/connexion", {"token": "faux"})
            assert refused.status_code == 401
            assert "Jeton opérateur incorrect." in text_of(refused)
        blocked = submit(client, "/back-office/connexion", "/back-office/connexion", {"token": ADMIN_TOKEN})
        assert blocked.status_code == 429


def test_logout_revokes_the_session_token(http, server_url):
    business = make_business(http)
    with browser(server_url) as client:
        login_centre(client, *business.manager)
        cookie = client.cookies.get("bascule_portail")
        assert client.get("/centre-operations/").status_code == 200
        out = submit(client, "/centre-operations/", "/centre-operations/deconnexion", {})
        assert out.headers["location"] == "/centre-operations/connexion"
        assert "Vous êtes déconnecté." in text_of(client.get("/centre-operations/connexion"))
    with browser(server_url) as replay:
        replay.cookies.set("bascule_portail", cookie)
        assert replay.get("/centre-operations/").status_code == 303  # the old cookie's token is revoked


def test_pages_of_a_space_send_visitors_to_its_login_and_back(http, server_url):
    business = make_business(http)
    with browser(server_url) as client:
        page = client.get("/centre-operations/charges?periode=2026-05")
        assert page.status_code == 303
        wanted = "/centre-operations/charges?periode=2026-05"
        assert page.headers["location"] == "/centre-operations/connexion?suite=" + quote(wanted)
        back = login_centre(client, *business.manager, suite="/centre-operations/charges?periode=2026-05")
        assert back.headers["location"] == "/centre-operations/charges?periode=2026-05"
        assert client.get("/back-office/").headers["location"].startswith("/back-office/connexion")
        assert client.get("/espace-client/profil").headers["location"].startswith("/espace-client/connexion")


def test_login_never_redirects_outside_the_space(http, server_url):
    business = make_business(http)
    with browser(server_url) as client:
        for suite in ("https://evil.example/", "//evil.example/x", "/back-office/", "/centre-operations/\\evil"):
            client.cookies.clear()
            answer = login_centre(client, *business.manager, suite=suite)
            assert answer.headers["location"] == "/centre-operations/", suite


def test_unknown_portal_pages_are_french_404_pages(http, server_url):
    with browser(server_url) as client:
        for url in ("/centre-operations/inconnu", "/espace-client/inconnu", "/back-office/inconnu"):
            page = client.get(url)
            assert page.status_code == 404
            assert "Page introuvable" in text_of(page)


def test_a_back_office_session_is_an_operator_session_until_logout(http, server_url):
    with browser(server_url) as client:
        assert (
            submit(client, "/back-office/connexion", "/back-office/connexion", {"token": ADMIN_TOKEN}).headers[
                "location"
            ]
            == "/back-office/"
        )
        assert client.get("/back-office/catalogue").status_code == 200
        submit(client, "/back-office/", "/back-office/deconnexion", {})
        assert client.get("/back-office/catalogue").status_code == 303
    events = ok(
        http.get("/api/v1/admin/audit", params={"entity_kind": "operator", "entity_id": "operator"}, headers=OPERATOR)
    )
    assert [(e["action"], e["channel"]) for e in events] == [("operator.logged_in", "backoffice")]
