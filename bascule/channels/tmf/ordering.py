"""TMF622 Product Ordering v4: a change of a line is a productOrder whose items `modify` the product.

- Line A (product id = service id): the order IS the native change request (same id). The operator's
  order is confirmed at once (the operator confirms without password); a customer's stays
  `acknowledged` until the customer confirms it with their password through API v1 or the portal.
- Line B (product id = MSISDN): the order IS the profile migration (same id), done at once.
- A refusal by a rule (monthly limit, eligibility, unknown offering…) gives a `rejected` order with
  the reason; it is kept by the facade (store kind `productOrder`), as no native record exists then.

States: acknowledged (awaiting confirmation), inProgress (provisioning), completed, failed, cancelled,
rejected.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from fastapi import APIRouter, Body, Depends, Request
from fastapi.responses import Response

from bascule.channels.security import principal
from bascule.channels.tmf.common import (
    ORDERING,
    bad_request,
    created,
    domain_error_body,
    href,
    instant,
    many,
    money,
    object_list,
    one,
    ref_id,
    text_field,
)
from bascule.channels.tmf.products import LineA, LineB, find_line, offering_ref
from bascule.channels.tmf.store import Document, Documents, migration_rows
from bascule.commands.runner import run, run_on_unit
from bascule.context import Context
from bascule.evolutions.lifecycle import RequestStatus
from bascule.evolutions.model import ChangeRequest
from bascule.evolutions.rules import RequestedChanges
from bascule.evolutions.usecases import (
    Confirmed,
    await_networks,
    cancel_change_request,
    confirm_change_request,
    create_change_request,
    get_change_request,
    list_change_requests,
)
from bascule.identity.model import Channel, Principal, PrincipalKind
from bascule.kernel.errors import DomainError, ErrorCode
from bascule.kernel.ids import new_id
from bascule.kernel.money import Money
from bascule.prepaid.model import ProfileMigration
from bascule.prepaid.usecases import list_migrations, migrate_profile

router = APIRouter(prefix="/productOrderingManagement/v4")

REJECTED = "productOrder"  # refused at creation: no native record
REJECTION = "productOrderRejection"  # refused at the operator's confirmation: the change request was cancelled
STATES = {
    RequestStatus.AWAITING_CONFIRMATION: "acknowledged",
    RequestStatus.PROVISIONING: "inProgress",
    RequestStatus.COMPLETED: "completed",
    RequestStatus.FAILED: "failed",
    RequestStatus.CANCELLED: "cancelled",
}
CHARACTERISTICS = {
    "radio": "radio",
    "apn": "apn",
    "network": "network",
    "ceilingBytes": "ceiling_bytes",
    "ceiling_bytes": "ceiling_bytes",
}
TMF_NAMES = {"radio": "radio", "apn": "apn", "network": "network", "ceiling_bytes": "ceilingBytes"}
OUT_OF_REACH = (ErrorCode.NOT_FOUND, ErrorCode.FORBIDDEN, ErrorCode.UNAUTHENTICATED)
PRICE_TYPES = {"recurring": "recurring", "usage": "usage"}


def _context(request: Request) -> Context:
    ctx: Context = request.app.state.context
    return ctx


# --- reading an order from the body ---------------------------------------------------------------


def _items(body: dict[str, Any]) -> list[dict[str, Any]]:
    name = "orderItem" if "productOrderItem" not in body and "orderItem" in body else "productOrderItem"
    items = object_list(body, name)
    for item in items:
        action = item.get("action")
        if action != "modify":
            raise bad_request(
                f"Only `modify` order items are supported (got {action!r}): a line is changed, "
                "not added or removed, through this API."
            )
    return items


def _product_id(items: list[dict[str, Any]]) -> str:
    ids = {ref_id(item, "product") for item in items}
    if len(ids) != 1:
        raise bad_request("All the items of an order modify the same product (one line per order).")
    product_id = ids.pop()
    if product_id is None:
        raise bad_request("Each order item names its `product` by `id`.")
    return product_id


def _characteristics(item: dict[str, Any]) -> list[dict[str, Any]]:
    product = item.get("product") or {}
    values = product.get("productCharacteristic") or []
    if not isinstance(values, list) or not all(isinstance(value, dict) for value in values):
        raise bad_request("`product.productCharacteristic` must be a list of {name, value}.")
    return values


def _line_a_changes(items: list[dict[str, Any]]) -> RequestedChanges:
    changes: dict[str, Any] = {}
    for item in items:
        offering = ref_id(item, "productOffering", required=False)
        if offering is not None:
            changes["plan_id"] = offering
        for characteristic in _characteristics(item):
            name = str(characteristic.get("name", ""))
            if name not in CHARACTERISTICS:
                raise bad_request(f"Unknown characteristic {name!r}: radio, network, apn or ceilingBytes.")
            value = characteristic.get("value")
            if name.startswith("ceiling"):
                if isinstance(value, bool) or not isinstance(value, int | str) or not str(value).isdigit():
                    raise bad_request("ceilingBytes is a whole number of bytes.")
                value = int(value)
            elif not isinstance(value, str) or not value:
                raise bad_request(f"{name} is a non-empty string.")
            changes[CHARACTERISTICS[name]] = value
    if not changes:
        raise bad_request("Name the target `productOffering.id` or the changed `product.productCharacteristic`.")
    try:
        return RequestedChanges.from_dict(changes)
    except ValueError as error:
        raise bad_request(f"Invalid characteristic value: {error}.") from None


def _line_b_profile(items: list[dict[str, Any]]) -> str:
    profiles = {ref_id(item, "productOffering", required=False) for item in items}
    profiles |= {str(c.get("value")) for item in items for c in _characteristics(item) if c.get("name") == "profile"}
    profiles.discard(None)
    if len(profiles) != 1:
        raise bad_request("A prepaid line's order names one target profile as `productOffering.id`.")
    return str(profiles.pop())


# --- rendering --------------------------------------------------------------------------------------


def _amount(raw: dict[str, str]) -> dict[str, Any]:
    """A quote's amount as stored (`Money.as_json`) in TMF Money."""
    return money(Money.of(raw["amount"], raw["currency"]))


