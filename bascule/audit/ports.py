"""What the audit trail needs from storage, and who may act in it."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum
from typing import Any, Protocol

from bascule.kernel.ports import UnitOfWork


class Actor(Protocol):
    """Who acts: a principal, named in the trail by its kind and audit id."""

    @property
    def kind(self) -> StrEnum: ...

    @property
    def audit_id(self) -> str: ...

    @property
    def name(self) -> str | None: ...  # a person's name (staff), kept in the trail as it was then

    @property
    def account_id(self) -> str | None: ...


@dataclass(frozen=True, slots=True)
class AuditEvent:
    id: int
    at: datetime
    actor_kind: str
    actor_id: str
    channel: str
    entity_kind: str
    entity_id: str
    action: str
    before: dict[str, Any] | None
    after: dict[str, Any] | None
    actor_name: str | None = None
    customer_kind: str | None = None
    customer_id: str | None = None


class AuditLog(Protocol):
    def record(
        self,
        *,
        at: datetime,
        actor_kind: str,
        actor_id: str,
        channel: str,
        entity_kind: str,
        entity_id: str,
        action: str,
        before: Mapping[str, Any] | None,
        after: Mapping[str, Any] | None,
        actor_name: str | None = None,
        customer: tuple[str, str] | None = None,
    ) -> None: ...
    def of_entity(self, entity_kind: str, entity_id: str) -> list[AuditEvent]: ...


class AuditUnit(UnitOfWork, Protocol):
    @property
    def audit(self) -> AuditLog: ...
