"""Change batches of Line A: one change asked of many lines, each line its own change request."""

from __future__ import annotations

from fastapi import APIRouter, Depends
from fastapi.responses import JSONResponse, Response

from bascule.channels.rest.commands import Command, posted
from bascule.channels.rest.fields import PathId
from bascule.channels.rest.mappers import batch_out, requested_changes
from bascule.channels.rest.schemas import ChangeBatchIn, ChangeBatchOut, ConfirmIn
from bascule.channels.rest.security import context, principal
from bascule.context import Context
from bascule.evolutions.batch import ChangeBatch
from bascule.evolutions.batch_usecases import (
    cancel_change_batch,
    confirm_change_batch,
    create_change_batch,
    get_change_batch,
)
from bascule.identity.model import Channel, Principal

router = APIRouter(prefix="/api/v1/change-batches", tags=["fleets (line A)"])


def _answer(batch: ChangeBatch, status: int = 200, headers: dict[str, str] | None = None) -> JSONResponse:
    """Absent rather than null: an item's request, quote, code and detail are there only when they apply."""
    return JSONResponse(
        batch_out(batch).model_dump(mode="json", exclude_none=True), status_code=status, headers=headers
    )


@router.post("", status_code=201, response_model=ChangeBatchOut)
def post_batch(
    body: ChangeBatchIn, actor: Principal = Depends(principal), command: Command = Depends(posted)
) -> Response:
    changes = requested_changes(body.changes)
    return command(
        actor,
        lambda ctx: create_change_batch(ctx, actor, Channel.API, body.service_ids, changes),
        lambda batch: _answer(batch, 201, {"Location": f"/api/v1/change-batches/{batch.id}"}),
    )


@router.get("/{batch_id}", response_model=ChangeBatchOut)
def get_batch(batch_id: PathId, actor: Principal = Depends(principal), ctx: Context = Depends(context)) -> JSONResponse:
    return _answer(get_change_batch(ctx, actor, batch_id))


@router.post("/{batch_id}/confirm", response_model=ChangeBatchOut)
def post_confirm(
    batch_id: PathId,
    body: ConfirmIn | None = None,
    actor: Principal = Depends(principal),
    command: Command = Depends(posted),
) -> Response:
    password = body.password if body else None  # each line its own transaction: the batch resumes after a crash
    return command.in_steps(
        actor, lambda ctx: confirm_change_batch(ctx, actor, Channel.API, batch_id, password), _answer
    )


@router.post("/{batch_id}/cancel", response_model=ChangeBatchOut)
def post_cancel(
    batch_id: PathId, actor: Principal = Depends(principal), command: Command = Depends(posted)
) -> Response:
    return command(actor, lambda ctx: cancel_change_batch(ctx, actor, Channel.API, batch_id), _answer)
