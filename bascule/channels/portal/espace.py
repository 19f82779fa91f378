"""Espace client (Line B): a prepaid subscriber logs in with a one-time code, reads « Mon profil »
and changes profile. Every step calls the prepaid use cases, as the REST API and USSD do.

In the demo (`serve --demo`) no SMS leaves the machine: « SMS envoyés » (`/espace-client/sms`) shows the
outbox's SMS, one-time codes included, so that a visitor can log in. Outside the demo that page does not exist.
"""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Depends, Form, Request
from fastapi.responses import Response

from bascule.catalog.model import BonusKind
from bascule.channels.login_throttle import login_status
from bascule.channels.portal import formatting
from bascule.channels.portal.sessions import ESPACE, PortalSession
from bascule.channels.portal.web import (
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
from bascule.channels.statuses import STATUS
from bascule.commands.runner import run
from bascule.identity.model import SYSTEM, Channel, Principal, PrincipalKind
from bascule.kernel.calendar import zone
from bascule.kernel.errors import DomainError, ErrorCode
from bascule.kernel.messages_fr import message
from bascule.kernel.money import from_minor
from bascule.kernel.msisdn import normalise_msisdn
from bascule.notifications.senders import SMS
from bascule.prepaid.model import BonusBucket
from bascule.prepaid.usecases import (
    list_migrations,
    list_notifications,
    login_subscriber,
    migrate_profile,
    profile_options,
    request_otp,
    subscriber_summary,
)

PREFIX = "/espace-client"
router = APIRouter(prefix=PREFIX, route_class=PortalRoute, include_in_schema=False)


def subscriber(request: Request, session: PortalSession = Depends(portal_session)) -> Principal:
    return principal_in(request, session, ESPACE, (PrincipalKind.SUBSCRIBER,))


def _msisdn(principal: Principal) -> str:
    if principal.msisdn is None:  # a subscriber's session always names its line
        raise DomainError(ErrorCode.UNAUTHENTICATED)
    return principal.msisdn


def bonus_amount(bucket: BonusBucket, currency: str) -> str:
    if bucket.kind is BonusKind.CREDIT:
        return from_minor(bucket.remaining, currency).french()
    if bucket.kind is BonusKind.DATA:
        return formatting.volume(bucket.remaining)
    if bucket.kind is BonusKind.VOICE:
        return f"{bucket.remaining} min"
    return f"{bucket.remaining} SMS"


def page(request: Request, principal: Principal, template: str, status: int = 200, **values: Any) -> Response:
    return render(request, template, status=status, msisdn=_msisdn(principal), **values)


# ---------------------------------------------------------------- login with a one-time code


@router.get("/connexion")
def login_form(
    request: Request, suite: str | None = None, session: PortalSession = Depends(portal_session)
) -> Response:
    return render(request, "espace/login.html", step="msisdn", msisdn="", error=None, suite=safe_next(suite, ESPACE))


@router.post("/code")
def send_code(
    request: Request,
    msisdn: str = Form(default=""),
    suite: str = Form(default=""),
    session: PortalSession = Depends(portal_session),
) -> Response:
    number = normalise_msisdn(msisdn)
    try:
        run(ctx_of(request), lambda c: request_otp(c, Channel.PORTAL, number))
    except DomainError as error:
        if error.code is not ErrorCode.TOO_MANY_REQUESTS:
            return render(
                request,
                "espace/login.html",
                status=STATUS.get(error.code, 422),
                step="msisdn",
                msisdn=msisdn,
                error=message(error),
                suite=safe_next(suite, ESPACE),
            )
        # A code was sent a moment ago: it is still good, go on to typing it.
        return render(
            request,
            "espace/login.html",
            step="code",
            msisdn=number,
            error=message(error),
            suite=safe_next(suite, ESPACE),
        )
    return render(request, "espace/login.html", step="code", msisdn=number, error=None, suite=safe_next(suite, ESPACE))


@router.post("/connexion")
def login(
    request: Request,
    msisdn: str = Form(default=""),
    code: str = Form(default=""),
    suite: str = Form(default=""),
    session: PortalSession = Depends(portal_session),
) -> Response:
    portal = portal_of(request)
    number = normalise_msisdn(msisdn)
    address = client_address(request)
    try:
        with portal.throttle.attempt(ESPACE, number, address):
            issued = run(portal.ctx, lambda ctx: login_subscriber(ctx, number, code.strip(), Channel.PORTAL))
    except DomainError as error:
        return render(
            request,
            "espace/login.html",
            status=login_status(error),
            step="code",
            msisdn=number,
            error=message(error),
            suite=safe_next(suite, ESPACE),
        )
    session.log_in(ESPACE, issued.token)
    return see_other(safe_next(suite, ESPACE))


@router.post("/deconnexion")
def logout(request: Request, session: PortalSession = Depends(portal_session)) -> Response:
    return log_out(request, session, ESPACE, "Vous êtes déconnecté.")


# ---------------------------------------------------------------- profile


@router.get("/")
def home(request: Request, principal: Principal = Depends(subscriber)) -> Response:
    summary = subscriber_summary(ctx_of(request), principal, _msisdn(principal))
    return page(request, principal, "espace/home.html", summary=summary)


@router.get("/profil")
def my_profile(request: Request, principal: Principal = Depends(subscriber)) -> Response:
    ctx = ctx_of(request)
    summary = subscriber_summary(ctx, principal, _msisdn(principal))
    bonuses = [(bucket, bonus_amount(bucket, summary.subscriber.currency)) for bucket in summary.bonuses]
    return page(
        request,
        principal,
        "espace/profile.html",
        summary=summary,
        bonuses=bonuses,
        tz=zone(summary.subscriber.timezone),
        migrations=list_migrations(ctx, principal, _msisdn(principal))[:5],
        profiles={p.id: p.name for p in ctx.catalog.profiles},
    )


def _choices(
    request: Request, principal: Principal, error: str | None = None, status: int = 200, selected: str | None = None
) -> Response:
    ctx = ctx_of(request)
    summary = subscriber_summary(ctx, principal, _msisdn(principal))
    options = profile_options(ctx, principal, _msisdn(principal))
    # The month's changes are all used: the refusal every open profile carries says until when.
    limit = next((o.error for o in options if o.code is ErrorCode.MONTHLY_LIMIT_REACHED and o.error), None)
    return page(
        request,
        principal,
        "espace/change.html",
        status=status,
        summary=summary,
        options=options,
        error=error,
        selected=selected,
        limit=limit.params if limit is not None else None,
        can_choose=any(o.eligible and not o.current for o in options),
    )


@router.get("/profil/changer")
def change_profile(request: Request, principal: Principal = Depends(subscriber)) -> Response:
    return _choices(request, principal)


@router.get("/profil/confirmation")
def confirm_page(request: Request, profil: str = "", principal: Principal = Depends(subscriber)) -> Response:
    ctx = ctx_of(request)
    options = {o.profile.id: o for o in profile_options(ctx, principal, _msisdn(principal))}
    option = options.get(profil)
    if option is None:
        return _choices(request, principal, "Choisissez un profil dans la liste.", 422)
    if not option.eligible:
        return _choices(request, principal, option.reason or "Ce profil n'est pas disponible.", 422, profil)
    summary = subscriber_summary(ctx, principal, _msisdn(principal))
    return page(request, principal, "espace/confirm.html", summary=summary, option=option)


@router.post("/profil/changer")
def do_change(request: Request, profil: str = Form(default=""), principal: Principal = Depends(subscriber)) -> Response:
    ctx = ctx_of(request)
    try:
        migration = run(ctx, lambda c: migrate_profile(c, principal, Channel.PORTAL, _msisdn(principal), profil))
    except DomainError as error:
        if error.code is ErrorCode.NOT_FOUND:
            raise
        return _choices(request, principal, message(error), STATUS.get(error.code, 422), profil)
    return see_other(f"{PREFIX}/profil/changement/{migration.id}")


@router.get("/profil/changement/{migration_id}")
def change_result(request: Request, migration_id: str, principal: Principal = Depends(subscriber)) -> Response:
    ctx = ctx_of(request)
    found = [m for m in list_migrations(ctx, principal, _msisdn(principal)) if m.id == migration_id]
    if not found:
        raise DomainError(ErrorCode.NOT_FOUND)
    summary = subscriber_summary(ctx, principal, _msisdn(principal))
    return page(
        request,
        principal,
        "espace/result.html",
        migration=found[0],
        summary=summary,
        tz=zone(summary.subscriber.timezone),
        profiles={p.id: p for p in ctx.catalog.profiles},
    )


# ---------------------------------------------------------------- the demo's SMS


@router.get("/sms")
def sent_sms(request: Request, numero: str = "", session: PortalSession = Depends(portal_session)) -> Response:
    """The SMS of the outbox, newest first (one-time codes included): the demo's stand-in for a telephone."""
    portal = portal_of(request)
    if not portal.demo:
        raise DomainError(ErrorCode.NOT_FOUND)
    number = normalise_msisdn(numero) or None
    # The outbox is the operator's to read; in the demo, where nothing is sent, the system reads it for the visitor.
    sms = [n for n in list_notifications(portal.ctx, SYSTEM, number) if n.channel == SMS]
    return render(
        request, "espace/sms.html", sms=sms, numero=number or "", tz=zone(portal.ctx.catalog.prepaid.timezone)
    )


@router.get("/{rest:path}")
def not_found(rest: str, session: PortalSession = Depends(portal_session)) -> Any:
    raise DomainError(ErrorCode.NOT_FOUND)
