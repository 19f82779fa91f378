"""One pipelined connection to Redis per event loop, for the USSD sessions' GET, SET … EX and DEL.

A screen reads its session and saves it: two commands on the busiest path of the server. redis-py's asyncio client
spent 120–155 µs of CPU on the pair (a pool checkout, a retry wrapper, a timeout and a stream reader per command);
hiredis's own packer and parser over an asyncio Protocol spend 17–19 µs (bench/README.md, seventeenth pass). The
concurrent screens of a process share the connection: each command is written as it comes, and the replies, which
Redis sends in the order of the commands, settle their callers first in, first out. The commands of one turn of
the event loop go out in one socket write at its end, as the HTTP answers do (`channels.http_protocol`): on loopback
a write also runs the receiver's side of TCP, and was most of what a command still cost.

The commands sent here are idempotent (a read, a write of a whole value, a delete), so a command whose connection was
lost (Redis restarted, or closed an idle client) is sent once more on a new one. A reply that does not come within
`timeout` seconds closes the connection and fails every command waiting on it.
"""

from __future__ import annotations

import asyncio
import ssl
from collections import deque
from dataclasses import dataclass
from typing import Any, cast
from urllib.parse import parse_qs, unquote, urlsplit

import hiredis

DEFAULT_PORT = 6379
DEFAULT_TIMEOUT = 5.0
CLIENT_NAME = "bascule-ussd-sessions"
_MORE = object()  # what the parser answers while a reply is incomplete


class RedisLinkError(ConnectionError):
    """The connection to Redis could not be opened, was lost, or a reply did not come in time."""


class RedisTimeoutError(RedisLinkError):
    """A reply did not come within the link's timeout: the connection is closed, and the command not sent again."""


class RedisReplyError(RuntimeError):
    """Redis answered a command with an error (`-ERR …`); the connection stays usable."""


@dataclass(frozen=True, slots=True)
class RedisAddress:
    """Where Redis listens and who we are there, read from `BASCULE_REDIS_URL` (`redis://[[user]:password@]host
    [:port][/db]`, `rediss://` for TLS, `unix:///path/to/socket?db=N`)."""

    host: str = "127.0.0.1"  # unused when `path` names a Unix socket
    port: int = DEFAULT_PORT
    path: str | None = None
    db: int = 0
    username: str | None = None
    password: str | None = None
    tls: bool = False

    @classmethod
    def from_url(cls, url: str) -> RedisAddress:
        parts = urlsplit(url)
        if parts.scheme not in ("redis", "rediss", "unix"):
            # Never the URL itself in the message: it may hold a password.
            given = f"{parts.scheme}://" if parts.scheme else "nothing of the kind"
            raise ValueError(f"a Redis URL starts with redis://, rediss:// or unix://, not {given}")
        query = parse_qs(parts.query)
        db_text = query.get("db", [""])[0] or (parts.path.lstrip("/") if parts.scheme != "unix" else "")
        username = unquote(parts.username) if parts.username else None
        password = unquote(parts.password) if parts.password else None
        if db_text and not db_text.isdigit():
            raise ValueError(f"a Redis database is a number, not {db_text!r}")
        db = int(db_text) if db_text else 0
        if parts.scheme == "unix":
            return cls(path=unquote(parts.path), db=db, username=username, password=password)
        host, port, tls = parts.hostname or "127.0.0.1", parts.port or DEFAULT_PORT, parts.scheme == "rediss"
        return cls(host, port, db=db, username=username, password=password, tls=tls)

    def handshake(self) -> list[tuple[Any, ...]]:
        """The commands that make a new connection ours: AUTH when a password is given, its name (what `CLIENT
        LIST` shows an operator), SELECT for a database."""
        commands: list[tuple[Any, ...]] = []
        if self.password is not None:
            commands.append(("AUTH", self.username, self.password) if self.username else ("AUTH", self.password))
        commands.append(("CLIENT", "SETNAME", CLIENT_NAME))
        if self.db:
            commands.append(("SELECT", self.db))
        return commands


