"""Where a USSD session's state lives between two screens: Redis when configured, else the database.

Both stores keep a JSON-able dict per `sessionId` for a time-to-live measured on the application
clock (so the test clock drives expiry the same way on both); Redis also expires the key itself.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, Protocol

from sqlalchemy import Engine, delete, select
from sqlalchemy.dialects import postgresql, sqlite

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
    def load(self, session_id: str) -> StoredSession | None:
        """The live session, or None when unknown or expired."""
        ...

    def save(self, session_id: str, session: StoredSession) -> None:
        """Create or replace the session; its time-to-live starts again."""
        ...

    def delete(self, session_id: str) -> None: ...


class RedisSessionStore:
    def __init__(self, client: Any, clock: Clock, ttl_seconds: int = SESSION_TTL_SECONDS) -> None:
        self.client = client  # a redis.Redis; nothing connects before the first command
        self.clock = clock
        self.ttl_seconds = ttl_seconds

    @classmethod
    def from_url(cls, url: str, clock: Clock, ttl_seconds: int = SESSION_TTL_SECONDS) -> RedisSessionStore:
        import redis

        return cls(redis.Redis.from_url(url, decode_responses=True), clock, ttl_seconds)

    def load(self, session_id: str) -> StoredSession | None:
        raw = self.client.get(REDIS_PREFIX + session_id)
        if raw is None:
            return None
        data = json.loads(raw)
        if datetime.fromisoformat(data["expires_at"]) <= self.clock.now():
            return None
        return StoredSession(data["msisdn"], data["state"])

    def save(self, session_id: str, session: StoredSession) -> None:
        expires_at = self.clock.now() + timedelta(seconds=self.ttl_seconds)
        value = json.dumps({"msisdn": session.msisdn, "state": session.state, "expires_at": expires_at.isoformat()})
        self.client.setex(REDIS_PREFIX + session_id, self.ttl_seconds, value)  # SET … EX, cheaper through redis-py

    def delete(self, session_id: str) -> None:
        self.client.delete(REDIS_PREFIX + session_id)


class DatabaseSessionStore:
    """The `ussd_sessions` table; each call is its own short transaction. Saving sweeps expired rows."""

    def __init__(self, engine: Engine, clock: Clock, ttl_seconds: int = SESSION_TTL_SECONDS) -> None:
        self.engine = engine
        self.clock = clock
        self.ttl_seconds = ttl_seconds

    def load(self, session_id: str) -> StoredSession | None:
        table = t.ussd_sessions
        query = select(table.c.msisdn, table.c.state).where(
            table.c.session_id == session_id, table.c.expires_at > self.clock.now()
        )
        with UnitOfWork(self.engine, write=False) as uow:
            row = uow.connection.execute(query).first()
        return None if row is None else StoredSession(row.msisdn, dict(row.state))

    def save(self, session_id: str, session: StoredSession) -> None:
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

    def delete(self, session_id: str) -> None:
        with UnitOfWork(self.engine) as uow:
            uow.connection.execute(delete(t.ussd_sessions).where(t.ussd_sessions.c.session_id == session_id))
            uow.commit()
