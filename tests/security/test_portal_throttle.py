"""The portal's logins go through the one login throttle: its limits come from the settings, and its counts
live in Redis when BASCULE_REDIS_URL is set (shared by every process), else in the process."""

from __future__ import annotations

import pytest

from bascule.channels.login_throttle import (
    MemoryLoginThrottle,
    PortalThrottle,
    RedisLoginThrottle,
    build_portal_throttle,
    login_status,
)
from bascule.kernel.clock import SettableClock
from bascule.kernel.errors import DomainError, ErrorCode
from bascule.settings import Settings
from tests.conftest import START

WRONG = DomainError(ErrorCode.UNAUTHENTICATED, "Identifiant ou mot de passe incorrect.")


def settings(redis_url: str | None) -> Settings:
    return Settings(
        redis_url=redis_url,
        login_max_failures=2,
        login_window_minutes=10,  # type: ignore[call-arg]
        login_lockout_minutes=3,
        login_max_failures_per_address=3,
    )


def fail(throttle: PortalThrottle, identifier: str, address: str = "203.0.113.9") -> None:
    with pytest.raises(DomainError) as raised, throttle.attempt("centre", identifier, address):
        raise WRONG
    assert raised.value is WRONG


def refused(throttle: PortalThrottle, identifier: str, address: str = "203.0.113.9") -> DomainError:
    with pytest.raises(DomainError) as raised, throttle.attempt("centre", identifier, address):
        pass
    assert (raised.value.code, login_status(raised.value)) == (ErrorCode.TOO_MANY_REQUESTS, 429)
    return raised.value


@pytest.mark.parametrize("store", ["memory", "redis"])
def test_the_portal_throttle_follows_the_settings(store, redis_url):
    clock = SettableClock(START)
    throttle = build_portal_throttle(settings(redis_url if store == "redis" else None), clock)
    expected = RedisLoginThrottle if store == "redis" else MemoryLoginThrottle
    assert isinstance(throttle.by_identifier, expected)
    assert isinstance(throttle.by_address, expected)
    fail(throttle, "chef-a@example.fr")
    fail(throttle, "chef-a@example.fr")
    refusal = refused(throttle, "Chef-A@example.fr ")
    assert refusal.explicit_detail == "Trop de tentatives de connexion infructueuses. Réessayez dans 3 minutes."
    fail(throttle, "chef-b@example.fr")  # the address's third failure: its own cap of three
    refused(throttle, "chef-c@example.fr")
    with throttle.attempt("centre", "chef-c@example.fr", "198.51.100.4"):
        pass  # another address is not affected
    clock.advance(minutes=3)
    with throttle.attempt("centre", "chef-a@example.fr", "203.0.113.9"):
        pass
    assert login_status(WRONG) == 401


def test_two_processes_on_one_redis_share_the_portal_counts(redis_url):
    clock = SettableClock(START)
    first, second = (build_portal_throttle(settings(redis_url), clock) for _ in range(2))
    fail(first, "chef-a@example.fr")
    fail(second, "chef-a@example.fr")
    refused(first, "chef-a@example.fr")
    refused(second, "chef-a@example.fr")


def test_a_success_clears_the_identifier_but_not_the_address(redis_url):
    clock = SettableClock(START)
    throttle = build_portal_throttle(settings(None), clock)
    fail(throttle, "chef-a@example.fr")
    with throttle.attempt("centre", "chef-a@example.fr", "203.0.113.9"):
        pass
    fail(throttle, "chef-a@example.fr")
    with throttle.attempt("centre", "chef-a@example.fr", "203.0.113.9"):
        pass  # one failure since the success: under the limit of two
    fail(throttle, "chef-b@example.fr")  # the address's third failure in all
    refused(throttle, "chef-a@example.fr")


@pytest.mark.parametrize("store", ["memory", "redis"])
def test_a_password_typed_again_is_counted_step_by_step(store, redis_url):
    clock = SettableClock(START)
    throttle = build_portal_throttle(settings(redis_url if store == "redis" else None), clock)
    throttle.check("confirmation", "usr_1", "203.0.113.9")
    throttle.failed("confirmation", "usr_1", "203.0.113.9")
    throttle.succeeded("confirmation", "usr_1", "203.0.113.9")  # clears the user's count
    throttle.failed("confirmation", "usr_1", "203.0.113.9")
    throttle.check("confirmation", "usr_1", "203.0.113.9")
    throttle.failed("confirmation", "usr_1", "203.0.113.9")
    with pytest.raises(DomainError) as refused:
        throttle.check("confirmation", "usr_1", "203.0.113.9")
    assert refused.value.explicit_detail == "Trop de tentatives de connexion infructueuses. Réessayez dans 3 minutes."
