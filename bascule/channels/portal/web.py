"""What every portal page shares: the session and its CSRF check, the principal of each space, rendering,
and one place where a refusal of the domain becomes a French page (or a redirect to the login form)."""

from __future__ import annotations

import secrets
from collections.abc import Callable, Coroutine
from pathlib import Path
from typing import Any
from urllib.parse import quote, urlsplit

from fastapi import Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from fastapi.routing import APIRoute
from jinja2 import Environment, FileSystemLoader, StrictUndefined, select_autoescape

from bascule.channels.login_throttle import PortalThrottle, portal_throttle
from bascule.channels.portal import formatting
from bascule.channels.portal.fields import refuse_bad_text
from bascule.channels.portal.sessions import (
    BACKOFFICE,
    CENTRE,
    COOKIE,
    CSRF_FIELD,
    CSRF_HEADER,
    ESPACE,
    PortalSession,
    SessionCodec,
)
from bascule.channels.statuses import STATUS
from bascule.context import Context
from bascule.identity.model import Principal, PrincipalKind
from bascule.identity.usecases import authenticate, revoke_token
from bascule.kernel.errors import DomainError, ErrorCode
from bascule.kernel.messages_fr import message
from bascule.settings import Settings

HERE = Path(__file__).parent
TEMPLATES = HERE / "templates"
STATIC = HERE / "static"
STATIC_URL = "/portail-static"

PREFIXES = {CENTRE: "/centre-operations", ESPACE: "/espace-client", BACKOFFICE: "/back-office"}
SPACE_NAMES = {CENTRE: "Centre d'Opérations", ESPACE: "Espace client", BACKOFFICE: "Back-office opérateur"}

CSP = (
    "default-src 'self'; img-src 'self' data:; style-src 'self'; script-src 'self'; form-action 'self'; "
    "frame-ancestors 'none'; base-uri 'self'; object-src 'none'"
)


class Portal:
    """The portal's state in one object, kept on `app.state.portal`."""

    def __init__(self, settings: Settings, ctx: Context) -> None:
        self.settings = settings
        self.ctx = ctx
        secret = settings.portal_secret.get_secret_value() if settings.portal_secret else secrets.token_urlsafe(32)
        self.codec = SessionCodec(secret)
        self.throttle: PortalThrottle = portal_throttle(settings, ctx)
        self.env = Environment(
            loader=FileSystemLoader(TEMPLATES),
            autoescape=select_autoescape(["html"]),
            undefined=StrictUndefined,
            trim_blocks=True,
            lstrip_blocks=True,
        )
        self.env.filters.update(formatting.FILTERS)
        self.env.globals.update(formatting.TABLES)
        self.env.globals.update(
            label=formatting.label,
            percent=formatting.percent,
            static=STATIC_URL,
            space_names=SPACE_NAMES,
            prefixes=PREFIXES,
        )

    @property
    def demo(self) -> bool:
        return self.settings.demo


def portal_of(request: Request) -> Portal:
    portal: Portal = request.app.state.portal
    return portal


def ctx_of(request: Request) -> Context:
    """The context the portal's pages run their use cases on."""
    return portal_of(request).ctx


def space_of(path: str) -> str | None:
    for space, prefix in PREFIXES.items():
        if path == prefix or path.startswith(prefix + "/"):
            return space
    return None


def client_address(request: Request) -> str:
    return request.client.host if request.client else "inconnu"


def safe_next(value: str | None, space: str) -> str:
    """Only a path inside the same space: never an open redirect."""
    home = PREFIXES[space] + "/"
    if not value:
        return home
    parts = urlsplit(value)
    if parts.scheme or parts.netloc or not value.startswith(PREFIXES[space] + "/") or "\\" in value:
        return home
    return value


# ---------------------------------------------------------------- dependencies


async def portal_session(request: Request) -> PortalSession:
    """The visitor's session; every POST must carry its CSRF token (form field or header)."""
    portal = portal_of(request)
    session = portal.codec.load(request.cookies.get(COOKIE))
    request.state.portal_session = session
    if request.method == "POST":
        given = request.headers.get(CSRF_HEADER)
        if given is None:
            form = await request.form()
            field = form.get(CSRF_FIELD)
            given = field if isinstance(field, str) else None
        if not portal.codec.csrf_ok(session, given):
            raise DomainError(
                ErrorCode.FORBIDDEN,
                "Ce formulaire a expiré ou ne vient pas de cette page. Rechargez la page et recommencez.",
                csrf=True,
            )
    return session


