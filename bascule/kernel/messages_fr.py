"""French wording of every refusal: one text per code, a long form for pages and API, a short one for USSD."""

from __future__ import annotations

from collections.abc import Callable
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
    ErrorCode.NOT_ELIGIBLE: "Il faut avoir consommé au moins {required} le mois passé (vous : {consumed}).",
    ErrorCode.SAME_PROFILE: "Vous avez déjà le profil {profile}.",
    ErrorCode.NO_SUCH_PLAN: "Cette offre n'existe pas au catalogue.",
    ErrorCode.NOT_APPLICABLE: "Ce changement ne s'applique pas à ce service.",
    ErrorCode.IDENTITY_NOT_CONFIRMED: "Identité non confirmée : mot de passe incorrect.",
    ErrorCode.INVALID_STATE: "Cette demande ne peut plus être modifiée (statut : {current_status}).",
    ErrorCode.INSUFFICIENT_BALANCE: "Crédit insuffisant : {requested} demandés, {available} disponibles.",
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
    ErrorCode.NOT_ELIGIBLE: "Vous n'êtes pas éligible à ce choix.",
    ErrorCode.SAME_PROFILE: "Vous avez déjà ce profil.",
    ErrorCode.INSUFFICIENT_BALANCE: "Crédit insuffisant.",
}

# What is counted against a monthly limit (`unit` of MONTHLY_LIMIT_REACHED, see bascule.kernel.limits).
_UNITS: dict[str, str] = {
    "change-request": "demande d'évolution",
    "profile-change": "changements de profil",
}

