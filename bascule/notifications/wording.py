"""What a business customer is told about a change request, in words: the line (its MSISDN) and the change,
never an internal id; and that the equipment must be restarted for the SIM to take the change."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from bascule.catalog.model import Catalog
from bascule.kernel.errors import DomainError
from bascule.kernel.messages_fr import volume_fr

RESTART = "Pour que la carte SIM prenne la modification, redémarrez l'équipement de la ligne."


def _name(lookup: Any, key: str) -> str:
    try:
        return str(lookup(key).name)
    except DomainError:  # an entry removed from the catalogue since: its id is all there is
        return key


def change_in_words(changes: Mapping[str, Any], catalog: Catalog) -> str:
    """ "forfait Data Mobile 30 Go 5G et APN Internet Pro" — the items of a request as a customer reads them."""
    parts = []
    if "plan_id" in changes:
        parts.append(f"forfait {_name(catalog.plan, changes['plan_id'])}")
    if "radio" in changes:
        parts.append(f"passage en {changes['radio']}")
    if "apn" in changes:
        parts.append(f"APN {_name(catalog.apn, changes['apn'])}")
    if "network" in changes:
        parts.append(f"opérateur support {_name(catalog.network, changes['network'])}")
    if changes.get("ceiling_bytes") is not None:
        parts.append(f"plafond mensuel de {volume_fr(int(changes['ceiling_bytes']))}")
    if not parts:
        return "modification"
    return parts[0] if len(parts) == 1 else f"{', '.join(parts[:-1])} et {parts[-1]}"


@dataclass(frozen=True, slots=True)
class Notice:
    subject: str
    body: str


def confirmed(msisdn: str, changes: Mapping[str, Any], catalog: Catalog) -> Notice:
    what = change_in_words(changes, catalog)
    return Notice(
        f"Ligne {msisdn} : demande d'évolution confirmée",
        f"La demande d'évolution de la ligne {msisdn} ({what}) est confirmée et s'applique maintenant. {RESTART}",
    )


def applied(msisdn: str, changes: Mapping[str, Any], catalog: Catalog) -> Notice:
    what = change_in_words(changes, catalog)
    return Notice(
        f"Ligne {msisdn} : demande d'évolution appliquée",
        f"La ligne {msisdn} a changé : {what}. La modification est appliquée sur le réseau. {RESTART}",
    )


def refused_by_network(msisdn: str, changes: Mapping[str, Any], catalog: Catalog, reason: str) -> Notice:
    what = change_in_words(changes, catalog)
    return Notice(
        f"Ligne {msisdn} : demande d'évolution non appliquée",
        f"Le réseau a refusé la demande d'évolution de la ligne {msisdn} ({what}) : {reason}. "
        "La ligne est inchangée, les frais sont annulés et vous pouvez faire une nouvelle demande "
        "ce mois-ci.",
    )
