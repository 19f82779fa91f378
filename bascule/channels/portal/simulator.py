"""A USSD handset simulator for demos and support: each key press is a real call to `POST /ussd`,
made in-process through the whole application (middleware included), exactly as a gateway would.

Open to anyone in the demo; otherwise only to an operator logged in to the back office (others are sent to
its login), since it adds the USSD token itself and may dial as any line.
"""

from __future__ import annotations

import secrets
from typing import Any
from urllib.parse import urlencode

from fastapi import APIRouter, Depends, Form, Request
from fastapi.responses import Response

from bascule.channels.portal.backoffice import PREFIX as BACK_OFFICE
from bascule.channels.portal.backoffice import SIMULATOR, operator_session
from bascule.channels.portal.sessions import PortalSession
from bascule.channels.portal.web import PortalRoute, portal_of, portal_session, render, see_other
from bascule.channels.ussd_access import UssdAccess, ussd_access
from bascule.kernel.msisdn import normalise_msisdn

router = APIRouter(route_class=PortalRoute, include_in_schema=False)
DEFAULT_CODE = "#121#"


def allowed(request: Request, session: PortalSession) -> bool:
    return portal_of(request).demo or operator_session(request, session)


async def call_ussd(request: Request, fields: dict[str, str]) -> tuple[int, str]:
    """POST the gateway's form to /ussd through the ASGI application, adding the token when one is set."""
    body = urlencode(fields).encode()
    headers = [(b"content-type", b"application/x-www-form-urlencoded"), (b"content-length", str(len(body)).encode())]
    token = portal_of(request).settings.ussd_token
    if token is not None:
        headers.append((b"x-ussd-token", token.get_secret_value().encode()))
    scope: dict[str, Any] = {
        "type": "http",
        "asgi": {"version": "3.0"},
        "http_version": "1.1",
        "method": "POST",
        "scheme": "http",
        "path": "/ussd",
        "raw_path": b"/ussd",
        "root_path": "",
        "query_string": b"",
        "headers": headers,
        "client": ("127.0.0.1", 0),
        "server": ("simulateur", 80),
        "state": {},
    }
    sent = False
    status = 500
    chunks: list[bytes] = []

    async def receive() -> dict[str, Any]:
        nonlocal sent
        if sent:
            return {"type": "http.disconnect"}
        sent = True
        return {"type": "http.request", "body": body, "more_body": False}

    async def send(message: dict[str, Any]) -> None:
        nonlocal status
        if message["type"] == "http.response.start":
            status = message["status"]
        elif message["type"] == "http.response.body":
            chunks.append(message.get("body", b""))

    await request.app(scope, receive, send)
    return status, b"".join(chunks).decode("utf-8", "replace")


def _page(request: Request, status: int = 200, **values: Any) -> Response:
    defaults: dict[str, Any] = {
        "msisdn": "",
        "code": DEFAULT_CODE,
        "session_id": "",
        "history": "",
        "screen": None,
        "ended": False,
        "error": None,
        "subscribers": _demo_lines(request),
    }
    defaults.update(values)
    return render(request, "ussd/simulator.html", status=status, **defaults)


def _demo_lines(request: Request) -> list[tuple[str, str]]:
    portal = portal_of(request)
    if not portal.demo:
        return []
    with portal.ctx.uow(write=False) as uow:
        found = uow.subscribers.all()
    names = {p.id: p.name for p in portal.ctx.catalog.profiles}
    return [(s.msisdn, names.get(s.profile_id, s.profile_id)) for s in found]


def _to_login() -> Response:
    return see_other(f"{BACK_OFFICE}/connexion?suite={SIMULATOR}")


def _refusal(request: Request) -> str:
    if ussd_access(portal_of(request).settings) is UssdAccess.CLOSED:
        return (
            "Le service USSD est fermé : il ne s'ouvre qu'avec un jeton USSD (BASCULE_USSD_TOKEN) ou en démonstration."
        )
    return "Le serveur USSD a refusé l'appel (jeton USSD manquant ou incorrect)."


@router.get(SIMULATOR)
def simulator(request: Request, session: PortalSession = Depends(portal_session)) -> Response:
    if not allowed(request, session):
        return _to_login()
    return _page(request)


async def _exchange(request: Request, msisdn: str, code: str, session_id: str, history: str) -> Response:
    status, text = await call_ussd(
        request,
        {"sessionId": session_id, "serviceCode": code, "phoneNumber": msisdn, "networkCode": "99999", "text": history},
    )
    if status != 200:
        error = {401: _refusal(request), 400: "Numéro ou code invalide : composez un numéro au format +225…"}.get(
            status, "Le service USSD est indisponible. Réessayez."
        )
        return _page(request, status=502 if status >= 500 else 400, msisdn=msisdn, code=code, error=error)
    kind, _, screen = text.partition(" ")
    return _page(
        request, msisdn=msisdn, code=code, session_id=session_id, history=history, screen=screen, ended=kind != "CON"
    )


@router.post(f"{SIMULATOR}/appeler")
async def dial(
    request: Request,
    msisdn: str = Form(default=""),
    code: str = Form(default=DEFAULT_CODE),
    session: PortalSession = Depends(portal_session),
) -> Response:
    if not allowed(request, session):
        return _to_login()
    number = normalise_msisdn(msisdn)
    dialled = code.strip() or DEFAULT_CODE
    return await _exchange(request, number, dialled, "sim-" + secrets.token_hex(8), "")


@router.post(f"{SIMULATOR}/repondre")
async def answer(
    request: Request,
    msisdn: str = Form(default=""),
    code: str = Form(default=DEFAULT_CODE),
    session_id: str = Form(default=""),
    history: str = Form(default=""),
    reponse: str = Form(default=""),
    session: PortalSession = Depends(portal_session),
) -> Response:
    if not allowed(request, session):
        return _to_login()
    if not session_id.startswith("sim-"):
        return _page(request, status=400, msisdn=msisdn, code=code, error="Session USSD inconnue : rappelez.")
    typed = reponse.strip()
    text = f"{history}*{typed}" if history else typed
    return await _exchange(request, normalise_msisdn(msisdn), code, session_id, text)
