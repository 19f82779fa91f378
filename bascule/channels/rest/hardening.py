"""API hardening: protective headers on every answer, and login throttling by e-mail.

Throttling: `login_max_failures` wrong passwords for one e-mail within `login_window_minutes` lock
that e-mail out of `POST /api/v1/auth/login` for `login_lockout_minutes` (429 too-many-requests with
Retry-After); a successful login clears the count. Time is the application clock. Attempts still
running count against the limit (one atomic step reserves each), so a burst of parallel guesses gets
no more tries than a sequence. The counts live in Redis when `BASCULE_REDIS_URL` is set — which a
deployment with several processes must do — and otherwise in the process, behind a lock.
"""

from __future__ import annotations

import hashlib
import itertools
import json
import math
import threading
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any, Protocol

import structlog
from starlette.concurrency import run_in_threadpool
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from bascule.channels.rest.asgi import read_body, replaying
from bascule.channels.rest.problems import problem
from bascule.kernel.clock import Clock
from bascule.kernel.errors import ErrorCode
from bascule.settings import Settings

log = structlog.get_logger("bascule.security")

LOGIN_PATH = "/api/v1/auth/login"
REDIS_PREFIX = "bascule:login-throttle:"

API_CSP = ("default-src 'self'; img-src 'self' data:; object-src 'none'; base-uri 'self'; "
           "form-action 'self'; frame-ancestors 'none'")
HSTS = "max-age=31536000; includeSubDomains"


def security_headers(scope: Scope, route: str) -> dict[str, str]:
    """Added to every answer that does not set its own (the portal's pages and the API documentation pages set
    their own Content-Security-Policy)."""
    headers = {
        "X-Content-Type-Options": "nosniff",
        "X-Frame-Options": "DENY",
        "Referrer-Policy": "no-referrer",
        "Content-Security-Policy": API_CSP,
    }
    if scope.get("scheme") == "https":
        headers["Strict-Transport-Security"] = HSTS
    return headers


# --- login throttling ---------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class ThrottlePolicy:
    max_failures: int = 5
    window: timedelta = timedelta(minutes=15)
    lockout: timedelta = timedelta(minutes=15)

    @classmethod
    def from_settings(cls, settings: Settings) -> ThrottlePolicy:
        return cls(max(1, settings.login_max_failures), timedelta(minutes=settings.login_window_minutes),
                   timedelta(minutes=settings.login_lockout_minutes))


@dataclass(frozen=True, slots=True)
class Attempt:
    allowed: bool
    token: str = ""
    retry_after: int = 0  # whole seconds, when refused


class LoginThrottle(Protocol):
    def begin(self, key: str) -> Attempt:
        """Reserve one attempt for `key`, or refuse while it is locked out or at its limit."""
        ...

    def failed(self, key: str, token: str) -> None: ...

    def succeeded(self, key: str, token: str) -> None: ...

    def abandon(self, key: str, token: str) -> None:
        """The attempt was neither right nor wrong (a malformed request): it does not count."""
        ...

    def clear(self) -> None: ...


def _seconds(delta: timedelta) -> int:
    return max(1, math.ceil(delta.total_seconds()))


@dataclass
class _Record:
    failures: dict[str, datetime] = field(default_factory=dict)  # resolved wrong passwords
    running: dict[str, datetime] = field(default_factory=dict)  # attempts not answered yet
    locked_until: datetime | None = None


