"""A refusal on a form's page: its French message and status, or raised again when the page is not the caller's."""

from __future__ import annotations

import pytest

from bascule.channels.portal.web import shown
from bascule.kernel.errors import DomainError, ErrorCode


@pytest.mark.parametrize(
    ("code", "expected"),
    [
        (ErrorCode.IDENTITY_NOT_CONFIRMED, ("Identité non confirmée : mot de passe incorrect.", 401)),
        (ErrorCode.INVALID_STATE, ("Cette demande ne peut plus être modifiée.", 409)),
        (ErrorCode.TOO_MANY_REQUESTS, ("Trop de tentatives. Réessayez plus tard.", 429)),
    ],
)
def test_a_refusal_the_form_shows_is_its_message_and_status(code: ErrorCode, expected: tuple[str, int]) -> None:
    assert shown(DomainError(code)) == expected


def test_a_refusal_with_its_own_words_shows_them() -> None:
    assert shown(DomainError(ErrorCode.VALIDATION_ERROR, "Volume : indiquez un nombre entier.")) == (
        "Volume : indiquez un nombre entier.",
        422,
    )


@pytest.mark.parametrize("code", [ErrorCode.NOT_FOUND, ErrorCode.FORBIDDEN, ErrorCode.UNAUTHENTICATED])
def test_a_page_that_is_not_the_callers_is_raised_again(code: ErrorCode) -> None:
    refusal = DomainError(code)
    with pytest.raises(DomainError) as raised:
        shown(refusal)
    assert raised.value is refusal
