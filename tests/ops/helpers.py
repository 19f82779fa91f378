"""Log capture from the live server (same process), and a reader of the Prometheus text format."""

from __future__ import annotations

import json
import logging
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import httpx
from prometheus_client.parser import text_string_to_metric_families

from bascule.observability.logs import json_formatter

# SQLAlchemy's statement echo is left out: it logs bound parameters (the outbox row holding a one-time code
# among them) and is a debugging switch that no deployment turns on.
# The root logger is watched at its own level, so that SQLAlchemy (which propagates to it) stays quiet.
WATCHED = ("bascule", "uvicorn", "uvicorn.error", "uvicorn.access", "httpx")


class Captured(logging.Handler):
    def __init__(self) -> None:
        super().__init__(logging.DEBUG)
        self.lines: list[str] = []
        self.setFormatter(json_formatter())

    def emit(self, record: logging.LogRecord) -> None:
        self.lines.append(self.format(record))

    def events(self, name: str) -> list[dict[str, Any]]:
        found = []
        for line in self.lines:
            try:
                document = json.loads(line)
            except ValueError:
                continue
            if document.get("event") == name:
                found.append(document)
        return found

    @property
    def text(self) -> str:
        return "\n".join(self.lines)


@contextmanager
def captured_logs(level: int = logging.DEBUG) -> Iterator[Captured]:
    """Everything logged in the process — ours, the server's, the libraries' — at `level` and above."""
    handler = Captured()
    loggers = [logging.getLogger(name) for name in WATCHED]
    previous = [(logger, logger.level) for logger in loggers]
    root = logging.getLogger()
    root.addHandler(handler)
    for logger in loggers:
        logger.addHandler(handler)
        logger.setLevel(level)
    try:
        yield handler
    finally:
        root.removeHandler(handler)
        for logger, old in previous:
            logger.removeHandler(handler)
            logger.setLevel(old)


def samples(http: httpx.Client) -> dict[tuple[str, tuple[tuple[str, str], ...]], float]:
    """Every sample of /metrics: (name, sorted labels) → value."""
    response = http.get("/metrics")
    assert response.status_code == 200, response.text
    found: dict[tuple[str, tuple[tuple[str, str], ...]], float] = {}
    for family in text_string_to_metric_families(response.text):
        for sample in family.samples:
            found[(sample.name, tuple(sorted(sample.labels.items())))] = sample.value
    return found


def sample(values: dict[tuple[str, tuple[tuple[str, str], ...]], float], name: str, **labels: str) -> float:
    return values.get((name, tuple(sorted(labels.items()))), 0.0)


def wait_for_event(handler: Captured, name: str, timeout: float = 3.0, **fields: Any) -> dict[str, Any]:
    """The first `name` event with these fields; the server logs a request just after answering it."""
    import time

    deadline = time.monotonic() + timeout
    while True:
        for event in handler.events(name):
            if all(event.get(key) == value for key, value in fields.items()):
                return event
        assert time.monotonic() < deadline, f"no {name} event with {fields} in:\n{handler.text}"
        time.sleep(0.01)


def asgi_get(app: Any, path: str, headers: dict[str, str] | None = None) -> httpx.Response:
    """One GET straight into an ASGI app (no server); an exception the app lets out becomes its 500."""
    import asyncio

    async def call() -> httpx.Response:
        transport = httpx.ASGITransport(app=app, raise_app_exceptions=False)
        async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as client:
            return await client.get(path, headers=headers)

    return asyncio.run(call())
