"""Redis for the throttle tests (extra live servers with their own settings: `other_server`, tests/conftest.py)."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
import redis

REDIS_URL = "redis://127.0.0.1:6379/14"  # the USSD tests use 15


@pytest.fixture
def redis_url() -> Iterator[str]:
    """Database 14 of the local Redis server, emptied before and after; these tests need the real server."""
    client = redis.Redis.from_url(REDIS_URL)
    try:
        client.flushdb()
    except redis.ConnectionError as error:
        pytest.fail(f"the Redis throttle tests need Redis at {REDIS_URL}: {error}")
    yield REDIS_URL
    client.flushdb()
    client.close()
