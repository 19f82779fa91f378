"""Centre d'Opérations for fleets: the lines searched, filtered, sorted and paged (filters kept in the URL), their
CSV export, one change asked of many lines at once (a change batch: quote, password, outcome per line, the lines
that failed asked again), and a line's usage day by day.

The routes call the fleet and batch use cases the REST API calls; they only turn query strings and forms into
their arguments and their results (or refusals) into pages.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlencode

from fastapi import APIRouter, Depends, Form, Request
from fastapi.responses import Response, StreamingResponse
from starlette.concurrency import run_in_threadpool
from starlette.datastructures import FormData

from bascule.billing.usecases import account_charges
from bascule.catalog.model import PlanKind, Radio
from bascule.channels.fleet_csv import csv_rows
from bascule.channels.portal import queries
from bascule.channels.portal.centre import PREFIX, customer, names, page
from bascule.channels.portal.formatting import day, volume
from bascule.channels.portal.web import PortalRoute, client_address, ctx_of, portal_of, see_other, shown
from bascule.commands.runner import run
from bascule.context import Context
from bascule.evolutions.batch import ChangeBatch, ItemStatus
from bascule.evolutions.batch_usecases import (
    cancel_change_batch,
    confirm_change_batch,
    create_change_batch,
    get_change_batch,
)
from bascule.evolutions.fleet import DailyUsage, FleetFilter
from bascule.evolutions.fleet_usecases import fleet_export, fleet_page, usage_by_day
from bascule.evolutions.model import ServiceStatus
from bascule.evolutions.rules import RequestedChanges
from bascule.evolutions.services import ServiceView, get_service
from bascule.identity.model import Channel, Principal
from bascule.kernel.errors import DomainError, ErrorCode
from bascule.kernel.messages_fr import message

router = APIRouter(prefix=PREFIX, route_class=PortalRoute, include_in_schema=False)

PAGE_SIZE = 50
LIST = f"{PREFIX}/services/mobile"
# The query string of the list, French for the customer, and what each names in the fleet filter.
FILTER_FIELDS = ("q", "statut", "type", "radio", "reseau", "tri")
SORTS = {"msisdn": "Numéro croissant", "-msisdn": "Numéro décroissant"}
RETRIED = (ItemStatus.REFUSED, ItemStatus.FAILED)
LINE_STATES = {
    "quoted": "À confirmer",
    "refused": "Refusée",
    "provisioning": "En cours de mise en service",
    "completed": "Effectuée",
    "failed": "Échouée",
    "cancelled": "Annulée",
}


# ---------------------------------------------------------------- the list


@dataclass(frozen=True, slots=True)
class Criteria:
    """The list's query string, kept as given (the form shows it back) and checked against what exists."""

    values: dict[str, str]

    @classmethod
    def of(cls, source: Any) -> Criteria:
        values = {}
        for name in FILTER_FIELDS:
            given = source.get(name)
            if isinstance(given, str) and given.strip():
                values[name] = given.strip()[:64]
        return cls(values)

    def fleet_filter(self, ctx: Context) -> FleetFilter:
        v = self.values
        statuses = {s.value for s in ServiceStatus}
        return FleetFilter(
            q=v.get("q"),
            status=ServiceStatus(v["statut"]) if v.get("statut") in statuses else None,
            kind=PlanKind(v["type"]) if v.get("type") in {k.value for k in PlanKind} else None,
            radio=Radio(v["radio"]) if v.get("radio") in {r.value for r in Radio} else None,
            network=v["reseau"] if v.get("reseau") in {n.id for n in ctx.catalog.networks} else None,
        )

    @property
    def descending(self) -> bool:
        return self.values.get("tri") == "-msisdn"

    def query(self, **extra: str) -> str:
        return urlencode({**self.values, **extra})


def _list_page(
    request: Request,
    principal: Principal,
    criteria: Criteria,
    cursor: str | None,
    error: str | None = None,
    status: int = 200,
) -> Response:
    ctx = ctx_of(request)
    found = fleet_page(
        ctx, principal, criteria.fleet_filter(ctx), cursor=cursor, limit=PAGE_SIZE, descending=criteria.descending
    )
    following = f"{LIST}?{criteria.query(suite=found.next_cursor)}" if found.next_cursor else None
    return page(
        request,
        principal,
        "centre/fleet/services.html",
        status=status,
        views=found.views,
        criteria=criteria.values,
        following=following,
        first_page=cursor is None,
        export=f"{LIST}/export.csv?{criteria.query()}",
        restart=f"{LIST}?{criteria.query()}",
        names=names(ctx),
        networks=ctx.catalog.networks,
        apns=ctx.catalog.apns,
        sorts=SORTS,
        statuses=[s.value for s in ServiceStatus],
        error=error,
    )


