"""The ASGI application: API v1 (and, as they arrive, the portal, USSD and TMF channels) in one process."""

from __future__ import annotations

import os
from typing import Any

from fastapi import FastAPI

from bascule import __version__
from bascule.channels.catalog_freshness import CatalogFreshness
from bascule.channels.docs import install_docs
from bascule.channels.front_door import BasculeApp
from bascule.channels.rest import problems
from bascule.channels.rest.hot_routes import HotRoutes, answer_first, hot_routes_of
from bascule.channels.rest.openapi import describe
from bascule.channels.rest.routes import admin, auth, batches, billing, catalog, clock, services
from bascule.channels.threads import CallThreads
from bascule.context import Context
from bascule.observability.tracing import fastapi_telemetry
from bascule.provisioning.simulator import SIMULATED_NETWORKS
from bascule.settings import Settings

DESCRIPTION = """Self-service and order management for mobile operators and MVNOs.

Errors are RFC 9457 `application/problem+json` with a stable `code`. Every POST accepts an
`Idempotency-Key` header: a repeat with the same key and body returns the first answer."""


def create_app(settings: Settings, ctx: Context) -> FastAPI:
    app = BasculeApp(
        title="Bascule",
        version=__version__,
        description=DESCRIPTION,
        openapi_url="/openapi.json",
        docs_url=None,
        redoc_url=None,
        telemetry=fastapi_telemetry(os.environ),
    )
    install_docs(app)
    app.state.settings = settings
    app.state.context = ctx
    problems.install(app)
    app.state.call_threads = CallThreads(settings.threads)
    app.add_middleware(HotRoutes, routes=hot_routes_of(app), threads=app.state.call_threads)  # innermost
    app.add_middleware(CatalogFreshness, live=ctx.catalogs)  # the others are added by the installers
    answer_first(app, *services.ANSWERED_FIRST)
    if settings.test_clock:
        app.include_router(clock.router)
    for router in (catalog.router, auth.router, admin.router, services.router, batches.router, billing.router):
        app.include_router(router)
    for extension in ctx.features.channel_installers:
        extension(app, settings, ctx)
    _complete_the_document(app, ctx)
    return app


def _complete_the_document(app: FastAPI, ctx: Context) -> None:
    build = app.openapi
    simulators = ctx.kept.get(SIMULATED_NETWORKS)
    networks = list(simulators) if simulators is not None else []

    def openapi() -> dict[str, Any]:
        if app.openapi_schema is None:
            app.openapi_schema = describe(problems.document_problems(build()), ctx.catalog, networks)
        return app.openapi_schema

    app.openapi = openapi  # type: ignore[method-assign]
