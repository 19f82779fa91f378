"""The SQL of the audit trail: who did what to which entity, before and after. Nothing here commits."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from typing import Any

from sqlalchemy import insert, select

from bascule.audit.ports import AuditEvent
from bascule.persistence import tables as t
from bascule.persistence.statements import _Deferring, _jsonable

# `inline()`: no `RETURNING id` (SQLAlchemy adds one to learn the new key, which no caller reads).
_INSERT_AUDIT = insert(t.audit_events).inline()


class Audit(_Deferring):
    _insert = _INSERT_AUDIT

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
    ) -> None:
        self._append(
            {
                "at": at,
                "actor_kind": actor_kind,
                "actor_id": actor_id,
                "channel": channel,
                "entity_kind": entity_kind,
                "entity_id": entity_id,
                "action": action,
                "before": _jsonable(before),
                "after": _jsonable(after),
                "actor_name": actor_name,
                "customer_kind": customer[0] if customer else None,
                "customer_id": customer[1] if customer else None,
            }
        )

    def of_entity(self, entity_kind: str, entity_id: str) -> list[AuditEvent]:
        query = (
            select(t.audit_events)
            .where(t.audit_events.c.entity_kind == entity_kind, t.audit_events.c.entity_id == entity_id)
            .order_by(t.audit_events.c.id)
        )
        return [AuditEvent(**row._asdict()) for row in self.connection.execute(query)]
