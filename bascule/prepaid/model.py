"""Line B records as the use cases see them: subscriber, ledger entry, bonus bucket, migration.

Pure values: no web framework, no SQLAlchemy. Quantities of buckets are integers in the unit of
their kind: minor units of the currency (credit), bytes (data), minutes (voice), messages (sms).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum
from typing import Any

from bascule.catalog.model import BonusKind
from bascule.kernel.money import Money


class EntryKind(StrEnum):
    RECHARGE = "recharge"  # a credit of the main balance
    CONSUMPTION = "consumption"  # a debit of the main balance


@dataclass(frozen=True, slots=True)
class Subscriber:
    msisdn: str
    profile_id: str
    timezone: str
    currency: str
    created_at: datetime

    def audit_view(self) -> dict[str, Any]:
        return {"profile_id": self.profile_id, "timezone": self.timezone, "currency": self.currency}


@dataclass(frozen=True, slots=True)
class LedgerEntry:
    """An immutable line of the main-credit ledger; `amount` is always positive, `kind` gives the sign."""

    id: str
    msisdn: str
    kind: EntryKind
    amount: Money
    at: datetime
    channel: str

    @property
    def signed(self) -> Money:
        return self.amount if self.kind is EntryKind.RECHARGE else -self.amount


@dataclass(frozen=True, slots=True)
class BonusBucket:
    id: str
    msisdn: str
    kind: BonusKind
    total: int
    remaining: int
    granted_at: datetime
    expires_at: datetime
    profile_id: str
    label: str
    source: str

    def valid_at(self, instant: datetime) -> bool:
        return self.granted_at <= instant < self.expires_at

    def usable_at(self, instant: datetime) -> bool:
        return self.remaining > 0 and self.valid_at(instant)


@dataclass(frozen=True, slots=True)
class ProfileMigration:
    id: str
    msisdn: str
    from_profile_id: str
    to_profile_id: str
    at: datetime
    period: str
    channel: str
    actor_kind: str
    actor_id: str


@dataclass(frozen=True, slots=True)
class StoredOtp:
    """The one live one-time code of an MSISDN (a new code replaces it)."""

    msisdn: str
    code_hash: str
    salt: str
    created_at: datetime
    expires_at: datetime
    attempts: int
    used_at: datetime | None
