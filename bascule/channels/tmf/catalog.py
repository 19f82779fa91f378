"""TMF620 Product Catalog v4: the catalogue file as offerings, prices and specifications (read-only),
plus entries an operator adds, changes and removes at run time (kept in the database, apart from the file).

A productOffering id is the catalogue id of the plan, profile, top-up or extension.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from fastapi import APIRouter, Body, Depends, Request
from fastapi.responses import Response

from bascule.catalog.model import Catalog, DataPack, Plan, PlanKind, Profile
from bascule.channels.security import principal
from bascule.channels.tmf.common import (
    CATALOG,
    TmfError,
    bad_request,
    created,
    href,
    instant,
    many,
    money,
    one,
    text_field,
)
from bascule.channels.tmf.store import Documents
from bascule.commands.runner import run_on_unit
from bascule.context import Context, Kept
from bascule.identity.model import Principal
from bascule.kernel.errors import DomainError, ErrorCode
from bascule.kernel.ids import new_id
from bascule.kernel.money import Money
from bascule.persistence.uow import UnitOfWork

router = APIRouter(prefix="/productCatalogManagement/v4")

OFFERING, PRICE, SPECIFICATION = "productOffering", "productOfferingPrice", "productSpecification"
TYPES = {OFFERING: "ProductOffering", PRICE: "ProductOfferingPrice", SPECIFICATION: "ProductSpecification"}
SPEC_BUNDLE, SPEC_METERED, SPEC_PROFILE, SPEC_TOPUP, SPEC_EXTENSION = (
    "spec-data-bundle",
    "spec-data-metered",
    "spec-prepaid-profile",
    "spec-data-topup",
    "spec-ceiling-extension",
)
SERVER_FIELDS = frozenset({"id", "href", "@type", "lastUpdate"})
LOADED_AT: Kept[str] = Kept("when the TMF catalogue was first read")  # the `lastUpdate` of every entry


def _context(request: Request) -> Context:
    ctx: Context = request.app.state.context
    return ctx


def _loaded_at(ctx: Context) -> str:
    """When this process loaded the catalogue file: the `lastUpdate` of its entries."""
    return ctx.kept.setdefault(LOADED_AT, lambda: instant(ctx.clock.now()))


def _ref(request: Request, resource: str, entry_id: str, name: str) -> dict[str, Any]:
    return {
        "id": entry_id,
        "href": href(request, CATALOG, resource, entry_id),
        "name": name,
        "@referredType": TYPES[resource],
    }


# --- the catalogue file as TMF620 entries ----------------------------------------------------------


def _spec_characteristic(name: str, value_type: str, values: list[Any] | None = None) -> dict[str, Any]:
    spec: dict[str, Any] = {
        "name": name,
        "valueType": value_type,
        "configurable": values is not None,
        "@type": "ProductSpecificationCharacteristic",
    }
    if values is not None:
        spec["productSpecCharacteristicValue"] = [{"value": value, "valueType": value_type} for value in values]
    return spec


def _specifications(catalog: Catalog) -> list[tuple[str, str, str, list[dict[str, Any]]]]:
    radios = sorted({plan.radio.value for plan in catalog.plans})
    line = [
        _spec_characteristic("radio", "string", radios),
        _spec_characteristic("network", "string", [network.id for network in catalog.networks]),
        _spec_characteristic("apn", "string", [apn.id for apn in catalog.apns]),
        _spec_characteristic("msisdn", "string"),
    ]
    return [
        (
            SPEC_BUNDLE,
            "Mobile data bundle",
            "A monthly data volume on 4G or 5G (Line A).",
            [*line, _spec_characteristic("dataVolumeBytes", "integer")],
        ),
        (
            SPEC_METERED,
            "Mobile data, metered",
            "Usage billed per started unit under a ceiling (Line A).",
            [*line, _spec_characteristic("ceilingBytes", "integer"), _spec_characteristic("unitBytes", "integer")],
        ),
        (
            SPEC_PROFILE,
            "Prepaid profile",
            "A prepaid line's bonus profile (Line B).",
            [
                _spec_characteristic("profile", "string", [profile.id for profile in catalog.profiles]),
                _spec_characteristic("msisdn", "string"),
            ],
        ),
        (
            SPEC_TOPUP,
            "Data top-up",
            "A one-off data volume for a bundle, until the cycle ends.",
            [_spec_characteristic("dataVolumeBytes", "integer")],
        ),
        (
            SPEC_EXTENSION,
            "Ceiling extension",
            "A one-off raise of a metered ceiling for the cycle.",
            [_spec_characteristic("dataVolumeBytes", "integer")],
        ),
    ]


def _heading(
    request: Request, resource: str, stamp: str, entry_id: str, name: str, description: str | None = None
) -> dict[str, Any]:
    """What every entry of the catalogue says first: who it is, its version and that it is active."""
    return {
        "id": entry_id,
        "href": href(request, CATALOG, resource, entry_id),
        "@type": TYPES[resource],
        "name": name,
        **({"description": description} if description is not None else {}),
        "version": "1.0",
        "lastUpdate": stamp,
        "lifecycleStatus": "Active",
        "isBundle": False,
    }


def catalog_specifications(request: Request, ctx: Context) -> list[dict[str, Any]]:
    stamp = _loaded_at(ctx)
    return [
        {
            **_heading(request, SPECIFICATION, stamp, spec_id, name, description),
            "brand": "Bascule",
            "productSpecCharacteristic": characteristics,
        }
        for spec_id, name, description, characteristics in _specifications(ctx.catalog)
    ]


def _price_entry(
    request: Request, stamp: str, price_id: str, name: str, price_type: str, amount: Money, **extra: Any
) -> dict[str, Any]:
    return {
        **_heading(request, PRICE, stamp, price_id, name),
        "priceType": price_type,
        "price": money(amount),
        **extra,
    }


def _plan_prices(request: Request, stamp: str, plan: Plan) -> list[dict[str, Any]]:
    prices = [
        _price_entry(
            request,
            stamp,
            f"price-{plan.id}",
            f"{plan.name}, monthly",
            "recurring",
            plan.price,
            recurringChargePeriodType="month",
            recurringChargePeriodLength=1,
        )
    ]
    if plan.kind is PlanKind.METERED and plan.unit_price is not None:
        prices.append(
            _price_entry(
                request,
                stamp,
                f"usage-{plan.id}",
                f"{plan.name}, per started unit",
                "usage",
                plan.unit_price,
                unitOfMeasure={"amount": plan.unit_bytes, "units": "bytes"},
            )
        )
    return prices


def _pack_price(request: Request, stamp: str, pack: DataPack) -> dict[str, Any]:
    return _price_entry(request, stamp, f"price-{pack.id}", pack.name, "oneTime", pack.price)


def catalog_prices(request: Request, ctx: Context) -> list[dict[str, Any]]:
    stamp, catalog = _loaded_at(ctx), ctx.catalog
    prices = [price for plan in catalog.plans for price in _plan_prices(request, stamp, plan)]
    prices += [_pack_price(request, stamp, pack) for pack in (*catalog.topups, *catalog.extensions)]
    prices += [_price_entry(request, stamp, f"fee-{fee.id}", fee.name, "oneTime", fee.amount) for fee in catalog.fees]
    return prices


def _offering(
    request: Request,
    stamp: str,
    entry_id: str,
    name: str,
    description: str,
    spec: tuple[str, str],
    prices: list[dict[str, Any]],
    **extra: Any,
) -> dict[str, Any]:
    return {
        **_heading(request, OFFERING, stamp, entry_id, name, description),
        "isSellable": True,
        "productSpecification": _ref(request, SPECIFICATION, spec[0], spec[1]),
        "productOfferingPrice": [_ref(request, PRICE, price["id"], price["name"]) for price in prices],
        **extra,
    }


def _sale(on_sale: bool) -> dict[str, Any]:
    """A offering withdrawn from sale by a supervisor stays readable (lines keep it), retired and not sellable."""
    return {} if on_sale else {"lifecycleStatus": "Retired", "isSellable": False}


def _plan_offering(request: Request, stamp: str, plan: Plan) -> dict[str, Any]:
    spec = (
        (SPEC_BUNDLE, "Mobile data bundle") if plan.kind is PlanKind.BUNDLE else (SPEC_METERED, "Mobile data, metered")
    )
    values: list[dict[str, Any]] = [{"name": "radio", "value": plan.radio.value}]
    if plan.data_bytes is not None:
        values.append({"name": "dataVolumeBytes", "value": plan.data_bytes})
    if plan.default_ceiling_bytes is not None:
        values.append({"name": "ceilingBytes", "value": plan.default_ceiling_bytes})
    return _offering(
        request,
        stamp,
        plan.id,
        plan.name,
        f"Line A, {plan.kind.value}, {plan.radio.value}",
        spec,
        _plan_prices(request, stamp, plan),
        **_sale(plan.on_sale),
        category=[{"id": "line-a", "name": "Mobile data (B2B)"}],
        prodSpecCharValueUse=[
            {"name": value["name"], "productSpecCharacteristicValue": [{"value": value["value"], "isDefault": True}]}
            for value in values
        ],
    )


def _profile_offering(request: Request, stamp: str, profile: Profile) -> dict[str, Any]:
    threshold = profile.min_consumption_last_month
    terms = (
        []
        if threshold is None
        else [
            {
                "name": "minConsumptionLastMonth",
                "description": f"Needs {threshold.text()} consumed last month",
            }
        ]
    )
    return _offering(
        request,
        stamp,
        profile.id,
        profile.name,
        profile.description,
        (SPEC_PROFILE, "Prepaid profile"),
        [],
        **_sale(profile.on_sale),
        category=[{"id": "line-b", "name": "Prepaid"}],
        productOfferingTerm=terms,
    )


def catalog_offerings(request: Request, ctx: Context) -> list[dict[str, Any]]:
    stamp, catalog = _loaded_at(ctx), ctx.catalog
    offerings = [_plan_offering(request, stamp, plan) for plan in catalog.plans]
    offerings += [_profile_offering(request, stamp, profile) for profile in catalog.profiles]
    for packs, spec in (
        (catalog.topups, (SPEC_TOPUP, "Data top-up")),
        (catalog.extensions, (SPEC_EXTENSION, "Ceiling extension")),
    ):
        offerings += [
            _offering(
                request,
                stamp,
                pack.id,
                pack.name,
                pack.name,
                spec,
                [_pack_price(request, stamp, pack)],
                **_sale(pack.on_sale),
                category=[{"id": "line-a", "name": "Mobile data (B2B)"}],
            )
            for pack in packs
        ]
    return offerings


_FROM_FILE = {OFFERING: catalog_offerings, PRICE: catalog_prices, SPECIFICATION: catalog_specifications}


# --- run-time entries ----------------------------------------------------------------------------


def _stored(request: Request, resource: str, doc_id: str, body: dict[str, Any], updated: datetime) -> dict[str, Any]:
    return {
        "id": doc_id,
        "href": href(request, CATALOG, resource, doc_id),
        "@type": TYPES[resource],
        **body,
        "lastUpdate": instant(updated),
    }


def _entries(request: Request, resource: str) -> list[dict[str, Any]]:
    ctx = _context(request)
    with ctx.uow(write=False) as uow:
        documents = Documents(uow.connection).of_kind(resource)
    added = [_stored(request, resource, d.id, d.body, d.updated_at) for d in documents]
    return _FROM_FILE[resource](request, ctx) + added


def _entry(request: Request, resource: str, entry_id: str) -> dict[str, Any]:
    for entry in _entries(request, resource):
        if entry["id"] == entry_id:
            return entry
    raise DomainError(ErrorCode.NOT_FOUND, what=resource)


def _from_file(request: Request, resource: str, entry_id: str) -> bool:
    return any(entry["id"] == entry_id for entry in _FROM_FILE[resource](request, _context(request)))


def _read_only(resource: str) -> TmfError:
    return TmfError(
        405,
        "read-only",
        "Method not allowed",
        f"This {resource} comes from the catalogue file: change the file, not the API.",
    )


def _validated(resource: str, body: dict[str, Any], *, partial: bool) -> dict[str, Any]:
    kept = {name: value for name, value in body.items() if name not in SERVER_FIELDS}
    if not partial or "name" in kept:
        kept["name"] = text_field(kept, "name")  # trimmed
    if resource == PRICE and "priceType" in kept:
        text_field(kept, "priceType")
    if "lifecycleStatus" in kept:
        text_field(kept, "lifecycleStatus")
    return kept


def _create(request: Request, actor: Principal, resource: str, body: dict[str, Any]) -> Response:
    actor.require_operator()
    ctx = _context(request)
    fields = _validated(resource, body, partial=False)
    fields.setdefault("lifecycleStatus", "In design")  # not in the catalogue file, so not orderable
    if resource != SPECIFICATION:
        fields.setdefault("isBundle", False)
    now = ctx.clock.now()
    entry_id = new_id("tmf")
    run_on_unit(ctx, lambda uow: Documents(uow.connection).add(resource, entry_id, fields, now))
    return created(request, _stored(request, resource, entry_id, fields, now))


def _patch(request: Request, actor: Principal, resource: str, entry_id: str, body: dict[str, Any]) -> Response:
    actor.require_operator()
    if _from_file(request, resource, entry_id):
        raise _read_only(resource)
    ctx = _context(request)
    changes = _validated(resource, body, partial=True)
    now = ctx.clock.now()

    def merge(uow: UnitOfWork) -> dict[str, Any]:
        documents = Documents(uow.connection)
        current = documents.get(resource, entry_id)
        if current is None:
            raise DomainError(ErrorCode.NOT_FOUND, what=resource)
        merged = {name: value for name, value in {**current.body, **changes}.items() if value is not None}
        documents.replace(resource, entry_id, merged, now)
        return merged

    merged = run_on_unit(ctx, merge)
    return one(request, _stored(request, resource, entry_id, merged, now))


def _delete(request: Request, actor: Principal, resource: str, entry_id: str) -> Response:
    actor.require_operator()
    if _from_file(request, resource, entry_id):
        raise _read_only(resource)
    ctx = _context(request)
    if not run_on_unit(ctx, lambda uow: Documents(uow.connection).remove(resource, entry_id)):
        raise DomainError(ErrorCode.NOT_FOUND, what=resource)
    return Response(status_code=204)


def _object(body: Any) -> dict[str, Any]:
    if not isinstance(body, dict):
        raise bad_request("The body must be a JSON object.")
    return body


def _routes(resource: str) -> None:
    path = f"/{resource}"

    @router.get(path, name=f"list {resource}")
    @router.get(path + "/", include_in_schema=False)
    def list_entries(request: Request, actor: Principal = Depends(principal)) -> Response:
        return many(request, _entries(request, resource))

    @router.get(path + "/{entry_id}", name=f"get {resource}")
    def get_entry(entry_id: str, request: Request, actor: Principal = Depends(principal)) -> Response:
        return one(request, _entry(request, resource, entry_id))

    @router.post(path, name=f"create {resource}", status_code=201)
    def create_entry(request: Request, body: Any = Body(...), actor: Principal = Depends(principal)) -> Response:
        return _create(request, actor, resource, _object(body))

    @router.patch(path + "/{entry_id}", name=f"patch {resource}")
    def patch_entry(
        entry_id: str, request: Request, body: Any = Body(...), actor: Principal = Depends(principal)
    ) -> Response:
        return _patch(request, actor, resource, entry_id, _object(body))

    @router.delete(path + "/{entry_id}", name=f"delete {resource}", status_code=204)
    def delete_entry(entry_id: str, request: Request, actor: Principal = Depends(principal)) -> Response:
        return _delete(request, actor, resource, entry_id)


for _resource in (SPECIFICATION, OFFERING, PRICE):
    _routes(_resource)
