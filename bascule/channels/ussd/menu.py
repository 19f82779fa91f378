"""The #121# menu, as data. Sources, views and actions are named here and bound in `screens.py`.

    #121#                      accueil
    1 Changer de profil        -> profils: the profiles with their marks (actuel, non éligible)
        n (open)                  -> confirmer_profil: 1 Confirmer -> migrate_profile (END)
                                     refused meanwhile -> profils again, read afresh, the reason on top (CON)
        n (refused)               -> profils again, the domain's reason in place of the title (CON)
    2 Mon profil et mes bonus  -> mon_profil (END)
    3 Mon solde                -> solde (END)
    4 Découvrir les profils    -> fiches: the catalogue's profiles
        n                         -> fiche_profil (END)

Texts are French as it is written; the channel writes every screen in GSM 03.38 at the edge (service.py).

`#121*1#` is the same walk with its first input already given (see `entry_inputs`).
"""

from __future__ import annotations

from bascule.channels.ussd.engine import Choice, Confirm, Menu, Pick, Tree, View

SERVICE_CODE = "121"

TREE = Tree(
    root="accueil",
    nodes={
        "accueil": Menu(
            "Gamme mobile #121#",
            (
                Choice("Changer de profil", "profils"),
                Choice("Mon profil et mes bonus", "mon_profil"),
                Choice("Mon solde", "solde"),
                Choice("Découvrir les profils", "fiches"),
            ),
        ),
        "profils": Pick("Choisissez votre profil :", source="profile_options", target="confirmer_profil"),
        "confirmer_profil": Confirm(
            "Passer au profil {name} ? Changement de profil gratuit, vos bonus en cours sont conservés.",
            action="migrate_profile",
        ),
        "mon_profil": View("my_profile"),
        "solde": View("balance"),
        "fiches": Pick("Nos profils :", source="catalog_profiles", target="fiche_profil"),
        "fiche_profil": View("profile_sheet"),
    },
)


def entry_inputs(service_code: str) -> list[str] | None:
    """The inputs a dialled code already carries: `#121#` → [], `*121*1#` → ["1"]; None if not ours."""
    code = service_code.strip()
    if len(code) < 3 or code[0] not in "*#" or not code.endswith("#"):
        return None
    parts = code[1:-1].split("*")
    if parts[0] != SERVICE_CODE or any(not part for part in parts[1:]):
        return None
    return parts[1:]


def user_inputs(text: str) -> list[str]:
    """The inputs of the gateway's `text` ("1*2*1"); empty text is no input yet."""
    return [] if not text.strip() else [part.strip() for part in text.split("*")]
