"""The SQL side of the context: units of work over one engine, and the context that carries them."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any, TypeVar

from sqlalchemy import Engine
from sqlalchemy.util import greenlet_spawn

from bascule.context import Context
from bascule.persistence.engine import dispose_loop_engine, make_loop_engines
from bascule.persistence.uow import UnitOfWork

T = TypeVar("T")


@dataclass(frozen=True)
class SqlUnits:
    """Units of work over `engine`; inside a command (`command` set), units joining the command's. A read-only unit
    outside a command runs on `reads` when there is one (PostgreSQL: `engine.make_read_engine`)."""

    engine: Engine
    command: UnitOfWork | None = None
    reads: Engine | None = None

    @property
    def concurrent_writers(self) -> bool:
        return self.engine.dialect.name == "postgresql"

    @property
    def in_command(self) -> bool:
        return self.command is not None

    def __call__(self, *, write: bool = True) -> UnitOfWork:
        if self.command is not None:
            return self.command.joined(write=write)
        if not write and self.reads is not None:
            return UnitOfWork(self.reads, write=False, autocommitted=True)
        return UnitOfWork(self.engine, write=write)

    def joining(self, unit: UnitOfWork) -> SqlUnits:
        return SqlUnits(self.engine, unit, self.reads)

    def dispose(self) -> None:
        """Close the pooled connections of both engines."""
        self.engine.dispose()
        if self.reads is not None:
            self.reads.dispose()


@dataclass
class SqlContext(Context[UnitOfWork]):
    """The context the application runs with: its units of work are SQL transactions on one engine."""

    @property
    def engine(self) -> Engine:
        return engine_of(self)

    def dispose(self) -> None:
        """Close every pooled connection of this context (its read engine's too)."""
        units = self.units
        if isinstance(units, SqlUnits):
            units.dispose()


def engine_of(ctx: Context) -> Engine:
    """The engine behind a context's units of work (for the adapters that talk to the database directly)."""
    units = ctx.units
    if not isinstance(units, SqlUnits):
        raise TypeError("this context has no database engine")
    return units.engine


@dataclass(frozen=True)
class OnEventLoop:
    """`ctx` with its units of work on engines driven from an event loop (`engine.make_loop_engines`): a use case
    called through `greenlet_spawn` on that loop runs its statements there, without a thread."""

    ctx: Context[UnitOfWork]
    engines: tuple[Engine, ...]

    async def run(self, work: Callable[[], T]) -> T:
        """`work()` on the running loop, its statements awaited there (SQLAlchemy's `greenlet_spawn`)."""
        result: T = await greenlet_spawn(work)
        return result

    async def dispose(self) -> None:
        """Close the engines' connections, on the loop they belong to (at the server's shutdown)."""
        for engine in self.engines:
            await dispose_loop_engine(engine)


def on_event_loop(ctx: Context[Any], database_url: str, sql_counters: Path | None = None) -> OnEventLoop | None:
    """The context `ctx` whose units of work run on the event loop, on PostgreSQL; None on SQLite, whose
    connections are the one file's and stay in the threads."""
    engines = make_loop_engines(database_url, sql_counters=sql_counters)
    if engines is None:
        return None
    writes, reads = engines
    return OnEventLoop(replace(ctx, units=SqlUnits(writes, reads=reads)), engines)
