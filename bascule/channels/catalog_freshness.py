"""Every request starts on the catalogue in force: when this process's look at the overrides' stamp is due
(once per TTL, see `bascule.catalog.live`), it looks, in a worker thread, before the request goes on."""

from __future__ import annotations

import anyio.to_thread
from starlette.types import ASGIApp, Receive, Scope, Send

from bascule.catalog.live import LiveCatalog


class CatalogFreshness:
    def __init__(self, app: ASGIApp, live: LiveCatalog) -> None:
        self.app = app
        self.live = live

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http" and self.live.due:
            await anyio.to_thread.run_sync(self.live.refresh)
        await self.app(scope, receive, send)
