"""What every request of the application goes through, installed once: JSON logging, the Prometheus registry and
the operations' probes (`probes.py`), then the middleware, outermost first: request telemetry (request id, JSON
log line, metrics) with the protective headers, then login throttling.

`install` is the channel installer registered in `bascule.bootstrap`.
"""

from __future__ import annotations

from fastapi import FastAPI

from bascule.channels.login_throttle import login_throttle
from bascule.channels.rest.hardening import LoginThrottleMiddleware, security_headers
from bascule.channels.rest.probes import router
from bascule.context import Context
from bascule.observability.logs import configure_logging
from bascule.observability.metrics import build_registry
from bascule.observability.middleware import RequestTelemetryMiddleware, routes_resolver
from bascule.persistence.context import engine_of
from bascule.settings import Settings


def install(app: FastAPI, settings: Settings, ctx: Context) -> None:
    """The channel installer registered in bascule.bootstrap."""
    configure_logging(settings.log_level)
    registry, http_metrics = build_registry(engine_of(ctx))
    app.state.metrics_registry = registry
    app.include_router(router)
    throttle = login_throttle(settings, ctx)  # one per context: a second app built on it shares the counts
    # add_middleware puts each one outside the previous ones: the last added sees every request first.
    app.add_middleware(LoginThrottleMiddleware, throttle=throttle)
    app.add_middleware(
        RequestTelemetryMiddleware,
        metrics=http_metrics,
        headers=security_headers,
        resolve=routes_resolver(app.router.routes),
    )
