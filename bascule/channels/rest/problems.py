"""Every refusal as RFC 9457 problem+json with a stable `code`; anything else is a bug and says so."""

from __future__ import annotations

from datetime import date
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from starlette.exceptions import HTTPException as StarletteHTTPException

from bascule.kernel.errors import DomainError, ErrorCode
from bascule.kernel.messages_fr import message
from bascule.kernel.money import Money

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
}

PROBLEM_JSON = "application/problem+json"


def _jsonable(value: Any) -> Any:
    if isinstance(value, Money):
        return value.as_json()
    if isinstance(value, date):
        return value.isoformat()
    return value


def problem(code: ErrorCode, detail: str, instance: str | None = None, **extra: Any) -> JSONResponse:
    body: dict[str, Any] = {
        "type": f"urn:bascule:problem:{code.value}",
        "title": TITLES[code],
        "status": STATUS[code],
        "detail": detail,
        "code": code.value,
    }
    if instance:
        body["instance"] = instance
    body.update({key: _jsonable(value) for key, value in extra.items()})
    headers = {"WWW-Authenticate": "Bearer"} if STATUS[code] == 401 else None
    return JSONResponse(body, status_code=STATUS[code], media_type=PROBLEM_JSON, headers=headers)


def from_domain(error: DomainError, instance: str | None = None) -> JSONResponse:
    extra = {key: value for key, value in error.params.items() if key not in ("what", "short", "unit")}
    if error.code is ErrorCode.MONTHLY_LIMIT_REACHED and "next_on" in extra:
        extra["next_possible_on"] = extra.pop("next_on")
    return problem(error.code, message(error), instance, **extra)


def install(app: FastAPI) -> None:
    @app.exception_handler(DomainError)
    async def _domain(request: Request, error: DomainError) -> JSONResponse:
        return from_domain(error, request.url.path)

    @app.exception_handler(RequestValidationError)
    async def _validation(request: Request, error: RequestValidationError) -> JSONResponse:
        errors = [
            {"loc": [str(part) for part in item.get("loc", ())], "msg": str(item.get("msg", ""))}
            for item in error.errors()
        ]
        return problem(ErrorCode.VALIDATION_ERROR, "La demande est incomplète ou mal formée.",
                       request.url.path, errors=errors)

    @app.exception_handler(StarletteHTTPException)
    async def _http(request: Request, error: StarletteHTTPException) -> JSONResponse:
        if error.status_code == 404:
            return problem(ErrorCode.NOT_FOUND, "Élément introuvable.", request.url.path)
        if error.status_code == 405:
            response = problem(ErrorCode.VALIDATION_ERROR, "Méthode non permise.", request.url.path)
            response.status_code = 405
            return response
        response = problem(ErrorCode.VALIDATION_ERROR, str(error.detail), request.url.path)
        response.status_code = error.status_code
        return response
