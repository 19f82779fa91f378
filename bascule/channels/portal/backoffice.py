"""Operator back office: find an account, a service or a subscriber; read its audit trail, its requests,
and the catalogue. Logging in takes the operator token; the session then holds a server-side token
whose principal id is a fingerprint of that operator token, so changing the token ends every session."""

from __future__ import annotations

import hashlib
import hmac
from typing import Any

from fastapi import APIRouter, Depends, Form, Request
from fastapi.responses import Response

from bascule.billing.usecases import account_charges
from bascule.catalog.model import GIB
from bascule.channels.login_throttle import login_status
from bascule.channels.portal import queries
from bascule.channels.portal.backoffice_audit import readable
from bascule.channels.portal.sessions import BACKOFFICE, PortalSession
from bascule.channels.portal.web import (
    Portal,
    PortalRoute,
    client_address,
    ctx_of,
    log_out,
    portal_of,
    portal_session,
    principal_in,
    render,
    safe_next,
    see_other,
)
from bascule.channels.security import is_operator_token
from bascule.channels.statuses import STATUS
from bascule.commands.runner import run
from bascule.context import Context
from bascule.evolutions.services import get_service, list_services
from bascule.evolutions.usecases import get_change_request, list_change_requests
from bascule.identity.model import OPERATOR, Channel, Principal, PrincipalKind, StaffRole
from bascule.identity.usecases import (
    IssuedToken,
    account_details,
    create_staff,
    login_staff,
    open_operator_session,
)
from bascule.kernel.calendar import Period, zone
from bascule.kernel.errors import DomainError, ErrorCode
from bascule.kernel.messages_fr import message
from bascule.operations.catalogue import override_catalogue, overrides_in_force
from bascule.persistence.uow import UnitOfWork
from bascule.settings import Settings

PREFIX = "/back-office"
router = APIRouter(prefix=PREFIX, route_class=PortalRoute, include_in_schema=False)
OPERATOR_KIND = PrincipalKind.OPERATOR.value
SIMULATOR = "/simulateur-ussd"


def fingerprint(settings: Settings) -> str | None:
    if settings.admin_token is None or not settings.admin_token.get_secret_value():
        return None
    secret = settings.admin_token.get_secret_value().encode()
    return "op-" + hmac.new(b"bascule.backoffice.session", secret, hashlib.sha256).hexdigest()[:40]


def register_operator_sessions(settings: Settings, ctx: Context) -> None:
    """Let `authenticate` resolve back-office session tokens while the operator token is unchanged."""
    expected = fingerprint(settings)

    def resolve(uow: UnitOfWork, principal_id: str) -> Principal:
        if expected is None or not hmac.compare_digest(principal_id.encode(), expected.encode()):
            raise DomainError(ErrorCode.UNAUTHENTICATED)
        return OPERATOR

    ctx.features.principal_resolvers[OPERATOR_KIND] = resolve


STAFF_KINDS = (PrincipalKind.OPERATOR, PrincipalKind.STAFF)


def operator(request: Request, session: PortalSession = Depends(portal_session)) -> Principal:
    """The operator's token holder or a member of its staff; the page shows who."""
    principal = principal_in(request, session, BACKOFFICE, STAFF_KINDS)
    request.state.backoffice_actor = principal
    return principal


def supervisor(request: Request, actor: Principal = Depends(operator)) -> Principal:
    actor.require_supervisor()
    return actor


def operator_session(request: Request, session: PortalSession) -> bool:
    """Whether this visitor is logged in to the back office (for pages outside it)."""
    try:
        principal_in(request, session, BACKOFFICE, STAFF_KINDS)
    except DomainError:
        return False
    return True


def _next(value: str | None) -> str:
    if value == SIMULATOR:
        return value
    return safe_next(value, BACKOFFICE)


@router.get("/connexion")
def login_form(
    request: Request, suite: str | None = None, session: PortalSession = Depends(portal_session)
) -> Response:
    closed = fingerprint(portal_of(request).settings) is None
    return render(request, "backoffice/login.html", error=None, closed=closed, suite=_next(suite), email="")


