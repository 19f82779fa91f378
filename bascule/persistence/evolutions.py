"""The SQL of the Line A evolutions: lines (services), cycles, buckets, monthly slots, change requests, charges.

Nothing here commits: the unit of work does, once.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import Connection, Row, and_, bindparam, func, insert, literal_column, select, update
from sqlalchemy.dialects import postgresql, sqlite

from bascule.evolutions.lifecycle import RequestStatus
from bascule.evolutions.model import ChangeRequest, Service, ServiceStatus
from bascule.evolutions.ports import CycleTemplate, StoredCharge
from bascule.evolutions.quota import Bucket, BucketKind
from bascule.evolutions.rules import SLOT_SCOPE
from bascule.kernel.ids import new_id
from bascule.kernel.money import Money, stored
from bascule.persistence import tables as t
from bascule.persistence.compiled import flush_held, hold_condition, hold_update, run_joining_conditions
from bascule.persistence.identity import ACCOUNT_COLUMNS, ACCOUNT_PREFIX, Users, manager_emails_of, remember_account
from bascule.persistence.statements import _by_id, _Deferring, _fields, _Repository, insert_ignoring_conflict

# The statements the hot paths run on every change, built once (see `statements._by_id` for the measure).
_INSERT_CHARGE = insert(t.charges)
_INSERT_REQUEST = insert(t.change_requests)
_OPEN_BUCKETS = (
    select(t.buckets)
    .where(
        t.buckets.c.service_id == bindparam("service_id"),
        t.buckets.c.closed_at.is_(None),
        t.buckets.c.valid_from <= bindparam("instant"),
        t.buckets.c.valid_until > bindparam("instant"),
    )
    .order_by(t.buckets.c.valid_from, t.buckets.c.id)
)
_LATEST_CYCLE = select(func.max(t.service_cycles.c.period)).where(
    t.service_cycles.c.service_id == bindparam("service_id")
)
# Not the column names: an UPDATE reserves those for its SET clause.
_SLOT_KEY = (
    t.monthly_slots.c.scope == bindparam("slot_scope"),
    t.monthly_slots.c.subject_id == bindparam("slot_subject"),
    t.monthly_slots.c.period == bindparam("slot_period"),
)
_SLOT_USED = select(t.monthly_slots.c.used).where(*_SLOT_KEY)
_SLOT_GIVE_BACK = (
    update(t.monthly_slots).where(*_SLOT_KEY, t.monthly_slots.c.used > 0).values(used=t.monthly_slots.c.used - 1)
)
_SLOT_TAKE: dict[str, Any] = {}


def _slot_take(dialect_name: str) -> Any:
    """`INSERT … VALUES (…, 1) ON CONFLICT (scope, subject_id, period) DO UPDATE SET used = used + 1
    WHERE used < :limit RETURNING used`: a row comes back when the slot was taken (SQLite ≥ 3.35, PostgreSQL).
    On PostgreSQL the conflicting row is locked and the condition read on its latest version, so two takes of
    the last slot cannot both succeed; on SQLite writers are serialised (BEGIN IMMEDIATE)."""
    statement = _SLOT_TAKE.get(dialect_name)
    if statement is None:
        dialect = postgresql if dialect_name == "postgresql" else sqlite
        slots = t.monthly_slots
        statement = _SLOT_TAKE[dialect_name] = (
            dialect.insert(slots)
            .values(
                scope=bindparam("slot_scope"),
                subject_id=bindparam("slot_subject"),
                period=bindparam("slot_period"),
                used=1,
            )
            .on_conflict_do_update(
                index_elements=[slots.c.scope, slots.c.subject_id, slots.c.period],
                set_={"used": slots.c.used + 1},
                where=slots.c.used < bindparam("slot_limit"),
            )
            .returning(slots.c.used)
        )
    return statement


def _service(row: Row[Any], prefix: str = "") -> Service:
    """A line from its row; `prefix`: its columns' prefix when read with another table's (`_REQUEST_AND_LINE`)."""

    def column(name: str) -> Any:
        return getattr(row, prefix + name)

    return Service(
        id=column("id"),
        account_id=column("account_id"),
        msisdn=column("msisdn"),
        plan_id=column("plan_id"),
        network=column("network"),
        apn=column("apn"),
        ceiling_bytes=column("ceiling_bytes"),
        status=ServiceStatus(column("status")),
        activated_on=column("activated_on"),
    )


_LATEST_OF_SERVICE = (
    select(func.max(t.service_cycles.c.period))
    .where(t.service_cycles.c.service_id == t.services.c.id)
    .scalar_subquery()
)
_SERVICE_AND_CYCLE = select(t.services, _LATEST_OF_SERVICE.label("latest_cycle")).where(
    t.services.c.id == bindparam("id")
)
# The row, locked, and the latest cycle opened: every command on a line wants both.
_LOCK_SERVICE = {True: _SERVICE_AND_CYCLE.with_for_update(of=t.services), False: _SERVICE_AND_CYCLE}

# A line's buckets open at an instant, joined to it: one row per bucket (one row of nulls when none is open).
_BUCKETS_OPEN_ON_LINE = and_(
    t.buckets.c.service_id == t.services.c.id,
    t.buckets.c.closed_at.is_(None),
    t.buckets.c.valid_from <= bindparam("instant"),
    t.buckets.c.valid_until > bindparam("instant"),
)
_BUCKET_COLUMNS = tuple(column.label(f"bucket_{column.name}") for column in t.buckets.c)
_BUCKET_ORDER = (t.buckets.c.valid_from, t.buckets.c.id)  # as `_OPEN_BUCKETS`
# The month's change slot of the line's latest cycle (a month turned meanwhile asks its own: `Slots.used`).
_SLOT_OF_LATEST_CYCLE = (
    select(t.monthly_slots.c.used)
    .where(
        t.monthly_slots.c.scope == SLOT_SCOPE,
        t.monthly_slots.c.subject_id == t.services.c.id,
        t.monthly_slots.c.period
        == select(func.max(t.service_cycles.c.period))
        .where(t.service_cycles.c.service_id == t.services.c.id)
        .correlate(t.services)  # two levels down: the line of the enclosing statement
        .scalar_subquery(),
    )
    .scalar_subquery()
)
# What a change's creation reads of its line, in one statement: the row (locked), its latest cycle, that
# cycle's slot, its account (whose zone every rule wants; kept by the process) and the buckets open at the instant.
_LINE_AT = (
    select(
        t.services,
        _LATEST_OF_SERVICE.label("latest_cycle"),
        _SLOT_OF_LATEST_CYCLE.label("slot_used"),
        *ACCOUNT_COLUMNS,
        *_BUCKET_COLUMNS,
    )
    .select_from(
        t.services.join(t.accounts, t.accounts.c.id == t.services.c.account_id).outerjoin(
            t.buckets, _BUCKETS_OPEN_ON_LINE
        )
    )
    .where(t.services.c.id == bindparam("id"))
    .order_by(*_BUCKET_ORDER)
)
_LOCK_LINE_AT = {True: _LINE_AT.with_for_update(of=t.services), False: _LINE_AT}


# A request and its line, both locked, in one statement: every command on a request then works on its line;
# the account (kept by the process) and its managers come along, for the rules and the notices of its moves.
_REQUEST_AND_LINE = (
    select(
        t.change_requests,
        *(column.label(f"line_{column.name}") for column in t.services.c),
        _LATEST_OF_SERVICE.label("line_latest_cycle"),
        manager_emails_of(t.change_requests.c.account_id).label("manager_emails"),
        *ACCOUNT_COLUMNS,
    )
    .join(t.services, t.services.c.id == t.change_requests.c.service_id)
    .join(t.accounts, t.accounts.c.id == t.services.c.account_id)
    .where(t.change_requests.c.id == bindparam("id"))
)
# The same with the line's buckets open at an instant and its latest cycle's slot: a confirmation's whole reading,
# one row per bucket.
_REQUEST_AND_LINE_AT = (
    _REQUEST_AND_LINE.add_columns(_SLOT_OF_LATEST_CYCLE.label("line_slot_used"), *_BUCKET_COLUMNS)
    .outerjoin(t.buckets, _BUCKETS_OPEN_ON_LINE)
    .order_by(*_BUCKET_ORDER)
)
_LOCK_REQUEST = {
    (locks, at): (query.with_for_update(of=(t.change_requests, t.services)) if locks else query)
    for locks in (True, False)
    for at, query in ((False, _REQUEST_AND_LINE), (True, _REQUEST_AND_LINE_AT))
}

_LOCK_SERVICES = (
    select(t.services, _LATEST_OF_SERVICE.label("latest_cycle"))
    .where(t.services.c.id.in_(bindparam("ids", expanding=True)))
    .order_by(t.services.c.id)
)


# Its parameters' names are its own (`line_…`): held, it goes with other statements (`compiled.hold_update`).
_SAVE_SERVICE = (
    update(t.services)
    .where(t.services.c.id == bindparam("line_id"))
    .values(
        {name: bindparam(f"line_{name}") for name in ("plan_id", "network", "apn", "ceiling_bytes", "status")}
        | {"version": t.services.c.version + 1}
    )
)


class Services(_Repository):
    def __init__(
        self,
        connection: Connection,
        latest_cycles: dict[str, str | None] | None = None,
        buckets: Buckets | None = None,
        slots: Slots | None = None,
    ) -> None:
        super().__init__(connection)
        self._latest_cycles = {} if latest_cycles is None else latest_cycles
        self._locked: dict[str, Service] = {}
        self._buckets = buckets or Buckets(connection)
        self._slots = slots or Slots(connection)

    def lock_many(self, service_ids: list[str]) -> None:
        """Many service rows locked in one statement, in id order (as every bulk path locks them); the next
        `lock` of each answers from this reading, once (its row cannot have moved: it is locked)."""
        query = _LOCK_SERVICES.with_for_update(of=t.services) if self.locks_rows else _LOCK_SERVICES
        for row in self.connection.execute(query, {"ids": sorted(set(service_ids))}):
            self._latest_cycles[row.id] = row.latest_cycle
            self._locked[row.id] = _service(row)

    def locked_with(
        self, service: Service, latest_cycle: str | None, *, slot_read: bool = False, slot_used: int | None = None
    ) -> None:
        """A service row another statement of this unit of work locked (its request's): the next `lock` of it
        answers from this reading, once; `slot_read`: its latest cycle's slot was read with it (`slot_used`, None
        when no row)."""
        self._latest_cycles[service.id] = latest_cycle
        self._locked[service.id] = service
        if slot_read and latest_cycle is not None:
            self._slots.read_with_line(service.id, latest_cycle, slot_used)

    def forget_locked(self) -> None:
        """Drop what `lock_many` read and no `lock` asked yet (a savepoint rolled back released those locks)."""
        self._locked.clear()

    def add(self, service: Service, created_at: datetime) -> None:
        values = _fields(service) | {"status": service.status.value, "created_at": created_at}
        self.connection.execute(insert(t.services).values(**values))

    def get(self, service_id: str) -> Service | None:
        row = self._run(_by_id(t.services), {"id": service_id}).first()
        return None if row is None else _service(row)

    def lock(self, service_id: str, at: datetime | None = None) -> Service | None:
        """The service row, locked until commit on PostgreSQL (SQLite writers are already serialised); the
        latest cycle opened comes with it (`Cycles.latest` answers from it within this unit of work). With `at`,
        so do that cycle's change slot and the buckets open at `at` (`Slots.used` and `Buckets.open_at`
        answer from them, once)."""
        if (locked := self._locked.pop(service_id, None)) is not None:
            return locked
        if at is None:
            row = self._run(_LOCK_SERVICE[self.locks_rows], {"id": service_id}).first()
        else:
            rows = self._run(_LOCK_LINE_AT[self.locks_rows], {"id": service_id, "instant": at}).all()
            row = rows[0] if rows else None
            if row is not None:
                remember_account(row, ACCOUNT_PREFIX)
                self._buckets.read_with_line(service_id, at, rows)
                if row.latest_cycle is not None:
                    self._slots.read_with_line(service_id, row.latest_cycle, row.slot_used)
        if row is None:
            return None
        self._latest_cycles[service_id] = row.latest_cycle
        return _service(row)

    def msisdn_taken(self, msisdn: str) -> bool:
        query = select(t.services.c.id).where(t.services.c.msisdn == msisdn)
        return self.connection.execute(query).first() is not None

    def of_account(self, account_id: str) -> list[Service]:
        query = select(t.services).where(t.services.c.account_id == account_id).order_by(t.services.c.msisdn)
        return [_service(row) for row in self.connection.execute(query)]

    def all(self) -> list[Service]:
        return [_service(row) for row in self.connection.execute(select(t.services).order_by(t.services.c.id))]

    def save(self, service: Service) -> None:
        values = {
            "line_plan_id": service.plan_id,
            "line_network": service.network,
            "line_apn": service.apn,
            "line_ceiling_bytes": service.ceiling_bytes,
            "line_status": service.status.value,
            "line_id": service.id,
        }
        self._locked.pop(service.id, None)  # a reading kept for a later `lock` is no longer the row
        hold_update(self.connection, _SAVE_SERVICE, values)


class Cycles(_Repository):
    def __init__(
        self, connection: Connection, latest_cycles: dict[str, str | None] | None = None, buckets: Buckets | None = None
    ) -> None:
        super().__init__(connection)
        self._latest = {} if latest_cycles is None else latest_cycles  # read with a locked service
        self._buckets = buckets  # whose readings kept for `open_at` a cycle opened in bulk makes stale

    def open(self, service_id: str, period: str, at: datetime) -> bool:
        """Open the cycle once; False when it was already open (another request may have won)."""
        self._latest.pop(service_id, None)
        return insert_ignoring_conflict(
            self.connection, t.service_cycles, {"service_id": service_id, "period": period, "opened_at": at}
        )

    def latest(self, service_id: str) -> str | None:
        if service_id in self._latest:
            return self._latest[service_id]
        latest: str | None = self._run(_LATEST_CYCLE, {"service_id": service_id}).scalar()
        return latest

    def is_open(self, service_id: str, period: str) -> bool:
        query = select(t.service_cycles.c.period).where(
            t.service_cycles.c.service_id == service_id, t.service_cycles.c.period == period
        )
        return self.connection.execute(query).first() is not None

    def latest_of(self, service_ids: Sequence[str]) -> dict[str, str]:
        """The last period opened per service (services with none are absent)."""
        from bascule.persistence import bulk

        return bulk.latest_cycles(self.connection, service_ids)

    def open_many(
        self, wanted: Sequence[tuple[str, str, str, int]], templates: Sequence[CycleTemplate], at: datetime
    ) -> None:
        """Open many cycles at once, each (service, account, period, template index) with its line and bucket."""
        from bascule.persistence import bulk

        if self._buckets is not None:
            self._buckets.forget_read()
        bulk.open_cycles(self.connection, wanted, templates, at)


def _bucket(row: Row[Any], prefix: str = "") -> Bucket:
    """A bucket from its row; `prefix`: its columns' prefix when read beside its line (`_BUCKET_COLUMNS`)."""

    def column(name: str) -> Any:
        return getattr(row, prefix + name)

    return Bucket(
        column("id"),
        BucketKind(column("kind")),
        column("total_bytes"),
        column("used_bytes"),
        column("valid_from"),
        column("valid_until"),
    )


