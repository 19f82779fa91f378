"""The simulated operators' work-order API, served for demos, tests and fault injection (operator token)."""

from __future__ import annotations

from dataclasses import asdict
from typing import Any

from fastapi import APIRouter, Depends, FastAPI
from pydantic import BaseModel, ConfigDict, Field

from bascule.channels.rest.fields import PathId
from bascule.channels.rest.security import context, operator
from bascule.context import Context
from bascule.identity.model import Principal
from bascule.kernel.errors import DomainError, ErrorCode
from bascule.provisioning.network import PermanentNetworkError, TransientNetworkError
from bascule.provisioning.simulator import SIMULATED_NETWORKS, SimulatedOperator
from bascule.settings import Settings

router = APIRouter(prefix="/simulated-networks", tags=["simulated networks"])


class WorkOrderIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    key: str = Field(min_length=1, max_length=100)
    operation: str = Field(max_length=40)
    payload: dict[str, Any]


class FaultsIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    transient_errors: int | None = Field(default=None, ge=0, le=1000)
    lost_answers: int | None = Field(default=None, ge=0, le=1000)
    refuse: bool | None = None
    latency_ms: int | None = Field(default=None, ge=0, le=60000)
    polls_until_done: int | None = Field(default=None, ge=0, le=1000)


def _simulator(ctx: Context, network: str) -> SimulatedOperator:
    simulators = ctx.kept.get(SIMULATED_NETWORKS)
    simulator = simulators.get(network) if simulators is not None else None
    if simulator is None:
        raise DomainError(ErrorCode.NOT_FOUND, what="network")
    return simulator


@router.post("/{network}/work-orders", status_code=201)
def submit(
    network: PathId, body: WorkOrderIn, actor: Principal = Depends(operator), ctx: Context = Depends(context)
) -> dict[str, str]:
    try:
        return {"id": _simulator(ctx, network).submit(body.key, body.operation, body.payload)}
    except TransientNetworkError as error:
        from fastapi import HTTPException

        raise HTTPException(status_code=503, detail=str(error)) from None


@router.get("/{network}/work-orders/{work_order_id}")
def read(
    network: PathId, work_order_id: PathId, actor: Principal = Depends(operator), ctx: Context = Depends(context)
) -> dict[str, str]:
    try:
        return {"id": work_order_id, "state": _simulator(ctx, network).state(work_order_id).value}
    except PermanentNetworkError:
        raise DomainError(ErrorCode.NOT_FOUND, what="work order") from None


@router.get("/{network}/work-orders")
def list_orders(
    network: PathId, actor: Principal = Depends(operator), ctx: Context = Depends(context)
) -> list[dict[str, Any]]:
    return [
        {
            "id": o.id,
            "key": o.key,
            "operation": o.operation,
            "state": o.state.value,
            "submissions": o.submissions,
            "payload": o.payload,
        }
        for o in _simulator(ctx, network).work_orders()
    ]


@router.put("/{network}/faults")
def set_faults(
    network: PathId, body: FaultsIn, actor: Principal = Depends(operator), ctx: Context = Depends(context)
) -> dict[str, Any]:
    changes = {key: value for key, value in body.model_dump().items() if value is not None}
    return asdict(_simulator(ctx, network).configure(**changes))


def install(app: FastAPI, settings: Settings, ctx: Context) -> None:
    if ctx.kept.get(SIMULATED_NETWORKS) is not None:
        app.include_router(router)
