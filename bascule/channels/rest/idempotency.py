"""Idempotency-Key on every POST: a repeat with the same key and body replays the first answer.

The key is claimed in the database before the handler runs (so concurrent repeats wait for the
first one instead of running twice), and the answer is stored once the handler has finished.
A 5xx answer releases the key so the client may try again.
"""

from __future__ import annotations

import asyncio
import hashlib
import json
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Engine, delete, select, update
from starlette.concurrency import run_in_threadpool
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from bascule.channels.rest.asgi import read_body, replaying
from bascule.kernel.clock import Clock
from bascule.kernel.errors import ErrorCode
from bascule.persistence import tables as t
from bascule.persistence.repositories import insert_ignoring_conflict
from bascule.persistence.uow import UnitOfWork

MAX_KEY_LENGTH = 255
WAIT_SECONDS = 30.0


@dataclass(frozen=True, slots=True)
class Claim:
    outcome: str  # "run", "replay", "mismatch", "in_progress"
    status: int | None = None
    headers: dict[str, str] | None = None
    body: str | None = None


class IdempotencyStore:
    def __init__(self, engine: Engine, clock: Clock) -> None:
        self.engine = engine
        self.clock = clock

    def claim(self, principal: str, key: str, method: str, path: str, fingerprint: str) -> Claim:
        with UnitOfWork(self.engine) as uow:
            inserted = insert_ignoring_conflict(uow.connection, t.idempotency_keys, {
                "principal": principal, "key": key, "method": method, "path": path,
                "body_hash": fingerprint, "state": "in_progress", "created_at": self.clock.now(),
            })
            if inserted:
                uow.commit()
                return Claim("run")
            row = uow.connection.execute(
                select(t.idempotency_keys).where(
                    t.idempotency_keys.c.principal == principal, t.idempotency_keys.c.key == key
                )
            ).one()
        if row.body_hash != fingerprint:
            return Claim("mismatch")
        if row.state != "done":
            return Claim("in_progress")
        return Claim("replay", row.response_status, row.response_headers or {}, row.response_body)

    def finish(self, principal: str, key: str, status: int, headers: dict[str, str], body: str) -> None:
        with UnitOfWork(self.engine) as uow:
            uow.connection.execute(
                update(t.idempotency_keys)
                .where(t.idempotency_keys.c.principal == principal, t.idempotency_keys.c.key == key)
                .values(state="done", response_status=status, response_headers=headers, response_body=body)
            )
            uow.commit()

    def release(self, principal: str, key: str) -> None:
        with UnitOfWork(self.engine) as uow:
            uow.connection.execute(
                delete(t.idempotency_keys).where(
                    t.idempotency_keys.c.principal == principal, t.idempotency_keys.c.key == key
                )
            )
            uow.commit()


def _problem(status: int, code: ErrorCode, detail: str) -> tuple[int, dict[str, str], bytes]:
    body = {"type": f"urn:bascule:problem:{code.value}", "title": code.value.replace("-", " ").capitalize(),
            "status": status, "detail": detail, "code": code.value}
    return status, {"content-type": "application/problem+json"}, json.dumps(body, ensure_ascii=False).encode()


async def _send_whole(send: Send, status: int, headers: dict[str, str], body: bytes) -> None:
    raw = [(name.encode(), value.encode()) for name, value in headers.items() if name != "content-length"]
    raw.append((b"content-length", str(len(body)).encode()))
    await send({"type": "http.response.start", "status": status, "headers": raw})
    await send({"type": "http.response.body", "body": body})


class IdempotencyMiddleware:
    """`caller` names who sends the request (the same user with a new token is the same caller)."""

    def __init__(self, app: ASGIApp, store: IdempotencyStore, caller: Callable[[str | None], str]) -> None:
        self.app = app
        self.store = store
        self.caller = caller

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["method"] != "POST":
            await self.app(scope, receive, send)
            return
        headers = {name.decode("latin-1").lower(): value.decode("latin-1") for name, value in scope["headers"]}
        key = headers.get("idempotency-key")
        if key is None:
            await self.app(scope, receive, send)
            return
        if not key.strip() or len(key) > MAX_KEY_LENGTH:
            await _send_whole(send, *_problem(422, ErrorCode.VALIDATION_ERROR,
                                              f"Idempotency-Key doit faire de 1 à {MAX_KEY_LENGTH} caractères."))
            return
        body = await read_body(receive)
        principal = (await run_in_threadpool(self.caller, headers.get("authorization")))[:80]
        path = scope["path"] + ("?" + scope["query_string"].decode() if scope.get("query_string") else "")
        fingerprint = hashlib.sha256(b"POST " + path.encode() + b"\n" + body).hexdigest()
        claim = await self._claim(principal, key, path, fingerprint)
        if claim.outcome == "run":
            await self._run(scope, body, send, principal, key)
        elif claim.outcome == "replay":
            replay_headers = dict(claim.headers or {}) | {"idempotent-replayed": "true"}
            await _send_whole(send, claim.status or 200, replay_headers, (claim.body or "").encode())
        elif claim.outcome == "mismatch":
            await _send_whole(send, *_problem(422, ErrorCode.IDEMPOTENCY_KEY_REUSED,
                                              "Cette clé d'idempotence a déjà servi pour une autre demande."))
        else:
            await _send_whole(send, *_problem(409, ErrorCode.CONFLICT,
                                              "Une demande avec cette clé est encore en cours de traitement."))

    async def _claim(self, principal: str, key: str, path: str, fingerprint: str) -> Claim:
        loop = asyncio.get_running_loop()
        deadline = loop.time() + WAIT_SECONDS
        delay = 0.01
        while True:
            claim = await run_in_threadpool(self.store.claim, principal, key, "POST", path, fingerprint)
            if claim.outcome != "in_progress" or loop.time() >= deadline:
                return claim
            await asyncio.sleep(delay)
            delay = min(delay * 2, 0.25)

    async def _run(self, scope: Scope, body: bytes, send: Send, principal: str, key: str) -> None:
        status = 500
        response_headers: dict[str, str] = {}
        chunks: list[bytes] = []
        async def capture(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
                for name, value in message.get("headers", []):
                    response_headers[name.decode("latin-1").lower()] = value.decode("latin-1")
            elif message["type"] == "http.response.body":
                chunks.append(message.get("body", b""))
            await send(message)

        try:
            await self.app(scope, replaying(body), capture)
        except BaseException:
            await run_in_threadpool(self.store.release, principal, key)
            raise
        if status >= 500:
            await run_in_threadpool(self.store.release, principal, key)
            return
        kept = {name: value for name, value in response_headers.items() if name in ("content-type", "location")}
        await run_in_threadpool(self.store.finish, principal, key, status, kept, b"".join(chunks).decode("utf-8"))


def describe() -> dict[str, Any]:
    return {"header": "Idempotency-Key", "max_length": MAX_KEY_LENGTH}
