"""Centre d'Opérations (Line A): a business customer's services, change requests and charges.

Every action calls the same use case as the REST API; the routes only turn forms into commands
and results (or refusals) into pages.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from fastapi import APIRouter, Depends, Form, Request
from fastapi.responses import Response
from starlette.concurrency import run_in_threadpool
from starlette.datastructures import FormData

from bascule.billing.billrun import invoice_document, invoices_of
from bascule.billing.usecases import account_charges
from bascule.catalog.model import GIB, Plan, PlanKind, Radio
from bascule.channels.documents.invoice import invoice_body_html, invoice_css, invoice_pdf
from bascule.channels.forms import changed_only
from bascule.channels.login_throttle import login_status
from bascule.channels.portal import queries
from bascule.channels.portal.formatting import volume
from bascule.channels.portal.sessions import CENTRE, PortalSession
from bascule.channels.portal.web import (
    PortalRoute,
    client_address,
    ctx_of,
    log_out,
    may_change,
    portal_of,
    portal_session,
    principal_in,
    render,
    safe_next,
    see_other,
    shown,
)
from bascule.commands.runner import run
from bascule.context import Context
from bascule.evolutions.lifecycle import RequestStatus
from bascule.evolutions.model import ChangeRequest
from bascule.evolutions.purchases import (
    Purchase,
    buy_pack,
    cycle_purchases,
    purchase_kind,
    purchase_offers,
)
from bascule.evolutions.rules import ChargeKind, RequestedChanges
from bascule.evolutions.services import ServiceView, get_service, list_services
from bascule.evolutions.usecases import (
    await_networks,
    cancel_change_request,
    confirm_change_request,
    create_change_request,
    get_change_request,
    list_change_requests,
)
from bascule.identity.model import Channel, Principal, PrincipalKind
from bascule.identity.usecases import login_user
from bascule.kernel.calendar import Period, zone
from bascule.kernel.errors import DomainError, ErrorCode
from bascule.kernel.messages_fr import message
from bascule.notifications.wording import change_in_words

PREFIX = "/centre-operations"
router = APIRouter(prefix=PREFIX, route_class=PortalRoute, include_in_schema=False)

# The change forms: which parts of a change request each one shows.
FORMS: dict[str, dict[str, Any]] = {
    "evolution": {"title": "Faire évoluer le Service", "sections": ("volume", "radio", "ceiling")},
    "apn": {"title": "Modifier l'APN", "sections": ("apn",)},
    "mno": {"title": "Modifier le MNO", "sections": ("network",)},
    "plafond": {"title": "Modifier le plafond", "sections": ("ceiling",)},
    "demande": {"title": "Créer une demande", "sections": ("volume", "radio", "ceiling", "apn", "network")},
}


def customer(request: Request, session: PortalSession = Depends(portal_session)) -> Principal:
    return principal_in(request, session, CENTRE, (PrincipalKind.USER,))


@dataclass(frozen=True, slots=True)
class Who:
    principal: Principal
    account_name: str
    email: str
    role: str
    can_change: bool
    tz: Any


def who(request: Request, principal: Principal) -> Who:
    ctx = ctx_of(request)
    account = queries.account_of(ctx, principal)
    user = queries.user(ctx, principal.id)
    return Who(
        principal,
        account.name,
        user.email if user else "",
        principal.role.value if principal.role else "",
        may_change(principal),
        zone(account.timezone),
    )


def page(request: Request, principal: Principal, template: str, status: int = 200, **values: Any) -> Response:
    return render(request, template, status=status, who=who(request, principal), **values)


# ---------------------------------------------------------------- login


@router.get("/connexion")
def login_form(
    request: Request, suite: str | None = None, session: PortalSession = Depends(portal_session)
) -> Response:
    return render(request, "centre/login.html", email="", error=None, suite=safe_next(suite, CENTRE))


@router.post("/connexion")
def login(
    request: Request,
    email: str = Form(default=""),
    password: str = Form(default=""),
    suite: str = Form(default=""),
    session: PortalSession = Depends(portal_session),
) -> Response:
    portal = portal_of(request)
    address = client_address(request)
    try:
        with portal.throttle.attempt(CENTRE, email, address):
            issued = run(portal.ctx, lambda ctx: login_user(ctx, email, password, Channel.PORTAL))
    except DomainError as error:
        return render(
            request,
            "centre/login.html",
            status=login_status(error),
            email=email,
            error=message(error),
            suite=safe_next(suite, CENTRE),
        )
    session.log_in(CENTRE, issued.token)
    return see_other(safe_next(suite, CENTRE))


@router.post("/deconnexion")
def logout(request: Request, session: PortalSession = Depends(portal_session)) -> Response:
    return log_out(request, session, CENTRE, "Vous êtes déconnecté.")


# ---------------------------------------------------------------- home, services


@router.get("/")
def home(request: Request, principal: Principal = Depends(customer)) -> Response:
    ctx = ctx_of(request)
    services = list_services(ctx, principal, None)
    waiting = list_change_requests(ctx, principal, None, RequestStatus.AWAITING_CONFIRMATION)
    return page(request, principal, "centre/home.html", services=services, waiting=waiting)


@router.get("/services")
def active_services(request: Request, principal: Principal = Depends(customer)) -> Response:
    services = list_services(ctx_of(request), principal, None)
    return page(request, principal, "centre/services.html", services=services)


def names(ctx: Context) -> dict[str, dict[str, str]]:
    return {
        "network": {n.id: n.name for n in ctx.catalog.networks},
        "apn": {a.id: a.name for a in ctx.catalog.apns},
        "plan": {p.id: p.name for p in ctx.catalog.plans},
    }


@router.get("/services/mobile/{service_id}")
def service_page(request: Request, service_id: str, principal: Principal = Depends(customer)) -> Response:
    ctx = ctx_of(request)
    view = get_service(ctx, principal, service_id)
    requests = list_change_requests(ctx, principal, service_id, None)
    return page(
        request,
        principal,
        "centre/service.html",
        view=view,
        names=names(ctx),
        requests=requests,
        purchases=cycle_purchases(ctx, principal, view),
        month_refusal=refusal_text(view),
    )


def refusal_text(view: ServiceView) -> str | None:
    """The use case's own refusal, said before any form when the line's monthly slot is used."""
    return message(view.month_refusal) if view.month_refusal is not None else None


@router.get("/services/mobile/{service_id}/gerer")
def manage_service(request: Request, service_id: str, principal: Principal = Depends(customer)) -> Response:
    ctx = ctx_of(request)
    view = get_service(ctx, principal, service_id)
    principal.require_change_right()
    return page(
        request,
        principal,
        "centre/manage.html",
        view=view,
        names=names(ctx),
        mno_fee=ctx.catalog.fee_for_item("network"),
        month_refusal=refusal_text(view),
        purchase_kind=purchase_kind(view.plan.kind).value,
    )


# ---------------------------------------------------------------- top-ups and extensions


def _purchase_page(
    request: Request,
    principal: Principal,
    service_id: str,
    chosen_id: str | None,
    error: str | None = None,
    status: int = 200,
) -> Response:
    ctx = ctx_of(request)
    view = get_service(ctx, principal, service_id)
    principal.require_change_right()
    offers = purchase_offers(ctx, view)
    chosen_offer = next((offer for offer in offers if offer.pack.id == chosen_id), None)
    return page(
        request,
        principal,
        "centre/purchase.html",
        status=status,
        view=view,
        offers=offers,
        chosen=chosen_offer,
        kind=purchase_kind(view.plan.kind).value,
        error=error,
    )


@router.get("/services/mobile/{service_id}/achat")
def purchase_form(
    request: Request, service_id: str, offre: str | None = None, principal: Principal = Depends(customer)
) -> Response:
    return _purchase_page(request, principal, service_id, offre)


@router.post("/services/mobile/{service_id}/achat")
def purchase(
    request: Request,
    service_id: str,
    offre: str = Form(default=""),
    password: str = Form(default=""),
    principal: Principal = Depends(customer),
    session: PortalSession = Depends(portal_session),
) -> Response:
    portal = portal_of(request)
    ctx = portal.ctx
    view = get_service(ctx, principal, service_id)
    try:
        with portal.throttle.confirmation(principal.id, client_address(request)):
            bought = run(
                ctx,
                lambda c: buy_pack(
                    c, principal, Channel.PORTAL, service_id, purchase_kind(view.plan.kind), offre, password
                ),
            )
    except DomainError as error:
        return _purchase_page(request, principal, service_id, offre, *shown(error))
    session.say(purchase_summary(bought))
    return see_other(f"{PREFIX}/services/mobile/{service_id}")


def purchase_summary(bought: Purchase) -> str:
    """What the customer is told once a pack is bought: what, for how much, and the line's quota now."""
    after = "Quota data désormais" if bought.kind is ChargeKind.TOPUP else "Plafond du cycle désormais"
    return (
        f"« {bought.pack.name} » acheté sur la ligne {bought.service.service.msisdn} : "
        f"{bought.pack.price.french()} HT, ajoutés aux charges du mois. "
        f"{after} : {volume(bought.service.quota.total_bytes)}."
    )