def _prices(quote: dict[str, Any]) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    lines = [
        {
            "name": charge["description"],
            "description": charge["kind"],
            "priceType": PRICE_TYPES.get(charge["kind"], "oneTime"),
            "price": {"dutyFreeAmount": _amount(charge["amount"]), "@type": "Price"},
            "@type": "OrderPrice",
        }
        for charge in quote.get("charges", [])
    ]
    total = (
        [
            {
                "name": "Total",
                "priceType": "total",
                "price": {"dutyFreeAmount": _amount(quote["total"]), "@type": "Price"},
                "@type": "OrderPrice",
            }
        ]
        if quote.get("total")
        else []
    )
    return lines, total


def _item(
    request: Request, state: str, product: dict[str, Any], offering: dict[str, Any] | None, prices: list[dict[str, Any]]
) -> dict[str, Any]:
    item: dict[str, Any] = {
        "id": "1",
        "@type": "ProductOrderItem",
        "action": "modify",
        "quantity": 1,
        "state": state,
        "product": product,
        "itemPrice": prices,
    }
    if offering is not None:
        item["productOffering"] = offering
    return item


def _dates(**values: datetime | None) -> dict[str, str]:
    return {name: instant(value) for name, value in values.items() if value is not None}


def _plan_name(request: Request, plan_id: str) -> str:
    try:
        return _context(request).catalog.plan(plan_id).name
    except DomainError:  # a plan since removed from the catalogue file
        return plan_id


