"""Line B repositories (and the notification outbox). They never commit: the unit of work does, once.

The main balance moves only through `Subscribers.credit` / `Subscribers.debit`, each a single
conditional UPDATE, written by the use case together with its ledger line.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import Row, and_, bindparam, exists, func, insert, select, update

from bascule.catalog.model import BonusKind
from bascule.kernel.money import from_minor, to_minor
from bascule.notifications.model import Notification
from bascule.persistence import tables as t
from bascule.persistence.compiled import hold_condition, holding
from bascule.persistence.evolutions import Slots, _slot_take
from bascule.persistence.statements import _Deferring, _Repository, insert_ignoring_conflict
from bascule.prepaid.model import (
    BonusBucket,
    EntryKind,
    LedgerEntry,
    ProfileMigration,
    StoredOtp,
    Subscriber,
)
from bascule.prepaid.ports import ProfileMove

# Built once, as in `evolutions`: the USSD and migration paths run these on every screen.
_SUBSCRIBER = select(t.prepaid_subscribers).where(t.prepaid_subscribers.c.msisdn == bindparam("msisdn"))
_SUBSCRIBER_LOCKED = _SUBSCRIBER.with_for_update()
_S = t.prepaid_subscribers.c
_CREDIT = (
    update(t.prepaid_subscribers)
    .where(_S.msisdn == bindparam("subscriber"))
    .values(balance_minor=_S.balance_minor + bindparam("units"))
)
# The balance moves only if it holds the units: the database refuses an overdraft, not a check read before.
_DEBIT = (
    update(t.prepaid_subscribers)
    .where(_S.msisdn == bindparam("subscriber"), _S.balance_minor >= bindparam("units"))
    .values(balance_minor=_S.balance_minor - bindparam("units"))
)
# A version check without a lock: the profile moves only from the one the caller read.
_CHANGE_PROFILE = (
    update(t.prepaid_subscribers)
    .where(_S.msisdn == bindparam("subscriber"), _S.profile_id == bindparam("from_profile_id"))
    .values(profile_id=bindparam("to_profile_id"), version=_S.version + 1)
)

_CHANGE_PROFILE_SAYING = _CHANGE_PROFILE.returning(_S.msisdn)  # a row when it moved: a held condition


def _profile_move_taking_slot() -> Any:
    """PostgreSQL: the month's slot taken (`_slot_take`) and the profile moved only if it was, in one statement of
    two data-modifying CTEs; it tells whether each happened. One round trip for a migration's two."""
    slot = _slot_take("postgresql").cte("slot")
    moved = _CHANGE_PROFILE.where(exists(select(slot.c.used))).returning(_S.msisdn).cte("moved")
    return select(
        select(func.count()).select_from(slot).scalar_subquery().label("slot_taken"),
        select(func.count()).select_from(moved).scalar_subquery().label("moved"),
    )


