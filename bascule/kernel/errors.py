"""Typed refusals with stable codes; each channel renders them (problem+json, portal, USSD)."""

from __future__ import annotations

from enum import StrEnum
from typing import Any


class ErrorCode(StrEnum):
    VALIDATION_ERROR = "validation-error"
    UNAUTHENTICATED = "unauthenticated"
    FORBIDDEN = "forbidden"
    NOT_FOUND = "not-found"
    MONTHLY_LIMIT_REACHED = "monthly-limit-reached"
    NOT_ELIGIBLE = "not-eligible"
    SAME_PROFILE = "same-profile"
    NO_SUCH_PLAN = "no-such-plan"
    NOT_APPLICABLE = "not-applicable"
    IDENTITY_NOT_CONFIRMED = "identity-not-confirmed"
    INVALID_STATE = "invalid-state"
    INSUFFICIENT_BALANCE = "insufficient-balance"
    IDEMPOTENCY_KEY_REUSED = "idempotency-key-reused"
    CONFLICT = "conflict"
    TOO_MANY_REQUESTS = "too-many-requests"
    METHOD_NOT_ALLOWED = "method-not-allowed"
    QUOTE_EXPIRED = "quote-expired"


class DomainError(Exception):
    """A refusal by a rule. `params` feed the per-channel message templates; `reason` names which sentence when
    a code has several. A rule gives no `detail`: only a channel words its own input errors so."""

    def __init__(self, code: ErrorCode, detail: str | None = None, **params: Any) -> None:
        self.code = code
        self.params = params
        self.explicit_detail = detail
        super().__init__(code, detail)

    def __str__(self) -> str:
        # Written when shown (a log line, a traceback), not at each refusal: a list of profile options makes one
        # for each option it marks, and the repr of their amounts was most of what one cost.
        return f"{self.code}: {self.explicit_detail or self.params}"


def validation(reason: str, **params: Any) -> DomainError:
    """An invalid input, named by its `reason` (bascule.kernel.messages_fr words it)."""
    return DomainError(ErrorCode.VALIDATION_ERROR, reason=reason, **params)


def not_found(what: str = "resource") -> DomainError:
    return DomainError(ErrorCode.NOT_FOUND, what=what)
