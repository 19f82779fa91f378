"""Who may call POST /ussd: with BASCULE_USSD_TOKEN, the gateway that sends it; without one, anyone in the demo
and nobody anywhere else (a caller could otherwise act for any phoneNumber)."""

from __future__ import annotations

import pytest
from pydantic import SecretStr
from sqlalchemy import func, select

from bascule.channels import server
from bascule.channels.ussd_access import UssdAccess, ussd_access
from bascule.context import Context
from bascule.persistence.tables import ussd_sessions
from bascule.settings import Settings
from tests.ussd.conftest import GATEWAY, MSISDN, OPERATOR, Gateway, add_subscriber, ok

CLOSED_NOTE = (
    "bascule serve: POST /ussd answers 401 to every call until BASCULE_USSD_TOKEN is set "
    "(the gateway sends it); --demo opens it without one\n"
)


def ussd_session_count(ctx: Context) -> int:
    with ctx.engine.connect() as connection:
        return int(connection.execute(select(func.count()).select_from(ussd_sessions)).scalar_one())


def profile_of(http, msisdn: str = MSISDN) -> str:
    return str(ok(http.get(f"/api/v1/subscribers/{msisdn}", headers=OPERATOR))["profile_id"])


@pytest.mark.parametrize(
    ("token", "demo", "access"),
    [
        ("jeton", False, UssdAccess.GATEWAY_ONLY),
        ("jeton", True, UssdAccess.GATEWAY_ONLY),  # a token set is wanted in the demo too
        (None, True, UssdAccess.OPEN),
        (None, False, UssdAccess.CLOSED),
        ("", False, UssdAccess.CLOSED),  # an empty BASCULE_USSD_TOKEN is no token
        ("", True, UssdAccess.OPEN),
    ],
)
def test_the_rule(token, demo, access):
    settings = Settings(ussd_token=None if token is None else SecretStr(token), demo=demo, _env_file=None)  # type: ignore[call-arg]
    assert ussd_access(settings) is access


def test_without_a_token_outside_the_demo_every_call_is_refused_with_no_screen(http, other_server, ctx):
    add_subscriber(http, consumed_last_month=3000)  # eligible to Tigre
    with other_server(ussd_token=None) as closed:
        for headers, params in [({}, {}), (GATEWAY, {}), ({"X-USSD-Token": ""}, {"token": ""})]:
            gateway = Gateway(closed, headers=headers, params=params)
            for text in ("", "1", "1*2", "1*2*1"):  # the whole walk to a profile change
                response = gateway.post(text)
                assert (response.status_code, response.text) == (401, "Unauthorized")
                assert response.headers["content-type"] == "text/plain; charset=utf-8"
    assert profile_of(http) == "novamix"
    assert ussd_session_count(ctx) == 0


def test_in_the_demo_without_a_token_the_callback_answers_screens(http, other_server):
    add_subscriber(http, consumed_last_month=3000)
    with other_server(ussd_token=None, demo=True) as demo:
        gateway = Gateway(demo, headers={})
        assert gateway.dial()[1].startswith("Gamme mobile #121#")
        assert gateway.press("1", "2")[1].startswith("Passer au profil Tigre ?")
        assert gateway.press("1") == ("END", "Votre profil est maintenant Tigre. Vos bonus en cours sont conservés.")
    assert profile_of(http) == "tigre"


def test_in_the_demo_a_token_that_is_set_is_still_wanted(http, other_server):
    add_subscriber(http)
    with other_server(demo=True) as demo:
        refused = Gateway(demo, headers={}).post("")
        assert (refused.status_code, refused.text) == (401, "Unauthorized")
        assert Gateway(demo).dial()[0] == "CON"


def test_serve_says_at_start_that_ussd_is_closed_without_a_token_outside_the_demo(capsys):
    server.announce_ussd_access(Settings(_env_file=None))  # type: ignore[call-arg]
    assert capsys.readouterr() == ("", CLOSED_NOTE)


@pytest.mark.parametrize(
    "changes", [{"demo": True}, {"ussd_token": SecretStr("jeton")}, {"demo": True, "ussd_token": SecretStr("jeton")}]
)
def test_serve_says_nothing_of_ussd_when_it_is_open_or_has_a_token(capsys, changes):
    server.announce_ussd_access(Settings(_env_file=None, **changes))  # type: ignore[call-arg]
    assert capsys.readouterr() == ("", "")