class Buckets(_Repository):
    def __init__(self, connection: Connection) -> None:
        super().__init__(connection)
        self._read: dict[tuple[str, datetime], list[Bucket]] = {}  # read with a line, kept for one `open_at`

    def read_with_line(self, service_id: str, instant: datetime, rows: Sequence[Row[Any]]) -> None:
        """The buckets open at `instant` that a read of the line joined (`_BUCKET_COLUMNS`; a row without a
        bucket when none is open): the next `open_at(service_id, instant)` answers from them."""
        self._read[(service_id, instant)] = [_bucket(row, "bucket_") for row in rows if row.bucket_id is not None]

    def _insert(self, service_id: str, period: str, bucket: Bucket, source_ref: str | None) -> None:
        self.connection.execute(
            insert(t.buckets).values(
                id=bucket.id,
                service_id=service_id,
                period=period,
                kind=bucket.kind.value,
                total_bytes=bucket.total_bytes,
                used_bytes=bucket.used_bytes,
                valid_from=bucket.valid_from,
                valid_until=bucket.valid_until,
                source_ref=source_ref,
            )
        )

    def forget_read(self) -> None:
        """Drop the readings kept for `open_at`: buckets were written by another way than this repository's."""
        self._read.clear()

    def add(self, service_id: str, period: str, bucket: Bucket, source_ref: str | None = None) -> None:
        self._read.clear()
        self._insert(service_id, period, bucket, source_ref)

    def open_at(self, service_id: str, instant: datetime) -> list[Bucket]:
        if (read := self._read.pop((service_id, instant), None)) is not None:
            return read
        return [_bucket(row) for row in self._run(_OPEN_BUCKETS, {"service_id": service_id, "instant": instant})]

    def draw(self, bucket_id: str, used_bytes: int, previous_used: int) -> None:
        """Set usage only if nobody moved it meanwhile; the CHECK constraint bounds it by the total."""
        self._read.clear()
        result = self.connection.execute(
            update(t.buckets)
            .where(t.buckets.c.id == bucket_id, t.buckets.c.used_bytes == previous_used)
            .values(used_bytes=used_bytes)
        )
        if result.rowcount != 1:
            raise RuntimeError(f"bucket {bucket_id} changed under a locked service")

    def close(self, bucket_ids: Sequence[str], at: datetime) -> None:
        self._read.clear()
        if bucket_ids:
            self.connection.execute(update(t.buckets).where(t.buckets.c.id.in_(list(bucket_ids))).values(closed_at=at))

    def reopen(self, bucket_ids: Sequence[str]) -> None:
        self._read.clear()
        if bucket_ids:
            self.connection.execute(
                update(t.buckets).where(t.buckets.c.id.in_(list(bucket_ids))).values(closed_at=None)
            )

    def set_total(self, bucket_id: str, total_bytes: int) -> None:
        self._read.clear()
        self.connection.execute(update(t.buckets).where(t.buckets.c.id == bucket_id).values(total_bytes=total_bytes))


