"""A line's number: the one E.164 check and the one normaliser of what people and gateways type."""

from __future__ import annotations

import pytest

from bascule.kernel.errors import DomainError, ErrorCode
from bascule.kernel.messages_fr import message
from bascule.kernel.msisdn import is_e164, normalise_msisdn, require_msisdn


@pytest.mark.parametrize(
    ("typed", "expected"),
    [
        ("+33 6 12 34 56 78", "+33612345678"),
        ("0033.6.12.34.56.78", "+33612345678"),
        ("225 07-01-02-03-04", "+2250701020304"),  # a '+' a gateway did not URL-encode arrives as a space
        (" +2250701020304 ", "+2250701020304"),
        ("", ""),
        ("abc", ""),
    ],
)
def test_what_is_typed_becomes_an_e164_candidate(typed, expected):
    assert normalise_msisdn(typed) == expected


@pytest.mark.parametrize(
    ("value", "valid"),
    [
        ("+33612345678", True),
        ("+123456789012345", True),
        ("+1234567", False),
        ("+1234567890123456", False),
        ("+0612345678", False),
        ("33612345678", False),
        ("", False),
    ],
)
def test_the_e164_check(value, valid):
    assert is_e164(value) is valid


def test_require_msisdn_trims_or_refuses_with_an_example():
    assert require_msisdn(" +33612345678 ") == "+33612345678"
    with pytest.raises(DomainError) as refused:
        require_msisdn("0612345678")
    assert refused.value.code is ErrorCode.VALIDATION_ERROR
    assert message(refused.value) == "Le MSISDN doit être au format E.164 (+33612345678)."
    with pytest.raises(DomainError) as refused:
        require_msisdn("0701020304", example="+2250701020304")
    assert message(refused.value) == "Le MSISDN doit être au format E.164 (+2250701020304)."
