"""Shared fixtures: the database under test (SQLite by default, PostgreSQL with BASCULE_TEST_DATABASE_URL),
a settable clock, the use-case context, and a live HTTP server on loopback."""

from __future__ import annotations

import os
import re
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import datetime
from pathlib import Path
from typing import Any

import httpx
import pytest
from sqlalchemy import create_engine, text

from bascule.bootstrap import build_context, upgrade_schema
from bascule.channels.login_throttle import LOGIN_THROTTLE
from bascule.context import Context
from bascule.kernel.clock import SettableClock
from bascule.persistence.tables import metadata
from bascule.provisioning.simulator import SIMULATED_NETWORKS
from bascule.settings import Settings
from tests.support.logins import ADMIN_TOKEN, OPERATOR
from tests.support.servers import live_server

USSD_TOKEN = "test-ussd-token"  # as in production: outside the demo, POST /ussd is closed without a token
START = datetime.fromisoformat("2026-06-16T09:00:00+02:00")


def _postgres_database(base_url: str) -> Iterator[str]:
    """A fresh database for this test session on the server of `base_url`, dropped afterwards."""
    name = f"bascule_test_{os.getpid()}_{uuid.uuid4().hex[:6]}"
    admin = create_engine(base_url, isolation_level="AUTOCOMMIT")
    with admin.connect() as connection:
        connection.execute(text(f'CREATE DATABASE "{name}"'))
    url = re.sub(r"/[^/]*$", f"/{name}", base_url)
    try:
        yield url
    finally:
        with admin.connect() as connection:
            connection.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


@pytest.fixture(scope="session")
def database_url(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    base = os.environ.get("BASCULE_TEST_DATABASE_URL")
    if base:
        yield from _postgres_database(base)  # a database of its own, dropped at the end
    else:
        yield f"sqlite:///{Path(tmp_path_factory.mktemp('db')) / 'bascule.db'}"


@pytest.fixture(scope="session")
def clock() -> SettableClock:
    return SettableClock(START)


@pytest.fixture(scope="session")
def settings(database_url: str) -> Settings:
    return Settings(
        database_url=database_url,
        admin_token=ADMIN_TOKEN,
        ussd_token=USSD_TOKEN,
        test_clock=True,  # type: ignore[call-arg]
        _env_file=None,
    )


@pytest.fixture(scope="session")
def session_context(settings: Settings, clock: SettableClock) -> Iterator[Context]:
    upgrade_schema(settings.database_url)
    ctx = build_context(settings, clock)
    from bascule.bootstrap import install_features

    install_features(ctx)
    yield ctx
    ctx.dispose()


def wipe(ctx: Context) -> None:
    """Every table emptied, in one transaction. Measured: 4 ms on SQLite, 8 ms on PostgreSQL (TRUNCATE: 500 ms), a
    few seconds over the whole suite. A rolled-back transaction per test would save little of that, and most tests
    cannot use one: the live server, the workers and the concurrency tests work on connections of their own."""
    with ctx.engine.begin() as connection:
        for table in reversed(metadata.sorted_tables):
            connection.execute(table.delete())


@pytest.fixture
def ctx(session_context: Context, clock: SettableClock) -> Context:
    """A clean database and the clock back at the start instant, for every test."""
    wipe(session_context)
    clock.set(START)
    session_context.catalogs.refresh(force=True)  # no override left from an earlier test
    if (throttle := session_context.kept.get(LOGIN_THROTTLE)) is not None:
        throttle.clear()  # login failures counted by one test do not lock the next one out
    for simulator in (session_context.kept.get(SIMULATED_NETWORKS) or {}).values():
        simulator.reset()  # faults injected by one test do not leak into the next
    return session_context


@pytest.fixture(scope="session")
def server_url(settings: Settings, session_context: Context) -> Iterator[str]:
    """The real app behind uvicorn on a loopback port, for the whole session."""
    from bascule.channels.rest.app import create_app

    with live_server(create_app(settings, session_context)) as url:
        yield url


@contextmanager
def other_app(settings: Settings, clock: Any) -> Iterator[httpx.Client]:
    """Another app on the same database and clock, with its own settings (token, Redis, catalogue, demo)."""
    from bascule.channels.rest.app import create_app

    ctx = build_context(settings, clock)
    try:
        with live_server(create_app(settings, ctx)) as url, httpx.Client(base_url=url, timeout=30) as client:
            yield client
    finally:
        ctx.dispose()


@pytest.fixture
def other_server(settings: Settings, clock: SettableClock, ctx: Context) -> Callable[..., Any]:
    """`with other_server(ussd_token=None, demo=True) as http:` — a second app whose settings differ from the
    main one's (the database is clean, as for `http`)."""

    def start(**changes: Any) -> Any:
        return other_app(settings.model_copy(update=changes), clock)

    return start


@pytest.fixture
def http(server_url: str, ctx: Context) -> Iterator[httpx.Client]:
    """An anonymous HTTP client on the live server (the database is clean)."""
    with httpx.Client(base_url=server_url, timeout=30) as client:
        yield client


@pytest.fixture
def operator_headers() -> dict[str, str]:
    return dict(OPERATOR)
