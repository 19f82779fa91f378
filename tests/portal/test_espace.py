"""Espace client over HTTP: one-time code login, « Mon profil », a profile change, its wording, isolation, and
the demo's « SMS envoyés »."""

from __future__ import annotations

import html
import logging
import re

import httpx
import pytest

from tests.api.helpers import OPERATOR, ok
from tests.ops.helpers import captured_logs
from tests.portal.helpers import browser, csrf_of, submit, text_of
from tests.support.logins import espace_subscriber, last_code

MSISDN = "+2250701234567"


def make_subscriber(http, msisdn: str = MSISDN, consumed: str = "3000") -> None:
    """A Novamix line that consumed `consumed` F CFA in May 2026 (the clock is on 16 June)."""
    ok(http.post("/api/v1/admin/subscribers", json={"msisdn": msisdn, "profile_id": "novamix"}, headers=OPERATOR), 201)
    ok(
        http.post(
            f"/api/v1/admin/subscribers/{msisdn}/recharges",
            json={"amount": "10000", "at": "2026-05-02T10:00:00+00:00"},
            headers=OPERATOR,
        ),
        201,
    )
    ok(
        http.post(
            f"/api/v1/admin/subscribers/{msisdn}/consumptions",
            json={"amount": consumed, "at": "2026-05-20T10:00:00+00:00"},
            headers=OPERATOR,
        ),
        201,
    )


def login_espace(client, http, msisdn: str = MSISDN):
    return espace_subscriber(client, http, msisdn)


def test_a_subscriber_logs_in_with_a_code_and_changes_profile(http, server_url):
    make_subscriber(http)
    with browser(server_url) as client:
        code_page = submit(client, "/espace-client/connexion", "/espace-client/code", {"msisdn": "+225 07 01 23 45 67"})
        wrong = client.post(
            "/espace-client/connexion", data={"msisdn": MSISDN, "code": "000000", "csrf_token": csrf_of(code_page)}
        )
        assert wrong.status_code == 401
        assert "Code incorrect ou expiré." in text_of(wrong)
        logged = client.post(
            "/espace-client/connexion",
            data={"msisdn": MSISDN, "code": last_code(http, MSISDN), "csrf_token": csrf_of(code_page)},
        )
        assert logged.headers["location"] == "/espace-client/"
        profile = text_of(client.get("/espace-client/profil"))
        assert "Profil Novamix" in profile
        assert "Consommation en mai 2026 3 000 F CFA" in profile
        assert "Changements de profil restants ce mois-ci 3" in profile
        choices = client.get("/espace-client/profil/changer")
        text = said(choices)
        assert "Profil actuel : Novamix. Le changement de profil est gratuit ; il vous en reste 3 ce mois-ci." in text
        assert reason(choices, "aigle") == (
            "Il faut avoir consommé au moins 8 000 F CFA le mois passé (vous : 3 000 F CFA)."
        )
        assert reason(choices, "tigre") == "Accessible : au moins 2 500 F CFA consommés le mois passé."
        assert reason(choices, "dauphin") == "Accessible sans condition."
        assert reason(choices, "novamix") == "C'est votre profil actuel."
        assert re.search(r'<input type="radio" name="profil" value="aigle" disabled', choices.text)
        assert re.search(r'<input type="radio" name="profil" value="tigre" required aria-describedby', choices.text)
        assert continue_button(choices) == '<button type="submit" class="button button-primary">Continuer</button>'
        confirm = client.get("/espace-client/profil/confirmation", params={"profil": "tigre"})
        assert "Passer du profil Novamix au profil Tigre ?" in text_of(confirm)
        assert "Le changement de profil est gratuit et immédiat." in text_of(confirm)
        assert "Il vous restera ensuite 2 changements de profil ce mois-ci." in text_of(confirm)
        done = client.post("/espace-client/profil/changer", data={"profil": "tigre", "csrf_token": csrf_of(confirm)})
        assert done.status_code == 303
        result = text_of(client.get(done.headers["location"]))
        assert "Votre profil est maintenant Tigre" in result
        assert (
            "Changement de profil effectué le 16 juin 2026 à 07:00 : Novamix → Tigre. Vos bonus en cours sont "
            "conservés jusqu'à leur date de validité."
        ) in result
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


def said(page: httpx.Response) -> str:
    """The text, a period right after a word in bold written as it reads."""
    return text_of(page).replace(" .", ".")


