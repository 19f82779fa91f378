"""Readiness: the database answers and its schema is at the head revision of the migrations."""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

import structlog
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import Engine, text

from bascule.persistence.uow import UnitOfWork

log = structlog.get_logger("bascule.observability")

MIGRATIONS = Path(__file__).resolve().parents[1] / "persistence" / "migrations"


@dataclass(frozen=True, slots=True)
class Readiness:
    ready: bool
    detail: str
    current: tuple[str, ...] = ()
    head: tuple[str, ...] = ()


@lru_cache(maxsize=1)
def head_revisions() -> tuple[str, ...]:
    """The heads shipped with this code (read once: the migrations do not change under a process)."""
    return tuple(sorted(ScriptDirectory(str(MIGRATIONS)).get_heads()))


def check(engine: Engine) -> Readiness:
    head = head_revisions()
    try:
        with UnitOfWork(engine, write=False) as uow:
            uow.connection.execute(text("SELECT 1"))
            current = tuple(sorted(MigrationContext.configure(uow.connection).get_current_heads()))
    except Exception as error:
        log.warning("readiness.database_unreachable", error=type(error).__name__)
        return Readiness(False, "La base de données ne répond pas.", head=head)
    if current != head:
        return Readiness(False, "Le schéma de la base n'est pas à jour (bascule db upgrade).", current, head)
    return Readiness(True, "ok", current, head)
