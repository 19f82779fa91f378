"""In-memory fakes of the ports the Line A and Line B use cases need (`bascule.evolutions.ports.EvolutionsUnit`,
`bascule.prepaid.ports.PrepaidUnit`).

A `FakeStore` holds the rows; each unit of work works on it directly and, unless it commits, puts back what
the store held when it began — a refusal thus leaves the store as it was, as a rolled-back transaction does.
No database, no SQL: what these tests exercise is the use cases over their ports.
"""

from __future__ import annotations

import copy
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta
from types import TracebackType
from typing import Any, Self

from bascule.audit.ports import AuditEvent
from bascule.billing.cycles import OPENER
from bascule.catalog.live import LiveCatalog
from bascule.catalog.model import Catalog
from bascule.context import Context
from bascule.evolutions.model import ChangeRequest, Service
from bascule.evolutions.ports import CYCLE_OPENER, StoredCharge
from bascule.evolutions.quota import Bucket
from bascule.identity.model import Account, Role, User
from bascule.kernel.clock import SettableClock
from bascule.kernel.ids import new_id
from bascule.kernel.money import Money
from bascule.notifications.model import Notification
from bascule.prepaid.model import BonusBucket, EntryKind, LedgerEntry, ProfileMigration, StoredOtp, Subscriber
from bascule.prepaid.ports import ProfileMove
from bascule.prepaid.rules import to_minor
from bascule.provisioning.model import Job, JobSpec, JobStatus


@dataclass
class FakeStore:
    accounts: dict[str, Account] = field(default_factory=dict)
    users: dict[str, User] = field(default_factory=dict)
    services: dict[str, Service] = field(default_factory=dict)
    cycles: dict[tuple[str, str], datetime] = field(default_factory=dict)
    buckets: dict[str, tuple[str, Bucket, datetime | None]] = field(default_factory=dict)  # service, bucket, closed
    slots: dict[tuple[str, str, str], int] = field(default_factory=dict)
    requests: dict[str, ChangeRequest] = field(default_factory=dict)
    charges: list[StoredCharge] = field(default_factory=list)
    once_keys: set[str] = field(default_factory=set)
    audit: list[AuditEvent] = field(default_factory=list)
    jobs: dict[str, Job] = field(default_factory=dict)
    notifications: list[Notification] = field(default_factory=list)
    subscribers: dict[str, Subscriber] = field(default_factory=dict)
    balances: dict[str, int] = field(default_factory=dict)  # main credit in minor units, by MSISDN
    ledger: list[LedgerEntry] = field(default_factory=list)
    bonuses: dict[str, BonusBucket] = field(default_factory=dict)
    migrations: list[ProfileMigration] = field(default_factory=list)
    otp_codes: dict[str, StoredOtp] = field(default_factory=dict)
    commits: int = 0

    def snapshot(self) -> dict[str, Any]:
        return copy.deepcopy({name: value for name, value in vars(self).items() if name != "commits"})

    def restore(self, saved: Mapping[str, Any]) -> None:
        for name, value in saved.items():
            setattr(self, name, value)


class _Rows:
    def __init__(self, store: FakeStore) -> None:
        self.store = store


class FakeAccounts(_Rows):
    def add(self, account: Account) -> None:
        self.store.accounts[account.id] = account

    def get(self, account_id: str) -> Account | None:
        return self.store.accounts.get(account_id)

    def all(self) -> list[Account]:
        return list(self.store.accounts.values())


class FakeUsers(_Rows):
    def get(self, user_id: str) -> User | None:
        return self.store.users.get(user_id)

    def manager_emails(self, account_id: str) -> list[str]:
        return sorted(
            user.email
            for user in self.store.users.values()
            if user.account_id == account_id and user.role is Role.MANAGER
        )


class FakeServices(_Rows):
    def add(self, service: Service, created_at: datetime) -> None:
        self.store.services[service.id] = service

    def get(self, service_id: str) -> Service | None:
        return self.store.services.get(service_id)

    def lock(self, service_id: str, at: datetime | None = None) -> Service | None:
        return self.get(service_id)

    def save(self, service: Service) -> None:
        self.store.services[service.id] = service


class FakeCycles(_Rows):
    def open(self, service_id: str, period: str, at: datetime) -> bool:
        if (service_id, period) in self.store.cycles:
            return False
        self.store.cycles[(service_id, period)] = at
        return True

    def latest(self, service_id: str) -> str | None:
        return max((period for (sid, period) in self.store.cycles if sid == service_id), default=None)

    def is_open(self, service_id: str, period: str) -> bool:
        return (service_id, period) in self.store.cycles


