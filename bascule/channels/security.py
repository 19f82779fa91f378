"""Bearer tokens: the operator token from settings, or a customer token issued at login.

Shared by the HTTP channels (API v1, the TMF facade, the back office's operator check), so it sits below them.

The dependencies are `async def`: FastAPI runs a plain `def` dependency in its thread pool, a hand-off to another
thread and back for each one of each request (measured at ~12 % of the server's CPU on the change-request path).
Only a customer token's lookup, which reads the database, goes to the thread pool.
"""

from __future__ import annotations

import hmac

from fastapi import Depends, Request
from starlette.concurrency import run_in_threadpool

from bascule.context import Context
from bascule.identity.model import OPERATOR, Principal
from bascule.identity.usecases import authenticate
from bascule.kernel.errors import DomainError, ErrorCode
from bascule.settings import Settings


def context_of(request: Request) -> Context:
    ctx: Context = request.app.state.context
    return ctx


def settings_of(request: Request) -> Settings:
    value: Settings = request.app.state.settings
    return value


async def context(request: Request) -> Context:
    """The dependency: the application's context."""
    return context_of(request)


async def settings(request: Request) -> Settings:
    """The dependency: the application's settings."""
    return settings_of(request)


def bearer_token(request: Request) -> str | None:
    header = request.headers.get("authorization", "")
    scheme, _, token = header.partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        return None
    return token.strip()


def is_operator_token(config: Settings, token: str) -> bool:
    expected = config.admin_token.get_secret_value() if config.admin_token else ""
    return bool(expected) and hmac.compare_digest(token.encode(), expected.encode())


async def principal(request: Request) -> Principal:
    token = bearer_token(request)
    if token is None:
        raise DomainError(ErrorCode.UNAUTHENTICATED)
    if is_operator_token(settings_of(request), token):
        return OPERATOR
    return await run_in_threadpool(authenticate, context_of(request), token)


async def operator(actor: Principal = Depends(principal)) -> Principal:
    actor.require_operator()
    return actor
