"""The change request's states and the only moves allowed between them."""

from __future__ import annotations

from enum import StrEnum

from bascule.kernel.errors import DomainError, ErrorCode


class RequestStatus(StrEnum):
    AWAITING_CONFIRMATION = "awaiting_confirmation"
    PROVISIONING = "provisioning"
    COMPLETED = "completed"
    FAILED = "failed"
    CANCELLED = "cancelled"


_ALLOWED: dict[RequestStatus, frozenset[RequestStatus]] = {
    RequestStatus.AWAITING_CONFIRMATION: frozenset({RequestStatus.PROVISIONING, RequestStatus.CANCELLED}),
    RequestStatus.PROVISIONING: frozenset({RequestStatus.COMPLETED, RequestStatus.FAILED}),
    RequestStatus.COMPLETED: frozenset(),
    RequestStatus.FAILED: frozenset(),
    RequestStatus.CANCELLED: frozenset(),
}

# Statuses in which a request holds its month's slot.
HOLDS_SLOT = frozenset({RequestStatus.PROVISIONING, RequestStatus.COMPLETED})


def move(current: RequestStatus, target: RequestStatus) -> RequestStatus:
    if target not in _ALLOWED[current]:
        raise DomainError(ErrorCode.INVALID_STATE, current_status=current.value, target=target.value)
    return target
