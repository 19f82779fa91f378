"""`POST /ussd`: the Africa's Talking callback (form fields in, `CON …`/`END …` plain text out)."""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from typing import Any

from fastapi import APIRouter, FastAPI, Request
from fastapi.responses import PlainTextResponse
from starlette.datastructures import Headers, QueryParams
from starlette.requests import ClientDisconnect
from starlette.types import Receive, Scope, Send

from bascule.channels.forms import url_encoded_pairs
from bascule.channels.front_door import open_front_door
from bascule.channels.threads import CallThreads
from bascule.channels.ussd.service import UNAVAILABLE, Call, OffLoop, Reply, UssdService
from bascule.channels.ussd.sessions import DatabaseSessionStore, RedisSessionStore, SessionStore
from bascule.channels.ussd_access import admits
from bascule.context import Context
from bascule.kernel.errors import DomainError
from bascule.kernel.messages_fr import short_message
from bascule.kernel.msisdn import DIGITS as MSISDN_DIGITS
from bascule.kernel.msisdn import normalise_msisdn
from bascule.kernel.text import ONE_LINE_PATTERN, clean_text, decode_text
from bascule.persistence.context import engine_of, on_event_loop
from bascule.prepaid.rules import require_msisdn
from bascule.settings import Settings

log = logging.getLogger(__name__)

REQUIRED = ("sessionId", "serviceCode", "phoneNumber")
MAX_BODY_BYTES = 8192
MAX_LENGTHS = {"sessionId": 100, "phoneNumber": 20, "networkCode": 10, "serviceCode": 40, "text": 500}

router = APIRouter(tags=["ussd"])


class BadCallError(ValueError):
    """The gateway's request cannot be answered with a screen (400)."""


def _msisdn(raw: str) -> str:
    """The caller's number in E.164; a '+' the gateway did not URL-encode arrives as a space."""
    try:
        return require_msisdn(normalise_msisdn(raw))
    except DomainError:
        raise BadCallError("phoneNumber is not an E.164 number") from None


def _field(fields: dict[str, bytes], name: str) -> str:
    """A field through the text rule: UTF-8, no control character, not over-long once trimmed."""
    return clean_text(decode_text(fields.get(name, b""), field=name), field=name, max_length=MAX_LENGTHS[name])


def _from_gateway(fields: dict[str, bytes], name: str) -> str:
    """A field the gateway fills in through the text rule; its refusal makes a bad call."""
    try:
        return _field(fields, name)
    except DomainError as refused:
        raise BadCallError(f"{name}: {refused.params['fault']}") from None


def parse_call(body: bytes) -> Call:
    """The gateway's form as a call, every field through the text rule (`bascule.kernel.text`) and refused the
    way the channel already treats it when malformed:

    - sessionId, phoneNumber and networkCode are filled in by the gateway and name the call: a control
      character, a bad encoding or an over-long value there is a bad call (`BadCallError`: 400, no screen), as a
      missing field or a number that is not E.164 already is;
    - serviceCode and text are what the subscriber dialled or typed: the rule's `DomainError` comes out, answered
      with a short `END` screen as every other refusal of a subscriber is.

    Either way nothing runs and no session is kept."""
    if len(body) > MAX_BODY_BYTES:
        raise BadCallError("request too large")
    fields = dict(url_encoded_pairs(body))
    missing = [name for name in REQUIRED if not fields.get(name, b"").strip()]
    if missing:
        raise BadCallError("missing fields: " + ", ".join(missing))
    session_id = _from_gateway(fields, "sessionId")
    msisdn = _msisdn(_from_gateway(fields, "phoneNumber"))
    _from_gateway(fields, "networkCode")  # not used, but a broken one is a broken call all the same
    return Call(session_id, _field(fields, "serviceCode"), msisdn, _field(fields, "text"))


def _string(name: str, **extra: Any) -> dict[str, Any]:
    return {"type": "string", "maxLength": MAX_LENGTHS[name], "pattern": ONE_LINE_PATTERN, **extra}


_FORM = {
    "type": "object",
    "required": ["sessionId", "serviceCode", "phoneNumber", "text"],
    "properties": {
        # What the gateway fills in has a known shape; what the subscriber dials or types is checked by the channel
        # (a refused input gets a short screen), and the document states the shapes a real handset produces.
        "sessionId": _string("sessionId", minLength=1, pattern="^[A-Za-z0-9_.:-]+$"),
        "serviceCode": _string("serviceCode", pattern="^[*#0-9]+$", examples=["#121#", "*121#", "#121*1#"]),
        "phoneNumber": _string("phoneNumber", pattern=f"^\\+?{MSISDN_DIGITS}$", examples=["+2250700000001"]),
        "networkCode": _string("networkCode", pattern="^[0-9]*$"),
        "text": _string("text", pattern="^[*#0-9]*$", description="the inputs so far, joined by '*'"),
    },
}
_PLAIN = {"text/plain": {"schema": {"type": "string"}}}


@router.post(
    "/ussd",
    response_class=PlainTextResponse,
    summary="USSD callback (Africa's Talking form: sessionId, serviceCode, phoneNumber, networkCode, text)",
    openapi_extra={
        "requestBody": {"required": True, "content": {"application/x-www-form-urlencoded": {"schema": _FORM}}},
        "responses": {
            "200": {
                "description": "`CON <screen>` (expects input) or `END <screen>` (also when the code "
                "dialled or the text typed is refused)",
                "content": _PLAIN,
            },
            "400": {
                "description": "A missing or malformed field of the gateway's (sessionId, phoneNumber, networkCode)",
                "content": _PLAIN,
            },
            "401": {
                "description": "The request lacks BASCULE_USSD_TOKEN, or none is set outside the demo "
                "(then every call gets it)",
                "content": _PLAIN,
            },
        },
    },
)
async def ussd(request: Request) -> PlainTextResponse:
    """What the API's document describes; the calls themselves are answered by `UssdEndpoint` (at the front door)."""
    state = request.app.state
    token = request.query_params.get("token")
    body = await request.body()
    status, text = await answer(state.settings, state.ussd, token, request.headers, body, state.ussd_off_loop)
    return PlainTextResponse(text, status_code=status)