@router.post("/connexion")
def login(
    request: Request,
    email: str = Form(default=""),
    password: str = Form(default=""),
    token: str = Form(default=""),
    suite: str = Form(default=""),
    session: PortalSession = Depends(portal_session),
) -> Response:
    """An agent or a supervisor with their e-mail and password (throttled as a customer's login is), or the
    operator's token, which stays for machines."""
    portal = portal_of(request)
    address = client_address(request)
    try:
        issued = (
            _staff_login(portal, email, password, address) if email.strip() else _token_login(portal, token, address)
        )
    except DomainError as error:
        return render(
            request,
            "backoffice/login.html",
            status=login_status(error),
            error=message(error),
            closed=fingerprint(portal.settings) is None,
            suite=_next(suite),
            email=email,
        )
    session.log_in(BACKOFFICE, issued.token)
    return see_other(_next(suite))


def _staff_login(portal: Portal, email: str, password: str, address: str) -> IssuedToken:
    with portal.throttle.attempt(BACKOFFICE, email, address):
        return run(portal.ctx, lambda ctx: login_staff(ctx, email, password, Channel.BACKOFFICE))


def _token_login(portal: Portal, token: str, address: str) -> IssuedToken:
    expected = fingerprint(portal.settings)
    with portal.throttle.attempt(BACKOFFICE, "operateur", address):
        if expected is None or not is_operator_token(portal.settings, token.strip()):
            raise DomainError(ErrorCode.UNAUTHENTICATED, "Jeton opérateur incorrect.")
    return run(portal.ctx, lambda ctx: open_operator_session(ctx, expected, address))


@router.post("/deconnexion")
def logout(request: Request, session: PortalSession = Depends(portal_session)) -> Response:
    return log_out(request, session, BACKOFFICE, "Vous êtes déconnecté du back-office.")


@router.get("/")
def home(request: Request, q: str = "", actor: Principal = Depends(operator)) -> Response:
    ctx = ctx_of(request)
    hits = queries.search(ctx, actor, q[:100]) if q.strip() else None
    with ctx.uow(write=False) as uow:
        accounts = uow.accounts.all()
        subscribers = uow.subscribers.all()
    return render(
        request,
        "backoffice/home.html",
        q=q,
        hits=hits,
        accounts=accounts,
        subscriber_count=len(subscribers),
        catalog=ctx.catalog,
    )


@router.get("/comptes/{account_id}")
def account_page(request: Request, account_id: str, actor: Principal = Depends(operator)) -> Response:
    ctx = ctx_of(request)
    account = queries.account(ctx, account_id)
    services = list_services(ctx, actor, account_id)
    changes = [r for r in list_change_requests(ctx, actor, None, None) if r.account_id == account_id]
    statement = account_charges(ctx, actor, account_id, Period.at(ctx.clock.now(), zone(account.timezone)))
    return render(
        request,
        "backoffice/account.html",
        account=account,
        users=queries.users_of(ctx, actor, account_id),
        services=services,
        changes=changes,
        statement=statement,
        tz=zone(account.timezone),
        trail=readable(ctx, queries.audit_trail(ctx, actor, "account", account_id)),
        names=_names(ctx),
        catalog=ctx.catalog,
        billing_address=account_details(ctx, actor, account_id).billing_address,
    )


@router.get("/services/{service_id}")
def service_page(request: Request, service_id: str, actor: Principal = Depends(operator)) -> Response:
    ctx = ctx_of(request)
    view = get_service(ctx, actor, service_id)
    account = queries.account(ctx, view.service.account_id)
    plans = [
        plan for plan in ctx.catalog.plans if plan.kind is view.plan.kind and (plan.on_sale or plan.id == view.plan.id)
    ]
    return render(
        request,
        "backoffice/service.html",
        view=view,
        account=account,
        tz=zone(account.timezone),
        changes=list_change_requests(ctx, actor, service_id, None),
        names=_names(ctx),
        catalog=ctx.catalog,
        plans=plans,
        GIB=GIB,
        trail=readable(ctx, queries.audit_trail(ctx, actor, "service", service_id)),
    )


@router.get("/demandes/{request_id}")
def request_page(request: Request, request_id: str, actor: Principal = Depends(operator)) -> Response:
    ctx = ctx_of(request)
    found = get_change_request(ctx, actor, request_id)
    account = queries.account(ctx, found.account_id)
    view = get_service(ctx, actor, found.service_id)
    return render(
        request,
        "backoffice/request.html",
        change=found,
        account=account,
        view=view,
        tz=zone(account.timezone),
        names=_names(ctx),
        trail=readable(ctx, queries.audit_trail(ctx, actor, "change_request", request_id)),
    )


