"""Back-office actions: what an agent does for a customer, and what only a supervisor may do.

Every action is one command (`commands.runner.run`: one transaction, never committed here) calling the same
use case as the customer's own channels, with the staff member as actor and the back office as channel: the
customer's rules (limits, eligibility, fees) apply as they are. A refusal raises the use case's typed error,
which the portal shows as a French page with its status; nothing it touched is kept.
"""

from __future__ import annotations

from datetime import date
from urllib.parse import quote

from fastapi import APIRouter, Depends, Form, Request
from fastapi.responses import Response

from bascule.catalog.model import GIB, PlanKind
from bascule.channels.forms import changed_only
from bascule.channels.portal.backoffice import PREFIX, operator, supervisor
from bascule.channels.portal.sessions import PortalSession
from bascule.channels.portal.web import PortalRoute, ctx_of, portal_session, render, see_other
from bascule.commands.runner import run
from bascule.context import Context
from bascule.evolutions.rules import RequestedChanges
from bascule.evolutions.services import ServiceView, create_service, get_service
from bascule.evolutions.usecases import (
    await_networks,
    cancel_change_request,
    confirm_change_request,
    create_change_request,
)
from bascule.identity.model import Channel, Principal, Role
from bascule.identity.usecases import create_account, create_user
from bascule.kernel.errors import DomainError, ErrorCode
from bascule.prepaid.usecases import create_subscriber, migrate_profile, recharge, request_otp, require_subscriber
from bascule.provisioning.retries import retry_failed_job

router = APIRouter(prefix=PREFIX, route_class=PortalRoute, include_in_schema=False)
HERE = Channel.BACKOFFICE
ROLES = {"manager": Role.MANAGER, "viewer": Role.VIEWER}


def _invalid(text: str) -> DomainError:
    return DomainError(ErrorCode.VALIDATION_ERROR, text)


# ---------------------------------------------------------------- Line A: accounts, users, lines


@router.post("/comptes")
def new_account(
    request: Request,
    name: str = Form(default=""),
    timezone: str = Form(default=""),
    actor: Principal = Depends(operator),
    session: PortalSession = Depends(portal_session),
) -> Response:
    account = run(ctx_of(request), lambda c: create_account(c, actor, HERE, name, timezone.strip() or None))
    session.say(f"Compte « {account.name} » créé.")
    return see_other(f"{PREFIX}/comptes/{account.id}")


@router.post("/comptes/{account_id}/utilisateurs")
def new_user(
    request: Request,
    account_id: str,
    email: str = Form(default=""),
    password: str = Form(default=""),
    role: str = Form(default=""),
    actor: Principal = Depends(operator),
    session: PortalSession = Depends(portal_session),
) -> Response:
    if role not in ROLES:
        raise _invalid("Choisissez un rôle : gestionnaire ou lecteur.")
    user = run(ctx_of(request), lambda c: create_user(c, actor, HERE, account_id, email, password, ROLES[role]))
    session.say(f"Utilisateur {user.email} ajouté.")
    return see_other(f"{PREFIX}/comptes/{account_id}")


@router.post("/comptes/{account_id}/services")
def new_line(
    request: Request,
    account_id: str,
    msisdn: str = Form(default=""),
    plan_id: str = Form(default=""),
    network: str = Form(default=""),
    apn: str = Form(default=""),
    activated_on: str = Form(default=""),
    actor: Principal = Depends(operator),
    session: PortalSession = Depends(portal_session),
) -> Response:
    start = _day(activated_on)
    view = run(
        ctx_of(request),
        lambda c: create_service(
            c,
            actor,
            HERE,
            account_id=account_id,
            plan_id=plan_id,
            network=network,
            apn=apn,
            msisdn=msisdn.strip(),
            activated_on=start,
        ),
    )
    session.say(f"Ligne {view.service.msisdn} créée.")
    return see_other(f"{PREFIX}/services/{view.service.id}")


def _day(text: str) -> date | None:
    if not text.strip():
        return None
    try:
        return date.fromisoformat(text.strip())
    except ValueError:
        raise _invalid("Date d'activation : indiquez une date au format AAAA-MM-JJ.") from None


# ---------------------------------------------------------------- Line A: change requests on a customer's behalf


def requested(view: ServiceView, plan_id: str, apn: str, network: str, ceiling_go: str) -> RequestedChanges:
    """The form's choices as the command the API takes (`changed_only`)."""
    ceiling: int | None = None
    if view.plan.kind is PlanKind.METERED and ceiling_go.strip():
        try:
            ceiling = int(ceiling_go) * GIB
        except ValueError:
            raise _invalid("Plafond : indiquez un nombre entier de Go.") from None
    wanted = RequestedChanges(plan_id=plan_id, apn=apn, network=network, ceiling_bytes=ceiling)
    return changed_only(wanted, view.service, view.plan)


