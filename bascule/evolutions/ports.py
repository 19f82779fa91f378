"""The repositories the Line A use cases need: lines, cycles, buckets, slots, change requests, charges; and
the opening of a line's cycles, which billing does (`CycleOpener`)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from typing import Any, Protocol
from zoneinfo import ZoneInfo

from bascule.catalog.model import Catalog
from bascule.context import Kept
from bascule.evolutions.batch import ChangeBatch
from bascule.evolutions.fleet import LineMatch
from bascule.evolutions.model import ChangeRequest, Service
from bascule.evolutions.quota import Bucket
from bascule.identity.ports import IdentityUnit
from bascule.kernel.money import Money
from bascule.kernel.ports import Savepoint, Slots
from bascule.notifications.ports import NotificationsUnit
from bascule.provisioning.ports import ProvisioningUnit


@dataclass(frozen=True, slots=True)
class CycleTemplate:
    """The rows a cycle opening writes, less the service: its recurring line and its allowance bucket."""

    kind: str
    description: str
    amount: Decimal
    currency: str
    at: datetime
    total_bytes: int
    valid_from: datetime
    valid_until: datetime


@dataclass(frozen=True, slots=True)
class StoredCharge:
    id: str
    account_id: str
    service_id: str | None
    period: str
    kind: str
    description: str
    amount: Money
    at: datetime
    change_request_id: str | None


@dataclass(frozen=True, slots=True)
class FleetLine:
    service: Service
    timezone: str  # the account's
    latest_cycle: str | None  # the last period opened for the line


class Services(Protocol):
    def add(self, service: Service, created_at: datetime) -> None: ...
    def get(self, service_id: str) -> Service | None: ...
    def lock(self, service_id: str, at: datetime | None = None) -> Service | None:
        """The line, locked for the rest of the unit of work; `at` says the rules will ask for what is open on
        it at that instant (its buckets, its change slot), which an adapter may read with it."""
        ...

    def lock_many(self, service_ids: list[str]) -> None: ...
    def forget_locked(self) -> None: ...
    def msisdn_taken(self, msisdn: str) -> bool: ...
    def of_account(self, account_id: str) -> list[Service]: ...
    def all(self) -> list[Service]: ...
    def save(self, service: Service) -> None: ...


class Cycles(Protocol):
    def open(self, service_id: str, period: str, at: datetime) -> bool: ...
    def latest(self, service_id: str) -> str | None: ...
    def is_open(self, service_id: str, period: str) -> bool: ...
    def latest_of(self, service_ids: Sequence[str]) -> dict[str, str]: ...
    def open_many(
        self, wanted: Sequence[tuple[str, str, str, int]], templates: Sequence[CycleTemplate], at: datetime
    ) -> None: ...


class Buckets(Protocol):
    def add(self, service_id: str, period: str, bucket: Bucket, source_ref: str | None = None) -> None: ...
    def open_at(self, service_id: str, instant: datetime) -> list[Bucket]: ...
    def draw(self, bucket_id: str, used_bytes: int, previous_used: int) -> None: ...
    def close(self, bucket_ids: Sequence[str], at: datetime) -> None: ...
    def reopen(self, bucket_ids: Sequence[str]) -> None: ...
    def set_total(self, bucket_id: str, total_bytes: int) -> None: ...


class ChangeRequests(Protocol):
    def add(self, request: ChangeRequest) -> None: ...
    def get(self, request_id: str) -> ChangeRequest | None: ...
    def lock(self, request_id: str, at: datetime | None = None) -> ChangeRequest | None:
        """The request and its line, locked; `at` as for `Services.lock`."""
        ...

    def lock_many(self, request_ids: list[str]) -> None: ...
    def save(self, request: ChangeRequest) -> None: ...
    def complete(self, request_id: str, at: datetime) -> ChangeRequest | None: ...
    def search(
        self, account_id: str | None, service_id: str | None, status: str | None, limit: int = 200
    ) -> list[ChangeRequest]: ...


class Charges(Protocol):
    def add(
        self,
        *,
        account_id: str,
        service_id: str | None,
        period: str,
        kind: str,
        description: str,
        amount: Money,
        at: datetime,
        change_request_id: str | None = None,
        once_key: str | None = None,
    ) -> bool: ...
    def of_service(self, service_id: str, period: str, kinds: Sequence[str]) -> list[StoredCharge]: ...
    def accumulate(
        self,
        *,
        once_key: str,
        account_id: str,
        service_id: str,
        period: str,
        kind: str,
        description: str,
        amount: Money,
        at: datetime,
    ) -> None: ...
    def of_account(self, account_id: str, period: str) -> list[StoredCharge]: ...
    def of_request(self, request_id: str) -> list[StoredCharge]: ...


class UsageRecords(Protocol):
    def receive(
        self, record_id: str, service_id: str, used_bytes: int, at: datetime, received_at: datetime
    ) -> bool: ...
    def receive_many(self, rows: list[dict[str, Any]]) -> set[str]: ...


class LineIndex(Protocol):
    def all(self) -> dict[str, tuple[str, str]]: ...


class Fleet(Protocol):
    def page(
        self, account_id: str | None, match: LineMatch, after: str | None, limit: int, *, descending: bool = False
    ) -> list[FleetLine]: ...
    def restricted_before(self, account_id: str | None, period: str) -> list[FleetLine]: ...
    def buckets_open_at(self, service_ids: Sequence[str], instant: datetime) -> dict[str, list[Bucket]]: ...
    def slots_used(
        self, scope: str, service_ids: Sequence[str], periods: Sequence[str]
    ) -> dict[tuple[str, str], int]: ...
    def services(self, service_ids: Sequence[str]) -> dict[str, Service]: ...
    def usage_by_quarter_hour(self, service_id: str, start: datetime, end: datetime) -> list[tuple[int, int]]: ...


class ChangeBatches(Protocol):
    def add(self, batch: ChangeBatch) -> None: ...
    def get(self, batch_id: str, *, lock: bool = False) -> ChangeBatch | None: ...
    def confirmed(self, batch_id: str, at: datetime) -> None: ...
    def cancelled(self, batch_id: str, at: datetime) -> None: ...
    def refuse(self, batch_id: str, position: int, code: str, detail: str) -> None: ...


class EvolutionsUnit(IdentityUnit, ProvisioningUnit, NotificationsUnit, Protocol):
    @property
    def services(self) -> Services: ...

    @property
    def cycles(self) -> Cycles: ...

    @property
    def buckets(self) -> Buckets: ...

    @property
    def slots(self) -> Slots: ...

    @property
    def change_requests(self) -> ChangeRequests: ...

    @property
    def charges(self) -> Charges: ...

    @property
    def usage(self) -> UsageRecords: ...

    @property
    def lines(self) -> LineIndex: ...

    @property
    def fleet(self) -> Fleet: ...

    @property
    def batches(self) -> ChangeBatches: ...

    def savepoint(self) -> Savepoint:
        """A part of this transaction that a refusal undoes alone (a line of a batch)."""
        ...


class CycleOpener(Protocol):
    """Opens the cycles a line is missing, from the last one opened (or its activation) to the current month:
    the recurring line, the allowance bucket, and a bar lifted by a new cycle, in the caller's unit of work.

    Billing owns the opening (`bascule.billing.cycles`) and reads the lines, so this feature cannot import it:
    `bascule.bootstrap` keeps billing's on the context (`CYCLE_OPENER`), and `services.cycle_opener` finds it."""

    def open(self, uow: EvolutionsUnit, catalog: Catalog, service: Service, tz: ZoneInfo, now: datetime) -> Service: ...

    def open_many(
        self,
        uow: EvolutionsUnit,
        catalog: Catalog,
        services: list[Service],
        zones: dict[str, ZoneInfo],
        now: datetime,
        latest: dict[str, str] | None = None,
    ) -> None:
        """`open` for many lines at once (zones by account id; `latest`: the last period opened per line,
        when the caller read it with the lines)."""
        ...


CYCLE_OPENER: Kept[CycleOpener] = Kept("cycle opener")