_PROFILE_MOVE_TAKING_SLOT = _profile_move_taking_slot()
_BALANCE = select(t.prepaid_subscribers.c.balance_minor).where(t.prepaid_subscribers.c.msisdn == bindparam("msisdn"))
_CONSUMED = select(func.coalesce(func.sum(t.prepaid_ledger.c.amount_minor), 0)).where(
    t.prepaid_ledger.c.msisdn == bindparam("msisdn"),
    t.prepaid_ledger.c.kind == EntryKind.CONSUMPTION.value,
    t.prepaid_ledger.c.at >= bindparam("start"),
    t.prepaid_ledger.c.at < bindparam("end"),
)
_SLOT_USED = select(t.monthly_slots.c.used).where(
    t.monthly_slots.c.scope == bindparam("slot_scope"),
    t.monthly_slots.c.subject_id == bindparam("msisdn"),
    t.monthly_slots.c.period == bindparam("slot_period"),
)
# What a subscriber's screens weigh a profile change with (last month's consumption, this month's changes): one
# statement, with `Ledger.consumed_minor`'s and `Slots.used`'s queries as its two columns.
_MONTH_STANDING = select(
    _CONSUMED.scalar_subquery().label("consumed"), func.coalesce(_SLOT_USED.scalar_subquery(), 0).label("used")
)
# A migration's first read: the subscriber with `Ledger.consumed_minor`'s query as one more column, the
# subscriber's row alone locked on PostgreSQL.
_SUBSCRIBER_CONSUMED = select(t.prepaid_subscribers, _CONSUMED.scalar_subquery().label("consumed")).where(
    _S.msisdn == bindparam("msisdn")
)
_SUBSCRIBER_CONSUMED_LOCKED = _SUBSCRIBER_CONSUMED.with_for_update(of=t.prepaid_subscribers)
# A subscriber's screens (its summary, its profile options): the subscriber and `_MONTH_STANDING`'s two columns.
_SUBSCRIBER_STANDING = select(
    t.prepaid_subscribers,
    _CONSUMED.scalar_subquery().label("consumed"),
    func.coalesce(_SLOT_USED.scalar_subquery(), 0).label("used"),
).where(_S.msisdn == bindparam("msisdn"))
_B = t.prepaid_bonuses.c
_LIVE = (_B.granted_at <= bindparam("instant"), _B.expires_at > bindparam("instant"), _B.remaining > 0)
_LIVE_ORDER = (_B.expires_at, _B.granted_at, _B.id)
_LIVE_BONUSES = select(t.prepaid_bonuses).where(_B.msisdn == bindparam("msisdn"), *_LIVE).order_by(*_LIVE_ORDER)
# A subscriber's summary: `_SUBSCRIBER_STANDING`, each row with one of `_LIVE_BONUSES` (its columns prefixed
# `bonus_`), or one row with none.
_SUBSCRIBER_STANDING_BONUSES = (
    _SUBSCRIBER_STANDING.add_columns(*(column.label(f"bonus_{column.name}") for column in t.prepaid_bonuses.c))
    .select_from(t.prepaid_subscribers.outerjoin(t.prepaid_bonuses, and_(_B.msisdn == _S.msisdn, *_LIVE)))
    .order_by(*_LIVE_ORDER)
)
_INSERT_MIGRATION = insert(t.prepaid_migrations)
_INSERT_NOTIFICATION = insert(t.notifications)


def _subscriber(row: Row[Any]) -> Subscriber:
    return Subscriber(row.msisdn, row.profile_id, row.timezone, row.currency, row.created_at)


