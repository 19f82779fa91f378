"""The USSD simulator forwards to the real /ussd endpoint and shows its screens."""

from __future__ import annotations

import re
from concurrent.futures import ThreadPoolExecutor

from tests.portal.helpers import browser, csrf_of, submit, text_of
from tests.portal.test_espace import MSISDN, make_subscriber

HIDDEN = re.compile(r'<input type="hidden" name="([^"]+)" value="([^"]*)"')


def test_dialling_121_and_answering_walks_the_menu(http, server_url):
    make_subscriber(http)
    with browser(server_url) as client:
        first = submit(client, "/simulateur-ussd", "/simulateur-ussd/appeler", {"msisdn": MSISDN, "code": "#121#"})
        assert first.status_code == 200
        assert "Gamme mobile #121# 1 Changer de profil 2 Mon profil et mes bonus" in text_of(first)
        fields = dict(HIDDEN.findall(first.text))
        second = client.post("/simulateur-ussd/repondre", data={**fields, "reponse": "1"})
        assert "Choisissez votre profil: 1 Novamix (actuel) 2 Tigre 3 Dauphin 4 Aigle (non eligible)" in text_of(second)
        assert dict(HIDDEN.findall(second.text))["history"] == "1"


def test_an_unknown_session_is_refused(http, server_url):
    with browser(server_url) as client:
        page = client.get("/simulateur-ussd")
        answer = client.post("/simulateur-ussd/repondre", data={"msisdn": MSISDN, "code": "#121#", "session_id": "x",
                                                               "history": "", "reponse": "1",
                                                               "csrf_token": csrf_of(page)})
        assert answer.status_code == 400
        assert "Session USSD inconnue : rappelez." in text_of(answer)


def test_with_a_ussd_token_the_simulator_is_for_operators_and_adds_the_token(settings, ctx):
    """A second application on the same database, configured with BASCULE_USSD_TOKEN."""
    import anyio
    import httpx
    from pydantic import SecretStr

    from bascule.channels.rest.app import create_app
    from bascule.identity.model import OPERATOR, Channel
    from bascule.prepaid.usecases import create_subscriber
    from tests.conftest import ADMIN_TOKEN

    create_subscriber(ctx, OPERATOR, Channel.CLI, MSISDN, ctx.catalog.profiles[0].id)
    app = create_app(settings.model_copy(update={"ussd_token": SecretStr("jeton-ussd")}), ctx)

    async def scenario() -> None:
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://simulateur") as client:
            closed = await client.get("/simulateur-ussd")
            assert closed.status_code == 403
            assert "réservé aux opérateurs connectés au back-office" in text_of(closed)
            direct = await client.post("/ussd", data={"sessionId": "s1", "serviceCode": "#121#",
                                                      "phoneNumber": MSISDN, "text": ""})
            assert direct.status_code == 401
            login = await client.get("/back-office/connexion")
            await client.post("/back-office/connexion", data={"token": ADMIN_TOKEN, "suite": "/simulateur-ussd",
                                                              "csrf_token": csrf_of(login)})
            page = await client.get("/simulateur-ussd")
            assert page.status_code == 200
            screen = await client.post("/simulateur-ussd/appeler", data={"msisdn": MSISDN, "code": "#121*1#",
                                                                         "csrf_token": csrf_of(page)})
            assert screen.status_code == 200
            assert "Choisissez votre profil: 1 Novamix (actuel)" in text_of(screen)

    # Its own thread: a session-wide Playwright may already run an event loop in this one.
    with ThreadPoolExecutor(max_workers=1) as pool:
        pool.submit(anyio.run, scenario).result()
