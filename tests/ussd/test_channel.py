"""The rest of #121# over HTTP: the other menus, strangers, the gateway token, bad requests, long lists, Redis."""

import pytest
from pydantic import SecretStr

from tests.ussd.conftest import GATEWAY, MSISDN, OPERATOR, Gateway, add_subscriber, ok, screen_of

FORM = {"Content-Type": "application/x-www-form-urlencoded", **GATEWAY}


def test_my_profile_and_my_bonuses(http):
    add_subscriber(http)
    ok(http.post(f"/api/v1/admin/subscribers/{MSISDN}/recharges", json={"amount": "1000"}, headers=OPERATOR), 201)
    gateway = Gateway(http)
    gateway.dial()
    assert gateway.press("2") == (
        "END",
        "Profil Novamix\nBonus :\n"
        "- Bonus recharge 20 % : 200 F CFA jusqu'au 23/06\n"
        "- Data du mois : 200 Mo jusqu'au 16/07\n"
        "Changements de profil restants ce mois-ci : 3",
    )


def test_my_profile_without_bonuses(http):
    add_subscriber(http, profile_id="dauphin")
    gateway = Gateway(http)
    gateway.dial()
    assert gateway.press("2") == (
        "END",
        "Profil Dauphin\nAucun bonus en cours.\nChangements de profil restants ce mois-ci : 3",
    )


def test_many_bonuses_still_fit_on_one_screen(http):
    add_subscriber(http)
    for _ in range(8):
        ok(http.post(f"/api/v1/admin/subscribers/{MSISDN}/recharges", json={"amount": "1000"}, headers=OPERATOR), 201)
    gateway = Gateway(http)
    gateway.dial()
    kind, screen = gateway.press("2")
    assert kind == "END"
    assert "autres" in screen
    assert screen.endswith("Changements de profil restants ce mois-ci : 3")


def test_my_balance(http):
    add_subscriber(http, consumed_last_month=3000)
    ok(http.post(f"/api/v1/admin/subscribers/{MSISDN}/recharges", json={"amount": "1500"}, headers=OPERATOR), 201)
    gateway = Gateway(http)
    gateway.dial()
    assert gateway.press("3") == (
        "END",
        "Solde principal : 1 500 F CFA\nBonus crédit : 300 F CFA\nConsommation du mois passé : 3 000 F CFA",
    )


def test_the_profiles_described(http):
    add_subscriber(http)
    gateway = Gateway(http)
    gateway.dial()
    assert gateway.press("4") == ("CON", "Nos profils :\n1 Novamix\n2 Tigre\n3 Dauphin\n4 Aigle\n0 Retour")
    assert gateway.press("2") == (
        "END",
        "Tigre : Pour les gros consommateurs d'appels : bonus crédit et minutes.\n"
        "Condition : 2 500 F CFA consommés le mois passé.\n"
        "Bonus : Bonus recharge 50 %, Minutes du mois.",
    )


def test_a_number_that_is_not_a_subscriber_is_told_politely(http):
    gateway = Gateway(http, msisdn="+2250799999999")
    assert gateway.dial() == (
        "END",
        "Désolé, ce service est réservé aux abonnés prépayés. Contactez votre service client.",
    )


def test_a_code_that_is_not_ours(http):
    add_subscriber(http)
    assert Gateway(http, service_code="*144#").dial() == ("END", "Ce code n'est pas reconnu. Composez le #121#.")


def test_a_plus_sign_the_gateway_did_not_encode_still_finds_the_subscriber(http):
    add_subscriber(http)
    response = http.post(
        "/ussd", content=f"sessionId=s1&serviceCode=%23121%23&phoneNumber={MSISDN}&text=", headers=FORM
    )
    assert screen_of(response)[0] == "CON"


@pytest.mark.parametrize(
    "body",
    [
        "",
        "serviceCode=%23121%23&phoneNumber=%2B2250701020304&text=",
        "sessionId=s1&phoneNumber=%2B2250701020304&text=",
        "sessionId=s1&serviceCode=%23121%23&text=",
        "sessionId=&serviceCode=%23121%23&phoneNumber=%2B2250701020304&text=",
        "sessionId=s1&serviceCode=%23121%23&phoneNumber=not-a-number&text=",
        "sessionId=" + "x" * 101 + "&serviceCode=%23121%23&phoneNumber=%2B2250701020304",
        '{"sessionId": "s1"}',
        "sessionId=s1&serviceCode=%23121%23&phoneNumber=%FF%FE&text=",
    ],
)
def test_a_malformed_request_is_a_400_in_plain_text_never_a_500(http, body):
    response = http.post("/ussd", content=body, headers=FORM)
    assert response.status_code == 400
    assert response.headers["content-type"].startswith("text/plain")
    assert not response.text.startswith(("CON", "END"))


