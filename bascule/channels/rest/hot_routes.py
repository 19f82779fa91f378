"""API v1's busiest commands (a change's creation and confirmation, a profile migration), answered before
FastAPI's own routing and dependency resolution, which cost about a quarter of the server's CPU on them
(py-spy, issue 13): matching the path against every route of every router, then solving each dependency with
its bookkeeping.

The route stays declared in FastAPI, which documents it and remains its only judge of a request that is not
plainly valid: whatever this shortcut does not recognise at once (a path parameter, a body, a content type, a
credential or an Idempotency-Key it would refuse) goes on to FastAPI unchanged, body included, so every refusal
keeps one wording and one code. A recognised request runs the route's own function, with the same
dependencies called as FastAPI would call them, in a thread of `channels.threads`.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from fastapi import FastAPI
from pydantic import BaseModel, TypeAdapter, ValidationError
from starlette.requests import Request
from starlette.types import ASGIApp, Receive, Scope, Send

from bascule.channels.rest.asgi import read_body, replaying
from bascule.channels.rest.commands import posted
from bascule.channels.rest.problems import from_domain
from bascule.channels.security import principal
from bascule.channels.threads import CallThreads
from bascule.kernel.errors import DomainError

HOT = "bascule.hot_route"  # in the scope: the route and parameters the front door found (`channels.front_door`)
_PARAMETER = re.compile(r"\\\{(\w+)\\\}")  # `{name}` in a template once escaped by `re.escape`


@dataclass(frozen=True)
class HotRoute:
    """A POST route of API v1 to answer before FastAPI's routing: its template, its function (called with its
    path parameters, `body`, `actor` and `command`), each path parameter's type (an `Annotated` type of
    `fields`, whose constraints FastAPI applies) and its body's model."""

    template: str
    endpoint: Callable[..., Any]
    parameters: dict[str, Any]
    body: type[BaseModel]
    body_optional: bool = False
    pattern: re.Pattern[str] = field(init=False)
    adapters: dict[str, TypeAdapter[Any]] = field(init=False)

    def __post_init__(self) -> None:
        regex = _PARAMETER.sub(lambda m: f"(?P<{m.group(1)}>[^/]+)", re.escape(self.template))
        object.__setattr__(self, "pattern", re.compile(regex))
        object.__setattr__(self, "adapters", {name: TypeAdapter(kind) for name, kind in self.parameters.items()})

    def path_parameters(self, path: str) -> dict[str, Any] | None:
        """The parameters of `path` if it is this route's and each is valid; else None."""
        match = self.pattern.fullmatch(path)
        if match is None:
            return None
        try:
            return {name: adapter.validate_python(match[name]) for name, adapter in self.adapters.items()}
        except ValidationError:
            return None

    def parsed_body(self, scope: Scope, body: bytes) -> BaseModel | bool | None:
        """The body's model; None for an optional body left empty; False when FastAPI should judge it."""
        if not body:
            return None if self.body_optional else False
        if _content_type(scope) != b"application/json":
            return False
        try:
            return self.body.model_validate(json.loads(body))
        except (ValueError, ValidationError):
            return False


def _route_path(scope: Scope) -> str:
    """The path as the router matches it: without the application's root path, if it is served under one."""
    path: str = scope["path"]
    root: str = scope.get("root_path", "")
    return path[len(root) :] if root and path.startswith(root) else path


def _content_type(scope: Scope) -> bytes | None:
    for name, value in scope["headers"]:
        if name == b"content-type":
            return bytes(value.partition(b";")[0].strip().lower())
    return None


def hot_routes_of(app: FastAPI) -> list[HotRoute]:
    """The application's list, which each channel's installer extends with its own (`answer_first`)."""
    routes: list[HotRoute] | None = getattr(app.state, "hot_routes", None)
    if routes is None:
        routes = app.state.hot_routes = []
    return routes


def answer_first(app: FastAPI, *routes: HotRoute) -> None:
    hot_routes_of(app).extend(routes)


class HotRoutes:
    """The middleware (innermost): a recognised request is answered here, anything else goes on to FastAPI."""

    def __init__(self, app: ASGIApp, routes: list[HotRoute], threads: CallThreads) -> None:
        self.app = app
        self.routes = routes  # the application's list: installers may still extend it when this is built
        self.threads = threads

    def route_of(self, scope: Scope) -> tuple[HotRoute, dict[str, Any]] | None:
        """The hot route a request is for, with its path parameters; None for any other."""
        if scope["type"] != "http" or scope["method"] != "POST":
            return None
        path = _route_path(scope)
        for route in self.routes:
            parameters = route.path_parameters(path)
            if parameters is not None:
                return route, parameters
        return None

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        found = scope.pop(HOT, None) or self.route_of(scope)
        if found is None:
            await self.app(scope, receive, send)
            return
        route, parameters = found
        await self._answer(route, parameters, scope, receive, send)

    async def _answer(
        self, route: HotRoute, parameters: dict[str, Any], scope: Scope, receive: Receive, send: Send
    ) -> None:
        body = await read_body(receive)
        call = await self._prepared(route, parameters, scope, body)
        if call is None:
            await self.app(scope, replaying(body), send)  # FastAPI judges it, and words any refusal
            return
        scope["bascule.route"] = route.template  # for the request log and metrics: the router never saw it
        try:
            response = await self.threads.run(call)
        except DomainError as error:  # raised outside the command's runner: rendered as FastAPI's handler does
            response = from_domain(error, scope["path"])
        await response(scope, replaying(b""), send)

    @staticmethod
    async def _prepared(
        route: HotRoute, parameters: dict[str, Any], scope: Scope, body: bytes
    ) -> Callable[[], Any] | None:
        parsed = route.parsed_body(scope, body)
        if parsed is False:
            return None
        request = Request(scope, replaying(body))
        try:
            actor = await principal(request)
            command = await posted(request)
        except DomainError:
            return None
        return lambda: route.endpoint(**parameters, body=parsed, actor=actor, command=command)
