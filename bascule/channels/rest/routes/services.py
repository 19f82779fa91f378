"""Customer endpoints of Line A: services, quotes, change requests, charges."""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import Annotated, Any
from urllib.parse import urlencode

from fastapi import APIRouter, Depends, Query, Request, Response
from fastapi.responses import StreamingResponse

from bascule.billing.usecases import account_charges
from bascule.catalog.model import PlanKind, Radio
from bascule.channels.fleet_csv import csv_rows
from bascule.channels.rest.commands import Command, posted
from bascule.channels.rest.fields import PERIOD_PATTERN, PathId, QueryId, QueryPeriod
from bascule.channels.rest.hot_routes import HotRoute
from bascule.channels.rest.mappers import (
    quote_out,
    request_out,
    requested_changes,
    service_out,
    usage_out,
)
from bascule.channels.rest.responses import model_json
from bascule.channels.rest.schemas import (
    ChangeRequestIn,
    ChangeRequestOut,
    ChargesOut,
    ConfirmIn,
    ExtensionIn,
    MoneyOut,
    PurchaseOut,
    QuoteOut,
    ServiceOut,
    ServicesQuery,
    StatementLineOut,
    TopupIn,
    UsageOut,
    period_of,
)
from bascule.channels.rest.security import context, principal
from bascule.context import Context
from bascule.evolutions.fleet import FleetFilter
from bascule.evolutions.fleet_usecases import fleet_export, fleet_page, usage_by_day
from bascule.evolutions.lifecycle import RequestStatus
from bascule.evolutions.model import ServiceStatus
from bascule.evolutions.purchases import Purchase, buy_extension, buy_topup
from bascule.evolutions.services import ServiceView, get_service
from bascule.evolutions.usecases import (
    Confirmed,
    await_networks,
    cancel_change_request,
    confirm_change_request,
    create_change_request,
    get_change_request,
    list_change_requests,
    quote_change,
)
from bascule.identity.model import Channel, Principal
from bascule.kernel.calendar import Period, zone
from bascule.kernel.errors import DomainError, ErrorCode

router = APIRouter(prefix="/api/v1", tags=["services (line A)"])


_CSV = "text/csv; charset=utf-8"
_SERVICES_ANSWER: dict[int | str, dict[str, Any]] = {
    200: {
        "description": "A page of lines by MSISDN (JSON); with `Accept: text/csv`, every matching line as CSV.",
        "headers": {
            "Link": {
                "description": '`<…>; rel="next"` when more lines follow: the same query, the next cursor',
                "schema": {"type": "string"},
            }
        },
        "content": {"text/csv": {"schema": {"type": "string"}}},
    }
}


@router.get("/services", response_model=list[ServiceOut], responses=_SERVICES_ANSWER)
def get_services(
    request: Request,
    response: Response,
    query: Annotated[ServicesQuery, Query()],
    actor: Principal = Depends(principal),
    ctx: Context = Depends(context),
) -> Any:
    wanted = _fleet_filter(query)
    accept = request.headers.get("accept", "")
    if _quality(accept, "text/csv") > _quality(accept, "application/json"):  # JSON on a tie
        return _export(
            fleet_export(ctx, actor, wanted, account_id=query.account_id, descending=query.sort == "-msisdn")
        )
    page = fleet_page(
        ctx,
        actor,
        wanted,
        account_id=query.account_id,
        cursor=query.cursor,
        limit=query.limit,
        descending=query.sort == "-msisdn",
    )
    if page.next_cursor is not None:
        response.headers["Link"] = f'<{_same_query(request, cursor=page.next_cursor)}>; rel="next"'
    return [service_out(view) for view in page.views]


def _fleet_filter(query: ServicesQuery) -> FleetFilter:
    return FleetFilter(
        q=query.q,
        status=ServiceStatus(query.status) if query.status else None,
        kind=PlanKind(query.kind) if query.kind else None,
        radio=Radio(query.radio) if query.radio else None,
        network=query.network,
        plan_id=query.plan_id,
    )


