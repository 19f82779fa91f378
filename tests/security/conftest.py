"""Redis for the throttle tests (extra live servers with their own settings: `other_server`, tests/conftest.py)."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
import redis

from tests.support.redis_dbs import THROTTLES, redis_url

REDIS_URL = redis_url(THROTTLES)  # this worker's own (tests/support/redis_dbs.py)


@pytest.fixture
def redis_url() -> Iterator[str]:
    """This worker's database of the local Redis server, emptied before and after; these tests need the real server."""
    client = redis.Redis.from_url(REDIS_URL)
    try:
        client.flushdb()
    except redis.ConnectionError as error:
        pytest.fail(f"the Redis throttle tests need Redis at {REDIS_URL}: {error}")
    yield REDIS_URL
    client.flushdb()
    client.close()