def reason(page: httpx.Response, profile_id: str) -> str:
    """What the list says under one profile."""
    found = re.search(rf'<span class="choice-reason" id="raison-{profile_id}">([^<]*)</span>', page.text)
    assert found is not None, profile_id
    return re.sub(r"\s", " ", html.unescape(found.group(1)))


def continue_button(page: httpx.Response) -> str:
    found = re.search(r"<button[^>]*>Continuer</button>", page.text)
    assert found is not None
    return found.group(0)


def use_every_change_of_the_month(http, msisdn: str = MSISDN) -> None:
    for target in ("dauphin", "novamix", "tigre"):
        ok(
            http.post(
                f"/api/v1/subscribers/{msisdn}/profile-migrations", json={"profile_id": target}, headers=OPERATOR
            ),
            201,
        )


def test_when_the_months_changes_are_used_nothing_can_be_chosen_and_the_page_says_until_when(http, server_url):
    make_subscriber(http)
    use_every_change_of_the_month(http)  # now on Tigre
    with browser(server_url) as client:
        login_espace(client, http)
        choices = client.get("/espace-client/profil/changer")
        text = said(choices)
        assert (
            "Profil actuel : Tigre. Vous avez fait vos 3 changements de profil de ce mois-ci : le prochain sera "
            "possible à partir du 1er juillet 2026."
        ) in text
        assert reason(choices, "novamix") == "Plus de changement de profil possible ce mois-ci."
        assert reason(choices, "dauphin") == "Plus de changement de profil possible ce mois-ci."
        assert reason(choices, "aigle") == (
            "Il faut avoir consommé au moins 8 000 F CFA le mois passé (vous : 3 000 F CFA)."
        )
        assert reason(choices, "tigre") == "C'est votre profil actuel."
        assert len(re.findall(r'<input type="radio" name="profil" value="\w+" disabled', choices.text)) == 4
        assert continue_button(choices) == (
            '<button type="submit" class="button button-primary" disabled '
            'aria-describedby="aucun-choix">Continuer</button>'
        )
        assert "Aucun profil ne peut être choisi avant le 1er juillet 2026." in text
        assert "Limite atteinte" not in text  # the reason once, on top, not a refusal per profile
        profile = text_of(client.get("/espace-client/profil"))
        assert "Changements de profil restants ce mois-ci aucun" in profile
        home = text_of(client.get("/espace-client/"))
        assert "Vous avez fait tous vos changements de profil de ce mois-ci." in home
        # Posted anyway (an old tab), the refusal is one French sentence.
        token = csrf_of(client.get("/espace-client/profil/confirmation", params={"profil": "aigle"}))
        refused = client.post("/espace-client/profil/changer", data={"profil": "dauphin", "csrf_token": token})
        assert refused.status_code == 409
        assert (
            "Limite atteinte : 3 changements de profil par mois. Nouvelle demande possible à partir du "
            "1er juillet 2026."
        ) in text_of(refused)
    assert len(ok(http.get(f"/api/v1/subscribers/{MSISDN}/profile-migrations", headers=OPERATOR))) == 3


def test_the_last_change_of_the_month_says_so_instead_of_counting_to_zero(http, server_url):
    make_subscriber(http)
    for target in ("dauphin", "novamix"):
        ok(
            http.post(
                f"/api/v1/subscribers/{MSISDN}/profile-migrations", json={"profile_id": target}, headers=OPERATOR
            ),
            201,
        )
    with browser(server_url) as client:
        login_espace(client, http)
        assert "Profil actuel : Novamix. Le changement de profil est gratuit ; il vous en reste 1 ce mois-ci." in said(
            client.get("/espace-client/profil/changer")
        )
        assert "Gratuit : il vous reste 1 changement de profil ce mois-ci." in text_of(client.get("/espace-client/"))
        confirm = client.get("/espace-client/profil/confirmation", params={"profil": "tigre"})
        assert "Ce sera votre dernier changement de profil de ce mois-ci." in text_of(confirm)
        done = client.post("/espace-client/profil/changer", data={"profil": "tigre", "csrf_token": csrf_of(confirm)})
        result = text_of(client.get(done.headers["location"]))
        assert "Changements de profil restants ce mois-ci aucun" in result


PROFILE_NAMES = ("Novamix", "Tigre", "Dauphin", "Aigle")


