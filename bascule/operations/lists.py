"""The operator's lists as pure values: their filters, and the keyset cursors that page them.

Pages go newest first on a key that never repeats ((instant, id) for requests and migrations, the event's id
for the audit log), so a page costs the same at the millionth row as at the first, and rows written meanwhile
never shift a page. A cursor is opaque to the visitor and carries check digits: one we did not hand out is a
validation error.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum

from bascule.kernel.errors import DomainError, ErrorCode

PAGE_SIZE = 50


class RequestKind(StrEnum):
    EVOLUTION = "evolution"  # a Line A change request
    MIGRATION = "migration"  # a Line B profile migration


@dataclass(frozen=True, slots=True)
class RequestFilter:
    kind: RequestKind | None = None
    status: str | None = None  # a change request's; a migration is always "completed"
    channel: str | None = None
    account_id: str | None = None  # Line A only: migrations have no account
    msisdn: str | None = None
    since: datetime | None = None  # inclusive
    until: datetime | None = None  # exclusive

    def wants(self, kind: RequestKind) -> bool:
        if self.kind is not None and self.kind is not kind:
            return False
        if kind is RequestKind.MIGRATION:
            return self.account_id is None and self.status in (None, "completed")
        return True


@dataclass(frozen=True, slots=True)
class AuditFilter:
    actor_id: str | None = None
    customer_id: str | None = None  # an account id or a line's MSISDN
    action: str | None = None  # the action's prefix: "change_request", "profile.migrated"…
    channel: str | None = None
    since: datetime | None = None
    until: datetime | None = None


@dataclass(frozen=True, slots=True)
class RequestRow:
    kind: RequestKind
    id: str
    at: datetime
    status: str
    channel: str
    account_id: str | None
    service_id: str | None
    msisdn: str
    changes: dict[str, object] | None
    total: dict[str, str] | None
    from_profile_id: str | None
    to_profile_id: str | None
    actor_kind: str
    actor_id: str


def newest_first(rows: list[RequestRow], limit: int) -> list[RequestRow]:
    """Two kinds, each read newest first up to `limit`, merged into one page."""
    return sorted(rows, key=lambda row: (row.at, row.id), reverse=True)[:limit]


def _sealed(text: str) -> str:
    check = hashlib.sha256(f"backoffice-cursor:{text}".encode()).hexdigest()[:8]
    return base64.urlsafe_b64encode(f"{text}|{check}".encode()).decode().rstrip("=")


def _opened(cursor: str) -> str:
    try:
        raw = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)).decode()
    except (binascii.Error, UnicodeDecodeError, ValueError):
        raise _bad_cursor() from None
    text = raw.rpartition("|")[0]
    if not text or _sealed(text) != cursor.rstrip("="):
        raise _bad_cursor()
    return text


def _bad_cursor() -> DomainError:
    return DomainError(ErrorCode.VALIDATION_ERROR, reason="stale-page-link")


def request_cursor(row: RequestRow) -> str:
    return keyset_cursor(row.at, row.id)


def keyset_cursor(at: datetime, row_id: str) -> str:
    """The cursor of the page that follows the row (at, row_id), newest first."""
    return _sealed(f"{at.isoformat()}|{row_id}")


def after_request(cursor: str) -> tuple[datetime, str]:
    at, _, row_id = _opened(cursor).partition("|")
    try:
        return datetime.fromisoformat(at), row_id
    except ValueError:
        raise _bad_cursor() from None


def audit_cursor(event_id: int) -> str:
    return _sealed(str(event_id))


def after_event(cursor: str) -> int:
    try:
        return int(_opened(cursor))
    except ValueError:
        raise _bad_cursor() from None
