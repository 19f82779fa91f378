"""Every refusal reads as a plain French sentence, long on pages and the API, short on USSD."""

from __future__ import annotations

from datetime import date

import pytest

from bascule.kernel.errors import DomainError, ErrorCode, not_found, validation
from bascule.kernel.messages_fr import message, short_message
from bascule.kernel.money import Money


def test_the_monthly_limit_names_the_limit_and_the_next_date() -> None:
    error = DomainError(ErrorCode.MONTHLY_LIMIT_REACHED, limit=1, unit="demande", next_on=date(2026, 8, 1))
    assert message(error) == ("Limite atteinte : 1 demande par mois. "
                              "Nouvelle demande possible à partir du 1er août 2026.")


def test_the_monthly_limit_on_ussd_is_short_and_names_what_is_limited() -> None:
    error = DomainError(ErrorCode.MONTHLY_LIMIT_REACHED, limit=3, unit="changements de profil",
                        next_on=date(2026, 8, 1))
    assert short_message(error) == "Limite de 3 changements de profil par mois atteinte. Réessayez le 01/08/2026."
    unnamed = DomainError(ErrorCode.MONTHLY_LIMIT_REACHED, limit=3, next_on=date(2026, 8, 1))
    assert short_message(unnamed) == "Limite de 3 changements par mois atteinte. Réessayez le 01/08/2026."


def test_a_refused_profile_on_ussd_names_it_when_the_channel_knows_it() -> None:
    error = DomainError(ErrorCode.NOT_ELIGIBLE, required=Money.of("8000", "XOF"), consumed=Money.of("0", "XOF"),
                        profile_id="aigle", short="Aigle: 8000 F consommes requis.")
    assert short_message(error, profile="Aigle") == (
        "Aigle : il faut 8\u202f000 F CFA consommés le mois passé (vous : 0 F CFA).")
    assert short_message(error) == "Il faut 8\u202f000 F CFA consommés le mois passé (vous : 0 F CFA)."
    assert short_message(DomainError(ErrorCode.SAME_PROFILE), profile="Tigre") == "Vous avez déjà le profil Tigre."
    assert short_message(DomainError(ErrorCode.SAME_PROFILE)) == "Vous avez déjà ce profil."


def test_an_explicit_detail_is_shown_as_is() -> None:
    error = validation("Le plafond doit être positif.")
    assert error.code is ErrorCode.VALIDATION_ERROR
    assert message(error) == "Le plafond doit être positif."


def test_a_rules_own_short_text_is_used_when_the_templates_lack_their_values() -> None:
    error = DomainError(ErrorCode.NOT_ELIGIBLE, short="Aigle : 8 000 F consommés requis.")
    assert short_message(error) == "Aigle : 8 000 F consommés requis."
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