def principal_in(request: Request, session: PortalSession, space: str, kinds: tuple[PrincipalKind, ...]) -> Principal:
    token = session.token(space)
    if token is None:
        raise DomainError(ErrorCode.UNAUTHENTICATED)
    try:
        principal = authenticate(portal_of(request).ctx, token)
    except DomainError:
        session.forget(space)
        raise
    if principal.kind not in kinds:
        session.forget(space)
        raise DomainError(ErrorCode.UNAUTHENTICATED)
    return principal


def may_change(principal: Principal) -> bool:
    """The domain's own rule, asked rather than copied."""
    try:
        principal.require_change_right()
    except DomainError:
        return False
    return True


# ---------------------------------------------------------------- rendering


def render(request: Request, template: str, status: int = 200, **values: Any) -> HTMLResponse:
    portal = portal_of(request)
    session: PortalSession | None = getattr(request.state, "portal_session", None)
    if session is None:
        session = portal.codec.load(request.cookies.get(COOKIE))
        request.state.portal_session = session
    space = space_of(request.url.path)
    context: dict[str, Any] = {
        "request": request,
        "path": request.url.path,
        "space": space,
        "csrf_field": CSRF_FIELD,
        "csrf_token": portal.codec.csrf_token(session),
        "flash": session.take_flash(),
        "demo": portal.demo,
        "logged_in": bool(space and session.token(space)),
    }
    context.update(values)
    html = portal.env.get_template(template).render(context)
    return HTMLResponse(html, status_code=status)


# What a form's page never shows of a refusal: the page is not the caller's to see (not found, forbidden) or their
# session is gone. Those are raised again, for the portal's own page (`error_page`).
NOT_SHOWN_ON_FORMS = (ErrorCode.NOT_FOUND, ErrorCode.FORBIDDEN, ErrorCode.UNAUTHENTICATED)


def shown(error: DomainError) -> tuple[str, int]:
    """A refusal as a form's page shows it: its French message and its status (422 unless said otherwise); one
    that a form never shows (`NOT_SHOWN_ON_FORMS`) is raised again."""
    if error.code in NOT_SHOWN_ON_FORMS:
        raise error
    return message(error), STATUS.get(error.code, 422)


def error_page(request: Request, error: DomainError) -> Response:
    space = space_of(request.url.path)
    if error.code is ErrorCode.UNAUTHENTICATED and space is not None:
        target = request.url.path if request.method == "GET" else PREFIXES[space] + "/"
        if request.url.query and request.method == "GET":
            target += "?" + request.url.query
        return RedirectResponse(f"{PREFIXES[space]}/connexion?suite={quote(target)}", status_code=303)
    titles = {
        ErrorCode.NOT_FOUND: "Page introuvable",
        ErrorCode.FORBIDDEN: "Action non autorisée",
        ErrorCode.TOO_MANY_REQUESTS: "Trop de tentatives",
    }
    text = message(error)
    if error.code is ErrorCode.NOT_FOUND:
        text = "Cette page n'existe pas, ou vous n'y avez pas accès."
    return render(
        request,
        "error.html",
        status=STATUS.get(error.code, 400),
        title=titles.get(error.code, "Demande refusée"),
        message_text=text,
        home=PREFIXES[space] + "/" if space else "/",
    )


def finish(request: Request, response: Response) -> Response:
    session: PortalSession | None = getattr(request.state, "portal_session", None)
    if session is not None and session.dirty:
        portal = portal_of(request)
        response.set_cookie(
            COOKIE,
            portal.codec.dump(session),
            httponly=True,
            samesite="lax",
            path="/",
            secure=request.url.scheme == "https",
        )
    response.headers.setdefault("Content-Security-Policy", CSP)
    response.headers.setdefault("X-Content-Type-Options", "nosniff")
    response.headers.setdefault("X-Frame-Options", "DENY")
    response.headers.setdefault("Referrer-Policy", "same-origin")
    response.headers.setdefault("Cache-Control", "no-store")
    return response


class PortalRoute(APIRoute):
    """A route whose refusals are pages: DomainError → French page with the domain's message. What the request
    carries goes through the text rule first, so a control character never reaches a page."""

    def get_route_handler(self) -> Callable[[Request], Coroutine[Any, Any, Response]]:
        original = super().get_route_handler()

        async def handler(request: Request) -> Response:
            try:
                await refuse_bad_text(request)
                response = await original(request)
            except DomainError as error:
                response = error_page(request, error)
            return finish(request, response)

        return handler


def see_other(url: str) -> RedirectResponse:
    return RedirectResponse(url, status_code=303)


def log_out(request: Request, session: PortalSession, space: str, farewell: str) -> RedirectResponse:
    """End a space's session: its token is revoked on the server, not only forgotten by the browser."""
    token = session.log_out(space)
    if token:
        revoke_token(portal_of(request).ctx, token)
    session.say(farewell)
    return see_other(f"{PREFIXES[space]}/connexion")
