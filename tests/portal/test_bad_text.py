"""Bad text at the portal's edge: a control character, a bad encoding or an over-long value in a form field, a
query value or an address is refused with the portal's error page (422, in French) before any look-up or write."""

from __future__ import annotations

import html
import re
from typing import Any

import httpx
import pytest

from tests.api.helpers import OPERATOR, ok
from tests.conftest import ADMIN_TOKEN
from tests.portal.helpers import browser, csrf_of, login_centre, make_business, submit
from tests.portal.test_espace import login_espace, make_subscriber
from tests.portal.test_simulator import log_in_for_the_simulator
from tests.rows import row_counts

MSISDN = "+2250701234567"
URL_ENCODED = {"Content-Type": "application/x-www-form-urlencoded"}
ALERT = re.compile(r'<div class="alert alert-error" role="alert"><p>(.*?)</p>', re.S)


def control(label: str) -> str:
    return f"Le champ « {label} » contient un caractère non permis (caractère de contrôle)."


def bad_encoding(label: str) -> str:
    return f"Le champ « {label} » n'est pas du texte valide (encodage UTF-8 attendu)."


def too_long(label: str, limit: int) -> str:
    return f"Le champ « {label} » dépasse {limit} caractères."


def refused_with(page: httpx.Response, expected: str) -> None:
    """The portal's error page for a refused request: 422, its title, and exactly this message."""
    assert page.status_code == 422, page.text
    assert page.headers["content-type"].startswith("text/html")
    assert "<h1>Demande refusée</h1>" in page.text
    found = ALERT.search(page.text)
    assert found is not None, page.text
    assert html.unescape(found.group(1)) == expected


def raw_post(client: httpx.Client, form_page: str, action: str, body: str) -> httpx.Response:
    """A form posted as bytes already URL-encoded (the way to send a value that is not UTF-8)."""
    token = csrf_of(client.get(form_page))
    return client.post(action, content=f"{body}&csrf_token={token}".encode(), headers=URL_ENCODED)


# ---------------------------------------------------------------- logins


@pytest.mark.parametrize(
    ("data", "expected"),
    [
        ({"email": "chef-a@example.fr\x00", "password": "gestion-secret"}, control("adresse e-mail")),
        ({"email": "chef-a@example.fr", "password": "gestion\x1bsecret"}, control("mot de passe")),
        ({"email": "c" * 321, "password": "gestion-secret"}, too_long("adresse e-mail", 320)),
        ({"email": "chef-a@example.fr", "password": "p" * 201}, too_long("mot de passe", 200)),
    ],
    ids=["nul-email", "escape-password", "long-email", "long-password"],
)
def test_a_centre_login_with_bad_text_is_refused_and_issues_no_token(http, server_url, ctx, data, expected):
    make_business(http)
    before = row_counts(ctx)
    with browser(server_url) as client:
        refused_with(submit(client, "/centre-operations/connexion", "/centre-operations/connexion", data), expected)
    assert row_counts(ctx) == before


def test_a_centre_login_whose_email_is_not_utf8_is_refused(http, server_url, ctx):
    make_business(http)
    before = row_counts(ctx)
    with browser(server_url) as client:
        refused = raw_post(
            client,
            "/centre-operations/connexion",
            "/centre-operations/connexion",
            "email=chef-a%40example.fr%ED%A0%80&password=gestion-secret",
        )
        refused_with(refused, bad_encoding("adresse e-mail"))
    assert row_counts(ctx) == before


def test_an_espace_client_code_asked_for_a_number_with_bad_text_sends_nothing(http, server_url, ctx):
    ok(http.post("/api/v1/admin/subscribers", json={"msisdn": MSISDN, "profile_id": "novamix"}, headers=OPERATOR), 201)
    before = row_counts(ctx)
    with browser(server_url) as client:
        for data, expected in [
            ({"msisdn": MSISDN + "\x00"}, control("numéro")),
            ({"msisdn": "\x1b" + MSISDN}, control("numéro")),
            ({"msisdn": "7" * 41}, too_long("numéro", 40)),
        ]:
            refused_with(submit(client, "/espace-client/connexion", "/espace-client/code", data), expected)
        refused_with(
            raw_post(client, "/espace-client/connexion", "/espace-client/code", "msisdn=%ED%A0%80"),
            bad_encoding("numéro"),
        )
    assert row_counts(ctx) == before  # no one-time code, no SMS in the outbox


