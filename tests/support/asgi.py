"""A spy to put between two ASGI layers: what requests went on past it."""

from __future__ import annotations

from typing import Any


class Judged:
    """Records `METHOD path` of each HTTP request that reaches the app it wraps."""

    def __init__(self, app: Any) -> None:
        self.app = app
        self.paths: list[str] = []

    async def __call__(self, scope: Any, receive: Any, send: Any) -> None:
        if scope["type"] == "http":
            self.paths.append(f"{scope['method']} {scope['path']}")
        await self.app(scope, receive, send)