@router.get("/services/mobile")
def services_list(request: Request, suite: str | None = None, principal: Principal = Depends(customer)) -> Response:
    criteria = Criteria.of(request.query_params)
    try:
        return _list_page(request, principal, criteria, suite)
    except DomainError as error:
        if error.code is not ErrorCode.VALIDATION_ERROR:
            raise
        return _list_page(request, principal, criteria, None, message(error), 422)  # a stale "suite": page 1


@router.get("/services/mobile/export.csv")
def services_export(request: Request, principal: Principal = Depends(customer)) -> Response:
    ctx = ctx_of(request)
    criteria = Criteria.of(request.query_params)
    batches = fleet_export(ctx, principal, criteria.fleet_filter(ctx), descending=criteria.descending)

    def body() -> Iterator[str]:
        yield csv_rows((), header=True)
        for views in batches:
            yield csv_rows(views)

    return StreamingResponse(
        body(),
        media_type="text/csv; charset=utf-8",
        headers={"Content-Disposition": 'attachment; filename="lignes.csv"'},
    )


# ---------------------------------------------------------------- batches


def _batch_changes(form: FormData) -> RequestedChanges:
    def given(name: str) -> str | None:
        value = form.get(name)
        return value.strip() if isinstance(value, str) and value.strip() else None

    radio = given("radio_cible")
    changes = RequestedChanges(
        radio=Radio(radio) if radio in {r.value for r in Radio} else None,
        network=given("reseau_cible"),
        apn=given("apn_cible"),
    )
    if not changes.as_dict():
        raise DomainError(
            ErrorCode.VALIDATION_ERROR,
            "Choisissez au moins une modification : technologie radio, opérateur (MNO) ou APN.",
        )
    return changes


def _chosen_lines(ctx: Context, principal: Principal, form: FormData) -> list[str]:
    """The lines ticked, or every line matching the list's filter when "toutes les lignes" is ticked."""
    if form.get("tout") == "1":
        criteria = Criteria.of(form)
        return [view.service.id for views in fleet_export(ctx, principal, criteria.fleet_filter(ctx)) for view in views]
    lines = [value for value in form.getlist("ligne") if isinstance(value, str)]
    if not lines:
        raise DomainError(
            ErrorCode.VALIDATION_ERROR, "Cochez au moins une ligne, ou « toutes les lignes correspondant au filtre »."
        )
    return lines


@router.post("/lots")
async def new_batch(request: Request, principal: Principal = Depends(customer)) -> Response:
    form = await request.form()
    ctx = ctx_of(request)

    def create(ctx: Context) -> ChangeBatch:
        changes = _batch_changes(form)
        return create_change_batch(ctx, principal, Channel.PORTAL, _chosen_lines(ctx, principal, form), changes)

    try:
        batch = await run_in_threadpool(run, ctx, create)
    except DomainError as error:
        text, status = shown(error)
        return await run_in_threadpool(_list_page, request, principal, Criteria.of(form), None, text, status)
    return see_other(f"{PREFIX}/lots/{batch.id}")


@dataclass(frozen=True, slots=True)
class Line:
    """A batch's line as the page shows it."""

    msisdn: str
    service_id: str
    status: str
    total: dict[str, str] | None
    reason: str | None


def _lines_of(ctx: Context, batch: ChangeBatch) -> list[Line]:
    with ctx.uow(write=False) as uow:
        services = uow.fleet.services([item.service_id for item in batch.items])
    return [
        Line(
            services[item.service_id].msisdn,
            item.service_id,
            item.status.value,
            item.quote["total"] if item.quote is not None else None,
            item.refusal_detail,
        )
        for item in batch.items
    ]