class FakeBuckets(_Rows):
    def add(self, service_id: str, period: str, bucket: Bucket, source_ref: str | None = None) -> None:
        self.store.buckets[bucket.id] = (service_id, bucket, None)

    def open_at(self, service_id: str, instant: datetime) -> list[Bucket]:
        return [
            bucket
            for sid, bucket, closed in self.store.buckets.values()
            if sid == service_id and closed is None and bucket.valid_from <= instant < bucket.valid_until
        ]

    def close(self, bucket_ids: Sequence[str], at: datetime) -> None:
        for bucket_id in bucket_ids:
            service_id, bucket, _ = self.store.buckets[bucket_id]
            self.store.buckets[bucket_id] = (service_id, bucket, at)

    def set_total(self, bucket_id: str, total_bytes: int) -> None:
        service_id, bucket, closed = self.store.buckets[bucket_id]
        self.store.buckets[bucket_id] = (service_id, replace(bucket, total_bytes=total_bytes), closed)


class FakeSlots(_Rows):
    def take(self, scope: str, subject_id: str, period: str, limit: int) -> bool:
        used = self.store.slots.get((scope, subject_id, period), 0)
        if used >= limit:
            return False
        self.store.slots[(scope, subject_id, period)] = used + 1
        return True

    def take_or_refuse(self, scope: str, subject_id: str, period: str, limit: int, refusal: Exception) -> None:
        if not self.take(scope, subject_id, period, limit):
            raise refusal

    def take_held_now(self) -> None:
        """Takes are made at once here: nothing is held."""

    def give_back(self, scope: str, subject_id: str, period: str) -> None:
        self.store.slots[(scope, subject_id, period)] -= 1

    def used(self, scope: str, subject_id: str, period: str) -> int:
        return self.store.slots.get((scope, subject_id, period), 0)


class FakeChangeRequests(_Rows):
    def add(self, request: ChangeRequest) -> None:
        self.store.requests[request.id] = request

    def get(self, request_id: str) -> ChangeRequest | None:
        return self.store.requests.get(request_id)

    def lock(self, request_id: str, at: datetime | None = None) -> ChangeRequest | None:
        return self.get(request_id)

    def save(self, request: ChangeRequest) -> None:
        self.store.requests[request.id] = request


class FakeCharges(_Rows):
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
    ) -> bool:
        if once_key is not None:
            if once_key in self.store.once_keys:
                return False
            self.store.once_keys.add(once_key)
        self.store.charges.append(
            StoredCharge(
                new_id("chg"), account_id, service_id, period, kind, description, amount, at, change_request_id
            )
        )
        return True

    def of_request(self, request_id: str) -> list[StoredCharge]:
        return [charge for charge in self.store.charges if charge.change_request_id == request_id]


class FakeAudit(_Rows):
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
        before: Mapping[str, Any] | None = None,
        after: Mapping[str, Any] | None = None,
        actor_name: str | None = None,
        customer: tuple[str, str] | None = None,
    ) -> None:
        self.store.audit.append(
            AuditEvent(
                len(self.store.audit) + 1,
                at,
                actor_kind,
                actor_id,
                channel,
                entity_kind,
                entity_id,
                action,
                dict(before) if before else None,
                dict(after) if after else None,
                actor_name,
                customer[0] if customer else None,
                customer[1] if customer else None,
            )
        )


class FakeJobs(_Rows):
    def add(
        self,
        specs: Sequence[JobSpec],
        *,
        subject: tuple[str, str],
        change_request_id: str | None,
        max_attempts: int,
        now: datetime,
        leased_to: str | None = None,
        lease: timedelta = timedelta(0),
    ) -> list[Job]:
        jobs = [
            Job(
                new_id("job"),
                change_request_id,
                subject[0],
                subject[1],
                spec.network,
                spec.operation,
                dict(spec.payload),
                JobStatus.PENDING,
                0,
                max_attempts,
                now,
                None,
            )
            for spec in specs
        ]
        self.store.jobs.update((job.id, job) for job in jobs)
        return jobs


class FakeNotifications(_Rows):
    def add(self, notification: Notification) -> None:
        self.store.notifications.append(notification)


