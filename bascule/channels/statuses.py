"""The HTTP status and the English title of each error code, shared by the HTTP channels (API v1, TMF, portal).

The domain raises a code; each channel renders it its way, and those that answer over HTTP agree on the status.
"""

from __future__ import annotations

from bascule.kernel.errors import ErrorCode

__all__ = ["STATUS", "TITLES"]

STATUS: dict[ErrorCode, int] = {
    ErrorCode.VALIDATION_ERROR: 422,
    ErrorCode.UNAUTHENTICATED: 401,
    ErrorCode.FORBIDDEN: 403,
    ErrorCode.NOT_FOUND: 404,
    ErrorCode.MONTHLY_LIMIT_REACHED: 409,
    ErrorCode.NOT_ELIGIBLE: 422,
    ErrorCode.SAME_PROFILE: 409,
    ErrorCode.NO_SUCH_PLAN: 422,
    ErrorCode.NOT_APPLICABLE: 422,
    ErrorCode.IDENTITY_NOT_CONFIRMED: 401,
    ErrorCode.INVALID_STATE: 409,
    ErrorCode.INSUFFICIENT_BALANCE: 409,
    ErrorCode.IDEMPOTENCY_KEY_REUSED: 422,
    ErrorCode.CONFLICT: 409,
    ErrorCode.TOO_MANY_REQUESTS: 429,
    ErrorCode.METHOD_NOT_ALLOWED: 405,
    ErrorCode.QUOTE_EXPIRED: 409,
}

TITLES: dict[ErrorCode, str] = {
    ErrorCode.VALIDATION_ERROR: "Invalid request",
    ErrorCode.UNAUTHENTICATED: "Authentication required",
    ErrorCode.FORBIDDEN: "Not allowed",
    ErrorCode.NOT_FOUND: "Not found",
    ErrorCode.MONTHLY_LIMIT_REACHED: "Monthly limit reached",
    ErrorCode.NOT_ELIGIBLE: "Not eligible",
    ErrorCode.SAME_PROFILE: "Same profile",
    ErrorCode.NO_SUCH_PLAN: "No such offer",
    ErrorCode.NOT_APPLICABLE: "Not applicable to this service",
    ErrorCode.IDENTITY_NOT_CONFIRMED: "Identity not confirmed",
    ErrorCode.INVALID_STATE: "Invalid state",
    ErrorCode.INSUFFICIENT_BALANCE: "Insufficient balance",
    ErrorCode.IDEMPOTENCY_KEY_REUSED: "Idempotency key reused",
    ErrorCode.CONFLICT: "Conflict",
    ErrorCode.TOO_MANY_REQUESTS: "Too many requests",
    ErrorCode.METHOD_NOT_ALLOWED: "Method not allowed",
    ErrorCode.QUOTE_EXPIRED: "Quote expired",
}
