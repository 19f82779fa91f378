"""#121# → 1 over HTTP, as the gateway plays it: the seed's profile change, its refusals, its shortcuts."""

import pytest

from tests.api.helpers import set_clock
from tests.ussd.conftest import MSISDN, OPERATOR, Gateway, add_subscriber, ok

ROOT = "Gamme mobile #121#\n1 Changer de profil\n2 Mon profil et mes bonus\n3 Mon solde\n4 Découvrir les profils"
ENTRIES = "1 Novamix (actuel)\n2 Tigre\n3 Dauphin\n4 Aigle (non éligible)\n0 Retour"
PROFILES = "Choisissez votre profil :\n" + ENTRIES
CONFIRM_TIGRE = (
    "Passer au profil Tigre ? Changement de profil gratuit, vos bonus en cours sont conservés.\n1 Confirmer\n0 Retour"
)
NOW_TIGRE = "Votre profil est maintenant Tigre. Vos bonus en cours sont conservés."


@pytest.fixture
def gateway(http):
    add_subscriber(http, consumed_last_month=3000)
    return Gateway(http)


def profile_of(http, msisdn=MSISDN):
    return ok(http.get(f"/api/v1/subscribers/{msisdn}", headers=OPERATOR))["profile_id"]


def test_the_seed_path_121_then_1_changes_the_profile_once_for_every_channel(http, gateway):
    assert gateway.dial() == ("CON", ROOT)
    assert gateway.press("1") == ("CON", PROFILES)
    assert gateway.press("2") == ("CON", CONFIRM_TIGRE)
    assert gateway.press("1") == ("END", NOW_TIGRE)
    assert profile_of(http) == "tigre"
    migrations = ok(http.get(f"/api/v1/subscribers/{MSISDN}/profile-migrations", headers=OPERATOR))
    assert [(m["from_profile_id"], m["to_profile_id"], m["channel"]) for m in migrations] == [
        ("novamix", "tigre", "ussd")
    ]


def test_a_gateway_retry_of_the_confirmation_gets_the_same_screen_and_changes_nothing_more(http, gateway):
    gateway.dial()
    gateway.press("1", "2", "1")
    assert gateway.repeat() == ("END", NOW_TIGRE)
    assert len(ok(http.get(f"/api/v1/subscribers/{MSISDN}/profile-migrations", headers=OPERATOR))) == 1


@pytest.mark.parametrize(("service_code", "text"), [("#121*1#", ""), ("#121#", "1"), ("*121*1#", ""), ("*121#", "1")])
def test_the_shortcut_goes_straight_to_the_profiles_whichever_way_the_gateway_sends_it(gateway, service_code, text):
    gateway.service_code = service_code
    gateway.inputs = [text] if text else []
    assert gateway.repeat() == ("CON", PROFILES)
    assert gateway.press("2") == ("CON", CONFIRM_TIGRE)


def test_a_whole_session_through_the_shortcut(http, gateway):
    gateway.service_code = "#121*1#"
    assert gateway.dial() == ("CON", PROFILES)
    assert gateway.press("2", "1") == ("END", NOW_TIGRE)
    assert profile_of(http) == "tigre"


def test_star_121_opens_the_range_menu(gateway):
    gateway.service_code = "*121#"
    assert gateway.dial() == ("CON", ROOT)


def test_a_profile_out_of_reach_says_why_and_brings_the_list_back(http, gateway):
    gateway.dial()
    assert gateway.press("1", "4") == (
        "CON",
        "Aigle : il faut 8 000 F CFA consommés le mois passé (vous : 3 000 F CFA).\n" + ENTRIES,
    )
    assert profile_of(http) == "novamix"
    assert ok(http.get(f"/api/v1/subscribers/{MSISDN}", headers=OPERATOR))["migrations_left_this_month"] == 3
    assert gateway.press("2") == ("CON", CONFIRM_TIGRE)  # the same session goes on from the list
    assert gateway.press("1") == ("END", NOW_TIGRE)


def test_the_current_profile_is_marked_and_choosing_it_changes_nothing(http, gateway):
    gateway.dial()
    assert gateway.press("1", "1") == ("CON", "Vous avez déjà le profil Novamix.\n" + ENTRIES)
    assert ok(http.get(f"/api/v1/subscribers/{MSISDN}", headers=OPERATOR))["migrations_left_this_month"] == 3
    assert gateway.press("0") == ("CON", ROOT)


def migrate_by_ussd(http, choice):
    session = Gateway(http)
    session.dial()
    kind, screen = session.press("1", choice, "1")
    assert kind == "END", screen
    return screen


def test_the_fourth_change_of_the_month_is_refused_with_the_date_it_becomes_possible(http, gateway):
    for choice in ("3", "1", "3"):  # Dauphin, Novamix, Dauphin
        assert migrate_by_ussd(http, choice).startswith("Votre profil est maintenant")
    gateway.dial()
    entries = (
        "1 Novamix (limite atteinte)\n2 Tigre (limite atteinte)\n3 Dauphin (actuel)\n4 Aigle (non éligible)\n0 Retour"
    )
    assert gateway.press("1") == ("CON", "Choisissez votre profil :\n" + entries)
    assert gateway.press("1") == ("CON", f"{LIMIT}\n{entries}")
    assert profile_of(http) == "dauphin"


