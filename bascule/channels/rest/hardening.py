"""API hardening: protective headers on every answer, and login throttling by e-mail.

Throttling: `POST /api/v1/auth/login` is counted per e-mail by the shared login throttle
(bascule.channels.login_throttle: its policy, stores and refusal); a 401 counts as a failure, a success
clears the count, anything else does not count.
"""

from __future__ import annotations

import json
from typing import Any

import structlog
from starlette.concurrency import run_in_threadpool
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from bascule.channels.login_throttle import LoginThrottle, refusal_detail
from bascule.channels.rest.asgi import read_body, replaying
from bascule.channels.rest.problems import problem
from bascule.kernel.errors import ErrorCode

log = structlog.get_logger("bascule.security")

LOGIN_PATH = "/api/v1/auth/login"

API_CSP = (
    "default-src 'self'; img-src 'self' data:; object-src 'none'; base-uri 'self'; "
    "form-action 'self'; frame-ancestors 'none'"
)
HSTS = "max-age=31536000; includeSubDomains"


def security_headers(scheme: str, route: str) -> dict[str, str]:
    """Added to every answer that does not set its own (the portal's pages and the API documentation pages set
    their own Content-Security-Policy)."""
    headers = {
        "X-Content-Type-Options": "nosniff",
        "X-Frame-Options": "DENY",
        "Referrer-Policy": "no-referrer",
        "Content-Security-Policy": API_CSP,
    }
    if scheme == "https":
        headers["Strict-Transport-Security"] = HSTS
    return headers


def _email_of(body: bytes) -> str | None:
    """The e-mail of a password login, normalised as the login use case does; None for anything else."""
    try:
        document = json.loads(body)
    except ValueError:
        return None
    if not isinstance(document, dict):
        return None
    email, password = document.get("email"), document.get("password")
    if not isinstance(email, str) or not isinstance(password, str):
        return None
    return email.strip().lower() or None


class LoginThrottleMiddleware:
    def __init__(self, app: ASGIApp, throttle: LoginThrottle, path: str = LOGIN_PATH) -> None:
        self.app = app
        self.throttle = throttle
        self.path = path

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["method"] != "POST" or scope["path"].rstrip("/") != self.path:
            await self.app(scope, receive, send)
            return
        body = await read_body(receive)
        replay = replaying(body)
        email = _email_of(body)
        if email is None:
            await self.app(scope, replay, send)
            return
        attempt = await self._call(self.throttle.begin, email)
        if attempt is None:  # the store is away: let the login through rather than lock everyone out
            await self.app(scope, replay, send)
            return
        if not attempt.allowed:
            scope["bascule.route"] = self.path  # for the request log and metrics: the router never saw it
            log.warning("login.throttled", retry_after=attempt.retry_after)
            await self._refuse(scope, replay, send, attempt.retry_after)
            return
        await self._attempt(scope, replay, send, email, attempt.token)

    async def _attempt(self, scope: Scope, receive: Receive, send: Send, email: str, token: str) -> None:
        settled = False

        async def settle(status: int) -> None:
            nonlocal settled
            settled = True
            if status == 401:
                await self._call(self.throttle.failed, email, token)
            elif 200 <= status < 300:
                await self._call(self.throttle.succeeded, email, token)
            else:
                await self._call(self.throttle.abandon, email, token)

        async def watch(message: Message) -> None:
            # The outcome is counted before the client sees the answer: its next try finds it counted.
            if message["type"] == "http.response.start":
                await settle(message["status"])
            await send(message)

        try:
            await self.app(scope, receive, watch)
        finally:
            if not settled:
                await settle(500)

    @staticmethod
    async def _call(step: Any, *args: Any) -> Any:
        try:
            return await run_in_threadpool(step, *args)
        except Exception:
            log.exception("login.throttle_store_unavailable")
            return None

    @staticmethod
    async def _refuse(scope: Scope, receive: Receive, send: Send, retry_after: int) -> None:
        response = problem(
            ErrorCode.TOO_MANY_REQUESTS, refusal_detail(retry_after), scope["path"], retry_after=retry_after
        )
        await response(scope, receive, send)
