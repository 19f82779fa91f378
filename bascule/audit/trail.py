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
    customer: tuple[str, str] | None = None,
) -> None:
    """`customer`: the account or line the event concerns, when the entity alone does not say (a service,
    a request); with a staff member as actor, the customer on whose behalf they acted."""
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
        actor_name=actor.name,
        customer=customer or customer_of(actor, entity, after),
    )


def customer_of(actor: Actor, entity: tuple[str, str], after: Mapping[str, Any] | None) -> tuple[str, str] | None:
    """Whose account or line an event concerns, from what the event itself says."""
    kind, entity_id = entity
    if kind == "account":
        return ("account", entity_id)
    if kind == "subscriber":
        return ("subscriber", entity_id)
    if after and isinstance(after.get("account_id"), str):
        return ("account", after["account_id"])
    if actor.account_id is not None:
        return ("account", actor.account_id)
    return None
