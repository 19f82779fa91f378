"""What the command runner needs: a unit of work that joins, restarts, and stores the Idempotency-Key answers."""

from __future__ import annotations

from typing import Protocol

from bascule.commands.answers import Answer, StoredAnswer
from bascule.kernel.ports import UnitOfWork


class IdempotencyRecords(Protocol):
    def find(self, caller: str, key: str) -> StoredAnswer | None: ...
    def add(
        self, caller: str, key: str, path: str, fingerprint: str, answer: Answer, *, settled: bool, at: object
    ) -> bool: ...
    def settle(self, caller: str, key: str, answer: Answer) -> None: ...


class CommandUnit(UnitOfWork, Protocol):
    @property
    def idempotency(self) -> IdempotencyRecords: ...

    kept_writes: bool
    discarded_writes: bool

    def restart(self) -> None: ...
    def hold_writes(self) -> None: ...