def _batch_page(
    request: Request, principal: Principal, batch: ChangeBatch, error: str | None = None, status: int = 200
) -> Response:
    ctx = ctx_of(request)
    lines = _lines_of(ctx, batch)
    counts = {state.value: sum(1 for line in lines if line.status == state.value) for state in ItemStatus}
    return page(
        request,
        principal,
        "centre/fleet/batch.html",
        status=status,
        batch=batch,
        lines=lines,
        counts=counts,
        retry=[line for line in lines if line.status in {s.value for s in RETRIED}],
        names=names(ctx),
        line_states=LINE_STATES,
        error=error,
    )


@router.get("/lots/{batch_id}")
def batch_page(request: Request, batch_id: str, principal: Principal = Depends(customer)) -> Response:
    return _batch_page(request, principal, get_change_batch(ctx_of(request), principal, batch_id))


@router.post("/lots/{batch_id}/confirmer")
def confirm_batch(
    request: Request, batch_id: str, password: str = Form(default=""), principal: Principal = Depends(customer)
) -> Response:
    portal = portal_of(request)
    ctx = portal.ctx
    get_change_batch(ctx, principal, batch_id)  # another account's batch is "not found" before the password
    try:
        with portal.throttle.confirmation(principal.id, client_address(request)):
            confirm_change_batch(ctx, principal, Channel.PORTAL, batch_id, password)
    except DomainError as error:
        return _batch_page(request, principal, get_change_batch(ctx, principal, batch_id), *shown(error))
    return see_other(f"{PREFIX}/lots/{batch_id}")


@router.post("/lots/{batch_id}/relancer")
def retry_batch(request: Request, batch_id: str, principal: Principal = Depends(customer)) -> Response:
    """The lines refused or failed, quoted again as a new batch with the same change."""
    ctx = ctx_of(request)
    batch = get_change_batch(ctx, principal, batch_id)
    lines = [item.service_id for item in batch.items if item.status in RETRIED]
    changes = RequestedChanges.from_dict(batch.changes)
    try:
        again = run(ctx, lambda c: create_change_batch(c, principal, Channel.PORTAL, lines, changes))
    except DomainError as error:
        return _batch_page(request, principal, batch, *shown(error))
    return see_other(f"{PREFIX}/lots/{again.id}")


@router.post("/lots/{batch_id}/annuler")
def cancel_batch(request: Request, batch_id: str, principal: Principal = Depends(customer)) -> Response:
    run(ctx_of(request), lambda c: cancel_change_batch(c, principal, Channel.PORTAL, batch_id))
    return see_other(f"{PREFIX}/lots/{batch_id}")


# ---------------------------------------------------------------- usage of a line

CHART_HEIGHT = 60
BAR_WIDTH = 10
BAR_GAP = 4


@dataclass(frozen=True, slots=True)
class Bar:
    x: int
    y: float
    height: float
    label: str
    day_number: int


@dataclass(frozen=True, slots=True)
class Chart:
    width: int
    height: int
    bars: list[Bar]
    peak: int


def daily_chart(usage: DailyUsage) -> Chart:
    """One bar per calendar day of the period, its height proportional to the day's bytes (the busiest day is the
    chart's full height); each bar says its day and volume."""
    peak = max((used for _, used in usage.days), default=0)
    bars = []
    for index, (when, used) in enumerate(usage.days):
        height = round(CHART_HEIGHT * used / peak, 1) if peak else 0.0
        bars.append(
            Bar(
                index * (BAR_WIDTH + BAR_GAP),
                round(CHART_HEIGHT - height, 1),
                height,
                f"{day(when)} : {volume(used)}",
                when.day,
            )
        )
    return Chart(len(bars) * (BAR_WIDTH + BAR_GAP) - BAR_GAP, CHART_HEIGHT, bars, peak)


@router.get("/services/mobile/{service_id}/consommation")
def usage_page(request: Request, service_id: str, principal: Principal = Depends(customer)) -> Response:
    ctx = ctx_of(request)
    view: ServiceView = get_service(ctx, principal, service_id)
    usage = usage_by_day(ctx, principal, service_id, None)
    statement = account_charges(ctx, principal, queries.account_of(ctx, principal).id, usage.period)
    purchases = [
        line for line in statement.lines if line.service_id == service_id and line.kind in ("topup", "extension")
    ]
    return page(
        request,
        principal,
        "centre/fleet/usage.html",
        view=view,
        usage=usage,
        chart=daily_chart(usage),
        purchases=purchases,
        names=names(ctx),
    )