async def answer(
    settings: Settings,
    service: UssdService,
    query_token: str | None,
    headers: Headers,
    body: bytes,
    off_loop: OffLoop[Any],
) -> tuple[int, str]:
    """The status and the text of the answer to one call of the gateway; `off_loop` runs the screen (the menu's
    walk and the database: `screens_off_the_loop`), the session is read and saved on the event loop."""
    if not admits(settings, [query_token, headers.get("x-ussd-token")]):
        return 401, "Unauthorized"
    try:
        call = parse_call(body)
    except BadCallError as error:
        return 400, f"Bad request: {error}"
    except DomainError as refused:
        return 200, Reply.end(short_message(refused)).wire()
    try:
        reply = await service.answer(call, off_loop)
    except Exception:
        log.exception("USSD session %s failed", call.session_id)
        reply = Reply.end(UNAVAILABLE)
    return 200, reply.wire()


_PLAIN_TEXT = b"text/plain; charset=utf-8"


class UssdEndpoint:
    """`POST /ussd` as a bare ASGI endpoint: the gateway's calls outnumber every other request, and FastAPI's
    handling of a route (dependencies, exit stacks, response objects) cost more than the channel's own parsing.
    It is reached through the front door (`channels.front_door`): the request telemetry (request id, log line,
    metrics) and the catalogue in force still see every call. The answer is the same as the documented route's
    (`answer`), as `PlainTextResponse` would write it."""

    def __init__(self, settings: Settings, service: UssdService, off_loop: OffLoop[Any]) -> None:
        self.settings = settings
        self.service = service
        self.off_loop = off_loop  # where a screen runs (`screens_off_the_loop`)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        body = await _body(receive)
        query = scope.get("query_string", b"")
        token = QueryParams(query).get("token") if query else None
        status, text = await answer(self.settings, self.service, token, Headers(scope=scope), body, self.off_loop)
        payload = text.encode("utf-8")
        headers = [(b"content-length", str(len(payload)).encode("latin-1")), (b"content-type", _PLAIN_TEXT)]
        await send({"type": "http.response.start", "status": status, "headers": headers})
        await send({"type": "http.response.body", "body": payload})


async def _body(receive: Receive) -> bytes:
    """The request's body, as `Request.body` reads it; past `MAX_BODY_BYTES` the rest is not read (too large)."""
    chunks = []
    size = 0
    while True:
        message = await receive()
        if message["type"] == "http.disconnect":
            raise ClientDisconnect()
        chunk = message.get("body", b"")
        chunks.append(chunk)
        size += len(chunk)
        if size > MAX_BODY_BYTES or not message.get("more_body", False):
            return b"".join(chunks)


def session_store(settings: Settings, ctx: Context) -> SessionStore:
    if settings.redis_url:
        return RedisSessionStore.from_url(settings.redis_url, ctx.clock)
    return DatabaseSessionStore(engine_of(ctx), ctx.clock)


Closer = Callable[[], Awaitable[None]]


def screens_off_the_loop(
    settings: Settings, ctx: Context, threads: CallThreads
) -> tuple[Context, OffLoop[Any], Closer | None]:
    """The context the screens run with, how a screen is run off the event loop, and what closes the connections.

    On PostgreSQL a screen runs on the event loop itself, through `greenlet_spawn` (SQLAlchemy's asyncio bridge),
    with units of work on engines of psycopg's `AsyncConnection` (`persistence.context.on_event_loop`): its round
    trips await on the loop, and no thread sleeps on a socket and wakes to take the GIL back, which cost a screen
    more than the whole HTTP side (bench/README.md, eleventh pass). On SQLite a screen runs in one of the
    application's threads (`channels.threads`)."""
    on_loop = on_event_loop(ctx, settings.database_url, settings.sql_counters)
    if on_loop is None:
        return ctx, threads.run, None
    return on_loop.ctx, on_loop.run, on_loop.dispose


def close_at_shutdown(app: FastAPI, *closers: Closer | None) -> None:
    """Connections kept on the server's event loop are closed when it stops, on that loop."""
    closing = [close for close in closers if close is not None]
    if not closing:
        return
    inner = app.router.lifespan_context

    @asynccontextmanager
    async def lifespan(application: Any) -> AsyncIterator[Any]:
        async with inner(application) as state:
            yield state
        for close in closing:
            await close()

    app.router.lifespan_context = lifespan


def install(app: FastAPI, settings: Settings, ctx: Context) -> None:
    """The channel installer registered by `bascule.bootstrap`."""
    store = session_store(settings, ctx)
    screens_ctx, off_loop, dispose = screens_off_the_loop(settings, ctx, app.state.call_threads)
    app.state.ussd = UssdService(screens_ctx, store)
    app.state.ussd_off_loop = off_loop
    close_at_shutdown(app, getattr(store, "close", None), dispose)
    app.include_router(router)  # the route the API's document describes
    # The gateway's calls outnumber every other request: a bare endpoint answers them ahead of FastAPI's stack.
    open_front_door(app, "POST", "/ussd", UssdEndpoint(settings, app.state.ussd, off_loop))