LIMIT = "Limite de 3 changements de profil par mois atteinte. Réessayez le 01/07/2026."


def test_the_domain_has_the_last_word_when_the_slot_goes_elsewhere_during_the_confirmation(http, gateway):
    gateway.dial()
    gateway.press("1", "2")
    for target in ("dauphin", "novamix", "dauphin"):  # meanwhile, the app uses every slot of the month
        ok(
            http.post(
                f"/api/v1/subscribers/{MSISDN}/profile-migrations", json={"profile_id": target}, headers=OPERATOR
            ),
            201,
        )
    # The session goes on: the list, read again, with the reason on top.
    entries = (
        "1 Novamix (limite atteinte)\n2 Tigre (limite atteinte)\n3 Dauphin (actuel)\n4 Aigle (non éligible)\n0 Retour"
    )
    assert gateway.press("1") == ("CON", f"{LIMIT}\n{entries}")
    assert gateway.repeat() == ("CON", f"{LIMIT}\n{entries}")  # a gateway retry runs nothing again
    assert gateway.press("2") == ("CON", f"{LIMIT}\n{entries}")
    assert gateway.press("0") == ("CON", ROOT)
    assert profile_of(http) == "dauphin"
    assert len(ok(http.get(f"/api/v1/subscribers/{MSISDN}/profile-migrations", headers=OPERATOR))) == 3


NOT_TIGRE = "Tigre : il faut 2 500 F CFA consommés le mois passé (vous : 0 F CFA)."
JULY_ENTRIES = "1 Novamix (actuel)\n2 Tigre (non éligible)\n3 Dauphin\n4 Aigle (non éligible)\n0 Retour"


def test_a_confirmation_refused_for_eligibility_brings_the_list_back_and_the_session_goes_on(http, gateway):
    set_clock(http, "2026-06-30T23:59:00+00:00")
    gateway.dial()
    assert gateway.press("1", "2") == ("CON", CONFIRM_TIGRE)
    set_clock(http, "2026-07-01T00:01:00+00:00")  # June, when nothing was consumed, is now "last month"
    assert gateway.press("1") == ("CON", f"{NOT_TIGRE}\n{JULY_ENTRIES}")
    assert profile_of(http) == "novamix"
    assert gateway.press("2") == ("CON", f"{NOT_TIGRE}\n{JULY_ENTRIES}")  # Tigre is now marked and refused at once
    assert gateway.press("3") == ("CON", CONFIRM_TIGRE.replace("Tigre", "Dauphin"))
    assert gateway.press("1") == ("END", "Votre profil est maintenant Dauphin. Vos bonus en cours sont conservés.")
    assert profile_of(http) == "dauphin"
    migrations = ok(http.get(f"/api/v1/subscribers/{MSISDN}/profile-migrations", headers=OPERATOR))
    assert [(m["from_profile_id"], m["to_profile_id"]) for m in migrations] == [("novamix", "dauphin")]


def test_after_a_refused_confirmation_a_session_whose_state_expired_runs_nothing(http, gateway):
    set_clock(http, "2026-06-30T23:59:00+00:00")
    gateway.dial()
    gateway.press("1", "2")
    set_clock(http, "2026-07-01T00:01:00+00:00")
    assert gateway.press("1")[0] == "CON"
    set_clock(http, "2026-07-01T00:11:00+00:00")  # ten minutes: the session's state is gone
    # Replayed from its inputs, the walk meets Tigre refused before the last input and stops there (a walk that
    # met the confirmation itself would stop with LOST: tests/ussd/test_engine.py).
    assert gateway.press("3") == ("END", NOT_TIGRE)
    assert profile_of(http) == "novamix"
    assert ok(http.get(f"/api/v1/subscribers/{MSISDN}/profile-migrations", headers=OPERATOR)) == []


def test_an_invalid_choice_re_prompts_the_same_screen(gateway):
    gateway.dial()
    assert gateway.press("7") == ("CON", "Choix invalide.\n" + ROOT)
    assert gateway.press("1") == ("CON", PROFILES)
    assert gateway.press("abc") == ("CON", "Choix invalide.\n" + ENTRIES)
    assert gateway.press("2") == ("CON", CONFIRM_TIGRE)
    assert gateway.press("5") == ("CON", "Choix invalide.\n" + CONFIRM_TIGRE)


def test_back_and_home(gateway):
    gateway.dial()
    assert gateway.press("1", "2") == ("CON", CONFIRM_TIGRE)
    assert gateway.press("0") == ("CON", PROFILES)
    assert gateway.press("0") == ("CON", ROOT)
    assert gateway.press("1", "2", "00") == ("CON", ROOT)
    assert gateway.press("1", "2", "1") == ("END", NOW_TIGRE)


def test_a_session_that_timed_out_is_replayed_from_its_inputs(http, gateway):
    gateway.dial()
    gateway.press("1")
    ok(http.put("/api/v1/test/clock", json={"now": "2026-06-16T09:10:00+02:00"}))
    assert gateway.press("2") == ("CON", CONFIRM_TIGRE)
