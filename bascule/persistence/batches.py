"""Change batches and their items; each item's status is read with its change request's."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import Row, insert, select, update

from bascule.evolutions.batch import BatchItem, ChangeBatch
from bascule.evolutions.lifecycle import RequestStatus
from bascule.persistence import tables as t
from bascule.persistence.statements import _Repository

_b, _i, _r = t.change_batches.c, t.change_batch_items.c, t.change_requests.c
_HEADER = select(t.change_batches, t.accounts.c.currency).join(t.accounts, t.accounts.c.id == _b.account_id)
_ITEMS = select(t.change_batch_items, _r.status.label("request_status"), _r.quote).outerjoin(
    t.change_requests, _r.id == _i.change_request_id
)


class ChangeBatches(_Repository):
    def add(self, batch: ChangeBatch) -> None:
        self.connection.execute(
            insert(t.change_batches).values(
                id=batch.id,
                account_id=batch.account_id,
                changes=batch.changes,
                channel=batch.channel,
                actor_kind=batch.actor_kind,
                actor_id=batch.actor_id,
                created_at=batch.created_at,
            )
        )
        self.connection.execute(
            insert(t.change_batch_items),
            [
                {
                    "batch_id": batch.id,
                    "position": item.position,
                    "service_id": item.service_id,
                    "change_request_id": item.change_request_id,
                    "refusal_code": item.refusal_code,
                    "refusal_detail": item.refusal_detail,
                }
                for item in batch.items
            ],
        )

    def get(self, batch_id: str, *, lock: bool = False) -> ChangeBatch | None:
        """The batch with its items in their order; `lock` holds its row until commit on PostgreSQL."""
        header = _HEADER.where(_b.id == batch_id)
        if lock and self.locks_rows:
            header = header.with_for_update(of=t.change_batches)
        row = self.connection.execute(header).first()
        if row is None:
            return None
        items = self.connection.execute(_ITEMS.where(_i.batch_id == batch_id).order_by(_i.position))
        return _batch(row, tuple(_item(item) for item in items))

    def confirmed(self, batch_id: str, at: datetime) -> None:
        """The first confirmation's instant; a confirmation started again keeps it."""
        self.connection.execute(
            update(t.change_batches).where(_b.id == batch_id, _b.confirmed_at.is_(None)).values(confirmed_at=at)
        )

    def cancelled(self, batch_id: str, at: datetime) -> None:
        self.connection.execute(update(t.change_batches).where(_b.id == batch_id).values(cancelled_at=at))

    def refuse(self, batch_id: str, position: int, code: str, detail: str) -> None:
        self.connection.execute(
            update(t.change_batch_items)
            .where(_i.batch_id == batch_id, _i.position == position)
            .values(refusal_code=code, refusal_detail=detail)
        )


def _batch(row: Row[Any], items: tuple[BatchItem, ...]) -> ChangeBatch:
    return ChangeBatch(
        id=row.id,
        account_id=row.account_id,
        currency=row.currency,
        changes=row.changes,
        channel=row.channel,
        actor_kind=row.actor_kind,
        actor_id=row.actor_id,
        created_at=row.created_at,
        items=items,
        confirmed_at=row.confirmed_at,
        cancelled_at=row.cancelled_at,
    )


def _item(row: Row[Any]) -> BatchItem:
    return BatchItem(
        position=row.position,
        service_id=row.service_id,
        change_request_id=row.change_request_id,
        request_status=None if row.request_status is None else RequestStatus(row.request_status),
        quote=row.quote,
        refusal_code=row.refusal_code,
        refusal_detail=row.refusal_detail,
    )