def request_order(request: Request, change: ChangeRequest, rejection: Document | None = None) -> dict[str, Any]:
    state = STATES[change.status]
    if rejection is not None and change.status is RequestStatus.CANCELLED:
        state = "rejected"
    characteristics = [
        {"name": TMF_NAMES[name], "value": value} for name, value in change.changes.items() if name in TMF_NAMES
    ]
    product = {
        "id": change.service_id,
        "href": href(request, "/tmf-api/productInventory/v4", "product", change.service_id),
        "@referredType": "Product",
        "productCharacteristic": characteristics,
    }
    plan_id = change.changes.get("plan_id")
    offering = None if plan_id is None else offering_ref(request, str(plan_id), _plan_name(request, str(plan_id)))
    prices, total = _prices(change.quote)
    order: dict[str, Any] = {
        "id": change.id,
        "href": href(request, ORDERING, "productOrder", change.id),
        "@type": "ProductOrder",
        "state": state,
        "category": "mobile data (B2B)",
        "description": change.quote.get("notice") or "",
        **_dates(
            orderDate=change.created_at,
            completionDate=change.completed_at or change.failed_at,
            cancellationDate=change.cancelled_at if state == "cancelled" else None,
        ),
        "channel": [{"id": change.channel, "name": change.channel, "role": "order channel"}],
        "relatedParty": [{"id": change.account_id, "role": "customer", "@referredType": "Organization"}],
        "productOrderItem": [_item(request, state, product, offering, prices)],
        "orderTotalPrice": total,
    }
    if state == "rejected" and rejection is not None:
        order["errorMessage"] = [rejection.body]
    return order


def migration_order(request: Request, migration: ProfileMigration) -> dict[str, Any]:
    product = {
        "id": migration.msisdn,
        "href": href(request, "/tmf-api/productInventory/v4", "product", migration.msisdn),
        "@referredType": "Product",
        "productCharacteristic": [{"name": "profile", "value": migration.to_profile_id}],
    }
    offering = offering_ref(request, migration.to_profile_id, migration.to_profile_id)
    return {
        "id": migration.id,
        "href": href(request, ORDERING, "productOrder", migration.id),
        "@type": "ProductOrder",
        "state": "completed",
        "category": "prepaid",
        "description": f"from profile {migration.from_profile_id}",
        **_dates(orderDate=migration.at, completionDate=migration.at),
        "channel": [{"id": migration.channel, "name": migration.channel, "role": "order channel"}],
        "relatedParty": [{"id": migration.msisdn, "role": "customer", "@referredType": "Individual"}],
        "productOrderItem": [_item(request, "completed", product, offering, [])],
        "orderTotalPrice": [],
    }


def rejected_order(request: Request, document: Document) -> dict[str, Any]:
    body = {name: value for name, value in document.body.items() if not name.startswith("_")}
    body["productOrderItem"] = [
        {
            **item,
            "product": {
                **item["product"],
                "href": href(request, "/tmf-api/productInventory/v4", "product", item["product"]["id"]),
            },
        }
        for item in body.get("productOrderItem", [])
    ]
    return {"id": document.id, "href": href(request, ORDERING, "productOrder", document.id), **body}


def _may_see(actor: Principal, document: Document) -> bool:
    scope = document.body.get("_scope", {})
    if actor.is_operator:
        return True
    if actor.kind is PrincipalKind.SUBSCRIBER:
        return scope.get("msisdn") is not None and actor.may_see_line(scope["msisdn"])
    return scope.get("account_id") is not None and actor.may_see_account(scope["account_id"])


# --- use cases, called as they are -------------------------------------------------------------------


def _reject(
    ctx: Context,
    request: Request,
    actor: Principal,
    items: list[dict[str, Any]],
    scope: dict[str, str],
    product: dict[str, Any],
    error: DomainError,
    body: dict[str, Any],
) -> dict[str, Any]:
    now = ctx.clock.now()
    order_id = new_id("tmo")
    stored: dict[str, Any] = {
        "@type": "ProductOrder",
        "state": "rejected",
        **_dates(orderDate=now),
        "category": "prepaid" if "msisdn" in scope else "mobile data (B2B)",
        "channel": [{"id": Channel.TMF.value, "name": Channel.TMF.value, "role": "order channel"}],
        "relatedParty": body.get("relatedParty") or [],
        "productOrderItem": [
            {**item, "state": "rejected", "product": {**item.get("product", {}), **product}} for item in items
        ],
        "errorMessage": [domain_error_body(error) | {"@type": "ProductOrderErrorMessage"}],
        "_scope": scope,
    }
    if body.get("externalId"):
        stored["externalId"] = body["externalId"]
    run_on_unit(ctx, lambda uow: Documents(uow.connection).add(REJECTED, order_id, stored, now))
    return rejected_order(request, Document(REJECTED, order_id, stored, now, now))


