"""API v1's commands: every POST runs its use case through `bascule.commands.runner`, with the
request's `Idempotency-Key` (if any), so that the key's answer commits with the command itself."""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from typing import TypeVar

from fastapi import Request
from starlette.responses import Response
from starlette.types import Scope

from bascule.channels.rest import problems
from bascule.channels.rest.security import context_of
from bascule.commands import runner
from bascule.commands.answers import Answer, Keyed
from bascule.context import Context
from bascule.identity.model import Principal
from bascule.kernel.errors import DomainError, ErrorCode

T = TypeVar("T")

MAX_KEY_LENGTH = 255
_STORED_HEADERS = ("content-type", "location", "www-authenticate", "retry-after")


def caller_name(actor: Principal | None) -> str:
    """Whose key it is: the same user with a new token is the same caller."""
    if actor is None:
        return "anonymous"
    if actor.is_operator:
        return "operator"
    return f"{actor.kind.value}:{actor.id}"[:80]


def as_answer(response: Response) -> Answer:
    headers = {name: value for name, value in response.headers.items() if name in _STORED_HEADERS}
    return Answer(response.status_code, bytes(response.body), headers)


def as_response(answer: Answer) -> Response:
    headers = dict(answer.headers) | ({"idempotent-replayed": "true"} if answer.replayed else {})
    return Response(answer.body, status_code=answer.status, headers=headers)


class Command:
    """A POST about to run: its context, its key (if sent) and where it was sent."""

    def __init__(self, ctx: Context, path: str, key: str | None, fingerprint: str) -> None:
        self.ctx = ctx
        self.path = path
        self._key = key
        self._fingerprint = fingerprint

    def __call__(
        self,
        actor: Principal | None,
        work: Callable[[Context], T],
        render: Callable[[T], Response],
        settle: runner.Settle[T] | None = None,
    ) -> Response:
        """`work` in one transaction with the key's answer (`settle`: after the commit, the networks)."""
        outcome = runner.answer(
            self.ctx, self._keyed(actor), work, lambda result: as_answer(render(result)), self._refuse, settle
        )
        return as_response(outcome)

    def in_steps(
        self, actor: Principal | None, work: Callable[[Context], T], render: Callable[[T], Response]
    ) -> Response:
        """A command made of many transactions by design, which resumes after a crash (see the runner)."""
        outcome = runner.answer_in_steps(
            self.ctx, self._keyed(actor), work, lambda result: as_answer(render(result)), self._refuse
        )
        return as_response(outcome)

    def _keyed(self, actor: Principal | None) -> Keyed | None:
        return None if self._key is None else Keyed(caller_name(actor), self._key, self.path, self._fingerprint)

    def _refuse(self, error: DomainError) -> Answer:
        return as_answer(problems.from_domain(error, self.path.partition("?")[0]))


def path_and_query(scope: Scope) -> str:
    """`request.url.path` and its query, as Starlette writes them, without building the whole URL (that was 3 %
    of a profile migration's CPU)."""
    path = str(scope["path"]).replace("?", "%3F").replace("#", "%23").replace("\\", "%5C")
    query = bytes(scope.get("query_string", b"")).decode()
    return f"{path}?{query}" if query else path


async def posted(request: Request) -> Command:
    """The dependency of every POST route of API v1."""
    key = request.headers.get("idempotency-key")
    path = path_and_query(request.scope)
    if key is None:
        return Command(context_of(request), path, None, "")
    if not key.strip() or len(key) > MAX_KEY_LENGTH:
        raise DomainError(ErrorCode.VALIDATION_ERROR, f"Idempotency-Key doit faire de 1 à {MAX_KEY_LENGTH} caractères.")
    body = await request.body()
    fingerprint = hashlib.sha256(b"POST " + path.encode() + b"\n" + body).hexdigest()
    return Command(context_of(request), path, key, fingerprint)