class Subscribers(_Repository):
    def add(self, subscriber: Subscriber) -> bool:
        """False when the MSISDN is already a subscriber (two concurrent creations: one wins)."""
        values = {
            "msisdn": subscriber.msisdn,
            "profile_id": subscriber.profile_id,
            "timezone": subscriber.timezone,
            "currency": subscriber.currency,
            "balance_minor": 0,
            "version": 1,
            "created_at": subscriber.created_at,
        }
        return insert_ignoring_conflict(self.connection, t.prepaid_subscribers, values)

    def get(self, msisdn: str) -> Subscriber | None:
        row = self._run(_SUBSCRIBER, {"msisdn": msisdn}).first()
        return None if row is None else _subscriber(row)

    def lock(self, msisdn: str) -> Subscriber | None:
        """The row, locked until commit on PostgreSQL (SQLite writers are already serialised)."""
        query = _SUBSCRIBER_LOCKED if self.locks_rows else _SUBSCRIBER
        row = self._run(query, {"msisdn": msisdn}).first()
        return None if row is None else _subscriber(row)

    def lock_with_consumption(self, msisdn: str, start: datetime, end: datetime) -> tuple[Subscriber, int] | None:
        """`lock`'s row and the main credit consumed in [start, end), as a positive number of minor units."""
        query = _SUBSCRIBER_CONSUMED_LOCKED if self.locks_rows else _SUBSCRIBER_CONSUMED
        row = self._run(query, {"msisdn": msisdn, "start": start, "end": end}).first()
        return None if row is None else (_subscriber(row), -int(row.consumed))

    def all(self) -> list[Subscriber]:
        rows = self.connection.execute(select(t.prepaid_subscribers).order_by(t.prepaid_subscribers.c.msisdn))
        return [_subscriber(row) for row in rows]

    def balance_minor(self, msisdn: str) -> int:
        return int(self._run(_BALANCE, {"msisdn": msisdn}).scalar_one())

    def month_standing(self, msisdn: str, start: datetime, end: datetime, scope: str, period: str) -> tuple[int, int]:
        params = {"msisdn": msisdn, "start": start, "end": end, "slot_scope": scope, "slot_period": period}
        row = self._run(_MONTH_STANDING, params).one()
        return -int(row.consumed), int(row.used)

    def with_standing(
        self, msisdn: str, start: datetime, end: datetime, scope: str, period: str
    ) -> tuple[Subscriber, int, int, int] | None:
        params = {"msisdn": msisdn, "start": start, "end": end, "slot_scope": scope, "slot_period": period}
        row = self._run(_SUBSCRIBER_STANDING, params).first()
        if row is None:
            return None
        return _subscriber(row), int(row.balance_minor), -int(row.consumed), int(row.used)

    def with_standing_and_bonuses(
        self, msisdn: str, start: datetime, end: datetime, scope: str, period: str, instant: datetime
    ) -> tuple[Subscriber, int, int, int, list[BonusBucket]] | None:
        params = {"msisdn": msisdn, "start": start, "end": end, "slot_scope": scope, "slot_period": period}
        rows = self._run(_SUBSCRIBER_STANDING_BONUSES, params | {"instant": instant}).all()
        if not rows:
            return None
        first = rows[0]
        bonuses = [_bucket(row, "bonus_") for row in rows if row.bonus_id is not None]
        return _subscriber(first), int(first.balance_minor), -int(first.consumed), int(first.used), bonuses

    def credit(self, msisdn: str, units: int) -> None:
        self._run(_CREDIT, {"subscriber": msisdn, "units": units})

    def debit(self, msisdn: str, units: int) -> bool:
        """Take `units` from the balance only if it holds them; False (nothing moved) otherwise."""
        return bool(self._run(_DEBIT, {"subscriber": msisdn, "units": units}).rowcount == 1)

    def change_profile(self, msisdn: str, from_profile_id: str, to_profile_id: str) -> bool:
        """Move the profile only from the one the caller read (a version check without a lock)."""
        params = {"subscriber": msisdn, "from_profile_id": from_profile_id, "to_profile_id": to_profile_id}
        return bool(self._run(_CHANGE_PROFILE, params).rowcount == 1)

    def change_profile_taking_slot(
        self, msisdn: str, from_profile_id: str, to_profile_id: str, scope: str, period: str, limit: int
    ) -> ProfileMove:
        if limit <= 0 or self.connection.dialect.name != "postgresql":  # SQLite: no UPDATE in a CTE
            if not Slots(self.connection).take(scope, msisdn, period, limit):
                return ProfileMove.NO_SLOT_LEFT
            moved = self.change_profile(msisdn, from_profile_id, to_profile_id)
            return ProfileMove.MOVED if moved else ProfileMove.PROFILE_CHANGED
        params = {
            "slot_scope": scope,
            "slot_subject": msisdn,
            "slot_period": period,
            "slot_limit": limit,
            "subscriber": msisdn,
            "from_profile_id": from_profile_id,
            "to_profile_id": to_profile_id,
        }
        outcome = self._run(_PROFILE_MOVE_TAKING_SLOT, params).one()
        if not outcome.slot_taken:
            return ProfileMove.NO_SLOT_LEFT
        return ProfileMove.MOVED if outcome.moved else ProfileMove.PROFILE_CHANGED

    def move_profile_taking_slot(
        self,
        msisdn: str,
        from_profile_id: str,
        to_profile_id: str,
        slot: tuple[str, str, int],
        refusals: tuple[Exception, Exception],
    ) -> None:
        """`change_profile_taking_slot` (`slot`: its scope, period and limit), its outcome raised when not MOVED:
        `refusals`' first when no slot was left, its second when the profile had moved. In a unit holding its writes
        for the command's answer (PostgreSQL), the take and the move wait for the statement that writes them, as two
        conditions, checked in that order (`compiled.hold_condition`), and the unit rolls back on a refusal."""
        scope, period, limit = slot
        no_slot, moved_meanwhile = refusals
        if limit > 0 and holding(self.connection):
            slot_params = {"slot_scope": scope, "slot_subject": msisdn, "slot_period": period, "slot_limit": limit}
            hold_condition(self.connection, _slot_take("postgresql"), slot_params, no_slot)
            move = {"subscriber": msisdn, "from_profile_id": from_profile_id, "to_profile_id": to_profile_id}
            hold_condition(self.connection, _CHANGE_PROFILE_SAYING, move, moved_meanwhile)
            return
        moved = self.change_profile_taking_slot(msisdn, from_profile_id, to_profile_id, scope, period, limit)
        if moved is ProfileMove.NO_SLOT_LEFT:
            raise no_slot
        if moved is ProfileMove.PROFILE_CHANGED:
            raise moved_meanwhile


