"""Change batches: one change asked of many lines of an account, each line its own change request (its own
quote, its own monthly slot). Pure rules: the use cases are in `batch_usecases.py`.

A batch stores only what happened to it (created, confirmed, cancelled) and, per line, its request or its
refusal; every status is read from those, so a batch whose confirmation stopped half-way tells the truth."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum
from typing import Any

from bascule.evolutions.lifecycle import RequestStatus
from bascule.kernel.errors import DomainError, ErrorCode
from bascule.kernel.money import Money, total

MAX_BATCH_LINES = 1000


class ItemStatus(StrEnum):
    QUOTED = "quoted"  # its request awaits confirmation
    REFUSED = "refused"
    PROVISIONING = "provisioning"
    COMPLETED = "completed"
    FAILED = "failed"
    CANCELLED = "cancelled"


class BatchStatus(StrEnum):
    AWAITING_CONFIRMATION = "awaiting_confirmation"
    CONFIRMING = "confirming"  # confirmed, some lines not handled yet: confirming again finishes
    PROVISIONING = "provisioning"
    COMPLETED = "completed"  # every line changed
    PARTIAL = "partial"  # some lines changed, others not
    FAILED = "failed"  # no line changed
    CANCELLED = "cancelled"


_ITEM_OF_REQUEST = {
    RequestStatus.AWAITING_CONFIRMATION: ItemStatus.QUOTED,
    RequestStatus.PROVISIONING: ItemStatus.PROVISIONING,
    RequestStatus.COMPLETED: ItemStatus.COMPLETED,
    RequestStatus.FAILED: ItemStatus.FAILED,
    RequestStatus.CANCELLED: ItemStatus.CANCELLED,
}

# The lines whose change is, or will be once the networks answer, applied and charged.
_CHARGED = frozenset({ItemStatus.QUOTED, ItemStatus.PROVISIONING, ItemStatus.COMPLETED})


@dataclass(frozen=True, slots=True)
class BatchItem:
    position: int
    service_id: str
    change_request_id: str | None
    request_status: RequestStatus | None
    quote: dict[str, Any] | None  # the request's quote, as stored with it
    refusal_code: str | None = None
    refusal_detail: str | None = None

    @property
    def request_id(self) -> str:
        """The line's change request: every line not refused at quoting has one."""
        if self.change_request_id is None:
            raise RuntimeError(f"line {self.position} has no change request (refused when quoted)")
        return self.change_request_id

    @property
    def status(self) -> ItemStatus:
        if self.refusal_code is not None or self.request_status is None:
            return ItemStatus.REFUSED
        return _ITEM_OF_REQUEST[self.request_status]


@dataclass(frozen=True, slots=True)
class ChangeBatch:
    id: str
    account_id: str
    currency: str
    changes: dict[str, Any]
    channel: str
    actor_kind: str
    actor_id: str
    created_at: datetime
    items: tuple[BatchItem, ...]
    confirmed_at: datetime | None = None
    cancelled_at: datetime | None = None

    @property
    def status(self) -> BatchStatus:
        return batch_status(
            [item.status for item in self.items],
            confirmed=self.confirmed_at is not None,
            cancelled=self.cancelled_at is not None,
        )

    @property
    def total(self) -> Money:
        """What the batch costs: the quotes of the lines it changes or still may change."""
        return total(
            [
                Money.of(item.quote["total"]["amount"], item.quote["total"]["currency"])
                for item in self.items
                if item.status in _CHARGED and item.quote is not None
            ],
            self.currency,
        )

    def awaiting(self) -> list[BatchItem]:
        """The lines a confirmation still has to confirm."""
        return [item for item in self.items if item.status is ItemStatus.QUOTED]


def batch_status(items: Sequence[ItemStatus], *, confirmed: bool, cancelled: bool) -> BatchStatus:
    if ItemStatus.QUOTED in items or not (confirmed or cancelled):
        return BatchStatus.CONFIRMING if confirmed else BatchStatus.AWAITING_CONFIRMATION
    changed = {ItemStatus.PROVISIONING, ItemStatus.COMPLETED, ItemStatus.FAILED}.intersection(items)
    if cancelled and not changed:
        return BatchStatus.CANCELLED
    if ItemStatus.PROVISIONING in items:
        return BatchStatus.PROVISIONING
    if all(item is ItemStatus.COMPLETED for item in items):
        return BatchStatus.COMPLETED
    return BatchStatus.PARTIAL if ItemStatus.COMPLETED in items else BatchStatus.FAILED


def check_lines(service_ids: Sequence[str]) -> None:
    """1 to MAX_BATCH_LINES lines, each named once."""
    if not 1 <= len(service_ids) <= MAX_BATCH_LINES:
        raise DomainError(
            ErrorCode.VALIDATION_ERROR, reason="batch-size", max_lines=MAX_BATCH_LINES, lines=len(service_ids)
        )
    if len(set(service_ids)) != len(service_ids):
        raise DomainError(ErrorCode.VALIDATION_ERROR, reason="batch-line-twice")


def require_open(batch: ChangeBatch) -> None:
    """Only a batch still awaiting (or in the middle of) its confirmation may be confirmed or cancelled."""
    if batch.status not in (BatchStatus.AWAITING_CONFIRMATION, BatchStatus.CONFIRMING):
        raise DomainError(ErrorCode.INVALID_STATE, current_status=batch.status.value)
