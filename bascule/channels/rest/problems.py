"""Every refusal as RFC 9457 problem+json with a stable `code`; anything else is a bug and says so."""

from __future__ import annotations

from datetime import date
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from starlette.exceptions import HTTPException as StarletteHTTPException

from bascule.channels.statuses import STATUS, TITLES
from bascule.kernel.errors import DomainError, ErrorCode
from bascule.kernel.messages_fr import message
from bascule.kernel.money import Money

PROBLEM_JSON = "application/problem+json"


def _jsonable(value: Any) -> Any:
    if isinstance(value, Money):
        return value.as_json()
    if isinstance(value, date):
        return value.isoformat()
    return value


def problem(
    code: ErrorCode, detail: str, instance: str | None = None, *, status: int | None = None, **extra: Any
) -> JSONResponse:
    """`status` overrides the code's own only for HTTP errors raised below the application (e.g. 413)."""
    status = status or STATUS[code]
    body: dict[str, Any] = {
        "type": f"urn:bascule:problem:{code.value}",
        "title": TITLES[code],
        "status": status,
        "detail": detail,
        "code": code.value,
    }
    if instance:
        body["instance"] = instance
    reserved = set(body) | {"instance"}
    body.update({key: _jsonable(value) for key, value in extra.items() if key not in reserved})
    headers = {"WWW-Authenticate": "Bearer"} if status == 401 else None
    if code is ErrorCode.TOO_MANY_REQUESTS and "retry_after" in extra:
        headers = {"Retry-After": str(extra["retry_after"])}
    return JSONResponse(body, status_code=status, media_type=PROBLEM_JSON, headers=headers)


def from_domain(error: DomainError, instance: str | None = None) -> JSONResponse:
    extra = {key: value for key, value in error.params.items() if key not in ("what", "unit")}
    if error.code is ErrorCode.MONTHLY_LIMIT_REACHED and "next_on" in extra:
        extra["next_possible_on"] = extra.pop("next_on")
    return problem(error.code, message(error), instance, **extra)


def _words(code: ErrorCode, reason: str | None = None) -> str:
    """The French sentence of a refusal raised below the application (the framework's own errors)."""
    return message(DomainError(code) if reason is None else DomainError(code, reason=reason))


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
        return problem(ErrorCode.VALIDATION_ERROR, _words(ErrorCode.VALIDATION_ERROR), request.url.path, errors=errors)

    @app.exception_handler(StarletteHTTPException)
    async def _http(request: Request, error: StarletteHTTPException) -> JSONResponse:
        if error.status_code == 404:
            return problem(ErrorCode.NOT_FOUND, _words(ErrorCode.NOT_FOUND), request.url.path)
        if error.status_code == 405:
            return problem(ErrorCode.METHOD_NOT_ALLOWED, _words(ErrorCode.METHOD_NOT_ALLOWED), request.url.path)
        if error.status_code == 400:  # a body that cannot be parsed at all
            return problem(
                ErrorCode.VALIDATION_ERROR, _words(ErrorCode.VALIDATION_ERROR, "unreadable-body"), request.url.path
            )
        return problem(ErrorCode.VALIDATION_ERROR, str(error.detail), request.url.path, status=error.status_code)


PROBLEM_SCHEMA: dict[str, Any] = {
    "type": "object",
    "required": ["type", "title", "status", "detail", "code"],
    "properties": {
        "type": {"type": "string"},
        "title": {"type": "string"},
        "status": {"type": "integer"},
        "detail": {"type": "string"},
        "code": {"type": "string", "enum": [code.value for code in ErrorCode] + ["internal-error"]},
        "instance": {"type": "string"},
    },
    "additionalProperties": True,
}

_DOCUMENTED = {
    "401": "Authentication required (no, bad, expired or revoked token; wrong password where one is asked)",
    "403": "Not allowed for this role",
    "404": "Not found, or not yours",
    "405": "Method not allowed",
    "409": "Refused by a rule (monthly limit, state, balance, idempotency key in progress, quote expired)",
    "422": "Invalid request, not eligible, no such offer, not applicable, idempotency key reused",
    "429": "Too many attempts (see Retry-After)",
}


# Answers in plain text (the USSD gateway's form, Prometheus) or that never refuse (the liveness probe).
_NOT_JSON = {"/ussd", "/metrics", "/healthz"}


def document_problems(schema: dict[str, Any]) -> dict[str, Any]:
    """Every JSON operation can answer a problem: say so in the OpenAPI document, with its schema."""
    schema.setdefault("components", {}).setdefault("schemas", {})["Problem"] = PROBLEM_SCHEMA
    reference = {"$ref": "#/components/schemas/Problem"}
    for path, operations in schema.get("paths", {}).items():
        if path in _NOT_JSON:
            continue
        for operation in operations.values():
            responses = operation.setdefault("responses", {})
            for status, why in _DOCUMENTED.items():
                responses[status] = {"description": why, "content": {PROBLEM_JSON: {"schema": reference}}}
    return schema
