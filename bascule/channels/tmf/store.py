"""What the TMF facade keeps that the native tables do not: one JSON document per (kind, id).

Kinds: run-time catalogue entries an operator adds through TMF620 (`productOffering`,
`productOfferingPrice`, `productSpecification`), qualifications (`productOfferingQualification`),
top-up requests as sent (`balanceTopup`, keyed by the native recharge id), refused orders
(`productOrder`) and refusals met at confirmation (`productOrderRejection`, keyed by the change
request id), and external product references (`productReference`: an id the operator's other systems
use for a prepaid line, e.g. a contract number, mapped to its MSISDN).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import Connection, delete, select, update

from bascule.persistence import tables as t
from bascule.persistence.statements import insert_ignoring_conflict


@dataclass(frozen=True, slots=True)
class Document:
    kind: str
    id: str
    body: dict[str, Any]
    created_at: datetime
    updated_at: datetime


def _document(row: Any) -> Document:
    return Document(row.kind, row.id, dict(row.body), row.created_at, row.updated_at)


class Documents:
    def __init__(self, connection: Connection) -> None:
        self.connection = connection

    def get(self, kind: str, doc_id: str) -> Document | None:
        row = self.connection.execute(
            select(t.tmf_resources).where(t.tmf_resources.c.kind == kind, t.tmf_resources.c.id == doc_id)
        ).first()
        return None if row is None else _document(row)

    def of_kind(self, kind: str) -> list[Document]:
        query = (
            select(t.tmf_resources)
            .where(t.tmf_resources.c.kind == kind)
            .order_by(t.tmf_resources.c.created_at, t.tmf_resources.c.id)
        )
        return [_document(row) for row in self.connection.execute(query)]

    def add(self, kind: str, doc_id: str, body: dict[str, Any], at: datetime) -> bool:
        """False (nothing written) when a document of that kind and id already exists."""
        return insert_ignoring_conflict(
            self.connection,
            t.tmf_resources,
            {
                "kind": kind,
                "id": doc_id,
                "body": body,
                "created_at": at,
                "updated_at": at,
            },
        )

    def replace(self, kind: str, doc_id: str, body: dict[str, Any], at: datetime) -> bool:
        result = self.connection.execute(
            update(t.tmf_resources)
            .where(t.tmf_resources.c.kind == kind, t.tmf_resources.c.id == doc_id)
            .values(body=body, updated_at=at)
        )
        return result.rowcount == 1

    def remove(self, kind: str, doc_id: str) -> bool:
        result = self.connection.execute(
            delete(t.tmf_resources).where(t.tmf_resources.c.kind == kind, t.tmf_resources.c.id == doc_id)
        )
        return result.rowcount == 1


def migration_rows(connection: Connection, migration_id: str | None = None) -> list[Any]:
    """Profile migrations of Line B (TMF622 shows them as completed orders), newest first."""
    query = select(t.prepaid_migrations).order_by(t.prepaid_migrations.c.at.desc(), t.prepaid_migrations.c.id.desc())
    if migration_id is not None:
        query = query.where(t.prepaid_migrations.c.id == migration_id)
    return list(connection.execute(query))


def bonus_owner(connection: Connection, bonus_id: str) -> str | None:
    """The MSISDN holding a bonus bucket (TMF654 reads a bucket by its id)."""
    return connection.execute(
        select(t.prepaid_bonuses.c.msisdn).where(t.prepaid_bonuses.c.id == bonus_id)
    ).scalar_one_or_none()
