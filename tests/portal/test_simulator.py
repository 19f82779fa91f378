"""The USSD simulator forwards to the real /ussd endpoint and shows its screens. Outside the demo it is for
operators logged in to the back office (it dials as any line); in the demo anyone may try it."""

from __future__ import annotations

import re

import httpx
from sqlalchemy import func, select

from bascule.context import Context
from bascule.persistence.tables import ussd_sessions
from tests.api.helpers import OPERATOR, ok
from tests.conftest import ADMIN_TOKEN
from tests.portal.helpers import browser, csrf_of, submit, text_of
from tests.portal.test_espace import MSISDN, make_subscriber

HIDDEN = re.compile(r'<input type="hidden" name="([^"]+)" value="([^"]*)"')
LOGIN = "/back-office/connexion?suite=/simulateur-ussd"


def log_in_for_the_simulator(client: httpx.Client) -> None:
    done = submit(client, LOGIN, "/back-office/connexion", {"token": ADMIN_TOKEN, "suite": "/simulateur-ussd"})
    assert (done.status_code, done.headers["location"]) == (303, "/simulateur-ussd")


def ussd_session_count(ctx: Context) -> int:
    with ctx.engine.connect() as connection:
        return int(connection.execute(select(func.count()).select_from(ussd_sessions)).scalar_one())


def test_dialling_121_and_answering_walks_the_menu(http, server_url):
    make_subscriber(http)
    with browser(server_url) as client:
        log_in_for_the_simulator(client)
        first = submit(client, "/simulateur-ussd", "/simulateur-ussd/appeler", {"msisdn": MSISDN, "code": "#121#"})
        assert first.status_code == 200
        assert "Gamme mobile #121# 1 Changer de profil 2 Mon profil et mes bonus" in text_of(first)
        fields = dict(HIDDEN.findall(first.text))
        second = client.post("/simulateur-ussd/repondre", data={**fields, "reponse": "1"})
        listed = "Choisissez votre profil : 1 Novamix (actuel) 2 Tigre 3 Dauphin 4 Aigle (non éligible)"
        assert listed in text_of(second)
        assert dict(HIDDEN.findall(second.text))["history"] == "1"


def test_an_unknown_session_is_refused(http, server_url):
    with browser(server_url) as client:
        log_in_for_the_simulator(client)
        page = client.get("/simulateur-ussd")
        answer = client.post(
            "/simulateur-ussd/repondre",
            data={
                "msisdn": MSISDN,
                "code": "#121#",
                "session_id": "x",
                "history": "",
                "reponse": "1",
                "csrf_token": csrf_of(page),
            },
        )
        assert answer.status_code == 400
        assert "Session USSD inconnue : rappelez." in text_of(answer)


def test_outside_the_demo_a_visitor_is_sent_to_the_back_office_login_then_back(http, server_url, ctx):
    make_subscriber(http)
    with browser(server_url) as client:
        page = client.get("/simulateur-ussd")
        assert (page.status_code, page.headers["location"]) == (303, LOGIN)
        login = client.get(LOGIN)
        assert login.status_code == 200
        assert "Jeton opérateur" in text_of(login)
        for action, data in [
            ("/simulateur-ussd/appeler", {"msisdn": MSISDN, "code": "#121*1#"}),
            (
                "/simulateur-ussd/repondre",
                {
                    "msisdn": MSISDN,
                    "code": "#121#",
                    "session_id": "sim-0123456789abcdef",
                    "history": "1*2",
                    "reponse": "1",
                },
            ),
        ]:  # would confirm Tigre
            refused = client.post(action, data={**data, "csrf_token": csrf_of(login)})  # only the login lacks
            assert (refused.status_code, refused.headers["location"]) == (303, LOGIN)
        assert ussd_session_count(ctx) == 0  # nothing was dialled
        log_in_for_the_simulator(client)
        screen = submit(client, "/simulateur-ussd", "/simulateur-ussd/appeler", {"msisdn": MSISDN, "code": "#121*1#"})
        assert screen.status_code == 200
        assert "Choisissez votre profil : 1 Novamix (actuel)" in text_of(screen)
    assert ok(http.get(f"/api/v1/subscribers/{MSISDN}", headers=OPERATOR))["profile_id"] == "novamix"


def test_the_simulator_adds_the_ussd_token_that_a_direct_call_lacks(http, server_url):
    make_subscriber(http)
    direct = http.post("/ussd", data={"sessionId": "s1", "serviceCode": "#121#", "phoneNumber": MSISDN, "text": ""})
    assert (direct.status_code, direct.text) == (401, "Unauthorized")
    with browser(server_url) as client:
        log_in_for_the_simulator(client)
        screen = submit(client, "/simulateur-ussd", "/simulateur-ussd/appeler", {"msisdn": MSISDN, "code": "#121#"})
        assert screen.status_code == 200
        assert "Gamme mobile #121#" in text_of(screen)


def test_in_the_demo_anyone_may_try_the_simulator_without_a_token(http, other_server):
    make_subscriber(http)
    with other_server(demo=True, ussd_token=None) as client:
        page = client.get("/simulateur-ussd")
        assert page.status_code == 200
        assert f"{MSISDN} Novamix" in text_of(page)  # the demo lists its lines
        screen = client.post(
            "/simulateur-ussd/appeler", data={"msisdn": MSISDN, "code": "#121*1#", "csrf_token": csrf_of(page)}
        )
        assert screen.status_code == 200
        assert "Choisissez votre profil : 1 Novamix (actuel)" in text_of(screen)


def test_outside_the_demo_without_a_token_the_simulator_says_the_ussd_service_is_closed(http, other_server, ctx):
    make_subscriber(http)
    with other_server(ussd_token=None) as client:
        log_in_for_the_simulator(client)
        page = client.get("/simulateur-ussd")
        assert page.status_code == 200
        refused = client.post(
            "/simulateur-ussd/appeler", data={"msisdn": MSISDN, "code": "#121#", "csrf_token": csrf_of(page)}
        )
        assert refused.status_code == 400
        assert (
            "Le service USSD est fermé : il ne s'ouvre qu'avec un jeton USSD (BASCULE_USSD_TOKEN) ou en démonstration."
        ) in text_of(refused)
    assert ussd_session_count(ctx) == 0
