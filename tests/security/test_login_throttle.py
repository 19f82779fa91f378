"""Login throttling by e-mail: five wrong passwords in fifteen minutes lock the e-mail out for fifteen minutes."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from datetime import timedelta

import pytest
import redis

from bascule.channels.login_throttle import MemoryLoginThrottle, RedisLoginThrottle, ThrottlePolicy
from bascule.kernel.clock import SettableClock
from tests.api.helpers import PASSWORD, expect_problem, make_customer, ok, set_clock
from tests.conftest import START

LOGIN = "/api/v1/auth/login"
EMAIL = "chef-a@example.fr"
WRONG = "mauvais-secret"


def login(http, email: str = EMAIL, password: str = PASSWORD):
    return http.post(LOGIN, json={"email": email, "password": password})


def refused(response, retry_after: int) -> None:
    body = expect_problem(response, 429, "too-many-requests")
    assert response.headers["retry-after"] == str(retry_after)
    assert body["retry_after"] == retry_after
    assert body["detail"].startswith("Trop de tentatives de connexion infructueuses. Réessayez dans ")


def test_five_wrong_passwords_lock_the_email_out_for_fifteen_minutes(http):
    make_customer(http)
    for _ in range(5):
        expect_problem(login(http, password=WRONG), 401, "unauthenticated")
    refused(login(http, password=WRONG), 900)
    refused(login(http), 900)  # the right password too: the e-mail is locked
    body = login(http, password=WRONG).json()
    assert body["detail"] == "Trop de tentatives de connexion infructueuses. Réessayez dans 15 minutes."
    ok(login(http, "lecteur-a@example.fr", "lecture-secret"))  # another e-mail is not affected
    set_clock(http, "2026-06-16T09:14:59+02:00")
    refused(login(http), 1)
    set_clock(http, "2026-06-16T09:15:00+02:00")
    ok(login(http))


def test_the_lockout_counts_from_the_fifth_failure(http):
    make_customer(http)
    for minute in range(5):
        set_clock(http, f"2026-06-16T09:{minute * 2:02d}:00+02:00")
        expect_problem(login(http, password=WRONG), 401, "unauthenticated")
    refused(login(http), 900)
    set_clock(http, "2026-06-16T09:22:59+02:00")
    refused(login(http), 1)
    set_clock(http, "2026-06-16T09:23:00+02:00")
    ok(login(http))


def test_a_successful_login_clears_the_count(http):
    make_customer(http)
    for _ in range(4):
        expect_problem(login(http, password=WRONG), 401, "unauthenticated")
    ok(login(http))
    for _ in range(4):
        expect_problem(login(http, password=WRONG), 401, "unauthenticated")
    ok(login(http))
    for _ in range(5):
        expect_problem(login(http, password=WRONG), 401, "unauthenticated")
    refused(login(http), 900)


def test_failures_older_than_the_window_no_longer_count(http):
    make_customer(http)
    for _ in range(4):
        expect_problem(login(http, password=WRONG), 401, "unauthenticated")
    set_clock(http, "2026-06-16T09:15:00+02:00")
    for _ in range(4):
        expect_problem(login(http, password=WRONG), 401, "unauthenticated")
    ok(login(http))


def test_the_email_is_counted_as_the_login_reads_it_and_unknown_emails_are_throttled_alike(http):
    make_customer(http)
    for spelling in ("CHEF-A@example.fr", " chef-a@EXAMPLE.fr ", EMAIL, "Chef-A@Example.Fr", EMAIL):
        expect_problem(login(http, spelling, WRONG), 401, "unauthenticated")
    refused(login(http), 900)
    for _ in range(5):  # an unknown address answers the same way, so the lockout tells nothing
        expect_problem(login(http, "inconnu@example.fr", WRONG), 401, "unauthenticated")
    refused(login(http, "inconnu@example.fr", WRONG), 900)


def test_malformed_logins_and_subscriber_logins_neither_count_nor_are_throttled(http):
    make_customer(http)
    for body in (
        {"email": EMAIL},
        {"email": EMAIL, "password": 12345678},
        {"email": EMAIL, "password": "x", "remember": True},
    ) * 3:
        expect_problem(http.post(LOGIN, json=body), 422, "validation-error")
    for _ in range(7):
        expect_problem(http.post(LOGIN, json={"msisdn": "+2250700000000", "otp": "000000"}), 401, "unauthenticated")
    ok(login(http))


@pytest.mark.slow
def test_a_burst_of_parallel_guesses_gets_no_more_tries_than_a_sequence(http):
    make_customer(http)
    with ThreadPoolExecutor(max_workers=30) as pool:
        statuses = sorted(pool.map(lambda _: login(http, password=WRONG).status_code, range(30)))
    assert statuses == [401] * 5 + [429] * 25
    refused(login(http), 900)


# --- the two stores, directly ---------------------------------------------------------------------


POLICY = ThrottlePolicy(max_failures=3, window=timedelta(minutes=10), lockout=timedelta(minutes=5))


@pytest.fixture(params=["memory", "redis"])
def throttle(request, redis_url):
    clock = SettableClock(START)
    if request.param == "memory":
        return MemoryLoginThrottle(clock, POLICY), clock
    return RedisLoginThrottle(redis.Redis.from_url(redis_url), clock, POLICY), clock


def test_both_stores_lock_after_the_limit_and_release_after_the_lockout(throttle):
    store, clock = throttle
    for _ in range(3):
        attempt = store.begin("a@b.fr")
        assert attempt.allowed
        store.failed("a@b.fr", attempt.token)
    assert store.begin("a@b.fr").retry_after == 300
    assert store.begin("other@b.fr").allowed
    clock.advance(minutes=4, seconds=59)
    locked = store.begin("a@b.fr")
    assert (locked.allowed, locked.retry_after) == (False, 1)
    clock.advance(seconds=1)
    attempt = store.begin("a@b.fr")
    assert attempt.allowed
    store.failed("a@b.fr", attempt.token)
    assert store.begin("a@b.fr").allowed  # the count started again after the lockout


def test_both_stores_count_running_attempts_and_forget_abandoned_ones(throttle):
    store, _ = throttle
    running = [store.begin("a@b.fr") for _ in range(3)]
    assert all(attempt.allowed for attempt in running)
    waiting = store.begin("a@b.fr")
    assert (waiting.allowed, waiting.retry_after) == (False, 600)  # when the oldest leaves the window
    store.abandon("a@b.fr", running[0].token)
    store.failed("a@b.fr", running[1].token)
    store.succeeded("a@b.fr", running[2].token)
    for _ in range(3):
        attempt = store.begin("a@b.fr")
        assert attempt.allowed
        store.failed("a@b.fr", attempt.token)
    assert not store.begin("a@b.fr").allowed


def test_clear_forgets_everything(throttle):
    store, _ = throttle
    for _ in range(3):
        store.failed("a@b.fr", store.begin("a@b.fr").token)
    assert not store.begin("a@b.fr").allowed
    store.clear()
    assert store.begin("a@b.fr").allowed


def test_with_redis_the_lockout_is_shared_by_every_process(http, other_server, redis_url):
    make_customer(http)
    with other_server(redis_url=redis_url) as first, other_server(redis_url=redis_url) as second:
        for server in (first, second, first, second, first):
            expect_problem(login(server, password=WRONG), 401, "unauthenticated")
        refused(login(second), 900)
        refused(login(first), 900)
        ok(login(http))  # the main server keeps its own in-process count (no Redis)
