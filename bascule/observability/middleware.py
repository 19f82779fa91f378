"""The outermost ASGI middleware: request id, protective headers, one log line and metrics per request.

- The request id is the client's `X-Request-ID` when it is a sane token, else a new one; it is echoed
  in the response and bound to every log line written while the request runs.
- The log line holds the request id, method, route template, status and duration — never headers,
  query strings or bodies (they carry tokens, passwords and one-time codes).
- A problem+json answer is counted by its `code`; a refusal at a monthly limit also on its own counter.
- An exception that escapes the application is logged and answered as a 500 problem, with the same
  headers as any other answer.
"""

from __future__ import annotations

import json
import logging
import os
import re
import time
from collections.abc import Callable, Mapping, Sequence

import structlog
from starlette.routing import BaseRoute, Match
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from bascule.observability.metrics import HttpMetrics

log = structlog.get_logger("bascule.http")
_LOGGER = logging.getLogger("bascule.http")

REQUEST_ID_HEADER = "x-request-id"
_SANE_ID = re.compile(r"^[A-Za-z0-9._:-]{1,128}$")
UNMATCHED = "<unmatched>"
METHODS = frozenset({"GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"})
PROBLEM_JSON = b"application/problem+json"
MAX_PROBLEM_BYTES = 65536

# The protective headers an answer gets, by the request's scheme and route template: a pure function of the two, so
# that the middleware encodes each set once.
HeaderRule = Callable[[str, str], Mapping[str, str]]
EncodedHeaders = list[tuple[bytes, bytes]]


def request_id_of(scope: Scope) -> str:
    for name, value in scope.get("headers", []):
        if name == b"x-request-id":
            candidate: str = value.decode("latin-1").strip()
            if _SANE_ID.match(candidate):
                return candidate
            break
    return os.urandom(16).hex()  # as random as uuid4's hex, a fifth of its cost


RouteResolver = Callable[[Scope], str | None]


def template_of(route: object) -> str | None:
    template = getattr(route, "path_format", None) or getattr(route, "path", None)
    if not template:
        return None
    if not hasattr(route, "endpoint") and hasattr(route, "routes"):  # a mount: its whole subtree
        return f"{str(template).rstrip('/')}/{{path}}"
    return str(template)


def routes_resolver(routes: Sequence[BaseRoute]) -> RouteResolver:
    """Finds the template by matching the routes again (for routes that do not name themselves in the scope)."""

    def resolve(scope: Scope) -> str | None:
        probe = dict(scope)
        for route in routes:
            match, _ = route.matches(probe)
            if match is not Match.NONE:
                return template_of(route)
        return None

    return resolve


def route_of(scope: Scope, resolve: RouteResolver | None = None) -> str:
    """The route template (`/api/v1/services/{service_id}`), never the raw path (ids, MSISDNs)."""
    template = template_of(scope.get("route"))
    if template is None and "bascule.route" in scope:  # answered by a middleware before routing
        template = str(scope["bascule.route"])
    if template is None and resolve is not None:
        template = resolve(scope)
    return template or UNMATCHED


class _Exchange:
    """What the middleware learns of one answer as it streams through."""

    def __init__(self) -> None:
        self.status = 500
        self.started = False
        self.problem = False
        self.replayed = False
        self.body = bytearray()

    def problem_code(self) -> str | None:
        if not self.problem or self.replayed:
            return None
        try:
            code = json.loads(bytes(self.body)).get("code")
        except (ValueError, AttributeError):
            return None
        return code if isinstance(code, str) else None


class RequestTelemetryMiddleware:
    def __init__(
        self, app: ASGIApp, metrics: HttpMetrics, headers: HeaderRule, resolve: RouteResolver | None = None
    ) -> None:
        self.app = app
        self.metrics = metrics
        self.headers = headers
        self.resolve = resolve
        self._encoded: dict[tuple[str, str], EncodedHeaders] = {}  # by scheme and route: as many as the routes

    def route(self, scope: Scope) -> str:
        return route_of(scope, self.resolve)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        request_id = request_id_of(scope)
        method = scope["method"] if scope["method"] in METHODS else "OTHER"
        exchange = _Exchange()
        started = time.perf_counter()

        async def respond(message: Message) -> None:
            if message["type"] == "http.response.start":
                exchange.started = True
                exchange.status = message["status"]
                message["headers"] = self._with_headers(scope, request_id, message.get("headers", []), exchange)
            elif (
                message["type"] == "http.response.body" and exchange.problem and len(exchange.body) < MAX_PROBLEM_BYTES
            ):
                exchange.body.extend(message.get("body", b""))
            await send(message)

        structlog.contextvars.bind_contextvars(request_id=request_id)
        try:
            await self.app(scope, receive, respond)
        except Exception:
            exchange.status = 500
            log.exception("request.crashed", method=method, route=self.route(scope))
            if not exchange.started:
                await self._crash_answer(scope, respond)
            raise
        finally:
            self._account(scope, method, exchange, time.perf_counter() - started)
            structlog.contextvars.unbind_contextvars("request_id")

    def _with_headers(
        self, scope: Scope, request_id: str, raw: list[tuple[bytes, bytes]], exchange: _Exchange
    ) -> list[tuple[bytes, bytes]]:
        present = {name.lower() for name, _ in raw}
        for name, value in raw:
            lowered = name.lower()
            if lowered == b"content-type" and value.startswith(PROBLEM_JSON):
                exchange.problem = True
            elif lowered == b"idempotent-replayed":
                exchange.replayed = True
        headers = list(raw)
        if b"x-request-id" not in present:
            headers.append((b"x-request-id", request_id.encode("latin-1")))
        for name, value in self._protective(scope.get("scheme", "http"), self.route(scope)):
            if name not in present:
                headers.append((name, value))
        return headers

    def _protective(self, scheme: str, route: str) -> EncodedHeaders:
        encoded = self._encoded.get((scheme, route))
        if encoded is None:
            rule = self.headers(scheme, route).items()
            encoded = [(name.lower().encode("latin-1"), text.encode("latin-1")) for name, text in rule]
            if scheme in ("http", "https"):  # a proxy's X-Forwarded-Proto could name others: not kept
                self._encoded[(scheme, route)] = encoded
        return encoded

    def _account(self, scope: Scope, method: str, exchange: _Exchange, seconds: float) -> None:
        route = self.route(scope)
        self.metrics.observe(method, route, exchange.status, seconds)
        code = exchange.problem_code()
        if code is not None:
            self.metrics.problem(code)
        fields = {"method": method, "route": route, "status": exchange.status, "duration_ms": round(seconds * 1000, 2)}
        if code is not None:
            fields["problem"] = code
        if exchange.status >= 500:
            log.error("request", **fields)
        elif _LOGGER.isEnabledFor(logging.INFO):  # structlog would build the event only to drop it
            log.info("request", **fields)

    @staticmethod
    async def _crash_answer(scope: Scope, send: Send) -> None:
        body = json.dumps(
            {
                "type": "about:blank",
                "title": "Internal error",
                "status": 500,
                "detail": "Erreur interne : l'incident est journalisé.",
                "code": "internal-error",
            },
            ensure_ascii=False,
        ).encode()
        await send(
            {
                "type": "http.response.start",
                "status": 500,
                "headers": [
                    (b"content-type", b"application/problem+json"),
                    (b"content-length", str(len(body)).encode()),
                ],
            }
        )
        await send({"type": "http.response.body", "body": body})
