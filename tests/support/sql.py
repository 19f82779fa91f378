"""Counting what an engine sends: the tests that hold a path to its statements."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from sqlalchemy import Engine, event


@contextmanager
def statements(engine: Engine) -> Iterator[list[str]]:
    """The SQL sent inside the block to the database of `engine` (but SQLite's BEGIN, which the engine sends
    itself), by `engine` and by the read engine of the same context (`engine.make_read_engine`, same URL): a
    command's reads go there on PostgreSQL."""
    sent: list[str] = []
    url = engine.url

    def record(connection: Any, _cursor: Any, statement: str, *_args: Any) -> None:
        if connection.engine.url == url and not statement.startswith("BEGIN"):
            sent.append(statement)

    event.listen(Engine, "before_cursor_execute", record)
    try:
        yield sent
    finally:
        event.remove(Engine, "before_cursor_execute", record)