def test_an_espace_client_login_with_a_bad_code_is_refused_before_any_check(http, server_url, ctx):
    ok(http.post("/api/v1/admin/subscribers", json={"msisdn": MSISDN, "profile_id": "novamix"}, headers=OPERATOR), 201)
    with browser(server_url) as client:
        submit(client, "/espace-client/connexion", "/espace-client/code", {"msisdn": MSISDN})
        before = row_counts(ctx)
        for code, expected in [
            ("12\x0034", control("code")),
            ("1234\x1b", control("code")),
            ("1" * 41, too_long("code", 40)),
        ]:
            refused_with(
                submit(
                    client, "/espace-client/connexion", "/espace-client/connexion", {"msisdn": MSISDN, "code": code}
                ),
                expected,
            )
    assert row_counts(ctx) == before


def test_a_back_office_login_with_bad_text_is_refused(http, server_url, ctx):
    before = row_counts(ctx)
    with browser(server_url) as client:
        for token, expected in [
            (ADMIN_TOKEN + "\x00", control("jeton opérateur")),
            ("\x1b" + ADMIN_TOKEN, control("jeton opérateur")),
            ("t" * 501, too_long("jeton opérateur", 500)),
        ]:
            refused_with(submit(client, "/back-office/connexion", "/back-office/connexion", {"token": token}), expected)
        refused_with(
            raw_post(client, "/back-office/connexion", "/back-office/connexion", "token=%ED%A0%80"),
            bad_encoding("jeton opérateur"),
        )
        refused_with(
            submit(
                client,
                "/back-office/connexion",
                "/back-office/connexion",
                {"token": ADMIN_TOKEN, "suite": "/back-office/\x00"},
            ),
            control("page demandée"),
        )
    assert row_counts(ctx) == before


# ---------------------------------------------------------------- pages behind a login


@pytest.fixture
def centre(http: httpx.Client, server_url: str) -> Any:
    """A manager logged in to the Centre d'Opérations, with the service of their account."""
    business = make_business(http)
    with browser(server_url) as client:
        assert login_centre(client, *business.manager).status_code == 303
        yield client, business


@pytest.mark.parametrize(
    ("form", "data", "expected"),
    [
        ("apn", {"apn": "m2m.entreprise\x00"}, control("APN")),
        ("mno", {"network": "sfr\x1b"}, control("réseau")),
        ("evolution", {"radio": "5G\x7f"}, control("radio")),
        ("evolution", {"volume": "3" * 21}, too_long("volume", 20)),
        ("apn", {"apn": "a" * 65}, too_long("APN", 64)),
    ],
    ids=["nul-apn", "escape-network", "del-radio", "long-volume", "long-apn"],
)
def test_a_change_form_with_bad_text_creates_no_request(http, ctx, centre, form, data, expected):
    client, business = centre
    base = f"/centre-operations/services/mobile/{business.service_id}"
    before = row_counts(ctx)
    refused_with(submit(client, f"{base}/{form}", f"{base}/{form}", data), expected)
    assert row_counts(ctx) == before
    service = ok(http.get(f"/api/v1/services/{business.service_id}", headers=OPERATOR))
    assert (service["apn"], service["network"]) == ("internet.pro", "orange")


def test_a_change_form_whose_value_is_not_utf8_creates_no_request(ctx, centre):
    client, business = centre
    base = f"/centre-operations/services/mobile/{business.service_id}"
    before = row_counts(ctx)
    refused_with(raw_post(client, f"{base}/mno", f"{base}/mno", "network=sfr%ED%A0%80"), bad_encoding("réseau"))
    assert row_counts(ctx) == before


def test_a_confirmation_password_with_bad_text_confirms_nothing(http, ctx, centre):
    client, business = centre
    base = f"/centre-operations/services/mobile/{business.service_id}"
    created = submit(client, f"{base}/apn", f"{base}/apn", {"apn": "m2m.entreprise"})
    before = row_counts(ctx)
    refused_with(
        submit(
            client,
            created.headers["location"],
            f"{created.headers['location']}/confirmer",
            {"password": "gestion-secret\x00"},
        ),
        control("mot de passe"),
    )
    assert row_counts(ctx) == before
    (request,) = ok(http.get("/api/v1/change-requests", params={"service_id": business.service_id}, headers=OPERATOR))
    assert request["status"] == "awaiting_confirmation"