def test_with_a_gateway_token_set_a_request_without_it_gets_no_screen(http, other_server):
    add_subscriber(http)
    with other_server(ussd_token=SecretStr("jeton-passerelle")) as gated:
        for params, headers in [({}, {}), ({"token": "faux"}, {}), ({}, {"X-USSD-Token": "faux"}), ({}, GATEWAY)]:
            response = Gateway(gated, params=params, headers=headers).post("")
            assert response.status_code == 401
            assert not response.text.startswith(("CON", "END"))
        assert Gateway(gated, params={"token": "jeton-passerelle"}, headers={}).dial()[0] == "CON"
        assert Gateway(gated, headers={"X-USSD-Token": "jeton-passerelle"}).dial()[0] == "CON"
    assert Gateway(http).dial()[0] == "CON"  # the main app's own token


def _entries(screen):
    return [line for line in screen.splitlines()[1:] if line[0] in "12345678"]


def test_a_long_profile_list_is_paged_and_every_page_fits(http, other_server, many_profiles_catalog):
    add_subscriber(http)
    with other_server(catalog=many_profiles_catalog) as paged:
        gateway = Gateway(paged)
        gateway.dial()
        pages = [gateway.press("1")[1]]
        assert pages[0].startswith("Choisissez votre profil :\n1 Novamix (actuel)\n2 Tigre (non éligible)\n")
        assert pages[0].endswith("\n9 Suite\n0 Retour")
        while "9 Suite" in pages[-1]:
            kind, screen = gateway.press("9")
            assert kind == "CON"
            pages.append(screen)
        assert len(pages) >= 3
        assert pages[-1].endswith("\n0 Retour\n00 Accueil")
        assert sum(len(_entries(page)) for page in pages) == 16
        last = pages[-2]  # the last but one: the last holds the profile refused, alone
        gateway.press("0")
        assert gateway.press("x") == ("CON", "Choix invalide.\n" + last.partition("\n")[2])
        name = _entries(last)[0][2:]
        assert name.startswith("Profil spécial numéro ")
        assert gateway.press("1")[1].startswith(f"Passer au profil {name} ?")
        assert gateway.press("0") == ("CON", last)
        assert gateway.press("0") == ("CON", pages[-3])
        assert gateway.press("00")[1].startswith("Gamme mobile #121#")


def test_sessions_in_redis_give_the_same_walk(http, other_server, redis_db):
    add_subscriber(http, consumed_last_month=3000)
    with other_server(redis_url=redis_db) as on_redis:
        gateway = Gateway(on_redis)
        gateway.dial()
        assert gateway.press("1", "2")[1].startswith("Passer au profil Tigre ?")
        assert gateway.press("1") == ("END", "Votre profil est maintenant Tigre. Vos bonus en cours sont conservés.")
        assert gateway.repeat() == ("END", "Votre profil est maintenant Tigre. Vos bonus en cours sont conservés.")
    import redis

    client = redis.Redis.from_url(redis_db)
    assert client.exists(f"bascule:ussd:session:{gateway.session_id}")
    client.close()
    assert ok(http.get(f"/api/v1/subscribers/{MSISDN}", headers=OPERATOR))["profile_id"] == "tigre"


def _drop_the_servers_redis_connections(url: str) -> int:
    """As Redis does to an idle client, or a restart: the server's connections for USSD sessions on the test's
    database (named by their greeting), and only those."""
    import redis

    with redis.Redis.from_url(url, decode_responses=True) as client:
        database = client.connection_pool.connection_kwargs["db"]
        sessions = [
            entry["id"]
            for entry in client.client_list()
            if entry["name"] == "bascule-ussd-sessions" and int(entry["db"]) == database
        ]
        return sum(client.client_kill_filter(_id=connection) for connection in sessions)


def test_a_session_goes_on_when_redis_dropped_the_servers_connection(http, other_server, redis_db):
    add_subscriber(http, consumed_last_month=3000)
    with other_server(redis_url=redis_db) as on_redis:
        gateway = Gateway(on_redis)
        gateway.dial()
        assert gateway.press("1")[1].startswith("Choisissez votre profil")
        assert _drop_the_servers_redis_connections(redis_db) == 1
        assert gateway.press("2")[1].startswith("Passer au profil Tigre ?")
        assert gateway.press("1") == ("END", "Votre profil est maintenant Tigre. Vos bonus en cours sont conservés.")
    assert ok(http.get(f"/api/v1/subscribers/{MSISDN}", headers=OPERATOR))["profile_id"] == "tigre"


def test_when_redis_cannot_be_reached_the_caller_is_told_and_nothing_changes(http, other_server):
    import socket

    with socket.socket() as probe:  # a port nothing listens on
        probe.bind(("127.0.0.1", 0))
        closed_port = probe.getsockname()[1]
    add_subscriber(http, consumed_last_month=3000)
    with other_server(redis_url=f"redis://127.0.0.1:{closed_port}/0") as no_redis:
        gateway = Gateway(no_redis)
        assert gateway.dial() == ("END", "Service momentanément indisponible. Merci de réessayer plus tard.")
        assert gateway.press("1", "2", "1") == (
            "END",
            "Service momentanément indisponible. Merci de réessayer plus tard.",
        )
    assert ok(http.get(f"/api/v1/subscribers/{MSISDN}", headers=OPERATOR))["profile_id"] == "novamix"
