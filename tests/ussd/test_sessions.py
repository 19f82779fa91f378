"""Both session stores behave the same: the real Redis server (this worker's database) and the database under test.

The stores are asynchronous (the USSD channel reads and saves a session on the event loop): each test plays its
steps in one event loop, and closes the Redis client of that loop at the end."""

import asyncio
import inspect
from collections.abc import Awaitable, Callable
from typing import Any

import pytest

from bascule.channels.ussd.sessions import DatabaseSessionStore, RedisSessionStore, SessionStore, StoredSession
from tests.ussd.conftest import REDIS_URL, flushed_redis

TTL = 180


@pytest.fixture
def redis_store(ctx):
    client = flushed_redis()
    yield RedisSessionStore(REDIS_URL, ctx.clock, TTL)
    client.flushdb()
    client.close()


@pytest.fixture
def database_store(ctx):
    return DatabaseSessionStore(ctx.engine, ctx.clock, TTL)


@pytest.fixture(params=["redis", "database"])
def store(request) -> SessionStore:
    return request.getfixturevalue(f"{request.param}_store")


def play(store: SessionStore, steps: Callable[[], Awaitable[Any]]) -> Any:
    """`steps()` in an event loop of its own, as the channel runs them."""

    async def scenario() -> Any:
        try:
            return await steps()
        finally:
            if isinstance(store, RedisSessionStore):
                await store.close()

    return asyncio.run(scenario())


STATE = {
    "inputs": ["1", "2"],
    "final": False,
    "screen": "Passer au profil Tigre?",
    "lists": {"profile_options": [{"key": "tigre", "label": "Tigre", "name": "Tigre", "refusal": None}]},
}
CALLER = "+2250700000001"


def test_both_stores_conform_to_the_protocol(redis_store, database_store):
    for name in ("load", "save", "delete"):
        expected = inspect.signature(getattr(SessionStore, name))
        for candidate in (redis_store, database_store):
            method = getattr(type(candidate), name)
            assert inspect.iscoroutinefunction(method), (candidate, name)
            assert list(inspect.signature(method).parameters) == list(expected.parameters), (candidate, name)


def test_an_unknown_session_is_none(store):
    assert play(store, lambda: store.load("nope")) is None


def test_a_saved_session_comes_back_as_it_was(store):
    async def steps():
        await store.save("s1", StoredSession(CALLER, STATE))
        return await store.load("s1")

    assert play(store, steps) == StoredSession(CALLER, STATE)


def test_saving_again_replaces_the_state(store):
    async def steps():
        await store.save("s1", StoredSession(CALLER, STATE))
        await store.save("s1", StoredSession(CALLER, {"inputs": [], "final": True, "screen": "Fin", "lists": {}}))
        return await store.load("s1")

    assert play(store, steps).state == {"inputs": [], "final": True, "screen": "Fin", "lists": {}}


def test_sessions_are_kept_apart(store):
    async def steps():
        await store.save("s1", StoredSession(CALLER, {"n": 1}))
        await store.save("s2", StoredSession("+2250700000002", {"n": 2}))
        return await store.load("s1"), await store.load("s2")

    assert play(store, steps) == (StoredSession(CALLER, {"n": 1}), StoredSession("+2250700000002", {"n": 2}))


def test_a_session_expires_after_its_time_to_live_on_the_application_clock(store, ctx):
    async def steps():
        await store.save("s1", StoredSession(CALLER, STATE))
        ctx.clock.advance(seconds=TTL - 1)
        before = await store.load("s1")
        ctx.clock.advance(seconds=1)
        return before, await store.load("s1")

    before, after = play(store, steps)
    assert before == StoredSession(CALLER, STATE)
    assert after is None


def test_each_save_starts_the_time_to_live_again(store, ctx):
    async def steps():
        await store.save("s1", StoredSession(CALLER, STATE))
        ctx.clock.advance(seconds=TTL - 10)
        await store.save("s1", StoredSession(CALLER, STATE))
        ctx.clock.advance(seconds=TTL - 10)
        return await store.load("s1")

    assert play(store, steps) == StoredSession(CALLER, STATE)


def test_a_deleted_session_is_gone(store):
    async def steps():
        await store.save("s1", StoredSession(CALLER, STATE))
        await store.delete("s1")
        gone = await store.load("s1")
        await store.delete("s1")  # deleting it again is no error
        return gone

    assert play(store, steps) is None


def test_redis_also_expires_the_key_itself(redis_store):
    import redis

    play(redis_store, lambda: redis_store.save("s1", StoredSession(CALLER, STATE)))
    with redis.Redis.from_url(REDIS_URL) as reader:
        assert 0 < reader.ttl("bascule:ussd:session:s1") <= TTL


def test_each_event_loop_gets_a_redis_client_of_its_own(redis_store):
    """A process serves on one loop; a store used from another loop (a test client's, say) must not reuse the
    first loop's connections, which belong to a loop that may be closed by then."""

    async def clients():
        first = redis_store._redis()
        await redis_store.save("s1", StoredSession(CALLER, STATE))
        return first, redis_store._redis()

    first, again = play(redis_store, clients)
    other, _ = play(redis_store, clients)
    assert first is again  # one client for the whole life of a loop
    assert other is not first
    assert play(redis_store, lambda: redis_store.load("s1")) == StoredSession(CALLER, STATE)


def test_the_database_sweeps_expired_sessions_when_saving(database_store, ctx):
    from sqlalchemy import func, select

    from bascule.persistence.tables import ussd_sessions

    async def steps():
        await database_store.save("old", StoredSession(CALLER, STATE))
        ctx.clock.advance(seconds=TTL + 1)
        await database_store.save("new", StoredSession("+2250700000002", STATE))

    play(database_store, steps)
    with ctx.engine.connect() as connection:
        assert connection.execute(select(func.count()).select_from(ussd_sessions)).scalar() == 1
