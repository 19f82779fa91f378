"""Operations' probes: liveness, readiness and metrics endpoints.

- `GET /healthz` — the process answers: 200 `{"status": "ok"}`.
- `GET /readyz` — the database answers and its schema is at head: 200, else 503 problem+json.
- `GET /metrics` — Prometheus text format (see `bascule.observability.metrics`).

`bascule.channels.rest.instrumentation` mounts them with the logging and middleware every request goes through.
"""

from __future__ import annotations

from typing import Literal

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse, Response
from prometheus_client import CONTENT_TYPE_LATEST, CollectorRegistry, generate_latest
from pydantic import BaseModel

from bascule.context import Context
from bascule.observability import readiness
from bascule.persistence.context import engine_of

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
