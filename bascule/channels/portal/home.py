"""The home page: one door per space, and in demo mode the logins to try them with."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Depends, Request
from fastapi.responses import Response

from bascule.channels.portal.sessions import PortalSession
from bascule.channels.portal.web import PortalRoute, portal_of, portal_session, render

router = APIRouter(route_class=PortalRoute, include_in_schema=False)


def demo_logins(request: Request) -> dict[str, Any] | None:
    portal = portal_of(request)
    if not portal.demo:
        return None
    from bascule.demo import line_a, staff

    with portal.ctx.uow(write=False) as uow:
        subscribers = uow.subscribers.all()
    names = {p.id: p.name for p in portal.ctx.catalog.profiles}
    return {
        "manager": line_a.MANAGER,
        "viewer": line_a.VIEWER,
        "agent": staff.AGENT,
        "supervisor": staff.SUPERVISOR,
        "subscribers": [(s.msisdn, names.get(s.profile_id, s.profile_id)) for s in subscribers],
    }


@router.get("/")
def home(request: Request, session: PortalSession = Depends(portal_session)) -> Response:
    return render(request, "home.html", logins=demo_logins(request))
