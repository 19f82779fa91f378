"""Golden screens of #121#: every state of the menu, played over HTTP as the gateway plays it, compared exactly
with `golden/screens.txt`; each screen is GSM 03.38, at most 182 septets, and in French with its accents.

After a deliberate change of wording, write the file again and read its diff before committing:

    BASCULE_UPDATE_GOLDEN=1 .venv/bin/pytest tests/ussd/test_golden_screens.py
"""

from __future__ import annotations

import os
import re
from collections.abc import Callable
from pathlib import Path

import httpx
import pytest

from bascule.channels.ussd.engine import Confirm, Menu, Pick, View
from bascule.channels.ussd.menu import TREE
from bascule.kernel.gsm0338 import SCREEN_SEPTETS, is_gsm, septets
from tests.api.helpers import set_clock
from tests.ussd.conftest import OPERATOR, Gateway, add_subscriber, ok

GOLDEN = Path(__file__).with_name("golden") / "screens.txt"
HEADER = "=== "
PREAMBLE = """\
Golden USSD screens of #121#, as POST /ussd answers them (tests/ussd/test_golden_screens.py writes and checks
them). Each entry: "=== <state> | <what was dialled and typed> | <septets after CON/END>", then the answer.
The test clock is at 2026-06-16 09:00 Paris; the shipped catalogue, unless the entry says otherwise.
"""

# Words the screens once wrote without the accents GSM 03.38 has.
UNACCENTED = (
    "Decouvrir",
    "conserves",
    "eligible",
    "Reessayez",
    "reessayer",
    "Desole",
    "deja",
    "consommes",
    "passe ",
    "passe.",
    "passe)",
    "credit",
    "reserve",
    "abonnes",
    "prepayes",
    "momentanement",
    "numero",
    "special",
    "Element",
    "caractere",
)

A, B, C, D, E, F, G, H, J = (f"+22507010203{n:02d}" for n in range(9))


def recharge(http: httpx.Client, msisdn: str, amount: str) -> None:
    ok(http.post(f"/api/v1/admin/subscribers/{msisdn}/recharges", json={"amount": amount}, headers=OPERATOR), 201)


def migrate(http: httpx.Client, msisdn: str, profile_id: str) -> None:
    ok(
        http.post(
            f"/api/v1/subscribers/{msisdn}/profile-migrations", json={"profile_id": profile_id}, headers=OPERATOR
        ),
        201,
    )


class Recorder:
    """The screens met, by state, in the order of the walk."""

    def __init__(self) -> None:
        self.entries: list[tuple[str, str, str]] = []

    def session(self, http: httpx.Client, msisdn: str, service_code: str = "#121#") -> Callable[..., None]:
        gateway = Gateway(http, msisdn=msisdn, service_code=service_code)

        def play(state: str, *entries: str, retry: bool = False) -> None:
            if retry:
                kind, screen = gateway.repeat()
            elif not entries:
                kind, screen = gateway.dial()
            else:
                kind, screen = gateway.press(*entries)
            typed = "*".join(gateway.inputs)
            how = f"{msisdn} {service_code}" + (f" text={typed}" if typed else "") + (" (again)" if retry else "")
            self.add(state, how, f"{kind} {screen}")

        return play

    def add(self, state: str, how: str, wire: str) -> None:
        assert state not in {name for name, _, _ in self.entries}, state
        self.entries.append((state, how, wire))

    def text(self) -> str:
        blocks = [PREAMBLE]
        for state, how, wire in self.entries:
            screen = wire.partition(" ")[2]
            blocks.append(f"{HEADER}{state} | {how} | {septets(screen)}\n{wire}\n")
        return "\n".join(blocks)


def parse(text: str) -> dict[str, tuple[str, str]]:
    """{state: (what was played, the answer)} from the golden file."""
    entries: dict[str, tuple[str, str]] = {}
    for block in text.split("\n" + HEADER)[1:]:
        header, _, wire = block.partition("\n")
        state, how, _ = header.split(" | ")
        entries[state] = (how, wire.removesuffix("\n").removesuffix("\n"))
    return entries


