"""Customer endpoints of Line A: services, quotes, change requests, charges."""

from __future__ import annotations

from fastapi import APIRouter, Depends
from fastapi.responses import JSONResponse

from bascule.billing.usecases import account_charges
from bascule.catalog.model import Radio
from bascule.channels.rest.fields import PathId, QueryId, QueryPeriod
from bascule.channels.rest.schemas import (
    ChangeRequestIn,
    ChangeRequestOut,
    ChangesIn,
    ChargesOut,
    ConfirmIn,
    ExtensionIn,
    MoneyOut,
    PurchaseOut,
    QuoteOut,
    ServiceOut,
    StatementLineOut,
    TopupIn,
    period_of,
)
from bascule.channels.rest.security import context, principal
from bascule.channels.rest.views import quote_out, request_out, service_out
from bascule.context import Context
from bascule.evolutions.lifecycle import RequestStatus
from bascule.evolutions.purchases import Purchase, buy_extension, buy_topup
from bascule.evolutions.rules import RequestedChanges
from bascule.evolutions.services import get_service, list_services
from bascule.evolutions.usecases import (
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


def _changes(body: ChangesIn) -> RequestedChanges:
    changes = RequestedChanges(
        plan_id=body.plan_id, radio=Radio(body.radio) if body.radio else None, apn=body.apn,
        network=body.network, ceiling_bytes=body.ceiling_bytes,
    )
    if not changes.as_dict():
        raise DomainError(ErrorCode.VALIDATION_ERROR, "Indiquez au moins un élément à changer.")
    return changes


@router.get("/services", response_model=list[ServiceOut])
def get_services(account_id: QueryId = None,
                 actor: Principal = Depends(principal), ctx: Context = Depends(context)) -> list[ServiceOut]:
    return [service_out(view) for view in list_services(ctx, actor, account_id)]


@router.get("/services/{service_id}", response_model=ServiceOut)
def get_one_service(service_id: PathId, actor: Principal = Depends(principal),
                    ctx: Context = Depends(context)) -> ServiceOut:
    return service_out(get_service(ctx, actor, service_id))


@router.post("/services/{service_id}/quotes", response_model=QuoteOut)
def post_quote(service_id: PathId, body: ChangeRequestIn, actor: Principal = Depends(principal),
               ctx: Context = Depends(context)) -> QuoteOut:
    return quote_out(quote_change(ctx, actor, service_id, _changes(body.changes)))


@router.post("/services/{service_id}/change-requests", status_code=201, response_model=ChangeRequestOut)
def post_change_request(service_id: PathId, body: ChangeRequestIn, actor: Principal = Depends(principal),
                        ctx: Context = Depends(context)) -> JSONResponse:
    request = create_change_request(ctx, actor, Channel.API, service_id, _changes(body.changes))
    out = request_out(request)
    return JSONResponse(out.model_dump(mode="json"), status_code=201,
                        headers={"Location": f"/api/v1/change-requests/{request.id}"})


def _purchase_out(purchase: Purchase) -> JSONResponse:
    out = PurchaseOut(
        id=purchase.id, service_id=purchase.service.service.id, kind=purchase.kind.value,  # type: ignore[arg-type]
        pack_id=purchase.pack.id, name=purchase.pack.name, data_bytes=purchase.pack.data_bytes,
        price=MoneyOut.of(purchase.pack.price), at=purchase.at, valid_until=purchase.valid_until,
        service=service_out(purchase.service),
    )
    return JSONResponse(out.model_dump(mode="json"), status_code=201)


@router.post("/services/{service_id}/topups", status_code=201, response_model=PurchaseOut)
def post_topup(service_id: PathId, body: TopupIn, actor: Principal = Depends(principal),
               ctx: Context = Depends(context)) -> JSONResponse:
    return _purchase_out(buy_topup(ctx, actor, Channel.API, service_id, body.topup_id, body.password))


@router.post("/services/{service_id}/extensions", status_code=201, response_model=PurchaseOut)
def post_extension(service_id: PathId, body: ExtensionIn, actor: Principal = Depends(principal),
                   ctx: Context = Depends(context)) -> JSONResponse:
    return _purchase_out(buy_extension(ctx, actor, Channel.API, service_id, body.extension_id, body.password))


@router.post("/change-requests/{request_id}/confirm", response_model=ChangeRequestOut)
def post_confirm(request_id: PathId, body: ConfirmIn | None = None, actor: Principal = Depends(principal),
                 ctx: Context = Depends(context)) -> ChangeRequestOut:
    password = body.password if body else None
    return request_out(confirm_change_request(ctx, actor, Channel.API, request_id, password))


@router.post("/change-requests/{request_id}/cancel", response_model=ChangeRequestOut)
def post_cancel(request_id: PathId, actor: Principal = Depends(principal),
                ctx: Context = Depends(context)) -> ChangeRequestOut:
    return request_out(cancel_change_request(ctx, actor, Channel.API, request_id))


@router.get("/change-requests", response_model=list[ChangeRequestOut])
def get_change_requests(
    service_id: QueryId = None,
    status: RequestStatus | None = None,
    actor: Principal = Depends(principal),
    ctx: Context = Depends(context),
) -> list[ChangeRequestOut]:
    return [request_out(r) for r in list_change_requests(ctx, actor, service_id, status)]


@router.get("/change-requests/{request_id}", response_model=ChangeRequestOut)
def get_one_change_request(request_id: PathId, actor: Principal = Depends(principal),
                           ctx: Context = Depends(context)) -> ChangeRequestOut:
    return request_out(get_change_request(ctx, actor, request_id))


@router.get("/accounts/{account_id}/charges", response_model=ChargesOut)
def get_charges(account_id: PathId, period: QueryPeriod = None,
                actor: Principal = Depends(principal), ctx: Context = Depends(context)) -> ChargesOut:
    actor.require_account(account_id)
    with ctx.uow(write=False) as uow:
        account = uow.accounts.get(account_id)
    if account is None:
        raise DomainError(ErrorCode.NOT_FOUND, what="account")
    wanted = period_of(period) if period else Period.at(ctx.clock.now(), zone(account.timezone))
    statement = account_charges(ctx, actor, account_id, wanted)
    return ChargesOut(
        period=str(statement.period),
        lines=[StatementLineOut(kind=line.kind, description=line.description, amount=MoneyOut.of(line.amount),  # type: ignore[arg-type]
                                service_id=line.service_id, change_request_id=line.change_request_id, at=line.at)
               for line in statement.lines],
        total=MoneyOut.of(statement.total),
    )
