"""Both session stores behave the same: the real Redis server (this worker's database) and the database under test."""

import inspect

import pytest

from bascule.channels.ussd.sessions import DatabaseSessionStore, RedisSessionStore, SessionStore, StoredSession
from tests.ussd.conftest import flushed_redis

TTL = 180


@pytest.fixture
def redis_store(ctx):
    client = flushed_redis()
    yield RedisSessionStore(client, ctx.clock, TTL)
    client.flushdb()
    client.close()


@pytest.fixture
def database_store(ctx):
    return DatabaseSessionStore(ctx.engine, ctx.clock, TTL)


@pytest.fixture(params=["redis", "database"])
def store(request) -> SessionStore:
    return request.getfixturevalue(f"{request.param}_store")


STATE = {
    "inputs": ["1", "2"],
    "final": False,
    "screen": "Passer au profil Tigre?",
    "lists": {"profile_options": [{"key": "tigre", "label": "Tigre", "name": "Tigre", "refusal": None}]},
}


def test_both_stores_conform_to_the_protocol(redis_store, database_store):
    for name in ("load", "save", "delete"):
        expected = inspect.signature(getattr(SessionStore, name))
        for candidate in (redis_store, database_store):
            actual = inspect.signature(getattr(type(candidate), name))
            assert list(actual.parameters) == list(expected.parameters), (candidate, name)


def test_an_unknown_session_is_none(store):
    assert store.load("nope") is None


def test_a_saved_session_comes_back_as_it_was(store):
    store.save("s1", StoredSession("+2250700000001", STATE))
    assert store.load("s1") == StoredSession("+2250700000001", STATE)


def test_saving_again_replaces_the_state(store):
    store.save("s1", StoredSession("+2250700000001", STATE))
    store.save("s1", StoredSession("+2250700000001", {"inputs": [], "final": True, "screen": "Fin", "lists": {}}))
    assert store.load("s1").state == {"inputs": [], "final": True, "screen": "Fin", "lists": {}}


def test_sessions_are_kept_apart(store):
    store.save("s1", StoredSession("+2250700000001", {"n": 1}))
    store.save("s2", StoredSession("+2250700000002", {"n": 2}))
    assert store.load("s1") == StoredSession("+2250700000001", {"n": 1})
    assert store.load("s2") == StoredSession("+2250700000002", {"n": 2})


def test_a_session_expires_after_its_time_to_live_on_the_application_clock(store, ctx):
    store.save("s1", StoredSession("+2250700000001", STATE))
    ctx.clock.advance(seconds=TTL - 1)
    assert store.load("s1") is not None
    ctx.clock.advance(seconds=1)
    assert store.load("s1") is None


def test_each_save_starts_the_time_to_live_again(store, ctx):
    store.save("s1", StoredSession("+2250700000001", STATE))
    ctx.clock.advance(seconds=TTL - 10)
    store.save("s1", StoredSession("+2250700000001", STATE))
    ctx.clock.advance(seconds=TTL - 10)
    assert store.load("s1") is not None


def test_a_deleted_session_is_gone(store):
    store.save("s1", StoredSession("+2250700000001", STATE))
    store.delete("s1")
    assert store.load("s1") is None
    store.delete("s1")


def test_redis_also_expires_the_key_itself(redis_store):
    redis_store.save("s1", StoredSession("+2250700000001", STATE))
    assert 0 < redis_store.client.ttl("bascule:ussd:session:s1") <= TTL


def test_the_database_sweeps_expired_sessions_when_saving(database_store, ctx):
    from sqlalchemy import func, select

    from bascule.persistence.tables import ussd_sessions

    database_store.save("old", StoredSession("+2250700000001", STATE))
    ctx.clock.advance(seconds=TTL + 1)
    database_store.save("new", StoredSession("+2250700000002", STATE))
    with ctx.engine.connect() as connection:
        assert connection.execute(select(func.count()).select_from(ussd_sessions)).scalar() == 1