class Slots(_Repository):
    """Monthly limits held by the database: a counter row moved only by one conditional statement."""

    def __init__(self, connection: Connection) -> None:
        super().__init__(connection)
        self._read: dict[tuple[str, str, str], int] = {}  # read with a line, kept for one `used`

    def read_with_line(self, service_id: str, period: str, used: int | None) -> None:
        """The line's change slot of `period` that a read of the line brought (None: no row, none used)."""
        self._read[(SLOT_SCOPE, service_id, period)] = int(used or 0)

    def take(self, scope: str, subject_id: str, period: str, limit: int) -> bool:
        """One slot of `limit` for the month, if one is left: the counter moves by one, or nothing changes."""
        self._read.pop((scope, subject_id, period), None)
        if limit <= 0:  # the statement would create the row at 1: a limit of 0 has no slot to give
            return False
        statement = _slot_take(self.connection.dialect.name)
        taken = self._run(statement, _slot_params(scope, subject_id, period) | {"slot_limit": limit})
        return taken.first() is not None

    def take_or_refuse(self, scope: str, subject_id: str, period: str, limit: int, refusal: Exception) -> None:
        """`take`, or `refusal` raised. When a read of the line (under its lock) saw a slot left and the unit holds
        its writes for the command's answer (`compiled.start_holding`), the take waits for them and goes in their
        statement (`compiled.hold_condition`): `refusal` is raised there if the slot went meanwhile (a take
        committed between that read's snapshot and its lock), and the command rolls back. A slot seen gone is
        taken, or refused, at once: the refusal comes before any rule checked after it."""
        read = self._read.pop((scope, subject_id, period), None)
        if limit > 0 and read is not None and read < limit:
            params = _slot_params(scope, subject_id, period) | {"slot_limit": limit}
            hold_condition(self.connection, _slot_take(self.connection.dialect.name), params, refusal)
            return
        if not self.take(scope, subject_id, period, limit):
            raise refusal

    def take_held_now(self) -> None:
        """A take `take_or_refuse` held, made now (with whatever else is held): its refusal, if the slot went since the
        read that saw it free, is raised here. A command refused by a rule checked after the slot calls it first, so
        that the month's limit, which comes first, is the refusal (a read joined to a lock that waited can see a
        slot free that the lock's holder took)."""
        flush_held(self.connection)

    def give_back(self, scope: str, subject_id: str, period: str) -> None:
        self._read.pop((scope, subject_id, period), None)
        self._run(_SLOT_GIVE_BACK, _slot_params(scope, subject_id, period))

    def used(self, scope: str, subject_id: str, period: str) -> int:
        if (read := self._read.pop((scope, subject_id, period), None)) is not None:
            return read
        value = self._run(_SLOT_USED, _slot_params(scope, subject_id, period)).scalar()
        return int(value or 0)


