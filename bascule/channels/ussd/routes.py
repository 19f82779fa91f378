"""`POST /ussd`: the Africa's Talking callback (form fields in, `CON …`/`END …` plain text out)."""

from __future__ import annotations

import logging
from urllib.parse import parse_qsl

from fastapi import APIRouter, FastAPI, Request
from fastapi.responses import PlainTextResponse
from starlette.concurrency import run_in_threadpool

from bascule.channels.ussd.access import admits
from bascule.channels.ussd.service import UNAVAILABLE, Call, Reply, UssdService
from bascule.channels.ussd.sessions import DatabaseSessionStore, RedisSessionStore, SessionStore
from bascule.context import Context
from bascule.kernel.errors import DomainError
from bascule.prepaid.rules import require_msisdn
from bascule.settings import Settings

log = logging.getLogger(__name__)

REQUIRED = ("sessionId", "serviceCode", "phoneNumber")
MAX_BODY_BYTES = 8192
MAX_SESSION_ID = 100

router = APIRouter(tags=["ussd"])


class BadCallError(ValueError):
    """The gateway's request cannot be answered with a screen (400)."""


def _msisdn(raw: str) -> str:
    """The caller's number in E.164; a '+' the gateway did not URL-encode arrives as a space."""
    value = raw.strip().replace(" ", "")
    value = value if value.startswith("+") else "+" + value
    try:
        return require_msisdn(value)
    except DomainError:
        raise BadCallError("phoneNumber is not an E.164 number") from None


def parse_call(body: bytes) -> Call:
    if len(body) > MAX_BODY_BYTES:
        raise BadCallError("request too large")
    try:
        fields = dict(parse_qsl(body.decode("utf-8"), keep_blank_values=True))
    except (UnicodeDecodeError, ValueError):
        raise BadCallError("the body is not a URL-encoded form") from None
    missing = [name for name in REQUIRED if not fields.get(name, "").strip()]
    if missing:
        raise BadCallError("missing fields: " + ", ".join(missing))
    if len(fields["sessionId"]) > MAX_SESSION_ID:
        raise BadCallError("sessionId too long")
    return Call(fields["sessionId"].strip(), fields["serviceCode"], _msisdn(fields["phoneNumber"]),
                fields.get("text", ""))


def authorised(settings: Settings, request: Request) -> bool:
    return admits(settings, [request.query_params.get("token"), request.headers.get("x-ussd-token")])


_FORM = {
    "type": "object",
    "required": ["sessionId", "serviceCode", "phoneNumber", "text"],
    "properties": {
        "sessionId": {"type": "string", "minLength": 1, "maxLength": 100, "pattern": "^[A-Za-z0-9_.:-]+$"},
        "serviceCode": {"type": "string", "maxLength": 32, "pattern": "^[*#0-9]+$",
                        "examples": ["#121#", "*121#", "#121*1#"]},
        "phoneNumber": {"type": "string", "pattern": "^\\+?[1-9][0-9]{7,14}$", "examples": ["+2250700000001"]},
        "networkCode": {"type": "string", "maxLength": 16, "pattern": "^[0-9]*$"},
        "text": {"type": "string", "maxLength": 182, "pattern": "^[*#0-9]*$",
                 "description": "the inputs so far, joined by '*'"},
    },
}
_PLAIN = {"text/plain": {"schema": {"type": "string"}}}


@router.post("/ussd", response_class=PlainTextResponse,
             summary="USSD callback (Africa's Talking form: sessionId, serviceCode, phoneNumber, networkCode, text)",
             openapi_extra={
                 "requestBody": {"required": True, "content": {"application/x-www-form-urlencoded": {"schema": _FORM}}},
                 "responses": {
                     "200": {"description": "`CON <screen>` (expects input) or `END <screen>`", "content": _PLAIN},
                     "400": {"description": "A missing or malformed field", "content": _PLAIN},
                     "401": {"description": "The request lacks BASCULE_USSD_TOKEN, or none is set outside the demo "
                                            "(then every call gets it)", "content": _PLAIN},
                 },
             })
async def ussd(request: Request) -> PlainTextResponse:
    if not authorised(request.app.state.settings, request):
        return PlainTextResponse("Unauthorized", status_code=401)
    try:
        call = parse_call(await request.body())
    except BadCallError as error:
        return PlainTextResponse(f"Bad request: {error}", status_code=400)
    service: UssdService = request.app.state.ussd
    try:
        reply = await run_in_threadpool(service.answer, call)
    except Exception:
        log.exception("USSD session %s failed", call.session_id)
        reply = Reply.end(UNAVAILABLE)
    return PlainTextResponse(reply.wire())


def session_store(settings: Settings, ctx: Context) -> SessionStore:
    if settings.redis_url:
        return RedisSessionStore.from_url(settings.redis_url, ctx.clock)
    return DatabaseSessionStore(ctx.engine, ctx.clock)


def install(app: FastAPI, settings: Settings, ctx: Context) -> None:
    """The channel installer registered by `bascule.plugins`."""
    app.state.ussd = UssdService(ctx, session_store(settings, ctx))
    app.include_router(router)