def play_every_state(http: httpx.Client, other_server: Callable[..., object], catalog: Path) -> Recorder:
    r = Recorder()
    add_subscriber(http, A, consumed_last_month=3000)  # Novamix; Tigre open to them, Aigle not
    recharge(http, A, "1500")

    play = r.session(http, A)
    play("accueil")
    play("accueil/choix-invalide", "7")
    play("profils", "1")
    play("profils/choix-invalide", "abc")
    play("profils/non-eligible", "4")
    play("profils/profil-actuel", "1")
    play("confirmer_profil", "2")
    play("confirmer_profil/choix-invalide", "5")
    play("confirmer_profil/retour", "0")
    play("confirmer_profil/accueil", "2", "00")

    play = r.session(http, A)
    play("mon_profil", "2")
    play = r.session(http, A)
    play("solde", "3")
    play = r.session(http, A)
    play("fiches", "4")
    play("fiches/choix-invalide", "9")
    for number, profile in enumerate(("novamix", "tigre", "dauphin", "aigle"), 1):
        play = r.session(http, A)
        play(f"fiche_profil/{profile}", "4", str(number))

    play = r.session(http, A, "#121*1#")
    play("profils/raccourci")
    play("confirmer_profil/raccourci", "2")
    play("migration/faite", "1")
    play("migration/faite/repetee-par-la-passerelle", retry=True)

    add_subscriber(http, B)  # Novamix, nothing consumed last month: Tigre and Aigle out of reach
    play = r.session(http, B)
    play("profils/sans-consommation", "1")
    play("profils/sans-consommation/non-eligible", "2")
    play("profils/sans-consommation/autre-choix", "3")
    play("solde/a-zero", "0", "0", "3")

    add_subscriber(http, C, profile_id="dauphin")
    play = r.session(http, C)
    play("mon_profil/sans-bonus", "2")

    add_subscriber(http, D)
    for _ in range(8):
        recharge(http, D, "1000")
    play = r.session(http, D)
    play("mon_profil/bonus-nombreux", "2")

    add_subscriber(http, E, consumed_last_month=3000)
    for target in ("dauphin", "novamix", "dauphin"):
        migrate(http, E, target)
    play = r.session(http, E)
    play("profils/limite-atteinte", "1")
    play("profils/limite-atteinte/choix", "1")
    play = r.session(http, E)
    play("mon_profil/aucun-changement-restant", "2")

    add_subscriber(http, F, consumed_last_month=3000)
    play = r.session(http, F)
    play("confirmer_profil/avant-la-limite", "1", "2")
    for target in ("dauphin", "novamix", "dauphin"):  # meanwhile, the app uses every slot of the month
        migrate(http, F, target)
    play("migration/limite-atteinte-pendant-la-confirmation", "1")  # the list again, read afresh, with the reason
    play("migration/limite-atteinte-pendant-la-confirmation/repetee-par-la-passerelle", retry=True)
    play("migration/limite-atteinte-pendant-la-confirmation/autre-choix", "2")
    play("migration/limite-atteinte-pendant-la-confirmation/retour", "0")

    r.add("erreur/code-inconnu", f"{A} *144#", "{} {}".format(*Gateway(http, msisdn=A, service_code="*144#").dial()))
    r.add("erreur/pas-abonne", "+2250799999999 #121#", "{} {}".format(*Gateway(http, "+2250799999999").dial()))
    for state, text in [("erreur/saisie-invalide", "1\x00"), ("erreur/saisie-trop-longue", "1" * 501)]:
        response = Gateway(http, msisdn=A).post(text)
        r.add(state, f"{A} #121# text={text[:3]!r}" + ("..." if len(text) > 3 else ""), response.text)
    with other_server(redis_url="redis://127.0.0.1:9/0") as broken:  # nothing listens there
        r.add(
            "erreur/service-indisponible",
            f"{A} #121# (session store unreachable)",
            "{} {}".format(*Gateway(broken, msisdn=A).dial()),
        )

    add_subscriber(http, G)
    with other_server(catalog=catalog) as paged:
        play = r.session(paged, G)
        play("profils/pages/1", "1")
        play("profils/pages/2", "9")
        play("profils/pages/3", "9")
        play("profils/pages/4", "9")
        play("profils/pages/5", "9")  # the profile asking 50 000 F CFA, alone: its refusal takes room
        play("profils/pages/5/non-eligible", "1")
        play("profils/pages/5/choix-invalide", "7")
        play("profils/pages/5/retour", "0")

    play = r.session(http, B)
    play("expiration/avant", "1")
    set_clock(http, "2026-06-16T09:10:00+02:00")  # 10 minutes: the session has expired
    play("expiration/reprise-depuis-les-saisies", "3")
    play("expiration/migration", "1")
    set_clock(http, "2026-06-16T09:20:00+02:00")
    play("expiration/repetee-apres-expiration", retry=True)

    add_subscriber(http, H, consumed_last_month=3000)  # in May
    add_subscriber(http, J, consumed_last_month=3000)
    set_clock(http, "2026-06-30T23:59:00+00:00")
    play = r.session(http, H)
    play("confirmer_profil/fin-de-juin", "1", "2")
    other = r.session(http, J)
    other("expiration/fin-de-juin", "1", "2")
    set_clock(http, "2026-07-01T00:01:00+00:00")  # June, when nothing was consumed, is now "last month"
    play("migration/plus-eligible", "1")  # the list again, Tigre now marked, the reason on top
    play("migration/plus-eligible/meme-choix", "2")
    play("migration/plus-eligible/autre-choix", "3")
    play("migration/plus-eligible/faite", "1")
    other("expiration/plus-eligible", "1")
    set_clock(http, "2026-07-01T00:11:00+00:00")  # the session has expired: replayed, it stops at Tigre
    other("expiration/apres-un-refus", "3")
    return r