def _slot_params(scope: str, subject_id: str, period: str) -> dict[str, str]:
    return {"slot_scope": scope, "slot_subject": subject_id, "slot_period": period}


_REQUEST_COLUMNS = tuple(t.change_requests.c.keys())


def _request(row: Row[Any]) -> ChangeRequest:
    values = {name: getattr(row, name) for name in _REQUEST_COLUMNS}  # a row may carry its line's columns too
    values["status"] = RequestStatus(values["status"])
    return ChangeRequest(**values)


# The account of the request being completed, named with its table: SQLAlchemy writes the columns of an UPDATE's
# RETURNING without their table on SQLite, so `users.account_id = change_requests.account_id` in the managers'
# subquery would come out as `account_id = account_id`, true of every manager of every account.
_UPDATED_REQUESTS_ACCOUNT: Any = literal_column(f"{t.change_requests.name}.account_id")
_COMPLETE_REQUEST = (
    update(t.change_requests)
    .where(
        t.change_requests.c.id == bindparam("request_id"),
        t.change_requests.c.status == RequestStatus.PROVISIONING.value,
    )
    .values(status=RequestStatus.COMPLETED.value, completed_at=bindparam("at"))
    .returning(*t.change_requests.c, manager_emails_of(_UPDATED_REQUESTS_ACCOUNT).label("manager_emails"))
)


