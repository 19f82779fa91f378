"""The application's outermost layer: the calls that outnumber all others go straight to their endpoint through
only the middleware every request needs (request telemetry, the catalogue in force); any other request goes
through FastAPI's whole stack.

- The USSD gateway's calls (a door of their own, `open_front_door`): FastAPI's own layers (server errors,
  exception telemetry, body limit, exception handlers, exit stacks, routing) and the API's (login throttling, hot
  routes) cost more than a screen's parsing, and do nothing for it: the endpoint answers every malformed call
  itself, and the request telemetry answers an escaped exception with a 500.
- API v1's hot routes (`rest/hot_routes.py`): the same `HotRoutes` answers them, and what it does not take at
  once goes on to FastAPI's exception handlers and routing below it, as it does inside the stack. The layers
  skipped do nothing for them either: the body limit is not set, login throttling watches the login only.
"""

from __future__ import annotations

from typing import Any

from fastapi import FastAPI
from starlette.middleware import Middleware
from starlette.types import ASGIApp, Receive, Scope, Send

from bascule.channels.catalog_freshness import CatalogFreshness
from bascule.channels.rest.hot_routes import HOT, HotRoutes
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
    def __init__(
        self,
        app: ASGIApp,
        doors: dict[tuple[str, str], ASGIApp],
        hot: HotRoutes | None = None,
        hot_door: ASGIApp | None = None,
    ) -> None:
        self.app = app  # FastAPI's stack
        self.doors = doors
        self.hot = hot
        self.hot_door = hot_door

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http":
            door = self.doors.get((scope["method"], scope["path"]))
            if door is not None:
                scope["bascule.route"] = scope["path"]  # the route's template, for the log line and the metrics
                await door(scope, receive, send)
                return
            found = self.hot.route_of(scope) if self.hot is not None else None
            if found is not None and self.hot_door is not None:
                scope[HOT] = found
                scope["bascule.route"] = found[0].template
                await self.hot_door(scope, receive, send)
                return
        await self.app(scope, receive, send)


def through_every_request(endpoint: ASGIApp, middleware: list[Middleware]) -> ASGIApp:
    """`endpoint` behind those of `middleware` (outermost first, as `user_middleware`) that every request needs."""
    app = endpoint
    for cls, args, kwargs in reversed([m for m in middleware if m.cls in EVERY_REQUEST]):
        app = cls(app, *args, **kwargs)
    return app


def _hot_routes_in(stack: ASGIApp) -> HotRoutes | None:
    layer: Any = stack
    while layer is not None and not isinstance(layer, HotRoutes):
        layer = getattr(layer, "app", None)
    return layer


class BasculeApp(FastAPI):
    """FastAPI with the front door before its middleware stack."""

    def build_middleware_stack(self) -> ASGIApp:
        stack = super().build_middleware_stack()
        doors: dict[tuple[str, str], ASGIApp] = getattr(self.state, "front_doors", {})
        hot = _hot_routes_in(stack)
        if not doors and hot is None:
            return stack
        return FrontDoor(
            stack,
            {key: through_every_request(door, self.user_middleware) for key, door in doors.items()},
            hot,
            through_every_request(hot, self.user_middleware) if hot is not None else None,
        )