def test_every_page_of_the_espace_speaks_of_changes_of_profile_in_french_sentences(http, server_url):
    make_subscriber(http)
    with browser(server_url) as client:
        login_espace(client, http)
        pages = {
            path: client.get(path)
            for path in (
                "/espace-client/",
                "/espace-client/profil",
                "/espace-client/profil/changer",
                "/espace-client/profil/confirmation?profil=tigre",
            )
        }
        done = client.post(
            "/espace-client/profil/changer",
            data={"profil": "tigre", "csrf_token": csrf_of(pages["/espace-client/profil/changer"])},
        )
        pages["result"] = client.get(done.headers["location"])
        pages["/espace-client/profil after"] = client.get("/espace-client/profil")
        for target in ("dauphin", "novamix"):  # the month's two other changes
            ok(
                http.post(
                    f"/api/v1/subscribers/{MSISDN}/profile-migrations", json={"profile_id": target}, headers=OPERATOR
                ),
                201,
            )
        pages["/espace-client/profil/changer at the limit"] = client.get("/espace-client/profil/changer")
    for name, page in pages.items():
        assert page.status_code == 200, name
        text = said(page)
        assert "igration" not in text, name
        # After " : " a sentence goes on in lower case; only a name (a profile, an acronym) may follow in capitals.
        capitals = {
            word
            for word in re.findall(r" : ([A-ZÀ-ÖØ-Þ][\w'-]*)", text)
            if word not in PROFILE_NAMES and not word.isupper()
        }
        assert capitals == set(), (name, capitals)
        assert not re.search(r" : [^.?!]* : ", text), name
        assert not re.search(r"\b0 (restant|changement)", text), name
    profile = pages["/espace-client/profil after"]
    assert '<a class="button button-primary" href="/espace-client/profil/changer">Changer de profil</a>' in profile.text


# ---------------------------------------------------------------- the demo's « SMS envoyés »


def test_outside_the_demo_there_is_no_sms_page(http):
    assert http.get("/espace-client/sms").status_code == 404
    assert http.get("/espace-client/sms", params={"numero": MSISDN}).status_code == 404


@pytest.fixture
def demo(other_server):
    with other_server(demo=True) as client:
        yield client


def test_in_the_demo_the_sms_page_shows_the_one_time_codes_sent_from_the_outbox(http, demo):
    make_subscriber(http)
    make_subscriber(http, msisdn="+2250709999999")
    client = httpx.Client(base_url=str(demo.base_url), timeout=30, follow_redirects=False)
    with client, captured_logs(logging.DEBUG) as logs:
        for number in (MSISDN, "+2250709999999"):
            assert (
                submit(client, "/espace-client/connexion", "/espace-client/code", {"msisdn": number}).status_code == 200
            )
        code = last_code(http, MSISDN)
        other_code = last_code(http, "+2250709999999")
        assert code != other_code
        page = client.get("/espace-client/sms")
        assert page.status_code == 200
        text = text_of(page)
        assert "SMS envoyés" in text
        assert f"{MSISDN} Votre code de connexion : {code}. Valable 5 minutes. Ne le communiquez à personne." in text
        assert f"+2250709999999 Votre code de connexion : {other_code}." in text
        assert text.index("+2250709999999 Votre code") < text.index(f"{MSISDN} Votre code")  # newest first
        mine = text_of(client.get("/espace-client/sms", params={"numero": "+225 07 01 23 45 67"}))
        assert code in mine
        assert other_code not in mine
        assert "Aucun SMS envoyé au +2250700000000." in text_of(
            client.get("/espace-client/sms", params={"numero": "+2250700000000"})
        )
        # The code page of the login says where to read it.
        code_page = submit(client, "/espace-client/connexion", "/espace-client/code", {"msisdn": MSISDN})
        assert f'href="/espace-client/sms?numero=%2B{MSISDN[1:]}"' in code_page.text
        # The code read there logs in.
        fresh = last_code(http, MSISDN)
        assert fresh in text_of(client.get("/espace-client/sms", params={"numero": MSISDN}))
        logged = client.post(
            "/espace-client/connexion", data={"msisdn": MSISDN, "code": fresh, "csrf_token": csrf_of(code_page)}
        )
        assert logged.headers["location"] == "/espace-client/"
        lines = "\n".join(logs.lines)
    assert "/espace-client/sms" in lines  # the capture saw the page's requests
    for secret in (code, other_code, fresh):
        assert not re.search(rf"(?<!\d){secret}(?!\d)", lines), f"the code {secret} is in the logs"