def _same_query(request: Request, *, cursor: str) -> str:
    kept = [(name, value) for name, value in request.query_params.multi_items() if name != "cursor"]
    return f"{request.url.path}?{urlencode([*kept, ('cursor', cursor)])}"


def _quality(accept: str, media_type: str) -> float:
    """How much `Accept` wants `media_type`: the q of its most specific range that matches (RFC 9110 12.5.1)."""
    kind, _, subtype = media_type.partition("/")
    specificity, quality = -1, 0.0
    for part in accept.split(","):
        name, *parameters = (piece.strip().lower() for piece in part.split(";"))
        rank = {f"{kind}/{subtype}": 2, f"{kind}/*": 1, "*/*": 0}.get(name, -1)
        if rank > specificity:
            specificity, quality = rank, 1.0
            for parameter in parameters:
                key, _, value = parameter.partition("=")
                if key.strip() == "q":
                    quality = float(value) if re.fullmatch(r"\s*(0(\.\d{0,3})?|1(\.0{0,3})?)\s*", value) else 0.0
    return quality


def _export(batches: Iterator[list[ServiceView]]) -> StreamingResponse:
    def body() -> Iterator[str]:
        yield csv_rows((), header=True)
        for views in batches:
            yield csv_rows(views)

    return StreamingResponse(
        body(), media_type=_CSV, headers={"Content-Disposition": 'attachment; filename="lignes.csv"'}
    )


@router.get("/services/{service_id}/usage", response_model=UsageOut)
def get_usage(
    service_id: PathId,
    period: str | None = Query(default=None, pattern=PERIOD_PATTERN, description="YYYY-MM; default: the current cycle"),
    actor: Principal = Depends(principal),
    ctx: Context = Depends(context),
) -> UsageOut:
    return usage_out(usage_by_day(ctx, actor, service_id, period_of(period) if period else None))


@router.get("/services/{service_id}", response_model=ServiceOut)
def get_one_service(
    service_id: PathId, actor: Principal = Depends(principal), ctx: Context = Depends(context)
) -> ServiceOut:
    return service_out(get_service(ctx, actor, service_id))


@router.post("/services/{service_id}/quotes", response_model=QuoteOut)
def post_quote(
    service_id: PathId, body: ChangeRequestIn, actor: Principal = Depends(principal), command: Command = Depends(posted)
) -> Response:
    changes = requested_changes(body.changes)
    return command(
        actor, lambda ctx: quote_change(ctx, actor, service_id, changes), lambda quote: model_json(quote_out(quote))
    )


@router.post("/services/{service_id}/change-requests", status_code=201, response_model=ChangeRequestOut)
def post_change_request(
    service_id: PathId, body: ChangeRequestIn, actor: Principal = Depends(principal), command: Command = Depends(posted)
) -> Response:
    changes = requested_changes(body.changes)
    return command(
        actor,
        lambda ctx: create_change_request(ctx, actor, Channel.API, service_id, changes),
        lambda request: model_json(request_out(request), 201, {"Location": f"/api/v1/change-requests/{request.id}"}),
    )


def _purchase_out(purchase: Purchase) -> Response:
    out = PurchaseOut(
        id=purchase.id,
        service_id=purchase.service.service.id,
        kind=purchase.kind.value,  # type: ignore[arg-type]
        pack_id=purchase.pack.id,
        name=purchase.pack.name,
        data_bytes=purchase.pack.data_bytes,
        price=MoneyOut.of(purchase.pack.price),
        at=purchase.at,
        valid_until=purchase.valid_until,
        service=service_out(purchase.service),
    )
    return model_json(out, 201)