class FakeSubscribers(_Rows):
    def add(self, subscriber: Subscriber) -> bool:
        if subscriber.msisdn in self.store.subscribers:
            return False
        self.store.subscribers[subscriber.msisdn] = subscriber
        self.store.balances[subscriber.msisdn] = 0
        return True

    def get(self, msisdn: str) -> Subscriber | None:
        return self.store.subscribers.get(msisdn)

    lock = get

    def lock_with_consumption(self, msisdn: str, start: datetime, end: datetime) -> tuple[Subscriber, int] | None:
        subscriber = self.store.subscribers.get(msisdn)
        return None if subscriber is None else (subscriber, FakeLedger(self.store).consumed_minor(msisdn, start, end))

    def all(self) -> list[Subscriber]:
        return list(self.store.subscribers.values())

    def balance_minor(self, msisdn: str) -> int:
        return self.store.balances[msisdn]

    def month_standing(self, msisdn: str, start: datetime, end: datetime, scope: str, period: str) -> tuple[int, int]:
        return FakeLedger(self.store).consumed_minor(msisdn, start, end), FakeSlots(self.store).used(
            scope, msisdn, period
        )

    def with_standing(
        self, msisdn: str, start: datetime, end: datetime, scope: str, period: str
    ) -> tuple[Subscriber, int, int, int] | None:
        subscriber = self.store.subscribers.get(msisdn)
        if subscriber is None:
            return None
        consumed, used = self.month_standing(msisdn, start, end, scope, period)
        return subscriber, self.store.balances[msisdn], consumed, used

    def with_standing_and_bonuses(
        self, msisdn: str, start: datetime, end: datetime, scope: str, period: str, instant: datetime
    ) -> tuple[Subscriber, int, int, int, list[BonusBucket]] | None:
        found = self.with_standing(msisdn, start, end, scope, period)
        if found is None:
            return None
        live = FakeBonuses(self.store).live_at(msisdn, instant)
        return (*found, sorted(live, key=lambda bucket: (bucket.expires_at, bucket.granted_at, bucket.id)))

    def credit(self, msisdn: str, units: int) -> None:
        self.store.balances[msisdn] += units

    def debit(self, msisdn: str, units: int) -> bool:
        if self.store.balances[msisdn] < units:  # the database's CHECK (balance >= 0)
            return False
        self.store.balances[msisdn] -= units
        return True

    def change_profile(self, msisdn: str, from_profile_id: str, to_profile_id: str) -> bool:
        subscriber = self.store.subscribers.get(msisdn)
        if subscriber is None or subscriber.profile_id != from_profile_id:
            return False
        self.store.subscribers[msisdn] = replace(subscriber, profile_id=to_profile_id)
        return True

    def change_profile_taking_slot(
        self, msisdn: str, from_profile_id: str, to_profile_id: str, scope: str, period: str, limit: int
    ) -> ProfileMove:
        if not FakeSlots(self.store).take(scope, msisdn, period, limit):
            return ProfileMove.NO_SLOT_LEFT
        moved = self.change_profile(msisdn, from_profile_id, to_profile_id)
        return ProfileMove.MOVED if moved else ProfileMove.PROFILE_CHANGED

    def move_profile_taking_slot(
        self,
        msisdn: str,
        from_profile_id: str,
        to_profile_id: str,
        slot: tuple[str, str, int],
        refusals: tuple[Exception, Exception],
    ) -> None:
        moved = self.change_profile_taking_slot(msisdn, from_profile_id, to_profile_id, *slot)
        if moved is not ProfileMove.MOVED:
            raise refusals[0] if moved is ProfileMove.NO_SLOT_LEFT else refusals[1]


class FakeLedger(_Rows):
    def add(self, entry: LedgerEntry, recorded_at: datetime) -> None:
        self.store.ledger.append(entry)

    def of(self, msisdn: str) -> list[LedgerEntry]:
        return sorted((e for e in self.store.ledger if e.msisdn == msisdn), key=lambda e: e.at, reverse=True)

    def sum_minor(self, msisdn: str) -> int:
        return sum(to_minor(e.signed) for e in self.store.ledger if e.msisdn == msisdn)

    def consumed_minor(self, msisdn: str, start: datetime, end: datetime) -> int:
        return sum(
            to_minor(e.amount)
            for e in self.store.ledger
            if e.msisdn == msisdn and e.kind is EntryKind.CONSUMPTION and start <= e.at < end
        )

    def has_recharge_in(self, msisdn: str, start: datetime, end: datetime) -> bool:
        return any(
            e.msisdn == msisdn and e.kind is EntryKind.RECHARGE and start <= e.at < end for e in self.store.ledger
        )