class MemoryLoginThrottle:
    """In the process; correct for one process only (several processes: use Redis)."""

    SWEEP_EVERY = 1024

    def __init__(self, clock: Clock, policy: ThrottlePolicy) -> None:
        self.clock = clock
        self.policy = policy
        self._records: dict[str, _Record] = {}
        self._lock = threading.Lock()
        self._tokens = itertools.count(1)
        self._calls = 0

    def _live(self, key: str, now: datetime) -> _Record:
        record = self._records.setdefault(key, _Record())
        if record.locked_until is not None and record.locked_until <= now:
            record = self._records[key] = _Record(running=record.running)
        horizon = now - self.policy.window
        record.failures = {token: at for token, at in record.failures.items() if at > horizon}
        return record

    def begin(self, key: str) -> Attempt:
        now = self.clock.now()
        with self._lock:
            self._sweep(now)
            record = self._live(key, now)
            if record.locked_until is not None:
                return Attempt(False, retry_after=_seconds(record.locked_until - now))
            if len(record.failures) + len(record.running) >= self.policy.max_failures:
                oldest = min([*record.failures.values(), *record.running.values()])
                return Attempt(False, retry_after=_seconds(oldest + self.policy.window - now))
            token = str(next(self._tokens))
            record.running[token] = now
            return Attempt(True, token)

    def failed(self, key: str, token: str) -> None:
        now = self.clock.now()
        with self._lock:
            record = self._live(key, now)
            record.running.pop(token, None)
            record.failures[token] = now
            if len(record.failures) >= self.policy.max_failures:
                record.failures.clear()
                record.locked_until = now + self.policy.lockout

    def succeeded(self, key: str, token: str) -> None:
        with self._lock:
            record = self._records.pop(key, None)
            if record is not None:
                record.running.pop(token, None)
                if record.running:  # other attempts still running keep their reservation, nothing else
                    self._records[key] = _Record(running=record.running)

    def abandon(self, key: str, token: str) -> None:
        with self._lock:
            record = self._records.get(key)
            if record is not None:
                record.running.pop(token, None)

    def clear(self) -> None:
        with self._lock:
            self._records.clear()

    def _sweep(self, now: datetime) -> None:
        """Forget e-mails with nothing left to remember, now and then (bounded memory under spraying)."""
        self._calls += 1
        if self._calls % self.SWEEP_EVERY:
            return
        horizon = now - self.policy.window
        for key in [key for key, record in self._records.items()
                    if not record.running and (record.locked_until is None or record.locked_until <= now)
                    and all(at <= horizon for at in record.failures.values())]:
            del self._records[key]


# The same rules in Redis, one script per step so that each is atomic across processes. Times are the
# application clock's, in milliseconds, passed in; Redis' own expiry only collects forgotten keys.
_BEGIN = """
local now, window, limit, token, ttl = tonumber(ARGV[1]), tonumber(ARGV[2]), tonumber(ARGV[3]), ARGV[4], ARGV[5]
local locked = tonumber(redis.call('GET', KEYS[3]) or '0')
if locked > now then return {0, locked - now} end
if locked > 0 then redis.call('DEL', KEYS[1], KEYS[3]) end
redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', now - window)
redis.call('ZREMRANGEBYSCORE', KEYS[2], '-inf', now - window)
if redis.call('ZCARD', KEYS[1]) + redis.call('ZCARD', KEYS[2]) >= limit then
  local oldest = tonumber(redis.call('ZRANGE', KEYS[2], 0, 0, 'WITHSCORES')[2] or now)
  local first = tonumber(redis.call('ZRANGE', KEYS[1], 0, 0, 'WITHSCORES')[2] or now)
  return {0, math.min(oldest, first) + window - now}
end
redis.call('ZADD', KEYS[2], now, token)
redis.call('PEXPIRE', KEYS[2], ttl)
return {1, 0}
"""
_FAILED = """
local now, window, limit, token, lockout, ttl = tonumber(ARGV[1]), tonumber(ARGV[2]), tonumber(ARGV[3]), ARGV[4],
  tonumber(ARGV[5]), ARGV[6]
redis.call('ZREM', KEYS[2], token)
redis.call('ZADD', KEYS[1], now, token)
redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', now - window)
redis.call('PEXPIRE', KEYS[1], ttl)
if redis.call('ZCARD', KEYS[1]) >= limit then
  redis.call('DEL', KEYS[1])
  redis.call('SET', KEYS[3], now + lockout, 'PX', ttl)
end
return 1
"""