# ---------------------------------------------------------------- change forms


def offered_plans(ctx: Context, current: Plan) -> list[Plan]:
    """What a line may move to: the plans on sale, and its own (which it keeps even once withdrawn)."""
    return [p for p in ctx.catalog.plans if p.on_sale or p.id == current.id]


def volumes(ctx: Context, plan: Plan) -> list[dict[str, Any]]:
    """The monthly volumes of the service's kind, with each radio's price."""
    found: dict[int, dict[str, Any]] = {}
    for candidate in offered_plans(ctx, plan):
        if candidate.kind is not plan.kind or candidate.data_bytes is None:
            continue
        entry = found.setdefault(candidate.data_bytes, {"bytes": candidate.data_bytes, "prices": []})
        entry["prices"].append((candidate.radio.value, candidate.price))
    for entry in found.values():
        entry["prices"].sort()
    return [found[key] for key in sorted(found)]


def form_context(ctx: Context, view: ServiceView, kind: str) -> dict[str, Any]:
    spec = FORMS[kind]
    sections = [
        s
        for s in spec["sections"]
        if not (s == "ceiling" and view.plan.kind is not PlanKind.METERED)
        and not (s == "volume" and view.plan.kind is not PlanKind.BUNDLE)
    ]
    step = view.plan.ceiling_step_bytes or GIB
    return {
        "kind": kind,
        "title": spec["title"],
        "sections": sections,
        "view": view,
        "names": names(ctx),
        "volumes": volumes(ctx, view.plan),
        "radios": sorted({p.radio.value for p in offered_plans(ctx, view.plan) if p.kind is view.plan.kind}),
        "networks": ctx.catalog.networks,
        "apns": ctx.catalog.apns,
        "mno_fee": ctx.catalog.fee_for_item("network"),
        "ceiling_step_go": step // GIB if step % GIB == 0 else None,
        "ceiling_max_go": (view.plan.max_ceiling_bytes or 0) // GIB or None,
        "action": None,
    }