@pytest.mark.parametrize(
    ("path", "expected"),
    [
        ("/centre-operations/services/mobile/svc%00x", control("service")),
        ("/centre-operations/services/mobile/svc%1Bx/gerer", control("service")),
        ("/centre-operations/services/mobile/" + "s" * 101, too_long("service", 100)),
        ("/centre-operations/demandes/chg%00", control("demande")),
        ("/centre-operations/demandes/nouvelle/svc%00", control("service")),
        ("/centre-operations/demandes/nouvelle?service=svc%00", control("service")),
        ("/centre-operations/factures/inv%00", control("facture")),
        ("/centre-operations/factures/inv%1B/pdf", control("facture")),
        ("/centre-operations/charges?periode=2026-06%00", control("période")),
        ("/centre-operations/charges?periode=%ED%A0%80", bad_encoding("période")),
        ("/centre-operations/services?inconnu=%00", control("inconnu")),
        ("/centre-operations/nulle-part%00", control("adresse")),
    ],
    ids=[
        "service-nul",
        "manage-escape",
        "service-long",
        "request-nul",
        "new-request-nul",
        "new-request-query-nul",
        "invoice-nul",
        "invoice-pdf-escape",
        "period-nul",
        "period-not-utf8",
        "unknown-query-nul",
        "unknown-page-nul",
    ],
)
def test_an_address_or_query_with_bad_text_is_refused_with_a_page(ctx, centre, path, expected):
    client, _ = centre
    before = row_counts(ctx)
    refused_with(client.get(path), expected)
    assert row_counts(ctx) == before


def test_a_back_office_search_or_address_with_bad_text_is_refused_with_a_page(http, server_url, ctx):
    make_business(http)
    with browser(server_url) as client:
        assert (
            submit(client, "/back-office/connexion", "/back-office/connexion", {"token": ADMIN_TOKEN}).status_code
            == 303
        )
        before = row_counts(ctx)
        for path, expected in [
            ("/back-office/?q=Transports%00", control("recherche")),
            ("/back-office/?q=" + "q" * 101, too_long("recherche", 100)),
            ("/back-office/abonnes/%2B225%00", control("numéro")),
            ("/back-office/comptes/acc%1B", control("compte")),
            ("/back-office/services/svc%00", control("service")),
            ("/back-office/demandes/chg%7F", control("demande")),
        ]:
            refused_with(client.get(path), expected)
        assert row_counts(ctx) == before


def test_an_espace_client_profile_choice_with_bad_text_migrates_nothing(http, server_url, ctx):
    make_subscriber(http)
    with browser(server_url) as client:
        assert login_espace(client, http).status_code == 303
        before = row_counts(ctx)
        refused_with(
            submit(client, "/espace-client/profil/changer", "/espace-client/profil/changer", {"profil": "tigre\x00"}),
            control("profil"),
        )
        refused_with(client.get("/espace-client/profil/confirmation?profil=tigre%1B"), control("profil"))
        refused_with(client.get("/espace-client/profil/changement/mig%00"), control("changement de profil"))
        assert row_counts(ctx) == before
    assert ok(http.get(f"/api/v1/subscribers/{MSISDN}", headers=OPERATOR))["profile_id"] == "novamix"


def test_the_ussd_simulator_refuses_bad_text_before_dialling(http, server_url, ctx):
    with browser(server_url) as client:
        log_in_for_the_simulator(client)
        before = row_counts(ctx)
        refused_with(
            submit(client, "/simulateur-ussd", "/simulateur-ussd/appeler", {"msisdn": MSISDN, "code": "#121#\x00"}),
            control("code"),
        )
        refused_with(
            submit(
                client,
                "/simulateur-ussd",
                "/simulateur-ussd/repondre",
                {"msisdn": MSISDN, "session_id": "sim-1", "history": "1", "reponse": "2\x1b"},
            ),
            control("réponse"),
        )
        refused_with(
            submit(
                client,
                "/simulateur-ussd",
                "/simulateur-ussd/repondre",
                {"msisdn": MSISDN, "session_id": "sim-1", "history": "1" * 401, "reponse": "2"},
            ),
            too_long("saisies précédentes", 400),
        )
    assert row_counts(ctx) == before  # no USSD session was opened
