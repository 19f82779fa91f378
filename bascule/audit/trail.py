"""Writing the audit trail from a use case, inside its transaction."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from enum import StrEnum
from typing import Any

from bascule.audit.ports import Actor, AuditUnit


def record(
    uow: AuditUnit,
    *,
    at: datetime,
    actor: Actor,
    channel: StrEnum,
    entity: tuple[str, str],
    action: str,
    before: Mapping[str, Any] | None = None,
    after: Mapping[str, Any] | None = None,
) -> None:
    uow.audit.record(
        at=at,
        actor_kind=actor.kind.value,
        actor_id=actor.audit_id,
        channel=channel.value,
        entity_kind=entity[0],
        entity_id=entity[1],
        action=action,
        before=before,
        after=after,
    )
