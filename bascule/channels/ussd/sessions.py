"""Where a USSD session's state lives between two screens: Redis when configured, else the database.

Both stores keep a JSON-able dict per `sessionId` for a time-to-live measured on the application
clock (so the test clock drives expiry the same way on both); Redis also expires the key itself.

The stores are asynchronous: the USSD channel reads and writes the session on the event loop, and only the screen
between (the menu's walk, the database) runs apart (`routes.screens_off_the_loop`). Redis is spoken without a
thread: a blocking client in the threads cost a screen two blocking round trips, each a hand-over of the GIL and a
sleep and wake of the thread (bench/README.md, eleventh pass); and over one pipelined connection of the loop
(`redis_link`), not redis-py's asyncio client, which cost six times the CPU (seventeenth pass). The database store
runs its short transactions in a worker thread.
"""

from __future__ import annotations

import asyncio
import json
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, Protocol

from sqlalchemy import Engine, delete, select
from sqlalchemy.dialects import postgresql, sqlite

from bascule.channels.ussd.redis_link import RedisAddress, RedisLink
from bascule.kernel.clock import Clock
from bascule.persistence import tables as t
from bascule.persistence.uow import UnitOfWork

SESSION_TTL_SECONDS = 180
REDIS_PREFIX = "bascule:ussd:session:"


@dataclass(frozen=True, slots=True)
class StoredSession:
    msisdn: str
    state: dict[str, Any]


class SessionStore(Protocol):
    async def load(self, session_id: str) -> StoredSession | None:
        """The live session, or None when unknown or expired."""
        ...

    async def save(self, session_id: str, session: StoredSession) -> None:
        """Create or replace the session; its time-to-live starts again."""
        ...

    async def delete(self, session_id: str) -> None: ...


class RedisSessionStore:
    """Sessions in Redis, over one pipelined connection of each event loop (`redis_link.RedisLink`): a process
    serves on one loop, and a link is made again for another loop (a test client's, say)."""

    def __init__(self, url: str, clock: Clock, ttl_seconds: int = SESSION_TTL_SECONDS) -> None:
        self.url = url
        self.clock = clock
        self.ttl_seconds = ttl_seconds
        RedisAddress.from_url(url)  # a URL that cannot be read stops the server at start, not at the first screen
        self._loop: asyncio.AbstractEventLoop | None = None
        self._link: RedisLink | None = None  # nothing connects before the first command

    @classmethod
    def from_url(cls, url: str, clock: Clock, ttl_seconds: int = SESSION_TTL_SECONDS) -> RedisSessionStore:
        return cls(url, clock, ttl_seconds)

    def _redis(self) -> RedisLink:
        loop = asyncio.get_running_loop()
        if self._link is None or self._loop is not loop:
            self._link = RedisLink(self.url)
            self._loop = loop
        return self._link

    async def load(self, session_id: str) -> StoredSession | None:
        raw = await self._redis().command("GET", REDIS_PREFIX + session_id)
        if raw is None:
            return None
        data = json.loads(raw)
        if datetime.fromisoformat(data["expires_at"]) <= self.clock.now():
            return None
        return StoredSession(data["msisdn"], data["state"])

    async def save(self, session_id: str, session: StoredSession) -> None:
        expires_at = self.clock.now() + timedelta(seconds=self.ttl_seconds)
        value = json.dumps({"msisdn": session.msisdn, "state": session.state, "expires_at": expires_at.isoformat()})
        await self._redis().command("SET", REDIS_PREFIX + session_id, value, "EX", self.ttl_seconds)

    async def delete(self, session_id: str) -> None:
        await self._redis().command("DEL", REDIS_PREFIX + session_id)

    async def close(self) -> None:
        """Close the link of the running loop (a loop's end does not close its connection)."""
        if self._link is not None and self._loop is asyncio.get_running_loop():
            await self._link.close()
        self._link = self._loop = None


class DatabaseSessionStore:
    """The `ussd_sessions` table; each call is its own short transaction, in a worker thread. Saving sweeps expired
    rows."""

    def __init__(self, engine: Engine, clock: Clock, ttl_seconds: int = SESSION_TTL_SECONDS) -> None:
        self.engine = engine
        self.clock = clock
        self.ttl_seconds = ttl_seconds

    async def load(self, session_id: str) -> StoredSession | None:
        return await asyncio.to_thread(self._load, session_id)

    async def save(self, session_id: str, session: StoredSession) -> None:
        await asyncio.to_thread(self._save, session_id, session)

    async def delete(self, session_id: str) -> None:
        await asyncio.to_thread(self._delete, session_id)

    def _load(self, session_id: str) -> StoredSession | None:
        table = t.ussd_sessions
        query = select(table.c.msisdn, table.c.state).where(
            table.c.session_id == session_id, table.c.expires_at > self.clock.now()
        )
        with UnitOfWork(self.engine, write=False) as uow:
            row = uow.connection.execute(query).first()
        return None if row is None else StoredSession(row.msisdn, dict(row.state))

    def _save(self, session_id: str, session: StoredSession) -> None:
        now = self.clock.now()
        values = {
            "msisdn": session.msisdn,
            "state": session.state,
            "updated_at": now,
            "expires_at": now + timedelta(seconds=self.ttl_seconds),
        }
        with UnitOfWork(self.engine) as uow:
            dialect = postgresql if uow.connection.dialect.name == "postgresql" else sqlite
            upsert = dialect.insert(t.ussd_sessions).values(session_id=session_id, **values)
            uow.connection.execute(upsert.on_conflict_do_update(index_elements=["session_id"], set_=values))
            uow.connection.execute(delete(t.ussd_sessions).where(t.ussd_sessions.c.expires_at <= now))
            uow.commit()

    def _delete(self, session_id: str) -> None:
        with UnitOfWork(self.engine) as uow:
            uow.connection.execute(delete(t.ussd_sessions).where(t.ussd_sessions.c.session_id == session_id))
            uow.commit()
