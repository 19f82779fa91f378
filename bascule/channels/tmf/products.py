"""TMF637 Product Inventory: Line A services (id = service id) and Line B lines (id = MSISDN) as products.

Also the one place that turns a TMF product id into a native line, for the other TMF APIs.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from fastapi import APIRouter, Depends, Request
from fastapi.responses import Response

from bascule.catalog.model import PlanKind
from bascule.channels.security import principal
from bascule.channels.tmf.common import CATALOG, INVENTORY, href, instant, many, money, one, origin
from bascule.channels.tmf.store import Documents
from bascule.context import Context
from bascule.evolutions.services import ServiceView, get_service, list_services
from bascule.identity.model import Principal, PrincipalKind
from bascule.kernel.errors import DomainError, ErrorCode
from bascule.prepaid.usecases import SubscriberSummary, subscriber_summary

router = APIRouter(prefix="/productInventory/v4")
REFERENCE = "productReference"


@dataclass(frozen=True, slots=True)
class LineA:
    view: ServiceView

    @property
    def product_id(self) -> str:
        return self.view.service.id


@dataclass(frozen=True, slots=True)
class LineB:
    summary: SubscriberSummary

    @property
    def product_id(self) -> str:
        return self.summary.subscriber.msisdn


Line = LineA | LineB


def _context(request: Request) -> Context:
    ctx: Context = request.app.state.context
    return ctx


def _absent(error: DomainError) -> bool:
    return error.code is ErrorCode.NOT_FOUND


def referenced_msisdn(ctx: Context, reference: str) -> str | None:
    with ctx.uow(write=False) as uow:
        document = Documents(uow.connection).get(REFERENCE, reference)
    return None if document is None else str(document.body["msisdn"])


def find_line(ctx: Context, actor: Principal, product_id: str) -> Line:
    """The line behind a TMF product id: a service id, an MSISDN, or an external reference of a line."""
    if actor.kind is not PrincipalKind.SUBSCRIBER:
        try:
            return LineA(get_service(ctx, actor, product_id))
        except DomainError as error:
            if not _absent(error):
                raise
    for msisdn in (product_id, referenced_msisdn(ctx, product_id)):
        if msisdn is None:
            continue
        try:
            return LineB(subscriber_summary(ctx, actor, msisdn))
        except DomainError as error:
            if not _absent(error):
                raise
    raise DomainError(ErrorCode.NOT_FOUND, what="product")


def visible_lines(ctx: Context, actor: Principal) -> list[Line]:
    """Line A services first (as API v1 lists them), then prepaid lines, as this actor may see them."""
    lines: list[Line] = []
    if actor.kind is not PrincipalKind.SUBSCRIBER:
        lines.extend(LineA(view) for view in list_services(ctx, actor, None))
    if actor.is_operator:
        with ctx.uow(write=False) as uow:
            numbers = [subscriber.msisdn for subscriber in uow.subscribers.all()]
        lines.extend(LineB(subscriber_summary(ctx, actor, msisdn)) for msisdn in numbers)
    elif actor.kind is PrincipalKind.SUBSCRIBER and actor.msisdn:
        lines.append(LineB(subscriber_summary(ctx, actor, actor.msisdn)))
    return lines


def product_ref(request: Request, line: Line) -> dict[str, Any]:
    return {
        "id": line.product_id,
        "href": href(request, INVENTORY, "product", line.product_id),
        "@referredType": "Product",
    }


def offering_ref(request: Request, offering_id: str, name: str) -> dict[str, Any]:
    return {
        "id": offering_id,
        "href": href(request, CATALOG, "productOffering", offering_id),
        "name": name,
        "@referredType": "ProductOffering",
    }


def _characteristic(name: str, value: Any, value_type: str = "string") -> dict[str, Any]:
    return {"name": name, "valueType": value_type, "value": value}


def _price(
    request: Request, price_id: str, name: str, price_type: str, amount: dict[str, Any], period: str | None = None
) -> dict[str, Any]:
    price: dict[str, Any] = {
        "name": name,
        "priceType": price_type,
        "price": {"dutyFreeAmount": amount, "@type": "Price"},
        "productOfferingPrice": {
            "id": price_id,
            "href": href(request, CATALOG, "productOfferingPrice", price_id),
            "@referredType": "ProductOfferingPrice",
        },
        "@type": "ProductPrice",
    }
    if period:
        price["recurringChargePeriod"] = period
    return price


def line_a_product(request: Request, view: ServiceView) -> dict[str, Any]:
    service, plan = view.service, view.plan
    characteristics = [
        _characteristic("msisdn", service.msisdn),
        _characteristic("radio", plan.radio.value),
        _characteristic("network", service.network),
        _characteristic("apn", service.apn),
        _characteristic("planKind", plan.kind.value),
        _characteristic("quotaTotalBytes", view.quota.total_bytes, "integer"),
        _characteristic("quotaUsedBytes", view.quota.used_bytes, "integer"),
        _characteristic("quotaRemainingBytes", view.quota.remaining_bytes, "integer"),
        _characteristic("changesLeftThisMonth", view.changes_left_this_month, "integer"),
    ]
    if service.ceiling_bytes is not None:
        characteristics.append(_characteristic("ceilingBytes", service.ceiling_bytes, "integer"))
    prices = [_price(request, f"price-{plan.id}", plan.name, "recurring", money(plan.price), "month")]
    if plan.kind is PlanKind.METERED and plan.unit_price is not None:
        prices.append(_price(request, f"usage-{plan.id}", f"{plan.name} (usage)", "usage", money(plan.unit_price)))
    return {
        "id": service.id,
        "href": href(request, INVENTORY, "product", service.id),
        "@type": "Product",
        "name": f"{plan.name} {service.msisdn}",
        "description": "Line A mobile-data service",
        "isBundle": False,
        "isCustomerVisible": True,
        "status": "suspended" if service.status.restricted else "active",
        "startDate": service.activated_on.isoformat(),
        "productSerialNumber": service.msisdn,
        "productOffering": offering_ref(request, plan.id, plan.name),
        "productCharacteristic": characteristics,
        "productPrice": prices,
        "billingAccount": {"id": service.account_id, "@referredType": "BillingAccount"},
        "relatedParty": [{"id": service.account_id, "role": "customer", "@referredType": "Organization"}],
    }


def line_b_product(request: Request, summary: SubscriberSummary) -> dict[str, Any]:
    subscriber, profile = summary.subscriber, summary.profile
    return {
        "id": subscriber.msisdn,
        "href": href(request, INVENTORY, "product", subscriber.msisdn),
        "@type": "Product",
        "name": f"{profile.name} {subscriber.msisdn}",
        "description": "Line B prepaid line",
        "isBundle": False,
        "isCustomerVisible": True,
        "status": "active",
        "startDate": instant(subscriber.created_at),
        "productSerialNumber": subscriber.msisdn,
        "productOffering": offering_ref(request, profile.id, profile.name),
        "productCharacteristic": [
            _characteristic("msisdn", subscriber.msisdn),
            _characteristic("profile", profile.id),
            _characteristic("balance", summary.balance.amount, "number"),
            _characteristic("currency", summary.balance.currency),
            _characteristic("migrationsLeftThisMonth", summary.migrations_left_this_month, "integer"),
        ],
        "productPrice": [],  # prepaid: nothing recurring; the balance is in TMF654
        "billingAccount": {
            "id": subscriber.msisdn,
            "name": "prepaid balance",
            "@referredType": "BillingAccount",
            "href": f"{origin(request)}/tmf-api/prepayBalanceManagement/v4/bucket?product.id="
            f"{subscriber.msisdn.replace('+', '%2B')}",
        },
        "relatedParty": [{"id": subscriber.msisdn, "role": "customer", "@referredType": "Individual"}],
    }


def product_of(request: Request, line: Line) -> dict[str, Any]:
    if isinstance(line, LineA):
        return line_a_product(request, line.view)
    return line_b_product(request, line.summary)


@router.get("/product")
@router.get("/product/", include_in_schema=False)
def list_products(request: Request, actor: Principal = Depends(principal)) -> Response:
    ctx = _context(request)
    return many(request, [product_of(request, line) for line in visible_lines(ctx, actor)])


@router.get("/product/{product_id}")
def get_product(product_id: str, request: Request, actor: Principal = Depends(principal)) -> Response:
    return one(request, product_of(request, find_line(_context(request), actor, product_id)))