@pytest.fixture
def recorded(http, other_server, many_profiles_catalog) -> Recorder:
    return play_every_state(http, other_server, many_profiles_catalog)


def test_every_screen_is_the_golden_one(recorded):
    actual = recorded.text()
    assert parse(actual) == {state: (how, wire) for state, how, wire in recorded.entries}
    if os.environ.get("BASCULE_UPDATE_GOLDEN") == "1":
        GOLDEN.parent.mkdir(exist_ok=True)
        GOLDEN.write_text(actual, "utf-8")
    assert actual == GOLDEN.read_text("utf-8")


GOLDEN_ENTRIES = parse(GOLDEN.read_text("utf-8")) if GOLDEN.exists() else {}


@pytest.mark.parametrize("state", list(GOLDEN_ENTRIES))
def test_each_golden_screen_is_gsm_within_182_septets_and_french(state):
    _, wire = GOLDEN_ENTRIES[state]
    kind, _, screen = wire.partition(" ")
    assert kind in ("CON", "END")
    assert is_gsm(screen), [char for char in screen if not is_gsm(char)]
    assert septets(screen) <= SCREEN_SEPTETS
    assert "\n\n" not in screen
    assert not screen.endswith("\n")
    assert not [word for word in UNACCENTED if word in screen]
    assert not re.search(r"[^\s#][:?]", screen), "French puts a space before ':' and '?'"


def test_the_golden_file_has_every_node_of_the_menu():
    assert GOLDEN_ENTRIES
    states = {state.split("/")[0] for state in GOLDEN_ENTRIES}
    nodes = {name for name, node in TREE.nodes.items() if isinstance(node, Menu | Pick | Confirm | View)}
    assert nodes <= states
    for node in ("accueil", "profils", "confirmer_profil"):
        assert f"{node}/choix-invalide" in GOLDEN_ENTRIES