# A code with several sentences: the rule that refused names which by its `reason` (the long form; USSD shows it
# too unless the code has short templates). The other parameters fill the sentence.
_REASONS: dict[tuple[ErrorCode, str], str] = {
    # Line A: creating a service, the ceiling, the requested changes, batches and lists
    (ErrorCode.VALIDATION_ERROR, "msisdn-format"): "Le MSISDN doit être au format E.164 ({example}).",
    (ErrorCode.VALIDATION_ERROR, "activation-in-future"): "La date d'activation ne peut être dans le futur.",
    (ErrorCode.VALIDATION_ERROR, "activation-too-early"): (
        "La date d'activation ne peut précéder le {earliest} ({months} mois d'antériorité au plus)."
    ),
    (ErrorCode.CONFLICT, "msisdn-has-service"): "Ce MSISDN porte déjà un service.",
    (ErrorCode.VALIDATION_ERROR, "usage-negative"): "Le volume consommé ne peut être négatif.",
    (ErrorCode.VALIDATION_ERROR, "usage-in-future"): "Une consommation ne peut être datée du futur.",
    (ErrorCode.VALIDATION_ERROR, "usage-too-late"): "Une consommation de plus de {days} jours n'est plus acceptée.",
    (ErrorCode.NOT_APPLICABLE, "ceiling-metered-only"): "Le plafond ne s'applique qu'aux offres au compteur.",
    (ErrorCode.VALIDATION_ERROR, "ceiling-not-positive"): "Le plafond doit être positif.",
    (ErrorCode.VALIDATION_ERROR, "ceiling-step"): "Le plafond se règle par paliers de {step_bytes} octets.",
    (ErrorCode.VALIDATION_ERROR, "ceiling-too-high"): "Le plafond ne peut dépasser {max_bytes} octets.",
    (ErrorCode.VALIDATION_ERROR, "ceiling-below-usage"): (
        "Le plafond ne peut être inférieur à la consommation déjà faite ce mois-ci."
    ),
    (ErrorCode.NOT_APPLICABLE, "plan-kind-differs"): (
        "Cette offre n'est pas du même type que le service (forfait ou compteur)."
    ),
    (ErrorCode.VALIDATION_ERROR, "plan-radio-differs"): "L'offre {plan_id} est en {plan_radio}, pas en {radio}.",
    (ErrorCode.VALIDATION_ERROR, "nothing-changes"): "La demande ne change rien au service.",
    (ErrorCode.NOT_APPLICABLE, "topup-on-bundles-only"): (
        "Les recharges ponctuelles s'appliquent aux forfaits ; un service au compteur prend une extension."
    ),
    (ErrorCode.NOT_APPLICABLE, "extension-on-metered-only"): (
        "Les extensions de plafond s'appliquent aux services au compteur."
    ),
    (ErrorCode.VALIDATION_ERROR, "batch-size"): "Un lot compte de 1 à {max_lines} lignes ({lines} demandées).",
    (ErrorCode.VALIDATION_ERROR, "batch-line-twice"): "Chaque ligne ne peut figurer qu'une fois dans un lot.",
    (ErrorCode.VALIDATION_ERROR, "batch-accounts"): "Les lignes d'un lot appartiennent toutes au même compte.",
    (ErrorCode.VALIDATION_ERROR, "page-size"): "Une page compte de 1 à {max_size} lignes.",
    (ErrorCode.VALIDATION_ERROR, "bad-cursor"): (
        "Curseur de pagination invalide : reprenez la liste depuis la première page."
    ),
    (ErrorCode.VALIDATION_ERROR, "unreadable-body"): "Le corps de la demande est illisible (JSON UTF-8 attendu).",
    (ErrorCode.VALIDATION_ERROR, "stale-page-link"): (
        "Ce lien de page n'est plus valable : repartez de la première page."
    ),
    # The catalogue
    (ErrorCode.NO_SUCH_PLAN, "no-plan-on-radio"): "Aucune offre {kind} de ce volume n'existe en {radio}.",
    (ErrorCode.VALIDATION_ERROR, "unknown-network"): "Réseau inconnu : {network_id}.",
    (ErrorCode.VALIDATION_ERROR, "unknown-apn"): "APN inconnu : {apn_id}.",
    (ErrorCode.NO_SUCH_PLAN, "unknown-topup"): "Recharge inconnue : {topup_id}.",
    (ErrorCode.NO_SUCH_PLAN, "unknown-extension"): "Extension inconnue : {extension_id}.",
    (ErrorCode.NO_SUCH_PLAN, "unknown-profile"): "Profil inconnu : {profile_id}.",
    (ErrorCode.INVALID_STATE, "catalogue-not-editable"): "Ce catalogue ne peut pas être modifié ici.",
    (ErrorCode.NO_SUCH_PLAN, "withdrawn"): "« {name} » n'est plus commercialisé.",
    (ErrorCode.VALIDATION_ERROR, "override-unknown"): "Ce réglage du catalogue n'existe pas.",
    (ErrorCode.VALIDATION_ERROR, "override-not-for-kind"): "Ce réglage ne s'applique pas à un(e) {kind}.",
    (ErrorCode.NO_SUCH_PLAN, "override-no-entry"): "Aucun(e) {kind} « {entry_id} » au catalogue.",
    (ErrorCode.VALIDATION_ERROR, "override-on-sale-choice"): "Choisissez « en vente » ou « retiré de la vente ».",
    (ErrorCode.VALIDATION_ERROR, "override-amount-unreadable"): "Montant illisible : « {text} ».",
    (ErrorCode.VALIDATION_ERROR, "override-amount-negative"): "Le montant doit être positif ou nul.",
    (ErrorCode.VALIDATION_ERROR, "override-amount-places"): (
        "Au plus {places} décimale(s) en {currency} : « {text} » ne se facture pas."
    ),
    (ErrorCode.VALIDATION_ERROR, "override-invalid-catalogue"): "Le catalogue ne serait plus valide ainsi : {problems}",
    (ErrorCode.NO_SUCH_PLAN, "not-a-profile"): "Cette offre n'est pas un profil prépayé du catalogue.",
    # Accounts, users and sign-in
    (ErrorCode.VALIDATION_ERROR, "address-incomplete"): (
        "L'adresse de facturation doit avoir une rue, un code postal et une ville."
    ),
    (ErrorCode.VALIDATION_ERROR, "country-code"): "Le pays s'écrit en code ISO 3166 à deux lettres (FR).",
    (ErrorCode.VALIDATION_ERROR, "unknown-time-zone"): "Fuseau horaire inconnu : {time_zone}.",
    (ErrorCode.VALIDATION_ERROR, "account-name-missing"): "Le nom du compte est obligatoire.",
    (ErrorCode.VALIDATION_ERROR, "name-missing"): "Le nom est obligatoire.",
    (ErrorCode.VALIDATION_ERROR, "email-invalid"): "Adresse e-mail invalide.",
    (ErrorCode.VALIDATION_ERROR, "password-too-short"): "Le mot de passe doit faire au moins {min_length} caractères.",
    (ErrorCode.CONFLICT, "email-taken"): "Cette adresse e-mail est déjà utilisée.",
    (ErrorCode.UNAUTHENTICATED, "wrong-credentials"): "Identifiant ou mot de passe incorrect.",
    (ErrorCode.UNAUTHENTICATED, "token-unknown"): "Jeton absent, expiré ou révoqué.",
    (ErrorCode.UNAUTHENTICATED, "wrong-code"): "Code incorrect ou expiré.",
    (ErrorCode.TOO_MANY_REQUESTS, "code-just-sent"): "Un code vient d'être envoyé. Réessayez dans une minute.",
    (ErrorCode.FORBIDDEN, "business-only"): "Réservé aux comptes entreprise.",
    (ErrorCode.FORBIDDEN, "reader-only"): "Un lecteur peut consulter mais pas modifier.",
    (ErrorCode.FORBIDDEN, "operator-only"): "Réservé à l'opérateur.",
    (ErrorCode.FORBIDDEN, "supervisor-only"): "Réservé aux superviseurs.",
    # Line B: subscribers, amounts and instants
    (ErrorCode.CONFLICT, "already-subscriber"): "Ce MSISDN est déjà un abonné prépayé.",
    (ErrorCode.VALIDATION_ERROR, "amount-type"): "Le montant doit être un entier ou une chaîne décimale.",
    (ErrorCode.VALIDATION_ERROR, "amount-unreadable"): "Montant invalide : {text}.",
    (ErrorCode.VALIDATION_ERROR, "amount-precision"): (
        "Montant invalide : {text} (en {currency}, sans décimale de trop)."
    ),
    (ErrorCode.VALIDATION_ERROR, "amount-currency"): "Le montant doit être en {currency}.",
    (ErrorCode.VALIDATION_ERROR, "amount-not-positive"): "Le montant doit être positif.",
    (ErrorCode.VALIDATION_ERROR, "instant-without-offset"): "L'instant doit porter un décalage horaire.",
    (ErrorCode.VALIDATION_ERROR, "recharge-in-future"): "Une recharge ne peut être datée du futur.",
    (ErrorCode.VALIDATION_ERROR, "consumption-in-future"): "Une consommation ne peut être datée du futur.",
    (ErrorCode.VALIDATION_ERROR, "recharge-too-old"): "Une recharge ne peut être datée de plus de {days} jours.",
    (ErrorCode.VALIDATION_ERROR, "consumption-too-old"): (
        "Une consommation ne peut être datée de plus de {days} jours."
    ),
    # Commands, billing and the operator's work
    (ErrorCode.CONFLICT, "key-failed"): "Une demande avec cette clé a échoué ; réessayez.",
    (ErrorCode.VALIDATION_ERROR, "period-not-over"): "La période {period} n'est pas terminée : rien à facturer.",
    (ErrorCode.INVALID_STATE, "job-not-failed"): "Ce travail n'est pas en échec : il n'y a rien à relancer.",
    (ErrorCode.INVALID_STATE, "request-failed-and-cancelled"): (
        "La demande de ce travail a échoué et a été annulée : le client peut faire une nouvelle demande."
    ),
    (ErrorCode.INVALID_STATE, "profile-changed-since"): (
        "La ligne a changé de profil depuis : ce travail n'est plus à faire."
    ),
}