@router.post("/services/{service_id}/topups", status_code=201, response_model=PurchaseOut)
def post_topup(
    service_id: PathId, body: TopupIn, actor: Principal = Depends(principal), command: Command = Depends(posted)
) -> Response:
    return command(
        actor, lambda ctx: buy_topup(ctx, actor, Channel.API, service_id, body.topup_id, body.password), _purchase_out
    )


@router.post("/services/{service_id}/extensions", status_code=201, response_model=PurchaseOut)
def post_extension(
    service_id: PathId, body: ExtensionIn, actor: Principal = Depends(principal), command: Command = Depends(posted)
) -> Response:
    return command(
        actor,
        lambda ctx: buy_extension(ctx, actor, Channel.API, service_id, body.extension_id, body.password),
        _purchase_out,
    )


@router.post("/change-requests/{request_id}/confirm", response_model=ChangeRequestOut)
def post_confirm(
    request_id: PathId,
    body: ConfirmIn | None = None,
    actor: Principal = Depends(principal),
    command: Command = Depends(posted),
) -> Response:
    password = body.password if body else None
    return command(
        actor,
        lambda ctx: confirm_change_request(ctx, actor, Channel.API, request_id, password),
        lambda confirmed: model_json(request_out(confirmed.request)),
        settle=lambda confirmed, within: Confirmed(
            await_networks(command.ctx, confirmed, within=lambda uow, request: within(uow, Confirmed(request)))
        ),
    )


# The busiest commands, answered before FastAPI's routing when plainly valid (`hot_routes`).
ANSWERED_FIRST = (
    HotRoute(
        "/api/v1/services/{service_id}/change-requests", post_change_request, {"service_id": PathId}, ChangeRequestIn
    ),
    HotRoute(
        "/api/v1/change-requests/{request_id}/confirm",
        post_confirm,
        {"request_id": PathId},
        ConfirmIn,
        body_optional=True,
    ),
)


@router.post("/change-requests/{request_id}/cancel", response_model=ChangeRequestOut)
def post_cancel(
    request_id: PathId, actor: Principal = Depends(principal), command: Command = Depends(posted)
) -> Response:
    return command(
        actor,
        lambda ctx: cancel_change_request(ctx, actor, Channel.API, request_id),
        lambda request: model_json(request_out(request)),
    )


@router.get("/change-requests", response_model=list[ChangeRequestOut])
def get_change_requests(
    service_id: QueryId = None,
    status: RequestStatus | None = None,
    actor: Principal = Depends(principal),
    ctx: Context = Depends(context),
) -> list[ChangeRequestOut]:
    return [request_out(r) for r in list_change_requests(ctx, actor, service_id, status)]


@router.get("/change-requests/{request_id}", response_model=ChangeRequestOut)
def get_one_change_request(
    request_id: PathId, actor: Principal = Depends(principal), ctx: Context = Depends(context)
) -> ChangeRequestOut:
    return request_out(get_change_request(ctx, actor, request_id))


@router.get("/accounts/{account_id}/charges", response_model=ChargesOut)
def get_charges(
    account_id: PathId,
    period: QueryPeriod = None,
    actor: Principal = Depends(principal),
    ctx: Context = Depends(context),
) -> ChargesOut:
    actor.require_account(account_id)
    with ctx.uow(write=False) as uow:
        account = uow.accounts.get(account_id)
    if account is None:
        raise DomainError(ErrorCode.NOT_FOUND, what="account")
    wanted = period_of(period) if period else Period.at(ctx.clock.now(), zone(account.timezone))
    statement = account_charges(ctx, actor, account_id, wanted)
    return ChargesOut(
        period=str(statement.period),
        lines=[
            StatementLineOut(
                kind=line.kind,  # type: ignore[arg-type]
                description=line.description,
                amount=MoneyOut.of(line.amount),
                service_id=line.service_id,
                change_request_id=line.change_request_id,
                at=line.at,
            )
            for line in statement.lines
        ],
        total=MoneyOut.of(statement.total),
    )
