"""Operations: liveness, readiness and metrics endpoints, and the middleware every request goes through.

- `GET /healthz` — the process answers: 200 `{"status": "ok"}`.
- `GET /readyz` — the database answers and its schema is at head: 200, else 503 problem+json.
- `GET /metrics` — Prometheus text format (see `bascule.observability.metrics`).

`install` is the channel installer registered in `bascule.bootstrap`. The middleware it adds wrap the
whole application, outermost first: request telemetry (request id, JSON log line, metrics) with the
protective headers, then login throttling.
"""

from __future__ import annotations

from typing import Literal

from fastapi import APIRouter, FastAPI, Request
from fastapi.responses import JSONResponse, Response
from prometheus_client import CONTENT_TYPE_LATEST, CollectorRegistry, generate_latest
from pydantic import BaseModel

from bascule.channels.login_throttle import build_login_throttle
from bascule.channels.rest.hardening import LoginThrottleMiddleware, security_headers
from bascule.context import Context
from bascule.observability import readiness
from bascule.observability.logs import configure_logging
from bascule.observability.metrics import build_registry
from bascule.observability.middleware import RequestTelemetryMiddleware, routes_resolver
from bascule.persistence.context import engine_of
from bascule.settings import Settings

router = APIRouter(tags=["operations"])

PROBLEM_JSON = "application/problem+json"


class Health(BaseModel):
    status: Literal["ok"]


class ReadyOut(BaseModel):
    status: Literal["ready"]
    schema_revision: list[str]


class NotReadyOut(BaseModel):
    type: str
    title: str
    status: int
    detail: str
    code: Literal["not-ready"]


@router.get("/healthz", response_model=Health)
def healthz() -> Health:
    return Health(status="ok")


@router.get(
    "/readyz",
    response_model=ReadyOut,
    responses={503: {"model": NotReadyOut, "content": {PROBLEM_JSON: {}}, "description": "Not ready"}},
)
def readyz(request: Request) -> JSONResponse:
    ctx: Context = request.app.state.context
    found = readiness.check(engine_of(ctx))
    if found.ready:
        return JSONResponse({"status": "ready", "schema_revision": list(found.current)})
    body = {
        "type": "urn:bascule:problem:not-ready",
        "title": "Not ready",
        "status": 503,
        "detail": found.detail,
        "code": "not-ready",
    }
    return JSONResponse(body, status_code=503, media_type=PROBLEM_JSON)


@router.get(
    "/metrics",
    response_class=Response,
    responses={
        200: {
            "content": {CONTENT_TYPE_LATEST: {"schema": {"type": "string"}}},
            "description": "Prometheus text exposition format",
        }
    },
)
def metrics(request: Request) -> Response:
    registry: CollectorRegistry = request.app.state.metrics_registry
    return Response(generate_latest(registry), media_type=CONTENT_TYPE_LATEST)


def install(app: FastAPI, settings: Settings, ctx: Context) -> None:
    """The channel installer registered in bascule.bootstrap."""
    configure_logging(settings.log_level)
    registry, http_metrics = build_registry(engine_of(ctx))
    app.state.metrics_registry = registry
    app.include_router(router)
    # One throttle per context: a second app built on the same context shares the counts.
    throttle = ctx.extras.get("login_throttle") or build_login_throttle(settings, ctx.clock)
    ctx.extras["login_throttle"] = throttle
    # add_middleware puts each one outside the previous ones: the last added sees every request first.
    app.add_middleware(LoginThrottleMiddleware, throttle=throttle)
    app.add_middleware(
        RequestTelemetryMiddleware,
        metrics=http_metrics,
        headers=security_headers,
        resolve=routes_resolver(app.router.routes),
    )
