"""French wording of every refusal: one text per code, a long form for pages and API, a short one for USSD."""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal
from typing import Any

from babel.dates import format_date, format_datetime

from bascule.kernel.errors import DomainError, ErrorCode
from bascule.kernel.money import Money

_LONG: dict[ErrorCode, str] = {
    ErrorCode.VALIDATION_ERROR: "La demande est incomplète ou mal formée.",
    ErrorCode.UNAUTHENTICATED: "Veuillez vous identifier.",
    ErrorCode.FORBIDDEN: "Votre rôle ne permet pas cette action.",
    ErrorCode.NOT_FOUND: "Élément introuvable.",
    ErrorCode.MONTHLY_LIMIT_REACHED: (
        "Limite atteinte : {limit} {unit} par mois. Nouvelle demande possible à partir du {next_on}."
    ),
    ErrorCode.NOT_ELIGIBLE: "Vous n'êtes pas éligible à ce choix.",
    ErrorCode.SAME_PROFILE: "Vous avez déjà ce profil.",
    ErrorCode.NO_SUCH_PLAN: "Cette offre n'existe pas au catalogue.",
    ErrorCode.NOT_APPLICABLE: "Ce changement ne s'applique pas à ce service.",
    ErrorCode.IDENTITY_NOT_CONFIRMED: "Identité non confirmée : mot de passe incorrect.",
    ErrorCode.INVALID_STATE: "Cette demande ne peut plus être modifiée (statut : {current_status}).",
    ErrorCode.INSUFFICIENT_BALANCE: "Crédit insuffisant.",
    ErrorCode.IDEMPOTENCY_KEY_REUSED: "Cette clé d'idempotence a déjà servi pour une autre demande.",
    ErrorCode.CONFLICT: "Une demande identique est déjà en cours de traitement.",
    ErrorCode.TOO_MANY_REQUESTS: "Trop de tentatives. Réessayez plus tard.",
    ErrorCode.METHOD_NOT_ALLOWED: "Méthode non permise sur cette adresse.",
    ErrorCode.QUOTE_EXPIRED: (
        "Le devis de cette demande n'est plus valable (il vaut pour le jour où il a été établi). "
        "Annulez-la et faites une nouvelle demande pour obtenir le prix du jour."
    ),
}

# What a refusal says when it was raised without the details its full sentence needs.
_BARE: dict[ErrorCode, str] = {
    ErrorCode.MONTHLY_LIMIT_REACHED: "Limite mensuelle de changements atteinte.",
    ErrorCode.INVALID_STATE: "Cette demande ne peut plus être modifiée.",
}

# A validation error raised by the text rule (bascule.kernel.text) names its field and its fault.
_TEXT_FAULTS: dict[str, tuple[str, str]] = {  # fault: (long, short)
    "control-character": ("Le champ « {field} » contient un caractère non permis (caractère de contrôle).",
                          "Saisie invalide : caractère non permis."),
    "too-long": ("Le champ « {field} » dépasse {max_length} caractères.", "Saisie trop longue."),
    "empty": ("Le champ « {field} » est vide.", "Saisie vide."),
    "bad-encoding": ("Le champ « {field} » n'est pas du texte valide (encodage UTF-8 attendu).",
                     "Saisie invalide : encodage inconnu."),
}

# USSD lines, in French as it is written (accents, a space before ":" and "?"): the channel writes them in
# GSM 03.38 (bascule.kernel.gsm0338), which keeps é, è, à, ù... Each code has its templates, fullest first; the
# first whose values the error (or the channel, such as a profile's name) gives is used.
_SHORT: dict[ErrorCode, tuple[str, ...]] = {
    ErrorCode.MONTHLY_LIMIT_REACHED: ("Limite de {limit} {unit} par mois atteinte. Réessayez le {next_on}.",
                                      "Limite de {limit} changements par mois atteinte. Réessayez le {next_on}."),
    ErrorCode.NOT_ELIGIBLE: ("{profile} : il faut {required} consommés le mois passé (vous : {consumed}).",
                             "Il faut {required} consommés le mois passé (vous : {consumed})."),
    ErrorCode.SAME_PROFILE: ("Vous avez déjà le profil {profile}.", "Vous avez déjà ce profil."),
    ErrorCode.INSUFFICIENT_BALANCE: ("Crédit insuffisant.",),
}


LOCALE = "fr_FR"


def month_fr(year: int, month: int) -> str:
    """juin 2026."""
    return str(format_date(date(year, month, 1), "MMMM y", locale=LOCALE))


def day_fr(value: date) -> str:
    """The one way a customer reads a day: "16 juin 2026", "1er juillet 2026" (French writes the first day so)."""
    if isinstance(value, datetime):
        value = value.date()
    text = format_date(value, "d MMMM y", locale=LOCALE)
    return f"1er{text[1:]}" if value.day == 1 else text


def moment_fr(value: datetime) -> str:
    """A day as `day_fr` writes it, and the hour: "16 juin 2026 à 09:00" (in the zone the instant carries)."""
    hour = format_datetime(value, "HH:mm", tzinfo=value.tzinfo, locale=LOCALE)
    return f"{day_fr(value)} à {hour}"


def volume_fr(value: int) -> str:
    """Bytes as the catalogue counts them (1 Go = 1024³ octets): "10 Go", "1,5 Go", "200 Mo"."""
    sign = "-" if value < 0 else ""
    value = abs(value)
    if value >= 1024**3:
        amount, unit = Decimal(value) / 1024**3, "Go"
    elif value >= 1024**2:
        amount, unit = Decimal(value) / 1024**2, "Mo"
    elif value == 0:
        return "0 Go"
    else:
        return f"{sign}{value} o"
    text = f"{amount.quantize(Decimal('0.01')):f}".rstrip("0").rstrip(".").replace(".", ",")
    return f"{sign}{text} {unit}"


def _format_value(value: Any) -> str:
    if isinstance(value, Money):
        return value.french()
    if isinstance(value, date):
        return day_fr(value)
    return str(value)


def _format_short(value: Any) -> str:
    """USSD screens count their characters: a day there stays numeric (01/07/2026)."""
    if isinstance(value, date):
        return value.strftime("%d/%m/%Y")
    return _format_value(value)


def _fill(code: ErrorCode, template: str, params: dict[str, Any]) -> str:
    values = {key: _format_value(value) for key, value in params.items()}
    try:
        return template.format(**values)
    except (KeyError, IndexError):
        return _BARE.get(code, template)


def message(error: DomainError) -> str:
    """The full French sentence shown on the portal and in problem+json `detail`."""
    if error.explicit_detail:
        return error.explicit_detail
    if (fault := _TEXT_FAULTS.get(error.params.get("fault", ""))) is not None:
        return _fill(error.code, fault[0], error.params)
    return _fill(error.code, _LONG[error.code], error.params)


def short_message(error: DomainError, **known: Any) -> str:
    """A short French line for USSD screens (the channel writes it in GSM 03.38).

    `known` adds values the channel has and the error lacks (`profile`: the name of the profile chosen)."""
    if (fault := _TEXT_FAULTS.get(error.params.get("fault", ""))) is not None:
        return fault[1]
    values = {key: _format_short(value) for key, value in {**error.params, **known}.items()}
    for template in _SHORT.get(error.code, ()):
        try:
            return template.format(**values)
        except (KeyError, IndexError):
            continue
    if "short" in error.params:  # a rule's own line, when the code's templates lack their values
        return str(error.params["short"])
    return message(error)