@router.post("/services/{service_id}/demandes")
def new_change(
    request: Request,
    service_id: str,
    plan_id: str = Form(default=""),
    apn: str = Form(default=""),
    network: str = Form(default=""),
    ceiling_go: str = Form(default=""),
    actor: Principal = Depends(operator),
) -> Response:
    ctx = ctx_of(request)

    def create(c: Context) -> str:
        view = get_service(c, actor, service_id)
        changes = requested(view, plan_id, apn, network, ceiling_go)
        return create_change_request(c, actor, HERE, service_id, changes).id

    created = run(ctx, create)
    return see_other(f"{PREFIX}/demandes/{created}")


@router.post("/demandes/{request_id}/confirmer")
def confirm_change(
    request: Request,
    request_id: str,
    actor: Principal = Depends(operator),
    session: PortalSession = Depends(portal_session),
) -> Response:
    ctx = ctx_of(request)
    confirmed = run(ctx, lambda c: confirm_change_request(c, actor, HERE, request_id, None))
    await_networks(ctx, confirmed)
    session.say("La demande est confirmée pour le client.")
    return see_other(f"{PREFIX}/demandes/{request_id}")


@router.post("/demandes/{request_id}/annuler")
def cancel_change(
    request: Request,
    request_id: str,
    actor: Principal = Depends(operator),
    session: PortalSession = Depends(portal_session),
) -> Response:
    run(ctx_of(request), lambda c: cancel_change_request(c, actor, HERE, request_id))
    session.say("La demande a été annulée : rien n'a été modifié ni facturé.")
    return see_other(f"{PREFIX}/demandes/{request_id}")


# ---------------------------------------------------------------- Line B: subscribers


def _line(msisdn: str) -> str:
    return f"{PREFIX}/abonnes/{quote(msisdn)}"


@router.post("/abonnes")
def new_subscriber(
    request: Request,
    msisdn: str = Form(default=""),
    profile_id: str = Form(default=""),
    actor: Principal = Depends(operator),
    session: PortalSession = Depends(portal_session),
) -> Response:
    subscriber = run(ctx_of(request), lambda c: create_subscriber(c, actor, HERE, msisdn.strip(), profile_id))
    session.say(f"Abonné {subscriber.msisdn} créé.")
    return see_other(_line(subscriber.msisdn))


@router.post("/abonnes/{msisdn}/profil")
def change_profile(
    request: Request,
    msisdn: str,
    profile_id: str = Form(default=""),
    actor: Principal = Depends(operator),
    session: PortalSession = Depends(portal_session),
) -> Response:
    ctx = ctx_of(request)
    migrated = run(ctx, lambda c: migrate_profile(c, actor, HERE, msisdn, profile_id))
    session.say(f"Profil changé pour le client : {ctx.catalog.profile(migrated.to_profile_id).name}.")
    return see_other(_line(msisdn))


@router.post("/abonnes/{msisdn}/recharges")
def top_up(
    request: Request,
    msisdn: str,
    amount: str = Form(default=""),
    actor: Principal = Depends(operator),
    session: PortalSession = Depends(portal_session),
) -> Response:
    from bascule.channels.portal.formatting import money

    done = run(ctx_of(request), lambda c: recharge(c, actor, HERE, msisdn, amount.strip().replace(" ", "")))
    session.say(f"Recharge de {money(done.entry.amount)} enregistrée ; solde : {money(done.balance)}.")
    return see_other(_line(msisdn))


@router.post("/abonnes/{msisdn}/code")
def resend_code(
    request: Request,
    msisdn: str,
    actor: Principal = Depends(operator),
    session: PortalSession = Depends(portal_session),
) -> Response:
    ctx = ctx_of(request)

    def send(c: Context) -> None:
        require_subscriber(c, actor, msisdn)  # only a known line: the page is about it
        request_otp(c, HERE, msisdn, actor=actor)

    run(ctx, send)
    session.say("Un nouveau code de connexion a été envoyé par SMS.")
    return see_other(_line(msisdn))


# ---------------------------------------------------------------- supervisors: failed provisioning jobs


@router.get("/travaux")
def failed_jobs_page(request: Request, apres: str = "", actor: Principal = Depends(supervisor)) -> Response:
    from bascule.channels.portal.backoffice_lists import failed_jobs_view

    return render(request, "backoffice/jobs.html", **failed_jobs_view(ctx_of(request), actor, apres))


@router.post("/travaux/{job_id}/relancer")
def retry_job(
    request: Request,
    job_id: str,
    actor: Principal = Depends(supervisor),
    session: PortalSession = Depends(portal_session),
) -> Response:
    job = run(ctx_of(request), lambda c: retry_failed_job(c, actor, HERE, job_id))
    session.say(f"Le travail {job.id} est relancé.")
    return see_other(f"{PREFIX}/travaux")
