"""How the portal writes money, volumes, dates and statuses in French."""

from __future__ import annotations

import json
from datetime import date, datetime
from typing import Any
from zoneinfo import ZoneInfo

from bascule.kernel.calendar import Period
from bascule.kernel.errors import DomainError
from bascule.kernel.messages_fr import day_fr, message, moment_fr, month_fr, volume_fr
from bascule.kernel.money import Money

GIB = 1024**3
MIB = 1024**2

REQUEST_STATUS = {
    "awaiting_confirmation": "En attente de confirmation",
    "provisioning": "En cours de mise en service",
    "completed": "Effectuée",
    "failed": "Échouée",
    "cancelled": "Annulée",
}

SERVICE_STATUS = {"active": "Actif", "barred": "Suspendu (quota épuisé)", "throttled": "Débit réduit (quota épuisé)"}

CHARGE_KIND = {
    "recurring": "Abonnement",
    "proration": "Prorata",
    "fee": "Frais",
    "topup": "Recharge",
    "extension": "Extension",
    "usage": "Consommation",
}

CHANNEL = {
    "api": "API",
    "portal": "Portail",
    "ussd": "USSD",
    "backoffice": "Back-office",
    "cli": "Ligne de commande",
    "tmf": "TM Forum",
    "system": "Système",
}

PLAN_KIND = {"bundle": "Forfait", "metered": "Au compteur"}

ROLE = {"manager": "gestionnaire", "viewer": "lecteur"}

ACTOR = {"operator": "Opérateur", "user": "Utilisateur", "subscriber": "Abonné", "system": "Système"}

ACTION = {
    "account.created": "Compte créé",
    "user.created": "Utilisateur créé",
    "user.logged_in": "Connexion",
    "operator.logged_in": "Connexion au back-office",
    "service.created": "Service créé",
    "service.changed": "Service modifié",
    "service.barred": "Ligne suspendue (quota épuisé)",
    "service.unbarred": "Ligne rétablie",
    "change_request.created": "Demande d'évolution créée",
    "change_request.provisioning": "Demande confirmée, mise en service",
    "change_request.completed": "Demande effectuée",
    "change_request.failed": "Demande échouée",
    "change_request.cancelled": "Demande annulée",
    "subscriber.created": "Abonné créé",
    "subscriber.logged_in": "Connexion",
    "otp.requested": "Code de connexion envoyé",
    "prepaid.recharged": "Recharge",
    "prepaid.consumed": "Consommation",
    "profile.migrated": "Changement de profil",
}


def money(value: Money | dict[str, str] | None) -> str:
    """4,50 € — from a Money or from its JSON form {"amount": "4.50", "currency": "EUR"}."""
    if value is None:
        return "—"
    if isinstance(value, dict):
        value = Money.of(value["amount"], value["currency"])
    return value.french()


def before_vat(value: Money | dict[str, str] | None) -> str:
    """An amount of a business invoice before VAT: "4,50 € HT"."""
    text = money(value)
    return text if value is None else f"{text} HT"


def refusal(error: DomainError | None) -> str:
    """A refusal the page says before the customer tries (the same sentence as when the use case refuses)."""
    return "" if error is None else message(error)


def volume(value: int | None) -> str:
    """Bytes as the catalogue counts them (1 Go = 1024³ octets): "10 Go", "1,5 Go", "200 Mo"."""
    return "—" if value is None else volume_fr(value)


def day(value: date | str | None) -> str:
    """1er juillet 2026, 16 juin 2026."""
    if value is None:
        return "—"
    if isinstance(value, str):
        value = date.fromisoformat(value[:10])
    return day_fr(value)


def moment(value: datetime | str | None, tz: ZoneInfo | None = None) -> str:
    """16 juin 2026 à 09:00, in the customer's zone."""
    if value is None:
        return "—"
    if isinstance(value, str):
        value = datetime.fromisoformat(value)
    if tz is not None:
        value = value.astimezone(tz)
    return moment_fr(value)


def period_label(period: Any) -> str:
    """juin 2026 (from a Period or its YYYY-MM text)."""
    if isinstance(period, str):
        period = Period.parse(period)
    return month_fr(period.year, period.month)


def as_json(value: Any) -> str:
    """Audit details as readable JSON (accents kept; the template escapes it)."""
    return json.dumps(value, ensure_ascii=False, sort_keys=True, default=str)


def percent(used: int, total: int) -> int:
    if total <= 0:
        return 100 if used > 0 else 0
    return min(100, round(100 * used / total))


def label(mapping: dict[str, str], key: Any) -> str:
    text = str(getattr(key, "value", key))
    return mapping.get(text, text)


FILTERS = {
    "money": money,
    "ht": before_vat,
    "refusal": refusal,
    "volume": volume,
    "day": day,
    "moment": moment,
    "period_label": period_label,
    "as_json": as_json,
}

TABLES = {
    "REQUEST_STATUS": REQUEST_STATUS,
    "SERVICE_STATUS": SERVICE_STATUS,
    "CHARGE_KIND": CHARGE_KIND,
    "CHANNEL": CHANNEL,
    "PLAN_KIND": PLAN_KIND,
    "ROLE": ROLE,
    "ACTOR": ACTOR,
    "ACTION": ACTION,
}
