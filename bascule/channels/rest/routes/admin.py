"""Operator endpoints: accounts, users, services, usage, audit trail."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends, Query
from fastapi.encoders import jsonable_encoder
from fastapi.responses import JSONResponse, Response

from bascule.channels.rest.commands import Command, posted
from bascule.channels.rest.fields import ENTITY_ID_PATTERN, ENTITY_KIND_PATTERN, ID_MAX, PathId
from bascule.channels.rest.mappers import service_out
from bascule.channels.rest.schemas import (
    AccountDetailsOut,
    AccountIn,
    AccountOut,
    AccountPatchIn,
    AuditEventOut,
    BillingAddressOut,
    ServiceIn,
    ServiceOut,
    UsageIn,
    UserIn,
    UserOut,
)
from bascule.channels.rest.security import context, operator
from bascule.context import Context
from bascule.evolutions.services import create_service, record_usage
from bascule.identity.model import BillingAddress, Channel, Principal, Role
from bascule.identity.usecases import (
    AccountDetails,
    account_details,
    create_account,
    create_user,
    set_billing_address,
)

router = APIRouter(prefix="/api/v1/admin", tags=["operator"])


def _created(model: object, location: str) -> JSONResponse:
    return JSONResponse(jsonable_encoder(model), status_code=201, headers={"Location": location})


@router.post("/accounts", status_code=201, response_model=AccountOut)
def post_account(body: AccountIn, actor: Principal = Depends(operator), command: Command = Depends(posted)) -> Response:
    return command(
        actor,
        lambda ctx: create_account(ctx, actor, Channel.API, body.name, body.timezone),
        lambda account: _created(
            AccountOut(id=account.id, name=account.name, timezone=account.timezone, currency=account.currency),
            f"/api/v1/admin/accounts/{account.id}",
        ),
    )


@router.get("/accounts", response_model=list[AccountOut])
def get_accounts(actor: Principal = Depends(operator), ctx: Context = Depends(context)) -> list[AccountOut]:
    with ctx.uow(write=False) as uow:
        return [AccountOut(id=a.id, name=a.name, timezone=a.timezone, currency=a.currency) for a in uow.accounts.all()]


def _details_out(details: AccountDetails) -> AccountDetailsOut:
    account, address = details.account, details.billing_address
    return AccountDetailsOut(
        id=account.id,
        name=account.name,
        timezone=account.timezone,
        currency=account.currency,
        billing_address=None
        if address is None
        else BillingAddressOut(
            line1=address.line1,
            line2=address.line2,
            postal_code=address.postal_code,
            city=address.city,
            country=address.country,
        ),
    )


@router.get("/accounts/{account_id}", response_model=AccountDetailsOut)
def get_account(
    account_id: PathId, actor: Principal = Depends(operator), ctx: Context = Depends(context)
) -> AccountDetailsOut:
    return _details_out(account_details(ctx, actor, account_id))


@router.patch("/accounts/{account_id}", response_model=AccountDetailsOut)
def patch_account(
    account_id: PathId, body: AccountPatchIn, actor: Principal = Depends(operator), command: Command = Depends(posted)
) -> Response:
    given = body.billing_address

    def work(ctx: Context) -> AccountDetails:
        address = (
            None
            if given is None
            else BillingAddress(
                line1=given.line1,
                line2=given.line2 or None,
                postal_code=given.postal_code.strip(),
                city=given.city,
                country=given.country,
            )
        )
        return set_billing_address(ctx, actor, Channel.API, account_id, address)

    return command(actor, work, lambda details: JSONResponse(jsonable_encoder(_details_out(details))))


@router.post("/accounts/{account_id}/users", status_code=201, response_model=UserOut)
def post_user(
    account_id: PathId, body: UserIn, actor: Principal = Depends(operator), command: Command = Depends(posted)
) -> Response:
    return command(
        actor,
        lambda ctx: create_user(ctx, actor, Channel.API, account_id, body.email, body.password, Role(body.role)),
        lambda user: _created(
            UserOut(id=user.id, email=user.email, role=user.role.value, account_id=user.account_id),
            f"/api/v1/admin/accounts/{account_id}/users/{user.id}",
        ),
    )


@router.post("/services", status_code=201, response_model=ServiceOut)
def post_service(body: ServiceIn, actor: Principal = Depends(operator), command: Command = Depends(posted)) -> Response:
    return command(
        actor,
        lambda ctx: create_service(
            ctx,
            actor,
            Channel.API,
            account_id=body.account_id,
            plan_id=body.plan_id,
            network=body.network,
            apn=body.apn,
            msisdn=body.msisdn,
            activated_on=body.activated_on,
        ),
        lambda view: _created(service_out(view), f"/api/v1/services/{view.service.id}"),
    )


@router.post("/services/{service_id}/usage", response_model=ServiceOut)
def post_usage(
    service_id: PathId, body: UsageIn, actor: Principal = Depends(operator), command: Command = Depends(posted)
) -> Response:
    return command(
        actor,
        lambda ctx: record_usage(ctx, actor, Channel.API, service_id, body.bytes, body.at, body.record_id),
        lambda view: JSONResponse(jsonable_encoder(service_out(view))),
    )


@router.get("/audit", response_model=list[AuditEventOut])
def get_audit(
    entity_kind: Annotated[str, Query(max_length=32, pattern=ENTITY_KIND_PATTERN)],
    entity_id: Annotated[str, Query(max_length=ID_MAX, pattern=ENTITY_ID_PATTERN)],
    actor: Principal = Depends(operator),
    ctx: Context = Depends(context),
) -> list[AuditEventOut]:
    with ctx.uow(write=False) as uow:
        return [AuditEventOut(**_event(e)) for e in uow.audit.of_entity(entity_kind, entity_id)]


def _event(event: object) -> dict[str, Any]:
    return {name: getattr(event, name) for name in AuditEventOut.model_fields}