def _entry(row: Row[Any]) -> LedgerEntry:
    kind = EntryKind(row.kind)
    return LedgerEntry(row.id, row.msisdn, kind, from_minor(abs(row.amount_minor), row.currency), row.at, row.channel)


class Ledger(_Repository):
    def add(self, entry: LedgerEntry, recorded_at: datetime) -> None:
        self.connection.execute(
            insert(t.prepaid_ledger).values(
                id=entry.id,
                msisdn=entry.msisdn,
                kind=entry.kind.value,
                amount_minor=to_minor(entry.signed),
                currency=entry.amount.currency,
                at=entry.at,
                channel=entry.channel,
                recorded_at=recorded_at,
            )
        )

    def of(self, msisdn: str) -> list[LedgerEntry]:
        query = (
            select(t.prepaid_ledger)
            .where(t.prepaid_ledger.c.msisdn == msisdn)
            .order_by(t.prepaid_ledger.c.at, t.prepaid_ledger.c.recorded_at, t.prepaid_ledger.c.id)
        )
        return [_entry(row) for row in self.connection.execute(query)]

    def sum_minor(self, msisdn: str) -> int:
        query = select(func.coalesce(func.sum(t.prepaid_ledger.c.amount_minor), 0)).where(
            t.prepaid_ledger.c.msisdn == msisdn
        )
        return int(self.connection.execute(query).scalar_one())

    def consumed_minor(self, msisdn: str, start: datetime, end: datetime) -> int:
        """Main credit consumed in [start, end), as a positive number of minor units."""
        consumed = self._run(_CONSUMED, {"msisdn": msisdn, "start": start, "end": end})
        return -int(consumed.scalar_one())

    def has_recharge_in(self, msisdn: str, start: datetime, end: datetime) -> bool:
        query = select(t.prepaid_ledger.c.id).where(
            t.prepaid_ledger.c.msisdn == msisdn,
            t.prepaid_ledger.c.kind == EntryKind.RECHARGE.value,
            t.prepaid_ledger.c.at >= start,
            t.prepaid_ledger.c.at < end,
        )
        return self.connection.execute(query.limit(1)).first() is not None


def _bucket(row: Row[Any], prefix: str = "") -> BonusBucket:
    """The bucket of `row`, whose columns are the bonuses table's, each name after `prefix`."""

    def value(name: str) -> Any:
        return getattr(row, prefix + name)

    return BonusBucket(
        id=value("id"),
        msisdn=value("msisdn"),
        kind=BonusKind(value("kind")),
        total=int(value("total")),
        remaining=int(value("remaining")),
        granted_at=value("granted_at"),
        expires_at=value("expires_at"),
        profile_id=value("profile_id"),
        label=value("label"),
        source=value("source"),
    )


class Bonuses(_Repository):
    def add(self, bucket: BonusBucket, once_key: str | None = None) -> bool:
        """False when `once_key` was already granted (the bucket is then not created)."""
        values = {
            "id": bucket.id,
            "msisdn": bucket.msisdn,
            "kind": bucket.kind.value,
            "total": bucket.total,
            "remaining": bucket.remaining,
            "granted_at": bucket.granted_at,
            "expires_at": bucket.expires_at,
            "profile_id": bucket.profile_id,
            "label": bucket.label,
            "source": bucket.source,
            "once_key": once_key,
        }
        if once_key is None:
            self.connection.execute(insert(t.prepaid_bonuses).values(**values))
            return True
        return insert_ignoring_conflict(self.connection, t.prepaid_bonuses, values)

    def of(self, msisdn: str) -> list[BonusBucket]:
        query = (
            select(t.prepaid_bonuses)
            .where(t.prepaid_bonuses.c.msisdn == msisdn)
            .order_by(t.prepaid_bonuses.c.expires_at, t.prepaid_bonuses.c.granted_at, t.prepaid_bonuses.c.id)
        )
        return [_bucket(row) for row in self.connection.execute(query)]

    def live_at(self, msisdn: str, instant: datetime) -> list[BonusBucket]:
        """Buckets granted by `instant`, not yet expired and not used up."""
        return [_bucket(row) for row in self._run(_LIVE_BONUSES, {"msisdn": msisdn, "instant": instant})]

    def draw(self, bucket_id: str, units: int, *, consumption_id: str, msisdn: str, at: datetime) -> bool:
        """Take `units` from the bucket only if it still holds them, and note the draw."""
        result = self.connection.execute(
            update(t.prepaid_bonuses)
            .where(t.prepaid_bonuses.c.id == bucket_id, t.prepaid_bonuses.c.remaining >= units)
            .values(remaining=t.prepaid_bonuses.c.remaining - units)
        )
        if result.rowcount != 1:
            return False
        self.connection.execute(
            insert(t.prepaid_bonus_draws)
            .inline()
            .values(  # inline: no RETURNING of an id nobody reads
                consumption_id=consumption_id, bonus_id=bucket_id, msisdn=msisdn, units=units, at=at
            )
        )
        return True