@router.get("/abonnes/{msisdn}")
def subscriber_page(request: Request, msisdn: str, actor: Principal = Depends(operator)) -> Response:
    from bascule.prepaid.usecases import list_migrations, list_notifications, profile_options, subscriber_summary

    ctx = ctx_of(request)
    summary = subscriber_summary(ctx, actor, msisdn)
    return render(
        request,
        "backoffice/subscriber.html",
        summary=summary,
        tz=zone(summary.subscriber.timezone),
        options=profile_options(ctx, actor, msisdn),
        migrations=list_migrations(ctx, actor, msisdn),
        notifications=list_notifications(ctx, actor, msisdn),
        profiles={p.id: p.name for p in ctx.catalog.profiles},
        trail=readable(ctx, queries.audit_trail(ctx, actor, "subscriber", msisdn)),
    )


@router.get("/equipe")
def team_page(request: Request, actor: Principal = Depends(supervisor)) -> Response:
    return _team(request, None, {})


def _team(request: Request, error: str | None, values: dict[str, str], status: int = 200) -> Response:
    with ctx_of(request).uow(write=False) as uow:
        members = uow.staff.all()
    return render(request, "backoffice/team.html", status=status, members=members, error=error, values=values)


@router.post("/equipe")
def create_team_member(
    request: Request,
    email: str = Form(default=""),
    name: str = Form(default=""),
    password: str = Form(default=""),
    role: str = Form(default=""),
    actor: Principal = Depends(supervisor),
    session: PortalSession = Depends(portal_session),
) -> Response:
    ctx = ctx_of(request)
    try:
        wanted = StaffRole(role)
    except ValueError:
        return _team(request, "Choisissez un rôle : agent ou superviseur.", {"email": email, "name": name}, 422)
    try:
        member = run(ctx, lambda c: create_staff(c, actor, Channel.BACKOFFICE, email, name, password, wanted))
    except DomainError as error:
        return _team(request, message(error), {"email": email, "name": name}, STATUS.get(error.code, 422))
    session.say(f"Accès créé pour {member.name} ({member.email}).")
    return see_other(f"{PREFIX}/equipe")


@router.get("/catalogue")
def catalogue(request: Request, actor: Principal = Depends(operator)) -> Response:
    return _catalogue(request, actor, None)


def _catalogue(request: Request, actor: Principal, error: str | None, status: int = 200) -> Response:
    ctx = ctx_of(request)
    overrides = overrides_in_force(ctx, actor)
    return render(
        request,
        "backoffice/catalogue.html",
        status=status,
        catalog=ctx.catalog,
        error=error,
        overrides=overrides,
        changed={(o.kind.value, o.entry_id, o.field.value) for o in overrides},
        may_change=_is_supervisor(actor),
        tz=zone(ctx.catalog.b2b.timezone),
    )


def _is_supervisor(actor: Principal) -> bool:
    try:
        actor.require_supervisor()
    except DomainError:
        return False
    return True


@router.post("/catalogue")
def override_catalogue_entry(
    request: Request,
    kind: str = Form(default=""),
    entry: str = Form(default=""),
    field: str = Form(default=""),
    value: str = Form(default=""),
    actor: Principal = Depends(operator),
    session: PortalSession = Depends(portal_session),
) -> Response:
    """A supervisor's override of one value of the catalogue; an agent is refused (403) and nothing changes."""
    ctx = ctx_of(request)
    try:
        changed = run(ctx, lambda c: override_catalogue(c, actor, Channel.BACKOFFICE, kind, entry, field, value))
    except DomainError as error:
        return _catalogue(request, actor, message(error), STATUS.get(error.code, 422))
    session.say(
        "Catalogue modifié : c'est en vigueur sur tous les canaux."
        if changed
        else "Rien à changer : c'était déjà la valeur en vigueur."
    )
    return see_other(f"{PREFIX}/catalogue")


def _names(ctx: Context) -> dict[str, dict[str, str]]:
    return {
        "network": {n.id: n.name for n in ctx.catalog.networks},
        "apn": {a.id: a.name for a in ctx.catalog.apns},
        "plan": {p.id: p.name for p in ctx.catalog.plans},
    }


@router.get("/{rest:path}")
def not_found(rest: str, session: PortalSession = Depends(portal_session)) -> Any:
    raise DomainError(ErrorCode.NOT_FOUND)