def _order_line_a(
    ctx: Context, request: Request, actor: Principal, line: LineA, items: list[dict[str, Any]], body: dict[str, Any]
) -> dict[str, Any] | Confirmed:
    """The order as stored, or a confirmed change whose networks are to be asked once it has committed."""
    changes = _line_a_changes(items)
    service = line.view.service
    scope = {"account_id": service.account_id}
    try:
        change = create_change_request(ctx, actor, Channel.TMF, service.id, changes)
    except DomainError as error:
        if error.code in OUT_OF_REACH:
            raise
        return _reject(
            ctx, request, actor, items, scope, {"id": line.product_id, "@referredType": "Product"}, error, body
        )
    if not actor.is_operator:
        return request_order(request, change)
    try:
        return confirm_change_request(ctx, actor, Channel.TMF, change.id, None)
    except DomainError as error:  # e.g. the month's slot taken between creation and confirmation
        if error.code in OUT_OF_REACH:
            raise
        change = cancel_change_request(ctx, actor, Channel.TMF, change.id)
        refusal = domain_error_body(error) | {"@type": "ProductOrderErrorMessage"}
        now = ctx.clock.now()
        run_on_unit(ctx, lambda uow: Documents(uow.connection).add(REJECTION, change.id, refusal, now))
        return request_order(request, change, Document(REJECTION, change.id, refusal, now, now))


def _order_line_b(
    ctx: Context, request: Request, actor: Principal, line: LineB, items: list[dict[str, Any]], body: dict[str, Any]
) -> dict[str, Any]:
    profile_id = _line_b_profile(items)
    msisdn = line.summary.subscriber.msisdn
    try:
        migration = migrate_profile(ctx, actor, Channel.TMF, msisdn, profile_id)
    except DomainError as error:
        if error.code in OUT_OF_REACH:
            raise
        return _reject(
            ctx, request, actor, items, {"msisdn": msisdn}, {"id": msisdn, "@referredType": "Product"}, error, body
        )
    return migration_order(request, migration)


def _object(body: Any) -> dict[str, Any]:
    if not isinstance(body, dict):
        raise bad_request("The body must be a JSON object.")
    return body


@router.post("/productOrder", status_code=201)
def create_order(request: Request, body: Any = Body(...), actor: Principal = Depends(principal)) -> Response:
    ctx = _context(request)
    payload = _object(body)
    items = _items(payload)

    def place(ctx: Context) -> dict[str, Any] | Confirmed:  # one command: the order and its document
        line = find_line(ctx, actor, _product_id(items))
        if isinstance(line, LineA):
            return _order_line_a(ctx, request, actor, line, items, payload)
        return _order_line_b(ctx, request, actor, line, items, payload)

    order = run(ctx, place)
    if isinstance(order, Confirmed):
        order = request_order(request, await_networks(ctx, order))
    return created(request, order)


def _rejections(ctx: Context) -> dict[str, Document]:
    with ctx.uow(write=False) as uow:
        return {document.id: document for document in Documents(uow.connection).of_kind(REJECTION)}


def _migrations(ctx: Context, actor: Principal) -> list[ProfileMigration]:
    if actor.kind is PrincipalKind.SUBSCRIBER and actor.msisdn:
        return list_migrations(ctx, actor, actor.msisdn)
    if not actor.is_operator:
        return []
    with ctx.uow(write=False) as uow:
        return [ProfileMigration(**row._asdict()) for row in migration_rows(uow.connection)]