def _migration(row: Row[Any]) -> ProfileMigration:
    return ProfileMigration(**row._asdict())


class Migrations(_Deferring):
    _insert = _INSERT_MIGRATION

    def add(self, migration: ProfileMigration) -> None:
        self._append({name: getattr(migration, name) for name in migration.__slots__})

    def of(self, msisdn: str) -> list[ProfileMigration]:
        query = (
            select(t.prepaid_migrations)
            .where(t.prepaid_migrations.c.msisdn == msisdn)
            .order_by(t.prepaid_migrations.c.at.desc(), t.prepaid_migrations.c.id.desc())
        )
        return [_migration(row) for row in self.connection.execute(query)]


def _otp(row: Row[Any]) -> StoredOtp:
    return StoredOtp(**row._asdict())


class OneTimeCodes(_Repository):
    def issue(self, code: StoredOtp, cooldown_until: datetime) -> bool:
        """Store a new code, replacing the previous one only if it was issued before `cooldown_until`.

        False (nothing stored) while the previous code is younger than the cooldown. One statement
        decides, so two concurrent requests cannot both send a code.
        """
        values = {name: getattr(code, name) for name in code.__slots__}
        if insert_ignoring_conflict(self.connection, t.otp_codes, values):
            return True
        result = self.connection.execute(
            update(t.otp_codes)
            .where(t.otp_codes.c.msisdn == code.msisdn, t.otp_codes.c.created_at <= cooldown_until)
            .values(**{name: value for name, value in values.items() if name != "msisdn"})
        )
        return result.rowcount == 1

    def get(self, msisdn: str) -> StoredOtp | None:
        row = self.connection.execute(select(t.otp_codes).where(t.otp_codes.c.msisdn == msisdn)).first()
        return None if row is None else _otp(row)

    def count_failure(self, msisdn: str, code_hash: str, max_attempts: int) -> None:
        self.connection.execute(
            update(t.otp_codes)
            .where(
                t.otp_codes.c.msisdn == msisdn,
                t.otp_codes.c.code_hash == code_hash,
                t.otp_codes.c.attempts < max_attempts,
            )
            .values(attempts=t.otp_codes.c.attempts + 1)
        )

    def use(self, msisdn: str, code_hash: str, max_attempts: int, at: datetime) -> bool:
        """Spend the code once: True for exactly one caller, and only while it is live."""
        result = self.connection.execute(
            update(t.otp_codes)
            .where(
                t.otp_codes.c.msisdn == msisdn,
                t.otp_codes.c.code_hash == code_hash,
                t.otp_codes.c.used_at.is_(None),
                t.otp_codes.c.attempts < max_attempts,
                t.otp_codes.c.expires_at > at,
            )
            .values(used_at=at)
        )
        return result.rowcount == 1


def _notification(row: Row[Any]) -> Notification:
    return Notification(**row._asdict())


class Notifications(_Deferring):
    """The outbox: rows written in the use case's transaction, sent after commit by a worker."""

    _insert = _INSERT_NOTIFICATION

    def add(self, notification: Notification) -> None:
        self._append({name: getattr(notification, name) for name in notification.__slots__})

    def search(self, to: str | None, limit: int = 200) -> list[Notification]:
        query = select(t.notifications)
        if to is not None:
            query = query.where(t.notifications.c.to == to)
        query = query.order_by(t.notifications.c.created_at.desc(), t.notifications.c.id.desc()).limit(limit)
        return [_notification(row) for row in self.connection.execute(query)]
