"""What every use case receives: the catalogue, the clock and a way to open a unit of work."""

from __future__ import annotations

from dataclasses import dataclass, field
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

    def uow(self, *, write: bool = True) -> UnitOfWork:
        return UnitOfWork(self.engine, write=write)