class RedisLoginThrottle:
    """Shared by every process that uses the same Redis."""

    def __init__(self, client: Any, clock: Clock, policy: ThrottlePolicy) -> None:
        self.client = client  # a redis.Redis; nothing connects before the first command
        self.clock = clock
        self.policy = policy
        self._begin = client.register_script(_BEGIN)
        self._failed = client.register_script(_FAILED)
        self._tokens = itertools.count(1)
        self._process = hashlib.sha256(str(id(self)).encode()).hexdigest()[:8]

    @classmethod
    def from_url(cls, url: str, clock: Clock, policy: ThrottlePolicy) -> RedisLoginThrottle:
        import redis

        return cls(redis.Redis.from_url(url), clock, policy)

    @staticmethod
    def _keys(key: str) -> list[str]:
        digest = hashlib.sha256(key.encode()).hexdigest()[:40]
        return [f"{REDIS_PREFIX}{digest}:{part}" for part in ("failures", "running", "locked")]

    def _now_ms(self) -> int:
        return int(self.clock.now().timestamp() * 1000)

    def _ttl_ms(self) -> int:
        return int((self.policy.window + self.policy.lockout).total_seconds() * 1000) + 60_000

    def begin(self, key: str) -> Attempt:
        token = f"{self._process}-{next(self._tokens)}"
        window = int(self.policy.window.total_seconds() * 1000)
        allowed, wait_ms = self._begin(keys=self._keys(key), args=[
            self._now_ms(), window, self.policy.max_failures, token, self._ttl_ms()])
        if int(allowed):
            return Attempt(True, token)
        return Attempt(False, retry_after=max(1, math.ceil(int(wait_ms) / 1000)))

    def failed(self, key: str, token: str) -> None:
        self._failed(keys=self._keys(key), args=[
            self._now_ms(), int(self.policy.window.total_seconds() * 1000), self.policy.max_failures, token,
            int(self.policy.lockout.total_seconds() * 1000), self._ttl_ms()])

    def succeeded(self, key: str, token: str) -> None:
        failures, running, locked = self._keys(key)
        pipeline = self.client.pipeline()
        pipeline.delete(failures, locked)
        pipeline.zrem(running, token)
        pipeline.execute()

    def abandon(self, key: str, token: str) -> None:
        self.client.zrem(self._keys(key)[1], token)

    def clear(self) -> None:
        for name in self.client.scan_iter(match=f"{REDIS_PREFIX}*", count=500):
            self.client.delete(name)


def build_login_throttle(settings: Settings, clock: Clock) -> LoginThrottle:
    policy = ThrottlePolicy.from_settings(settings)
    if settings.redis_url:
        return RedisLoginThrottle.from_url(settings.redis_url, clock, policy)
    return MemoryLoginThrottle(clock, policy)


def _email_of(body: bytes) -> str | None:
    """The e-mail of a password login, normalised as the login use case does; None for anything else."""
    try:
        document = json.loads(body)
    except ValueError:
        return None
    if not isinstance(document, dict):
        return None
    email, password = document.get("email"), document.get("password")
    if not isinstance(email, str) or not isinstance(password, str):
        return None
    return email.strip().lower() or None


class LoginThrottleMiddleware:
    def __init__(self, app: ASGIApp, throttle: LoginThrottle, path: str = LOGIN_PATH) -> None:
        self.app = app
        self.throttle = throttle
        self.path = path

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["method"] != "POST" or scope["path"].rstrip("/") != self.path:
            await self.app(scope, receive, send)
            return
        body = await read_body(receive)
        replay = replaying(body)
        email = _email_of(body)
        if email is None:
            await self.app(scope, replay, send)
            return
        attempt = await self._call(self.throttle.begin, email)
        if attempt is None:  # the store is away: let the login through rather than lock everyone out
            await self.app(scope, replay, send)
            return
        if not attempt.allowed:
            scope["bascule.route"] = self.path  # for the request log and metrics: the router never saw it
            log.warning("login.throttled", retry_after=attempt.retry_after)
            await self._refuse(scope, replay, send, attempt.retry_after)
            return
        await self._attempt(scope, replay, send, email, attempt.token)

    async def _attempt(self, scope: Scope, receive: Receive, send: Send, email: str, token: str) -> None:
        settled = False

        async def settle(status: int) -> None:
            nonlocal settled
            settled = True
            if status == 401:
                await self._call(self.throttle.failed, email, token)
            elif 200 <= status < 300:
                await self._call(self.throttle.succeeded, email, token)
            else:
                await self._call(self.throttle.abandon, email, token)

        async def watch(message: Message) -> None:
            # The outcome is counted before the client sees the answer: its next try finds it counted.
            if message["type"] == "http.response.start":
                await settle(message["status"])
            await send(message)

        try:
            await self.app(scope, receive, watch)
        finally:
            if not settled:
                await settle(500)

    @staticmethod
    async def _call(step: Any, *args: Any) -> Any:
        try:
            return await run_in_threadpool(step, *args)
        except Exception:
            log.exception("login.throttle_store_unavailable")
            return None

    @staticmethod
    async def _refuse(scope: Scope, receive: Receive, send: Send, retry_after: int) -> None:
        minutes = max(1, math.ceil(retry_after / 60))
        detail = (f"Trop de tentatives de connexion infructueuses. Réessayez dans {minutes} minute"
                  f"{'s' if minutes > 1 else ''}.")
        response = problem(ErrorCode.TOO_MANY_REQUESTS, detail, scope["path"], retry_after=retry_after)
        await response(scope, receive, send)
