"""What every use case receives: the catalogue, the clock and a way to open a unit of work."""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from typing import Any

from sqlalchemy import Engine

from bascule.catalog.model import Catalog
from bascule.kernel.clock import Clock
from bascule.persistence.uow import UnitOfWork


@dataclass
class Context:
    engine: Engine
    catalog: Catalog
    clock: Clock
    token_ttl_hours: int = 12
    extras: dict[str, Any] = field(default_factory=dict)
    command: UnitOfWork | None = field(default=None, repr=False)  # set inside a command (`in_command`)

    def uow(self, *, write: bool = True) -> UnitOfWork:
        if self.command is not None:
            return self.command.joined(write=write)
        return UnitOfWork(self.engine, write=write)

    def in_command(self, unit: UnitOfWork) -> Context:
        """This context for the use cases of one command: their units of work join the command's."""
        return replace(self, command=unit)