def all_orders(ctx: Context, request: Request, actor: Principal) -> list[dict[str, Any]]:
    orders: list[dict[str, Any]] = []
    if actor.kind is not PrincipalKind.SUBSCRIBER:
        rejections = _rejections(ctx)
        orders += [
            request_order(request, change, rejections.get(change.id))
            for change in list_change_requests(ctx, actor, None, None)
        ]
    orders += [migration_order(request, migration) for migration in _migrations(ctx, actor)]
    with ctx.uow(write=False) as uow:
        refused = [document for document in Documents(uow.connection).of_kind(REJECTED) if _may_see(actor, document)]
    orders += [rejected_order(request, document) for document in refused]
    return sorted(orders, key=lambda order: (order.get("orderDate", ""), order["id"]), reverse=True)


def find_order(ctx: Context, request: Request, actor: Principal, order_id: str) -> dict[str, Any]:
    with ctx.uow(write=False) as uow:
        documents = Documents(uow.connection)
        refused = documents.get(REJECTED, order_id)
        rejection = documents.get(REJECTION, order_id)
        migrations = migration_rows(uow.connection, order_id)
    if refused is not None and _may_see(actor, refused):
        return rejected_order(request, refused)
    if migrations:
        migration = ProfileMigration(**migrations[0]._asdict())
        if actor.may_see_line(migration.msisdn):
            return migration_order(request, migration)
        raise DomainError(ErrorCode.NOT_FOUND, what="productOrder")
    if actor.kind is PrincipalKind.SUBSCRIBER:
        raise DomainError(ErrorCode.NOT_FOUND, what="productOrder")
    return request_order(request, get_change_request(ctx, actor, order_id), rejection)


@router.get("/productOrder")
@router.get("/productOrder/", include_in_schema=False)
def list_orders(request: Request, actor: Principal = Depends(principal)) -> Response:
    return many(request, all_orders(_context(request), request, actor))


@router.get("/productOrder/{order_id}")
def get_order(order_id: str, request: Request, actor: Principal = Depends(principal)) -> Response:
    return one(request, find_order(_context(request), request, actor, order_id))


# --- cancellation (the TMF622 v4 task resource) ------------------------------------------------------


def _cancellation(request: Request, change: ChangeRequest, reason: str | None = None) -> dict[str, Any]:
    cancellation: dict[str, Any] = {
        "id": change.id,
        "href": href(request, ORDERING, "cancelProductOrder", change.id),
        "@type": "CancelProductOrder",
        "state": "done",
        **_dates(requestedCancellationDate=change.cancelled_at, effectiveCancellationDate=change.cancelled_at),
        "productOrder": {
            "id": change.id,
            "href": href(request, ORDERING, "productOrder", change.id),
            "@referredType": "ProductOrder",
        },
    }
    if reason:
        cancellation["cancellationReason"] = reason
    return cancellation


@router.post("/cancelProductOrder", status_code=201)
def cancel_order(request: Request, body: Any = Body(...), actor: Principal = Depends(principal)) -> Response:
    """Cancels an `acknowledged` Line A order (a change request awaiting confirmation)."""
    ctx = _context(request)
    payload = _object(body)
    order_id = ref_id(payload, "productOrder")
    if order_id is None:
        raise bad_request("`productOrder.id` is required: the order to cancel.")
    reason = text_field(payload, "cancellationReason", required=False)
    order = find_order(ctx, request, actor, order_id)
    if order["state"] != "acknowledged":
        raise DomainError(ErrorCode.INVALID_STATE, status=order["state"])
    change = cancel_change_request(ctx, actor, Channel.TMF, order_id)
    return created(request, _cancellation(request, change, reason))


@router.get("/cancelProductOrder/{order_id}")
def get_cancellation(order_id: str, request: Request, actor: Principal = Depends(principal)) -> Response:
    ctx = _context(request)
    order = find_order(ctx, request, actor, order_id)
    if order["state"] != "cancelled":
        raise DomainError(ErrorCode.NOT_FOUND, what="cancelProductOrder")
    return one(request, _cancellation(request, get_change_request(ctx, actor, order_id)))
