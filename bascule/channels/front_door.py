"""The application's outermost layer: a call that outnumbers all others (the USSD gateway's) goes straight to its
endpoint through only the middleware every request needs (request telemetry, the catalogue in force); any other
request goes through FastAPI's whole stack.

FastAPI's own layers (server errors, exception telemetry, body limit, exception handlers, exit stacks, routing)
and the API's (login throttling, hot routes) cost more than a USSD screen's parsing, and do nothing for it: the
endpoint answers every malformed call itself, and the request telemetry answers an escaped exception with a 500.
"""

from __future__ import annotations

from fastapi import FastAPI
from starlette.middleware import Middleware
from starlette.types import ASGIApp, Receive, Scope, Send

from bascule.channels.catalog_freshness import CatalogFreshness
from bascule.observability.middleware import RequestTelemetryMiddleware

# The middleware a door keeps, in the stack's order.
EVERY_REQUEST: tuple[object, ...] = (RequestTelemetryMiddleware, CatalogFreshness)


def open_front_door(app: FastAPI, method: str, path: str, endpoint: ASGIApp) -> None:
    """`method path` (exactly) is answered by `endpoint`, ahead of FastAPI's stack; set before the first request."""
    doors: dict[tuple[str, str], ASGIApp] | None = getattr(app.state, "front_doors", None)
    if doors is None:
        doors = app.state.front_doors = {}
    doors[(method, path)] = endpoint


class FrontDoor:
    def __init__(self, app: ASGIApp, doors: dict[tuple[str, str], ASGIApp]) -> None:
        self.app = app  # FastAPI's stack
        self.doors = doors

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http":
            door = self.doors.get((scope["method"], scope["path"]))
            if door is not None:
                scope["bascule.route"] = scope["path"]  # the route's template, for the log line and the metrics
                await door(scope, receive, send)
                return
        await self.app(scope, receive, send)


def through_every_request(endpoint: ASGIApp, middleware: list[Middleware]) -> ASGIApp:
    """`endpoint` behind those of `middleware` (outermost first, as `user_middleware`) that every request needs."""
    app = endpoint
    for cls, args, kwargs in reversed([m for m in middleware if m.cls in EVERY_REQUEST]):
        app = cls(app, *args, **kwargs)
    return app


class BasculeApp(FastAPI):
    """FastAPI with the front door before its middleware stack."""

    def build_middleware_stack(self) -> ASGIApp:
        stack = super().build_middleware_stack()
        doors: dict[tuple[str, str], ASGIApp] = getattr(self.state, "front_doors", {})
        if not doors:
            return stack
        return FrontDoor(stack, {key: through_every_request(door, self.user_middleware) for key, door in doors.items()})