class _Wire(asyncio.Protocol):
    """One connection: commands written in order, each reply handed to the oldest caller still waiting."""

    def __init__(self, timeout: float) -> None:
        self.timeout = timeout
        self.reader = hiredis.Reader(encoding="utf-8", notEnoughData=_MORE)
        self.waiting: deque[tuple[asyncio.Future[Any], float]] = deque()
        self.held: list[bytes] = []  # the commands of this turn of the loop, written at its end
        self.transport: asyncio.Transport | None = None
        self.lost: RedisLinkError | None = None
        self._watch: asyncio.TimerHandle | None = None
        self._loop = asyncio.get_running_loop()

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self.transport = cast(asyncio.Transport, transport)  # uvloop's transports are not asyncio.Transport

    def data_received(self, data: bytes) -> None:
        self.reader.feed(data)
        try:
            while (reply := self.reader.gets()) is not _MORE:
                self._settle(self.waiting.popleft()[0], reply)
        except (hiredis.ProtocolError, IndexError):  # garbled, or a reply nobody asked for
            self._break(RedisLinkError("Redis sent a reply that cannot be read"))

    def connection_lost(self, exc: Exception | None) -> None:
        self._break(RedisLinkError(f"the connection to Redis was lost: {exc or 'closed'}"))

    def send(self, command: tuple[Any, ...]) -> asyncio.Future[Any]:
        if self.lost is not None:
            raise _again(self.lost)
        if self.transport is None:
            raise RedisLinkError("not connected to Redis")
        reply = self._loop.create_future()
        self.waiting.append((reply, self._loop.time()))
        if not self.held:
            self._loop.call_soon(self._flush)
        self.held.append(hiredis.pack_command(command))
        if self._watch is None:
            self._watch = self._loop.call_later(self.timeout, self._check)
        return reply

    def close(self) -> None:
        self._break(RedisLinkError("the connection to Redis was closed"))

    def _flush(self) -> None:
        held, self.held = self.held, []
        if held and self.lost is None and self.transport is not None:
            self.transport.write(held[0] if len(held) == 1 else b"".join(held))

    @staticmethod
    def _settle(reply: asyncio.Future[Any], value: Any) -> None:
        if reply.done():  # its caller stopped waiting (cancelled); the reply is dropped, the order kept
            return
        if isinstance(value, hiredis.ReplyError):
            reply.set_exception(RedisReplyError(str(value)))
        else:
            reply.set_result(value)

    def _check(self) -> None:
        """One timer for the whole connection: the oldest command waiting must have its reply within `timeout`."""
        self._watch = None
        if not self.waiting:
            return
        waited = self._loop.time() - self.waiting[0][1]
        if waited >= self.timeout:
            self._break(RedisTimeoutError(f"Redis did not answer within {self.timeout:g} s"))
        else:
            self._watch = self._loop.call_later(self.timeout - waited, self._check)

    def _break(self, error: RedisLinkError) -> None:
        lost = self.lost = self.lost or error
        self.held = []
        if self._watch is not None:
            self._watch.cancel()
            self._watch = None
        if self.transport is not None:
            self.transport.abort()
        while self.waiting:
            reply = self.waiting.popleft()[0]
            if not reply.done():
                reply.set_exception(_again(lost))


def _again(lost: RedisLinkError) -> RedisLinkError:
    """Why a connection is gone, as an error of its own for each caller: one instance raised by several would gather
    every caller's traceback."""
    return type(lost)(*lost.args)


class RedisLink:
    """Commands to one Redis over one connection of the running event loop, opened at the first command and again
    after a loss. A link belongs to the loop it first ran on."""

    def __init__(self, url: str, timeout: float = DEFAULT_TIMEOUT) -> None:
        self.address = RedisAddress.from_url(url)
        self.timeout = timeout
        self._wire: _Wire | None = None
        self._opening: asyncio.Future[_Wire] | None = None  # the one attempt under way, which every caller awaits

    async def command(self, *args: Any) -> Any:
        """Send one idempotent command and return its reply (str, int, list or None); sent again once on a new
        connection if the first one was lost (not if Redis was too slow to answer)."""
        try:
            return await (await self._connected()).send(args)
        except RedisTimeoutError:
            raise
        except RedisLinkError:
            return await (await self._connected()).send(args)

    async def close(self) -> None:
        if self._opening is not None:
            self._opening.cancel()
        if self._wire is not None:
            self._wire.close()
            self._wire = None

    async def _connected(self) -> _Wire:
        """The connection, opened if there is none: callers that come while it opens wait for the same attempt, and
        share its failure (a Redis that does not answer fails them in one timeout, not one after the other)."""
        wire = self._wire
        if wire is not None and wire.lost is None:
            return wire
        if self._opening is None:
            self._opening = asyncio.ensure_future(self._open())
            self._opening.add_done_callback(self._opened)
        return await asyncio.shield(self._opening)

    def _opened(self, opening: asyncio.Future[_Wire]) -> None:
        self._opening = None
        if not opening.cancelled() and opening.exception() is None:
            self._wire = opening.result()

    async def _open(self) -> _Wire:
        try:
            async with asyncio.timeout(self.timeout):
                return await self._dial_and_greet()
        except RedisLinkError:
            raise
        except TimeoutError as error:
            raise RedisTimeoutError(f"Redis did not answer within {self.timeout:g} s") from error
        except OSError as error:
            raise RedisLinkError(f"cannot reach Redis: {error}") from error

    async def _dial_and_greet(self) -> _Wire:
        """A new connection, after its greeting (the URL's AUTH, its name, the URL's SELECT); closed again if the
        greeting fails or does not come."""
        loop = asyncio.get_running_loop()
        address = self.address
        if address.path is not None:
            _, wire = await loop.create_unix_connection(lambda: _Wire(self.timeout), address.path)
        else:
            tls = ssl.create_default_context() if address.tls else None
            _, wire = await loop.create_connection(lambda: _Wire(self.timeout), address.host, address.port, ssl=tls)
        try:
            await asyncio.gather(*(wire.send(command) for command in address.handshake()))  # in one write
        except BaseException:
            wire.close()
            raise
        return wire
