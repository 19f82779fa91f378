"""The operator's lists: a page at a time on screen, every matching row in an export."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from typing import Generic, TypeVar

from bascule.audit.ports import AuditEvent
from bascule.context import Context
from bascule.identity.model import Principal
from bascule.operations.lists import (
    PAGE_SIZE,
    AuditFilter,
    RequestFilter,
    RequestRow,
    after_event,
    after_request,
    audit_cursor,
    newest_first,
    request_cursor,
)
from bascule.operations.ports import OperationsUnit as Unit

Ctx = Context[Unit]  # the context as these use cases see it: their ports, no database
T = TypeVar("T")
EXPORT_CHUNK = 1000


@dataclass(frozen=True, slots=True)
class Page(Generic[T]):
    rows: list[T]
    next_cursor: str | None


def requests_page(
    ctx: Ctx, actor: Principal, wanted: RequestFilter, cursor: str | None = None, limit: int = PAGE_SIZE
) -> Page[RequestRow]:
    actor.require_operator()
    after = after_request(cursor) if cursor else None
    with ctx.uow(write=False) as uow:
        rows = newest_first(uow.operator_lists.requests(wanted, after, limit + 1), limit + 1)
    more = len(rows) > limit
    rows = rows[:limit]
    return Page(rows, request_cursor(rows[-1]) if more and rows else None)


def every_request(ctx: Ctx, actor: Principal, wanted: RequestFilter) -> Iterator[RequestRow]:
    """Every matching row, newest first, read a chunk at a time (each chunk its own short read)."""
    actor.require_operator()
    cursor: str | None = None
    while True:
        page = requests_page(ctx, actor, wanted, cursor, EXPORT_CHUNK)
        yield from page.rows
        if page.next_cursor is None:
            return
        cursor = page.next_cursor


def audit_page(
    ctx: Ctx, actor: Principal, wanted: AuditFilter, cursor: str | None = None, limit: int = PAGE_SIZE
) -> Page[AuditEvent]:
    actor.require_operator()
    before = after_event(cursor) if cursor else None
    with ctx.uow(write=False) as uow:
        rows = uow.operator_lists.audit(wanted, before, limit + 1)
    more = len(rows) > limit
    rows = rows[:limit]
    return Page(rows, audit_cursor(rows[-1].id) if more and rows else None)


def every_event(ctx: Ctx, actor: Principal, wanted: AuditFilter) -> Iterator[AuditEvent]:
    actor.require_operator()
    cursor: str | None = None
    while True:
        page = audit_page(ctx, actor, wanted, cursor, EXPORT_CHUNK)
        yield from page.rows
        if page.next_cursor is None:
            return
        cursor = page.next_cursor


@dataclass(frozen=True, slots=True)
class Names:
    """Who is who, for people to read: account names, users' e-mails, staff names."""

    accounts: dict[str, str]
    users: dict[str, str]
    staff: dict[str, str]


def names_of(ctx: Ctx, account_ids: set[str], user_ids: set[str], staff_ids: set[str]) -> Names:
    with ctx.uow(write=False) as uow:
        return Names(
            uow.operator_lists.account_names(account_ids),
            uow.operator_lists.user_emails(user_ids),
            uow.staff.names(staff_ids),
        )