_MOVING_COLUMNS = (
    "status",
    "slot_period",
    "quote",
    "service_before",
    "confirmed_at",
    "completed_at",
    "cancelled_at",
    "failed_at",
)
# Its parameters' names are its own (`request_…`): held, it goes with other statements (`compiled.hold_update`).
_SAVE_REQUEST = (
    update(t.change_requests)
    .where(t.change_requests.c.id == bindparam("request_id"))
    .values({name: bindparam(f"request_{name}") for name in _MOVING_COLUMNS})
)

_LOCK_REQUESTS = (
    select(t.change_requests)
    .where(t.change_requests.c.id.in_(bindparam("ids", expanding=True)))
    .order_by(t.change_requests.c.id)
)


class ChangeRequests(_Deferring):
    """Deferred inside `appends_deferred` (a creation writes its request with its audit row, a batch its
    group's requests together): nothing reads a request in the block that creates it."""

    _insert = _INSERT_REQUEST

    def __init__(
        self,
        connection: Connection,
        services: Services | None = None,
        buckets: Buckets | None = None,
        users: Users | None = None,
    ) -> None:
        super().__init__(connection)
        self._locked: dict[str, ChangeRequest] = {}
        self._services = services or Services(connection)
        self._buckets = buckets or Buckets(connection)
        self._users = users or Users(connection)

    def lock_many(self, request_ids: list[str]) -> None:
        """Many requests locked in one statement, in id order; the next `lock` of each answers from this
        reading, once (its row cannot have moved: it is locked)."""
        query = _LOCK_REQUESTS.with_for_update() if self.locks_rows else _LOCK_REQUESTS
        for row in self.connection.execute(query, {"ids": sorted(set(request_ids))}):
            self._locked[row.id] = _request(row)

    def add(self, request: ChangeRequest) -> None:
        self._append(_fields(request) | {"status": request.status.value})

    def get(self, request_id: str) -> ChangeRequest | None:
        row = self._run(_by_id(t.change_requests), {"id": request_id}).first()
        return None if row is None else _request(row)

    def lock(self, request_id: str, at: datetime | None = None) -> ChangeRequest | None:
        """The request, locked with its line (request first, as every path locks them): the next
        `services.lock` of that line answers from this reading, and `users.manager_emails` of its account; with
        `at`, the next `buckets.open_at(line, at)` too."""
        if (locked := self._locked.pop(request_id, None)) is not None:
            return locked
        query = _LOCK_REQUEST[(self.locks_rows, at is not None)]
        rows = self._run(query, {"id": request_id, "instant": at} if at else {"id": request_id}).all()
        if not rows:
            return None
        row = rows[0]
        line = _service(row, prefix="line_")
        if at is None:
            self._services.locked_with(line, row.line_latest_cycle)
        else:
            self._services.locked_with(line, row.line_latest_cycle, slot_read=True, slot_used=row.line_slot_used)
        self._users.remember_managers(row.account_id, row.manager_emails)
        remember_account(row, ACCOUNT_PREFIX)
        if at is not None:
            self._buckets.read_with_line(line.id, at, rows)
        return _request(row)

    def save(self, request: ChangeRequest) -> None:
        """What a request's moves change (its status, slot, final quote, the line before, the instants);
        what it asked, who and when never changes once created."""
        values = {name: getattr(request, name) for name in _MOVING_COLUMNS} | {"status": request.status.value}
        hold_update(
            self.connection,
            _SAVE_REQUEST,
            {f"request_{name}": value for name, value in values.items()} | {"request_id": request.id},
        )

    def complete(self, request_id: str, at: datetime) -> ChangeRequest | None:
        """`provisioning` → `completed` in one statement, which also brings the account's managers
        (`users.manager_emails`); None when it was no longer provisioning."""
        # with the job's success, when it waits for it (`Jobs.succeed_or_refuse`): one statement for both
        row = run_joining_conditions(self.connection, _COMPLETE_REQUEST, {"request_id": request_id, "at": at}).first()
        if row is None:
            return None
        self._users.remember_managers(row.account_id, row.manager_emails)
        return _request(row)

    def search(
        self,
        account_id: str | None,
        service_id: str | None,
        status: str | None,
        limit: int = 200,
    ) -> list[ChangeRequest]:
        conditions = []
        if account_id is not None:
            conditions.append(t.change_requests.c.account_id == account_id)
        if service_id is not None:
            conditions.append(t.change_requests.c.service_id == service_id)
        if status is not None:
            conditions.append(t.change_requests.c.status == status)
        query = (
            select(t.change_requests)
            .where(and_(True, *conditions))
            .order_by(t.change_requests.c.created_at.desc(), t.change_requests.c.id)
            .limit(limit)
        )
        return [_request(row) for row in self.connection.execute(query)]


