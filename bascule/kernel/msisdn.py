"""A line's number (MSISDN) in E.164: the one check, and what a person or a gateway types turned into it."""

from __future__ import annotations

import re

from bascule.kernel.errors import DomainError, ErrorCode

DIGITS = r"[1-9][0-9]{7,14}"  # E.164 without its '+': country code first, 8 to 15 digits in all
E164_PATTERN = rf"^\+{DIGITS}$"
E164 = re.compile(E164_PATTERN)


def is_e164(value: str) -> bool:
    return E164.match(value) is not None


def require_msisdn(msisdn: str, example: str = "+33612345678") -> str:
    """The number without surrounding spaces, or a validation error that shows an example of the format."""
    value = msisdn.strip()
    if not is_e164(value):
        raise DomainError(ErrorCode.VALIDATION_ERROR, f"Le MSISDN doit être au format E.164 ({example}).")
    return value


def normalise_msisdn(typed: str) -> str:
    """What a person or a gateway types (spaces, dots, dashes, a 00 prefix, a '+' lost in a URL) written as
    an E.164 candidate; nothing typed stays empty. It does not validate: `require_msisdn` does."""
    value = "".join(ch for ch in typed if ch.isdigit() or ch == "+")
    if value.startswith("00"):
        return "+" + value[2:]
    if value and not value.startswith("+"):
        return "+" + value
    return value
