"""The ports every use case may depend on: the unit of work, the way to open one, the clock.

Use cases see Protocols only; the adapters (SQL units of work, networks, senders) are built and wired
once in `bascule.bootstrap`.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from datetime import timedelta
from types import TracebackType
from typing import Any, Protocol, Self, TypeVar

from bascule.kernel.clock import Clock

__all__ = ["Clock", "InlineProvisioner", "Savepoint", "Slots", "UnitOfWork", "Units"]

U_co = TypeVar("U_co", covariant=True)


class UnitOfWork(Protocol):
    """One transaction: what a use case writes is kept by `commit()` and discarded by leaving without it."""

    def commit(self) -> None: ...

    def __enter__(self) -> Self: ...

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None: ...


class Savepoint(Protocol):
    """A part of a transaction that can be undone alone."""

    def commit(self) -> None: ...

    def rollback(self) -> None: ...


class Slots(Protocol):
    """Monthly slots of a limited act (a change of plan, a profile migration), taken atomically up to a limit."""

    def take(self, scope: str, subject_id: str, period: str, limit: int) -> bool: ...

    def take_or_refuse(self, scope: str, subject_id: str, period: str, limit: int, refusal: Exception) -> None:
        """`take`, or `refusal` raised: at once, or (the unit holding its writes for the command's stored answer,
        the slot seen free) by the statement that writes them, which the command then rolls back."""
        ...

    def take_held_now(self) -> None:
        """A take `take_or_refuse` held, made now: its refusal raised here if the slot went meanwhile."""
        ...

    def give_back(self, scope: str, subject_id: str, period: str) -> None: ...

    def used(self, scope: str, subject_id: str, period: str) -> int: ...


class Units(Protocol[U_co]):
    """Opens the units of work of a use case (joining the command's transaction inside a command)."""

    @property
    def concurrent_writers(self) -> bool:
        """True when two transactions may write at once (PostgreSQL); False when writers take turns (SQLite)."""
        ...

    @property
    def in_command(self) -> bool:
        """True for units that join a command's unit of work."""
        ...

    def __call__(self, *, write: bool = True) -> U_co: ...

    def joining(self, unit: Any) -> Units[U_co]:
        """Units that join `unit`, a command's unit of work, instead of opening transactions of their own."""
        ...


class ProvisionerSettings(Protocol):
    @property
    def lease(self) -> timedelta: ...

    @property
    def inline_seconds(self) -> float: ...


class InlineProvisioner(Protocol):
    """The worker of this process: a confirmation leases its network jobs to it and asks the networks at once."""

    @property
    def worker_id(self) -> str: ...

    @property
    def config(self) -> ProvisionerSettings: ...

    def run_leased(self, jobs: list[Any], also: Callable[[Any, object], None] | None = None) -> bool: ...

    def run_leased_many(self, subjects: list[list[Any]], deadline: float, group: int = 50) -> None: ...

    def run_for_request(
        self, change_request_id: str, settled: Callable[[], bool], seconds: float | None = None
    ) -> None: ...

    def run_forever(
        self,
        stop: threading.Event,
        idle_seconds: float = 0.5,
        also: Callable[[], object] | None = None,
        idle_at_most: float = 2.0,
    ) -> None: ...