class Charges(_Deferring):
    """Deferred inside `appends_deferred`, as a confirmation's charges are: nothing reads them in the transaction
    that writes them. A charge with a `once_key` goes at once: its INSERT tells whether it was already there."""

    _insert = _INSERT_CHARGE

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
        values = {
            "id": new_id("chg"),
            "account_id": account_id,
            "service_id": service_id,
            "period": period,
            "kind": kind,
            "description": description,
            "amount": amount.amount,
            "currency": amount.currency,
            "at": at,
            "change_request_id": change_request_id,
            "once_key": once_key,
        }
        if once_key is None:
            self._append(values)
            return True
        return insert_ignoring_conflict(self.connection, t.charges, values)

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
    ) -> None:
        """Add to the line named `once_key` (made on first use). Callers hold the service's lock."""
        found = self.connection.execute(select(t.charges.c.amount).where(t.charges.c.once_key == once_key)).scalar()
        if found is None:
            self.add(
                account_id=account_id,
                service_id=service_id,
                period=period,
                kind=kind,
                description=description,
                amount=amount,
                at=at,
                once_key=once_key,
            )
            return
        self.connection.execute(
            update(t.charges)
            .where(t.charges.c.once_key == once_key)
            .values(amount=Decimal(found) + amount.amount, at=at)
        )

    def of_account(self, account_id: str, period: str) -> list[StoredCharge]:
        query = (
            select(t.charges)
            .where(t.charges.c.account_id == account_id, t.charges.c.period == period)
            .order_by(t.charges.c.at, t.charges.c.id)
        )
        return [_charge(row) for row in self.connection.execute(query)]

    def of_request(self, request_id: str) -> list[StoredCharge]:
        query = select(t.charges).where(t.charges.c.change_request_id == request_id).order_by(t.charges.c.id)
        return [_charge(row) for row in self.connection.execute(query)]

    def of_service(self, service_id: str, period: str, kinds: Sequence[str]) -> list[StoredCharge]:
        query = (
            select(t.charges)
            .where(t.charges.c.service_id == service_id, t.charges.c.period == period, t.charges.c.kind.in_(kinds))
            .order_by(t.charges.c.at, t.charges.c.id)
        )
        return [_charge(row) for row in self.connection.execute(query)]


def _charge(row: Row[Any]) -> StoredCharge:
    return StoredCharge(
        id=row.id,
        account_id=row.account_id,
        service_id=row.service_id,
        period=row.period,
        kind=row.kind,
        description=row.description,
        amount=stored(row.amount, row.currency),
        at=row.at,
        change_request_id=row.change_request_id,
    )