# A validation error raised by the text rule (bascule.kernel.text) names its field and its fault.
_TEXT_FAULTS: dict[str, tuple[str, str]] = {  # fault: (long, short)
    "control-character": (
        "Le champ « {field} » contient un caractère non permis (caractère de contrôle).",
        "Saisie invalide : caractère non permis.",
    ),
    "too-long": ("Le champ « {field} » dépasse {max_length} caractères.", "Saisie trop longue."),
    "empty": ("Le champ « {field} » est vide.", "Saisie vide."),
    "bad-encoding": (
        "Le champ « {field} » n'est pas du texte valide (encodage UTF-8 attendu).",
        "Saisie invalide : encodage inconnu.",
    ),
}

# USSD lines, in French as it is written (accents, a space before ":" and "?"): the channel writes them in
# GSM 03.38 (bascule.kernel.gsm0338), which keeps é, è, à, ù... Each code has its templates, fullest first; the
# first whose values the error (or the channel, such as a profile's name) gives is used.
_SHORT: dict[ErrorCode, tuple[str, ...]] = {
    ErrorCode.MONTHLY_LIMIT_REACHED: (
        "Limite de {limit} {unit} par mois atteinte. Réessayez le {next_on}.",
        "Limite de {limit} changements par mois atteinte. Réessayez le {next_on}.",
    ),
    ErrorCode.NOT_ELIGIBLE: (
        "{profile} : il faut {required} consommés le mois passé (vous : {consumed}).",
        "Il faut {required} consommés le mois passé (vous : {consumed}).",
    ),
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


# --- the words of charge lines (stored with each line: invoices and statements print them as written) ---------

REVERSAL_PREFIX = "Annulation : "


def _days(remaining: int, total: int) -> str:
    return f"{remaining}/{total} jours"


def cycle_charge(plan_name: str, year: int, month: int, days: tuple[int, int] | None = None) -> str:
    """A cycle's recurring line: "Data Mobile 10 Go 4G, juin 2026", prorated "(prorata 16/30 jours)"."""
    label = f"{plan_name}, {month_fr(year, month)}"
    return label if days is None else f"{label} (prorata {_days(*days)})"


def radio_proration(old_radio: str, new_radio: str, plan_name: str, days: tuple[int, int], *, credit: bool) -> str:
    """A radio change's prorated difference: "Prorata passage 4G → 5G (Data Mobile 10 Go 5G), 16/30 jours"."""
    label = "Avoir prorata passage" if credit else "Prorata passage"
    return f"{label} {old_radio} → {new_radio} ({plan_name}), {_days(*days)}"


def plan_proration(plan_name: str, days: tuple[int, int]) -> str:
    """A new plan prorated for the rest of the cycle: "Prorata Data Mobile 30 Go 4G, 16/30 jours"."""
    return f"Prorata {plan_name}, {_days(*days)}"


def network_fee(fee_name: str, old_network: str, new_network: str) -> str:
    """A host change's fee, naming both networks: "Frais de changement de réseau (Orange → SFR)"."""
    return f"{fee_name} ({old_network} → {new_network})"


def metered_usage(year: int, month: int) -> str:
    """The monthly line of metered usage: "Consommation au compteur, juin 2026"."""
    return f"Consommation au compteur, {month_fr(year, month)}"


def reversal(description: str) -> str:
    """The credit line that reverses a charge of a failed change: "Annulation : <the line reversed>"."""
    return f"{REVERSAL_PREFIX}{description}"


def plan_kept_notice(price: Money) -> str:
    """What a quote says when the volume changes: the current plan is billed in full for the cycle."""
    return (
        f"Votre forfait actuel ({price.french()} HT) reste facturé en entier pour ce cycle ; "
        "le reste de votre quota s'ajoute au nouveau jusqu'à la fin du cycle."
    )


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


def _values(params: dict[str, Any], form: Callable[[Any], str]) -> dict[str, str]:
    values = {key: form(value) for key, value in params.items()}
    if "unit" in values:
        values["unit"] = _UNITS.get(values["unit"], values["unit"])
    return values


def _fill(code: ErrorCode, template: str, params: dict[str, Any]) -> str:
    try:
        return template.format(**_values(params, _format_value))
    except (KeyError, IndexError):
        if code in _BARE:
            return _BARE[code]
        # A reason's sentence lacking its values: the code's own sentence (without values, it always reads).
        return template if template == _LONG[code] else _fill(code, _LONG[code], params)


def _long(error: DomainError, params: dict[str, Any]) -> str:
    if error.explicit_detail:
        return error.explicit_detail
    if (reason := _REASONS.get((error.code, params.get("reason", "")))) is not None:
        return _fill(error.code, reason, params)
    if (fault := _TEXT_FAULTS.get(params.get("fault", ""))) is not None:
        return _fill(error.code, fault[0], params)
    return _fill(error.code, _LONG[error.code], params)


def message(error: DomainError) -> str:
    """The full French sentence shown on the portal and in problem+json `detail`."""
    return _long(error, error.params)


def short_message(error: DomainError, **known: Any) -> str:
    """A short French line for USSD screens (the channel writes it in GSM 03.38).

    `known` adds values the channel has and the error lacks (`profile`: the name of the profile chosen)."""
    if (fault := _TEXT_FAULTS.get(error.params.get("fault", ""))) is not None:
        return fault[1]
    values = _values({**error.params, **known}, _format_short)
    for template in _SHORT.get(error.code, ()):
        try:
            return template.format(**values)
        except (KeyError, IndexError):
            continue
    return _long(error, {**error.params, **known})
