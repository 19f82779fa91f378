"""Extra live servers with their own settings (Redis for the throttle), on the session's database and clock."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

import httpx
import pytest
import redis
import uvicorn

from bascule.bootstrap import build_context
from bascule.channels.rest.app import create_app
from bascule.settings import Settings
from tests.conftest import _free_port

REDIS_URL = "redis://127.0.0.1:6379/14"  # the USSD tests use 15


@contextmanager
def live_server(settings: Settings, clock: Any) -> Iterator[httpx.Client]:
    ctx = build_context(settings, clock)
    server = uvicorn.Server(uvicorn.Config(create_app(settings, ctx), host="127.0.0.1", port=_free_port(),
                                           log_level="warning", lifespan="on"))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 15
    while not server.started:
        assert time.monotonic() < deadline, "the extra server did not start"
        time.sleep(0.02)
    try:
        with httpx.Client(base_url=f"http://127.0.0.1:{server.config.port}", timeout=30) as client:
            yield client
    finally:
        server.should_exit = True
        thread.join(timeout=10)
        ctx.engine.dispose()


@pytest.fixture
def other_server(settings: Settings, clock: Any, ctx: Any) -> Callable[..., Any]:
    """`with other_server(redis_url=...) as http:` — a second app whose settings differ from the main one."""

    def start(**changes: Any) -> Any:
        return live_server(settings.model_copy(update=changes), clock)

    return start


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
