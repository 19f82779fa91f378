"""Every refusal reads as a plain French sentence, long on pages and the API, short on USSD."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import pytest

from bascule.kernel.errors import DomainError, ErrorCode, not_found, validation
from bascule.kernel.messages_fr import message, short_message
from bascule.kernel.money import Money


def test_the_monthly_limit_names_the_limit_and_the_next_date() -> None:
    error = DomainError(ErrorCode.MONTHLY_LIMIT_REACHED, limit=1, unit="demande", next_on=date(2026, 8, 1))
    assert message(error) == (
        "Limite atteinte : 1 demande par mois. Nouvelle demande possible à partir du 1er août 2026."
    )


def test_the_monthly_limit_on_ussd_is_short_and_names_what_is_limited() -> None:
    error = DomainError(
        ErrorCode.MONTHLY_LIMIT_REACHED, limit=3, unit="changements de profil", next_on=date(2026, 8, 1)
    )
    assert short_message(error) == "Limite de 3 changements de profil par mois atteinte. Réessayez le 01/08/2026."
    unnamed = DomainError(ErrorCode.MONTHLY_LIMIT_REACHED, limit=3, next_on=date(2026, 8, 1))
    assert short_message(unnamed) == "Limite de 3 changements par mois atteinte. Réessayez le 01/08/2026."


def test_a_refused_profile_on_ussd_names_it_when_the_channel_knows_it() -> None:
    error = DomainError(
        ErrorCode.NOT_ELIGIBLE, required=Money.of("8000", "XOF"), consumed=Money.of("0", "XOF"), profile_id="aigle"
    )
    assert short_message(error, profile="Aigle") == (
        "Aigle : il faut 8\u202f000 F CFA consommés le mois passé (vous : 0 F CFA)."
    )
    assert short_message(error) == "Il faut 8\u202f000 F CFA consommés le mois passé (vous : 0 F CFA)."
    assert short_message(DomainError(ErrorCode.SAME_PROFILE), profile="Tigre") == "Vous avez déjà le profil Tigre."
    assert short_message(DomainError(ErrorCode.SAME_PROFILE)) == "Vous avez déjà ce profil."


def test_a_channels_own_detail_is_shown_as_is() -> None:
    error = DomainError(ErrorCode.VALIDATION_ERROR, "Dates : indiquez des jours au format AAAA-MM-JJ.")
    assert message(error) == "Dates : indiquez des jours au format AAAA-MM-JJ."


def test_a_validation_error_is_named_by_its_reason() -> None:
    error = validation("ceiling-not-positive")
    assert error.code is ErrorCode.VALIDATION_ERROR
    assert error.explicit_detail is None
    assert message(error) == "Le plafond doit être positif."


def test_a_refusal_without_its_amounts_reads_as_the_bare_sentence_on_every_channel() -> None:
    error = DomainError(ErrorCode.NOT_ELIGIBLE, profile_id="aigle")
    assert short_message(error) == "Vous n'êtes pas éligible à ce choix."
    assert message(error) == "Vous n'êtes pas éligible à ce choix."


def test_a_code_without_a_short_text_falls_back_to_the_long_one() -> None:
    assert short_message(not_found("service")) == "Élément introuvable."
    assert not_found("service").code is ErrorCode.NOT_FOUND


def test_a_missing_parameter_gives_the_bare_sentence() -> None:
    assert message(DomainError(ErrorCode.MONTHLY_LIMIT_REACHED)) == "Limite mensuelle de changements atteinte."


@pytest.mark.parametrize("code", list(ErrorCode))
def test_a_refusal_without_its_parameters_still_reads_as_a_whole_sentence(code: ErrorCode) -> None:
    """Regression: the fallback once cut INVALID_STATE to "… (statut." and left "{limit}" on USSD."""
    for text in (message(DomainError(code)), short_message(DomainError(code))):
        assert "{" not in text
        assert text.count("(") == text.count(")")
        assert text.endswith(".")


V, C, N, A, F = (
    ErrorCode.VALIDATION_ERROR,
    ErrorCode.CONFLICT,
    ErrorCode.NOT_APPLICABLE,
    ErrorCode.NO_SUCH_PLAN,
    ErrorCode.FORBIDDEN,
)
# Each reason a rule raises, with its parameters, and the exact sentence the portal and the API show.
SENTENCES = [
    (V, "msisdn-format", {"example": "+33612345678"}, "Le MSISDN doit être au format E.164 (+33612345678)."),
    (V, "activation-in-future", {}, "La date d'activation ne peut être dans le futur."),
    (
        V,
        "activation-too-early",
        {"earliest": date(2025, 6, 1), "months": 12},
        "La date d'activation ne peut précéder le 1er juin 2025 (12 mois d'antériorité au plus).",
    ),
    (C, "msisdn-has-service", {}, "Ce MSISDN porte déjà un service."),
    (V, "usage-negative", {}, "Le volume consommé ne peut être négatif."),
    (V, "usage-in-future", {}, "Une consommation ne peut être datée du futur."),
    (V, "usage-too-late", {"days": 35}, "Une consommation de plus de 35 jours n'est plus acceptée."),
    (N, "ceiling-metered-only", {}, "Le plafond ne s'applique qu'aux offres au compteur."),
    (V, "ceiling-not-positive", {}, "Le plafond doit être positif."),
    (V, "ceiling-step", {"step_bytes": 1073741824}, "Le plafond se règle par paliers de 1073741824 octets."),
    (V, "ceiling-too-high", {"max_bytes": 5}, "Le plafond ne peut dépasser 5 octets."),
    (V, "ceiling-below-usage", {}, "Le plafond ne peut être inférieur à la consommation déjà faite ce mois-ci."),
    (N, "plan-kind-differs", {}, "Cette offre n'est pas du même type que le service (forfait ou compteur)."),
    (
        V,
        "plan-radio-differs",
        {"plan_id": "data-30go-4g", "plan_radio": "4G", "radio": "5G"},
        "L'offre data-30go-4g est en 4G, pas en 5G.",
    ),
    (V, "nothing-changes", {}, "La demande ne change rien au service."),
    (
        N,
        "topup-on-bundles-only",
        {},
        "Les recharges ponctuelles s'appliquent aux forfaits ; un service au compteur prend une extension.",
    ),
    (N, "extension-on-metered-only", {}, "Les extensions de plafond s'appliquent aux services au compteur."),
    (V, "batch-size", {"max_lines": 1000, "lines": 0}, "Un lot compte de 1 à 1000 lignes (0 demandées)."),
    (V, "batch-line-twice", {}, "Chaque ligne ne peut figurer qu'une fois dans un lot."),
    (V, "batch-accounts", {}, "Les lignes d'un lot appartiennent toutes au même compte."),
    (V, "page-size", {"max_size": 200}, "Une page compte de 1 à 200 lignes."),
    (V, "bad-cursor", {}, "Curseur de pagination invalide : reprenez la liste depuis la première page."),
    (V, "unreadable-body", {}, "Le corps de la demande est illisible (JSON UTF-8 attendu)."),
    (V, "stale-page-link", {}, "Ce lien de page n'est plus valable : repartez de la première page."),
    (A, "no-plan-on-radio", {"kind": "bundle", "radio": "5G"}, "Aucune offre bundle de ce volume n'existe en 5G."),
    (V, "unknown-network", {"network_id": "mno-x"}, "Réseau inconnu : mno-x."),
    (V, "unknown-apn", {"apn_id": "apn-x"}, "APN inconnu : apn-x."),
    (A, "unknown-topup", {"topup_id": "t"}, "Recharge inconnue : t."),
    (A, "unknown-extension", {"extension_id": "e"}, "Extension inconnue : e."),
    (A, "unknown-profile", {"profile_id": "p"}, "Profil inconnu : p."),
    (A, "not-a-profile", {}, "Cette offre n'est pas un profil prépayé du catalogue."),
    (V, "address-incomplete", {}, "L'adresse de facturation doit avoir une rue, un code postal et une ville."),
    (V, "country-code", {}, "Le pays s'écrit en code ISO 3166 à deux lettres (FR)."),
    (A, "withdrawn", {"name": "Data Mobile 30 Go 4G"}, "« Data Mobile 30 Go 4G » n'est plus commercialisé."),
    (V, "override-unknown", {}, "Ce réglage du catalogue n'existe pas."),
    (V, "override-not-for-kind", {"kind": "recharge"}, "Ce réglage ne s'applique pas à un(e) recharge."),
    (A, "override-no-entry", {"kind": "offre", "entry_id": "x"}, "Aucun(e) offre « x » au catalogue."),
    (V, "override-on-sale-choice", {}, "Choisissez « en vente » ou « retiré de la vente »."),
    (V, "override-amount-unreadable", {"text": "abc"}, "Montant illisible : « abc »."),
    (V, "override-amount-negative", {}, "Le montant doit être positif ou nul."),
    (
        V,
        "override-amount-places",
        {"places": 2, "currency": "EUR", "text": "1.234"},
        "Au plus 2 décimale(s) en EUR : « 1.234 » ne se facture pas.",
    ),
    (
        V,
        "override-invalid-catalogue",
        {"problems": "aucune offre en vente"},
        "Le catalogue ne serait plus valide ainsi : aucune offre en vente",
    ),
    (
        ErrorCode.INVALID_STATE,
        "catalogue-not-editable",
        {"current_status": ""},
        "Ce catalogue ne peut pas être modifié ici.",
    ),
    (V, "unknown-time-zone", {"time_zone": "Mars/Olympus"}, "Fuseau horaire inconnu : Mars/Olympus."),
    (V, "account-name-missing", {}, "Le nom du compte est obligatoire."),
    (V, "name-missing", {}, "Le nom est obligatoire."),
    (V, "email-invalid", {}, "Adresse e-mail invalide."),
    (V, "password-too-short", {"min_length": 12}, "Le mot de passe doit faire au moins 12 caractères."),
    (C, "email-taken", {}, "Cette adresse e-mail est déjà utilisée."),
    (ErrorCode.UNAUTHENTICATED, "wrong-credentials", {}, "Identifiant ou mot de passe incorrect."),
    (ErrorCode.UNAUTHENTICATED, "token-unknown", {}, "Jeton absent, expiré ou révoqué."),
    (ErrorCode.UNAUTHENTICATED, "wrong-code", {}, "Code incorrect ou expiré."),
    (
        ErrorCode.TOO_MANY_REQUESTS,
        "code-just-sent",
        {"retry_after": 60},
        "Un code vient d'être envoyé. Réessayez dans une minute.",
    ),
    (F, "business-only", {}, "Réservé aux comptes entreprise."),
    (F, "reader-only", {}, "Un lecteur peut consulter mais pas modifier."),
    (F, "operator-only", {}, "Réservé à l'opérateur."),
    (F, "supervisor-only", {}, "Réservé aux superviseurs."),
    (C, "already-subscriber", {}, "Ce MSISDN est déjà un abonné prépayé."),
    (V, "amount-type", {}, "Le montant doit être un entier ou une chaîne décimale."),
    (V, "amount-unreadable", {"text": "12abc"}, "Montant invalide : 12abc."),
    (
        V,
        "amount-precision",
        {"text": "10.5", "currency": "XOF"},
        "Montant invalide : 10.5 (en XOF, sans décimale de trop).",
    ),
    (V, "amount-currency", {"currency": "XOF"}, "Le montant doit être en XOF."),
    (V, "amount-not-positive", {}, "Le montant doit être positif."),
    (V, "instant-without-offset", {}, "L'instant doit porter un décalage horaire."),
    (V, "recharge-in-future", {}, "Une recharge ne peut être datée du futur."),
    (V, "consumption-in-future", {}, "Une consommation ne peut être datée du futur."),
    (V, "recharge-too-old", {"days": 30}, "Une recharge ne peut être datée de plus de 30 jours."),
    (V, "consumption-too-old", {"days": 30}, "Une consommation ne peut être datée de plus de 30 jours."),
    (C, "key-failed", {}, "Une demande avec cette clé a échoué ; réessayez."),
    (V, "period-not-over", {"period": "2026-06"}, "La période 2026-06 n'est pas terminée : rien à facturer."),
    (ErrorCode.INVALID_STATE, "job-not-failed", {}, "Ce travail n'est pas en échec : il n'y a rien à relancer."),
    (
        ErrorCode.INVALID_STATE,
        "request-failed-and-cancelled",
        {},
        "La demande de ce travail a échoué et a été annulée : le client peut faire une nouvelle demande.",
    ),
    (
        ErrorCode.INVALID_STATE,
        "profile-changed-since",
        {},
        "La ligne a changé de profil depuis : ce travail n'est plus à faire.",
    ),
]


@pytest.mark.parametrize(("code", "reason", "params", "sentence"), SENTENCES, ids=[row[1] for row in SENTENCES])
def test_each_reason_reads_as_its_sentence_on_the_portal_the_api_and_ussd(
    code: ErrorCode, reason: str, params: dict[str, object], sentence: str
) -> None:
    error = DomainError(code, reason=reason, **params)
    assert message(error) == sentence
    assert short_message(error) == sentence  # none of these codes has a shorter USSD line


def test_every_reason_of_messages_fr_is_tested_here() -> None:
    from bascule.kernel.messages_fr import _REASONS

    assert sorted((code.value, reason) for code, reason in _REASONS) == sorted(
        (code.value, reason) for code, reason, _, _ in SENTENCES
    )


def test_a_reason_without_its_parameters_falls_back_to_the_code_s_sentence() -> None:
    assert message(DomainError(ErrorCode.VALIDATION_ERROR, reason="batch-size")) == (
        "La demande est incomplète ou mal formée."
    )


def test_a_profile_refusal_is_worded_once_for_every_channel() -> None:
    same = DomainError(ErrorCode.SAME_PROFILE, profile="Tigre", profile_id="tigre")
    assert message(same) == "Vous avez déjà le profil Tigre."
    assert short_message(same) == "Vous avez déjà le profil Tigre."
    assert message(DomainError(ErrorCode.SAME_PROFILE)) == "Vous avez déjà ce profil."
    short = DomainError(ErrorCode.NOT_ELIGIBLE, required=Money.of("2500", "XOF"), consumed=Money.of("2499", "XOF"))
    assert message(short) == (
        "Il faut avoir consommé au moins 2\u202f500 F CFA le mois passé (vous : 2\u202f499 F CFA)."
    )


def test_an_insufficient_balance_names_both_amounts_on_pages_and_stays_short_on_ussd() -> None:
    error = DomainError(
        ErrorCode.INSUFFICIENT_BALANCE, requested=Money.of("5000", "XOF"), available=Money.of("1200", "XOF")
    )
    assert message(error) == "Crédit insuffisant : 5\u202f000 F CFA demandés, 1\u202f200 F CFA disponibles."
    assert short_message(error) == "Crédit insuffisant."
    assert message(DomainError(ErrorCode.INSUFFICIENT_BALANCE)) == "Crédit insuffisant."


def test_the_monthly_limit_names_what_each_line_counts() -> None:
    from bascule.kernel.calendar import Period
    from bascule.kernel.limits import Limited, monthly_limit_reached, monthly_slot_refusal

    line_b = monthly_limit_reached(3, Period(2026, 7), Limited.PROFILE_CHANGE)
    assert message(line_b) == (
        "Limite atteinte : 3 changements de profil par mois. Nouvelle demande possible à partir du 1er août 2026."
    )
    assert short_message(line_b) == "Limite de 3 changements de profil par mois atteinte. Réessayez le 01/08/2026."
    assert monthly_slot_refusal(1, 0, Period(2026, 6), Limited.CHANGE_REQUEST) is None
    line_a = monthly_slot_refusal(1, 1, Period(2026, 6), Limited.CHANGE_REQUEST)
    assert line_a is not None
    assert line_a.params == {"limit": 1, "unit": "change-request", "next_on": date(2026, 7, 1)}
    assert short_message(line_a) == "Limite de 1 demande d'évolution par mois atteinte. Réessayez le 01/07/2026."


def test_the_words_of_charge_lines_are_written_here_once() -> None:
    from bascule.kernel import messages_fr as words

    assert words.cycle_charge("Data Mobile 10 Go 4G", 2026, 6) == "Data Mobile 10 Go 4G, juin 2026"
    assert words.cycle_charge("Data Mobile 10 Go 4G", 2024, 2, (13, 29)) == (
        "Data Mobile 10 Go 4G, février 2024 (prorata 13/29 jours)"
    )
    assert words.radio_proration("4G", "5G", "Data Mobile 10 Go 5G", (16, 30), credit=False) == (
        "Prorata passage 4G → 5G (Data Mobile 10 Go 5G), 16/30 jours"
    )
    assert words.radio_proration("5G", "4G", "Data Mobile 10 Go 4G", (1, 31), credit=True) == (
        "Avoir prorata passage 5G → 4G (Data Mobile 10 Go 4G), 1/31 jours"
    )
    assert words.plan_proration("Data Mobile 30 Go 4G", (28, 28)) == "Prorata Data Mobile 30 Go 4G, 28/28 jours"
    assert words.network_fee("Changement de réseau", "Orange", "SFR") == "Changement de réseau (Orange → SFR)"
    assert words.metered_usage(2026, 12) == "Consommation au compteur, décembre 2026"
    assert words.reversal("Prorata Data Mobile 30 Go 4G, 16/30 jours") == (
        "Annulation : Prorata Data Mobile 30 Go 4G, 16/30 jours"
    )
    assert words.reversal("x").startswith(words.REVERSAL_PREFIX)
    assert words.plan_kept_notice(Money(Decimal("19.90"), "EUR")) == (
        "Votre forfait actuel (19,90 € HT) reste facturé en entier pour ce cycle ; "
        "le reste de votre quota s'ajoute au nouveau jusqu'à la fin du cycle."
    )


class _Shown:
    """A refusal's parameter that counts how often it is written out."""

    def __init__(self) -> None:
        self.written = 0

    def __repr__(self) -> str:
        self.written += 1
        return "<montant>"


def test_a_refusal_is_written_out_when_shown_not_when_made() -> None:
    amount = _Shown()
    error = DomainError(ErrorCode.NOT_ELIGIBLE, required=amount)
    assert amount.written == 0  # a list of profile options makes one for each option it marks
    assert str(error) == f"{ErrorCode.NOT_ELIGIBLE}: {{'required': <montant>}}"
    assert amount.written == 1
    assert str(DomainError(ErrorCode.NOT_FOUND, "pas de ligne")) == f"{ErrorCode.NOT_FOUND}: pas de ligne"
