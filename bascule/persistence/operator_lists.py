"""The back office's lists read in SQL: each page one indexed range scan per table, newest first.

The queries are built by module functions so that a test can ask the database for their plans
(`tests/integration/test_operator_list_plans.py`): the order comes from an index, never from a sort.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import Select, select, tuple_

from bascule.audit.ports import AuditEvent
from bascule.operations.lists import AuditFilter, RequestFilter, RequestKind, RequestRow
from bascule.persistence import tables as t
from bascule.persistence.statements import _Repository

C = t.change_requests
M = t.prepaid_migrations
S = t.services
A = t.audit_events


def _before(at_column: Any, id_column: Any, after: tuple[datetime, str] | None) -> Any:
    """Rows after the cursor's, newest first: a row-value comparison, which both databases read off the index."""
    if after is None:
        return None
    return tuple_(at_column, id_column) < tuple_(after[0], after[1])


def _dated(query: Select[Any], column: Any, wanted: RequestFilter | AuditFilter) -> Select[Any]:
    if wanted.since is not None:
        query = query.where(column >= wanted.since)
    if wanted.until is not None:
        query = query.where(column < wanted.until)
    return query


def changes_query(wanted: RequestFilter, after: tuple[datetime, str] | None, limit: int) -> Select[Any]:
    query = select(C, S.c.msisdn).join(S, S.c.id == C.c.service_id)
    for column, value in (
        (C.c.status, wanted.status),
        (C.c.channel, wanted.channel),
        (C.c.account_id, wanted.account_id),
    ):
        if value is not None:
            query = query.where(column == value)
    if wanted.msisdn is not None:  # one line, one service: its requests in the order of their index
        query = query.where(C.c.service_id == select(S.c.id).where(S.c.msisdn == wanted.msisdn).scalar_subquery())
    if (keyset := _before(C.c.created_at, C.c.id, after)) is not None:
        query = query.where(keyset)
    return _dated(query, C.c.created_at, wanted).order_by(C.c.created_at.desc(), C.c.id.desc()).limit(limit)


def migrations_query(wanted: RequestFilter, after: tuple[datetime, str] | None, limit: int) -> Select[Any]:
    query = select(M)
    for column, value in ((M.c.channel, wanted.channel), (M.c.msisdn, wanted.msisdn)):
        if value is not None:
            query = query.where(column == value)
    if (keyset := _before(M.c.at, M.c.id, after)) is not None:
        query = query.where(keyset)
    return _dated(query, M.c.at, wanted).order_by(M.c.at.desc(), M.c.id.desc()).limit(limit)


def audit_query(wanted: AuditFilter, before_id: int | None, limit: int) -> Select[Any]:
    query = select(A)
    for column, value in (
        (A.c.actor_id, wanted.actor_id),
        (A.c.customer_id, wanted.customer_id),
        (A.c.channel, wanted.channel),
    ):
        if value is not None:
            query = query.where(column == value)
    if wanted.action:
        query = query.where(A.c.action.startswith(wanted.action, autoescape=True))
    if before_id is not None:
        query = query.where(A.c.id < before_id)
    return _dated(query, A.c.at, wanted).order_by(A.c.id.desc()).limit(limit)


class OperatorLists(_Repository):
    def requests(self, wanted: RequestFilter, after: tuple[datetime, str] | None, limit: int) -> list[RequestRow]:
        rows: list[RequestRow] = []
        if wanted.wants(RequestKind.EVOLUTION):
            rows.extend(self._changes(wanted, after, limit))
        if wanted.wants(RequestKind.MIGRATION):
            rows.extend(self._migrations(wanted, after, limit))
        return rows

    def _changes(self, wanted: RequestFilter, after: tuple[datetime, str] | None, limit: int) -> list[RequestRow]:
        return [
            RequestRow(
                RequestKind.EVOLUTION,
                row.id,
                row.created_at,
                row.status,
                row.channel,
                row.account_id,
                row.service_id,
                row.msisdn,
                row.changes,
                (row.quote or {}).get("total"),
                None,
                None,
                row.actor_kind,
                row.actor_id,
            )
            for row in self.connection.execute(changes_query(wanted, after, limit))
        ]

    def _migrations(self, wanted: RequestFilter, after: tuple[datetime, str] | None, limit: int) -> list[RequestRow]:
        return [
            RequestRow(
                RequestKind.MIGRATION,
                row.id,
                row.at,
                "completed",
                row.channel,
                None,
                None,
                row.msisdn,
                None,
                None,
                row.from_profile_id,
                row.to_profile_id,
                row.actor_kind,
                row.actor_id,
            )
            for row in self.connection.execute(migrations_query(wanted, after, limit))
        ]

    def audit(self, wanted: AuditFilter, before_id: int | None, limit: int) -> list[AuditEvent]:
        return [AuditEvent(**row._asdict()) for row in self.connection.execute(audit_query(wanted, before_id, limit))]

    def account_names(self, account_ids: set[str]) -> dict[str, str]:
        if not account_ids:
            return {}
        rows = self.connection.execute(
            select(t.accounts.c.id, t.accounts.c.name).where(t.accounts.c.id.in_(sorted(account_ids)))
        )
        return {row.id: row.name for row in rows}

    def user_emails(self, user_ids: set[str]) -> dict[str, str]:
        if not user_ids:
            return {}
        rows = self.connection.execute(select(t.users.c.id, t.users.c.email).where(t.users.c.id.in_(sorted(user_ids))))
        return {row.id: row.email for row in rows}