def chosen(form: FormData, view: ServiceView) -> dict[str, str]:
    current_ceiling = view.service.ceiling_bytes
    values = {
        "volume": str(view.plan.data_bytes or ""),
        "radio": view.plan.radio.value,
        "apn": view.service.apn,
        "network": view.service.network,
        "ceiling_go": str(current_ceiling // GIB) if current_ceiling else "",
    }
    for key in values:
        given = form.get(key)
        if isinstance(given, str) and given.strip():
            values[key] = given.strip()
    return values


def _number(text: str, what: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise DomainError(ErrorCode.VALIDATION_ERROR, f"{what} : indiquez un nombre entier.") from None
    return value


def changes_from(ctx: Context, view: ServiceView, values: dict[str, str]) -> RequestedChanges:
    """The form's choices as the command the API takes (`changed_only`): a bundle's new volume is a plan on the
    radio chosen, else the radio alone changes."""
    plan = view.plan
    radio = Radio(values["radio"]) if values["radio"] in {r.value for r in Radio} else plan.radio
    plan_id: str | None = None
    radio_change: Radio | None = None
    if plan.kind is PlanKind.BUNDLE and values["volume"] and _number(values["volume"], "Volume") != plan.data_bytes:
        plan_id = ctx.catalog.plan_by_volume(plan.kind, _number(values["volume"], "Volume"), radio).id
    else:
        radio_change = radio
    ceiling: int | None = None
    if plan.kind is PlanKind.METERED and values["ceiling_go"]:
        ceiling = _number(values["ceiling_go"], "Plafond") * GIB
    wanted = RequestedChanges(
        plan_id=plan_id, radio=radio_change, apn=values["apn"], network=values["network"], ceiling_bytes=ceiling
    )
    return changed_only(wanted, view.service, plan)


def _form_page(
    request: Request,
    principal: Principal,
    service_id: str,
    kind: str,
    form: FormData | None,
    error: str | None = None,
    status: int = 200,
    action: str | None = None,
) -> Response:
    ctx = ctx_of(request)
    view = get_service(ctx, principal, service_id)
    principal.require_change_right()
    if kind == "plafond" and view.plan.kind is not PlanKind.METERED:
        raise DomainError(ErrorCode.NOT_APPLICABLE)
    values = form_context(ctx, view, kind)
    values["action"] = action or f"{PREFIX}/services/mobile/{service_id}/{kind}"
    values["back"] = (
        f"{PREFIX}/demandes/nouvelle" if kind == "demande" else f"{PREFIX}/services/mobile/{service_id}/gerer"
    )
    return page(
        request,
        principal,
        "centre/change_form.html",
        status=status,
        values=chosen(form or FormData(), view),
        error=error,
        **values,
    )


async def _submit(
    request: Request, principal: Principal, service_id: str, kind: str, action: str | None = None
) -> Response:
    form = await request.form()
    ctx = ctx_of(request)

    def create(c: Context) -> ChangeRequest:
        view = get_service(c, principal, service_id)
        return create_change_request(
            c, principal, Channel.PORTAL, service_id, changes_from(c, view, chosen(form, view))
        )

    try:
        created = await run_in_threadpool(run, ctx, create)
    except DomainError as error:
        text, status = shown(error)
        return await run_in_threadpool(_form_page, request, principal, service_id, kind, form, text, status, action)
    return see_other(f"{PREFIX}/demandes/{created.id}")


def _form_routes(kind: str) -> None:
    def show(request: Request, service_id: str, principal: Principal = Depends(customer)) -> Response:
        return _form_page(request, principal, service_id, kind, None)

    async def submit(request: Request, service_id: str, principal: Principal = Depends(customer)) -> Response:
        return await _submit(request, principal, service_id, kind)

    router.add_api_route(f"/services/mobile/{{service_id}}/{kind}", show, methods=["GET"], name=f"centre_{kind}")
    router.add_api_route(
        f"/services/mobile/{{service_id}}/{kind}", submit, methods=["POST"], name=f"centre_{kind}_submit"
    )


for _kind in ("evolution", "apn", "mno", "plafond"):
    _form_routes(_kind)


# ---------------------------------------------------------------- change requests


@router.get("/demandes")
def requests_page(request: Request, principal: Principal = Depends(customer)) -> Response:
    ctx = ctx_of(request)
    services = {view.service.id: view for view in list_services(ctx, principal, None)}
    found = list_change_requests(ctx, principal, None, None)
    return page(request, principal, "centre/requests.html", requests=found, services=services, names=names(ctx))


@router.get("/demandes/nouvelle")
def new_request(request: Request, service: str | None = None, principal: Principal = Depends(customer)) -> Response:
    principal.require_change_right()
    ctx = ctx_of(request)
    if service:
        get_service(ctx, principal, service)  # 404 for a service that is not the customer's
        return see_other(f"{PREFIX}/demandes/nouvelle/{service}")
    services = list_services(ctx, principal, None)
    return page(request, principal, "centre/choose_service.html", services=services, names=names(ctx))


@router.get("/demandes/nouvelle/{service_id}")
def new_request_form(request: Request, service_id: str, principal: Principal = Depends(customer)) -> Response:
    return _form_page(
        request, principal, service_id, "demande", None, action=f"{PREFIX}/demandes/nouvelle/{service_id}"
    )


@router.post("/demandes/nouvelle/{service_id}")
async def new_request_submit(request: Request, service_id: str, principal: Principal = Depends(customer)) -> Response:
    return await _submit(request, principal, service_id, "demande", action=f"{PREFIX}/demandes/nouvelle/{service_id}")


def _request_page(
    request: Request, principal: Principal, found: ChangeRequest, error: str | None = None, status: int = 200
) -> Response:
    ctx = ctx_of(request)
    view = get_service(ctx, principal, found.service_id)
    template = (
        "centre/request_quote.html"
        if found.status is RequestStatus.AWAITING_CONFIRMATION
        else "centre/request_result.html"
    )
    return page(
        request,
        principal,
        template,
        status=status,
        change=found,
        view=view,
        names=names(ctx),
        error=error,
        in_words=change_in_words(found.changes, ctx.catalog),
    )


@router.get("/demandes/{request_id}")
def request_page(request: Request, request_id: str, principal: Principal = Depends(customer)) -> Response:
    return _request_page(request, principal, get_change_request(ctx_of(request), principal, request_id))


@router.post("/demandes/{request_id}/confirmer")
def confirm(
    request: Request, request_id: str, password: str = Form(default=""), principal: Principal = Depends(customer)
) -> Response:
    portal = portal_of(request)
    ctx = portal.ctx
    found = get_change_request(ctx, principal, request_id)
    try:
        with portal.throttle.confirmation(principal.id, client_address(request)):
            confirmed = run(ctx, lambda c: confirm_change_request(c, principal, Channel.PORTAL, request_id, password))
    except DomainError as error:
        text, status = shown(error)
        return _request_page(request, principal, get_change_request(ctx, principal, request_id), text, status)
    await_networks(ctx, confirmed)
    return see_other(f"{PREFIX}/demandes/{found.id}")


@router.post("/demandes/{request_id}/annuler")
def cancel(
    request: Request,
    request_id: str,
    principal: Principal = Depends(customer),
    session: PortalSession = Depends(portal_session),
) -> Response:
    run(ctx_of(request), lambda c: cancel_change_request(c, principal, Channel.PORTAL, request_id))
    session.say("La demande a été annulée : rien n'a été modifié ni facturé.")
    return see_other(f"{PREFIX}/demandes")


# ---------------------------------------------------------------- charges


@router.get("/charges")
def charges(request: Request, periode: str | None = None, principal: Principal = Depends(customer)) -> Response:
    ctx = ctx_of(request)
    account = queries.account_of(ctx, principal)
    current = Period.at(ctx.clock.now(), zone(account.timezone))
    try:
        wanted = Period.parse(periode) if periode else current
    except ValueError:
        wanted = current
    wanted = min(wanted, current)
    statement = account_charges(ctx, principal, account.id, wanted)
    services = {view.service.id: view for view in list_services(ctx, principal, None)}
    return page(
        request,
        principal,
        "centre/charges.html",
        statement=statement,
        services=services,
        previous=statement.period.previous(),
        following=statement.period.next() if wanted < current else None,
    )


# ---------------------------------------------------------------- invoices


@router.get("/factures")
def invoices_page(request: Request, principal: Principal = Depends(customer)) -> Response:
    ctx = ctx_of(request)
    account = queries.account_of(ctx, principal)
    return page(request, principal, "centre/invoices.html", invoices=invoices_of(ctx, principal, account.id))


@router.get("/factures/facture.css")
def invoice_style(session: PortalSession = Depends(portal_session)) -> Response:
    """The PDF's own style sheet, so that the invoice page reads like the PDF."""
    return Response(invoice_css(), media_type="text/css", headers={"Cache-Control": "public, max-age=3600"})


@router.get("/factures/{invoice_id}")
def invoice_page(request: Request, invoice_id: str, principal: Principal = Depends(customer)) -> Response:
    ctx = ctx_of(request)
    document = invoice_document(ctx, principal, invoice_id)
    return page(
        request,
        principal,
        "centre/invoice.html",
        invoice=document.invoice,
        body=invoice_body_html(document, ctx.catalog),
    )


@router.get("/factures/{invoice_id}/pdf")
def invoice_download(request: Request, invoice_id: str, principal: Principal = Depends(customer)) -> Response:
    ctx = ctx_of(request)
    document = invoice_document(ctx, principal, invoice_id)
    return Response(
        invoice_pdf(document, ctx.catalog),
        media_type="application/pdf",
        headers={"Content-Disposition": f'attachment; filename="facture-{document.invoice.number}.pdf"'},
    )


# Last: any other address under the prefix is a French "not found" page (routes match in order).
@router.get("/{rest:path}")
def not_found(rest: str, session: PortalSession = Depends(portal_session)) -> Response:
    raise DomainError(ErrorCode.NOT_FOUND)