class FakeBonuses(_Rows):
    def add(self, bucket: BonusBucket, once_key: str | None = None) -> bool:
        if once_key is not None:
            if once_key in self.store.once_keys:
                return False
            self.store.once_keys.add(once_key)
        self.store.bonuses[bucket.id] = bucket
        return True

    def of(self, msisdn: str) -> list[BonusBucket]:
        return [bucket for bucket in self.store.bonuses.values() if bucket.msisdn == msisdn]

    def live_at(self, msisdn: str, instant: datetime) -> list[BonusBucket]:
        return [bucket for bucket in self.of(msisdn) if bucket.usable_at(instant)]

    def draw(self, bucket_id: str, units: int, *, consumption_id: str, msisdn: str, at: datetime) -> bool:
        bucket = self.store.bonuses[bucket_id]
        if bucket.remaining < units:
            return False
        self.store.bonuses[bucket_id] = replace(bucket, remaining=bucket.remaining - units)
        return True


class FakeMigrations(_Rows):
    def add(self, migration: ProfileMigration) -> None:
        self.store.migrations.append(migration)

    def of(self, msisdn: str) -> list[ProfileMigration]:
        return sorted((m for m in self.store.migrations if m.msisdn == msisdn), key=lambda m: m.at, reverse=True)


class FakeOneTimeCodes(_Rows):
    def issue(self, code: StoredOtp, cooldown_until: datetime) -> bool:
        live = self.store.otp_codes.get(code.msisdn)
        if live is not None and live.created_at > cooldown_until:  # younger than the cooldown
            return False
        self.store.otp_codes[code.msisdn] = code
        return True

    def get(self, msisdn: str) -> StoredOtp | None:
        return self.store.otp_codes.get(msisdn)

    def count_failure(self, msisdn: str, code_hash: str, max_attempts: int) -> None:
        code = self.store.otp_codes.get(msisdn)
        if code is not None and code.code_hash == code_hash and code.attempts < max_attempts:
            self.store.otp_codes[msisdn] = replace(code, attempts=code.attempts + 1)

    def use(self, msisdn: str, code_hash: str, max_attempts: int, at: datetime) -> bool:
        code = self.store.otp_codes.get(msisdn)
        if (
            code is None
            or code.code_hash != code_hash
            or code.used_at is not None
            or code.attempts >= max_attempts
            or code.expires_at <= at
        ):
            return False
        self.store.otp_codes[msisdn] = replace(code, used_at=at)
        return True


class FakeUnit:
    """A unit of work over a `FakeStore`: kept by `commit()`, put back otherwise."""

    def __init__(self, store: FakeStore) -> None:
        self.store = store
        self._saved: dict[str, Any] | None = None
        self._committed = False
        self.accounts = FakeAccounts(store)
        self.users = FakeUsers(store)
        self.services = FakeServices(store)
        self.cycles = FakeCycles(store)
        self.buckets = FakeBuckets(store)
        self.slots = FakeSlots(store)
        self.change_requests = FakeChangeRequests(store)
        self.charges = FakeCharges(store)
        self.audit = FakeAudit(store)
        self.jobs = FakeJobs(store)
        self.notifications = FakeNotifications(store)
        self.subscribers = FakeSubscribers(store)
        self.ledger = FakeLedger(store)
        self.bonuses = FakeBonuses(store)
        self.migrations = FakeMigrations(store)
        self.otp_codes = FakeOneTimeCodes(store)

    def __enter__(self) -> Self:
        self._saved = self.store.snapshot()
        return self

    @contextmanager
    def appends_deferred(self) -> Iterator[None]:
        """Rows are kept in memory here: gathering them changes nothing."""
        yield

    def hold_writes(self) -> None:
        """Nothing is held here either."""

    def commit(self) -> None:
        self._committed = True
        self.store.commits += 1

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        if not self._committed and self._saved is not None:
            self.store.restore(self._saved)


@dataclass(frozen=True)
class FakeUnits:
    """The units factory of a context on fakes (`bascule.kernel.ports.Units`)."""

    store: FakeStore
    concurrent_writers: bool = False
    in_command: bool = False

    def __call__(self, *, write: bool = True) -> FakeUnit:
        return FakeUnit(self.store)

    def joining(self, unit: Any) -> FakeUnits:
        raise NotImplementedError("commands are not run on these fakes")


def fake_context(catalog: Catalog, clock: SettableClock, store: FakeStore) -> Context[Any]:
    """A context on these fakes, with billing's opening of cycles wired as `bascule.bootstrap` wires it."""
    ctx: Context[Any] = Context(catalogs=LiveCatalog(catalog), clock=clock, units=FakeUnits(store))
    ctx.kept.setdefault(CYCLE_OPENER, lambda: OPENER)
    return ctx
