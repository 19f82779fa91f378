"""Login throttling, for every channel that checks a secret: the API's password login, the portal's logins.

`login_max_failures` wrong secrets for one key within `login_window_minutes` lock that key out for
`login_lockout_minutes`; a success clears the count. Time is the application clock. Attempts still running
count against the limit (one atomic step reserves each), so a burst of parallel guesses gets no more tries
than a sequence. The counts live in Redis when `BASCULE_REDIS_URL` is set — which a deployment with several
processes must do — and otherwise in the process, behind a lock. A refusal is `too-many-requests` with
one French sentence (`refusal`); a login refused for any other reason is a 401 (`login_status`).
"""

from __future__ import annotations

import hashlib
import itertools
import math
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any, Protocol

from bascule.context import Context, Kept
from bascule.kernel.clock import Clock
from bascule.kernel.errors import DomainError, ErrorCode
from bascule.settings import Settings

REDIS_PREFIX = "bascule:login-throttle:"
CONFIRMATION = "confirmation"  # the portal's space for passwords typed again to confirm an act


@dataclass(frozen=True, slots=True)
class ThrottlePolicy:
    max_failures: int = 5
    window: timedelta = timedelta(minutes=15)
    lockout: timedelta = timedelta(minutes=15)

    @classmethod
    def from_settings(cls, settings: Settings, max_failures: int | None = None) -> ThrottlePolicy:
        limit = settings.login_max_failures if max_failures is None else max_failures
        return cls(
            max(1, limit),
            timedelta(minutes=settings.login_window_minutes),
            timedelta(minutes=settings.login_lockout_minutes),
        )


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
        for key in [
            key
            for key, record in self._records.items()
            if not record.running
            and (record.locked_until is None or record.locked_until <= now)
            and all(at <= horizon for at in record.failures.values())
        ]:
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
        allowed, wait_ms = self._begin(
            keys=self._keys(key), args=[self._now_ms(), window, self.policy.max_failures, token, self._ttl_ms()]
        )
        if int(allowed):
            return Attempt(True, token)
        return Attempt(False, retry_after=max(1, math.ceil(int(wait_ms) / 1000)))

    def failed(self, key: str, token: str) -> None:
        self._failed(
            keys=self._keys(key),
            args=[
                self._now_ms(),
                int(self.policy.window.total_seconds() * 1000),
                self.policy.max_failures,
                token,
                int(self.policy.lockout.total_seconds() * 1000),
                self._ttl_ms(),
            ],
        )

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


def build_login_throttle(settings: Settings, clock: Clock, policy: ThrottlePolicy | None = None) -> LoginThrottle:
    policy = policy or ThrottlePolicy.from_settings(settings)
    if settings.redis_url:
        return RedisLoginThrottle.from_url(settings.redis_url, clock, policy)
    return MemoryLoginThrottle(clock, policy)


def refusal_detail(retry_after: int) -> str:
    """What a throttled login is told, in whole minutes."""
    minutes = max(1, math.ceil(retry_after / 60))
    return (
        f"Trop de tentatives de connexion infructueuses. Réessayez dans {minutes} minute{'s' if minutes > 1 else ''}."
    )


def refusal(retry_after: int) -> DomainError:
    return DomainError(ErrorCode.TOO_MANY_REQUESTS, refusal_detail(retry_after), retry_after=retry_after)


def login_status(error: DomainError) -> int:
    """A refused login: 429 when throttled, else 401 (never say which of the identifier or secret was wrong)."""
    return 429 if error.code is ErrorCode.TOO_MANY_REQUESTS else 401


@dataclass(frozen=True, slots=True)
class _Reserved:
    key: str
    token: str


class PortalThrottle:
    """The portal's logins: counted per (space, identifier, address) under the settings' policy, and per
    (space, address) under a looser cap (`login_max_failures_per_address`) so one machine cannot spray
    identifiers."""

    def __init__(self, by_identifier: LoginThrottle, by_address: LoginThrottle) -> None:
        self.by_identifier = by_identifier
        self.by_address = by_address

    @staticmethod
    def _keys(space: str, identifier: str, address: str) -> tuple[str, str]:
        return f"portal:{space}:id:{identifier.strip().lower()}:{address}", f"portal:{space}:ip:{address}"

    def _begin(self, space: str, identifier: str, address: str) -> tuple[_Reserved, _Reserved]:
        by_id, by_ip = self._keys(space, identifier, address)
        first = self.by_identifier.begin(by_id)
        if not first.allowed:
            raise refusal(first.retry_after)
        second = self.by_address.begin(by_ip)
        if not second.allowed:
            self.by_identifier.abandon(by_id, first.token)
            raise refusal(second.retry_after)
        return _Reserved(by_id, first.token), _Reserved(by_ip, second.token)

    @contextmanager
    def attempt(self, space: str, identifier: str, address: str) -> Iterator[None]:
        """Around one login: refused (too-many-requests) at the limit; a DomainError inside counts as a
        failure, a return as a success (which clears the identifier's count, not the address's)."""
        by_id, by_ip = self._begin(space, identifier, address)
        try:
            yield
        except DomainError:
            self.by_identifier.failed(by_id.key, by_id.token)
            self.by_address.failed(by_ip.key, by_ip.token)
            raise
        except BaseException:
            self.by_identifier.abandon(by_id.key, by_id.token)
            self.by_address.abandon(by_ip.key, by_ip.token)
            raise
        self.by_identifier.succeeded(by_id.key, by_id.token)
        self.by_address.abandon(by_ip.key, by_ip.token)

    @contextmanager
    def confirmation(self, identifier: str, address: str) -> Iterator[None]:
        """Around an act confirmed by the password typed again: refused (too-many-requests) at the limit; a
        wrong password (identity-not-confirmed) inside counts as a failure, a return as a success; any other
        refusal counts for nothing. Counted in the space `confirmation`, step by step (no reservation held
        while the act runs)."""
        self.check(CONFIRMATION, identifier, address)
        try:
            yield
        except DomainError as error:
            if error.code is ErrorCode.IDENTITY_NOT_CONFIRMED:
                self.failed(CONFIRMATION, identifier, address)
            raise
        self.succeeded(CONFIRMATION, identifier, address)

    # Step by step, for a password typed again to confirm an act (no reservation held in between).
    def check(self, space: str, identifier: str, address: str) -> None:
        by_id, by_ip = self._begin(space, identifier, address)
        self.by_identifier.abandon(by_id.key, by_id.token)
        self.by_address.abandon(by_ip.key, by_ip.token)

    def failed(self, space: str, identifier: str, address: str) -> None:
        for store, key in zip(
            (self.by_identifier, self.by_address), self._keys(space, identifier, address), strict=True
        ):
            reserved = store.begin(key)
            if reserved.allowed:  # else the key is already at its limit: nothing more to count
                store.failed(key, reserved.token)

    def succeeded(self, space: str, identifier: str, address: str) -> None:
        by_id, _ = self._keys(space, identifier, address)
        self.by_identifier.succeeded(by_id, "")

    def clear(self) -> None:
        self.by_identifier.clear()
        self.by_address.clear()


def build_portal_throttle(settings: Settings, clock: Clock) -> PortalThrottle:
    per_address = ThrottlePolicy.from_settings(settings, max_failures=settings.login_max_failures_per_address)
    return PortalThrottle(build_login_throttle(settings, clock), build_login_throttle(settings, clock, per_address))


PORTAL_THROTTLE: Kept[PortalThrottle] = Kept("portal throttle")
LOGIN_THROTTLE: Kept[LoginThrottle] = Kept("API login throttle")


def login_throttle(settings: Settings, ctx: Context) -> LoginThrottle:
    """The context's throttle of the API's password logins: one per context, as the portal's."""
    return ctx.kept.setdefault(LOGIN_THROTTLE, lambda: build_login_throttle(settings, ctx.clock))


def portal_throttle(settings: Settings, ctx: Context) -> PortalThrottle:
    """The context's portal throttle: one per context, so that a second app on the same context shares the counts."""
    return ctx.kept.setdefault(PORTAL_THROTTLE, lambda: build_portal_throttle(settings, ctx.clock))
