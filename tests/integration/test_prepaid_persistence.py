"""A subscriber's reads of one statement, on the database under test: a migration's first read (the subscriber,
locked on PostgreSQL, with the main credit it consumed in a window), and its screens' (the subscriber, its balance,
what it consumed in a window and the month's profile changes used), run on the driver."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import text
from sqlalchemy.exc import DBAPIError

from bascule.catalog.model import BonusKind
from bascule.kernel.money import Money
from bascule.persistence import compiled
from bascule.persistence.prepaid import _SUBSCRIBER_CONSUMED, _SUBSCRIBER_CONSUMED_LOCKED, _SUBSCRIBER_STANDING
from bascule.persistence.uow import UnitOfWork
from bascule.prepaid.model import BonusBucket, EntryKind, LedgerEntry, Subscriber
from bascule.prepaid.ports import ProfileMove
from bascule.prepaid.rules import MIGRATION_SLOT_SCOPE
from tests.support.sql import statements

AWA, KOFFI = "+2250701020304", "+2250701020305"
START, END = datetime(2026, 5, 1, tzinfo=UTC), datetime(2026, 6, 1, tzinfo=UTC)
SECOND = timedelta(seconds=1)
AWA_AS_ADDED = Subscriber(AWA, "novamix", "Africa/Abidjan", "XOF", datetime(2026, 1, 5, tzinfo=UTC))


def _entry(msisdn: str, kind: EntryKind, amount: int, at: datetime) -> LedgerEntry:
    return LedgerEntry(
        f"led_{msisdn[-2:]}_{kind.value}_{at:%m%d%H%M%S}", msisdn, kind, Money.of(amount, "XOF"), at, "api"
    )


@pytest.fixture
def awa(ctx) -> Subscriber:
    """Awa, with consumptions on both sides of May's bounds and a recharge within; Koffi consumed in May too."""
    entries = [
        _entry(AWA, EntryKind.RECHARGE, 50_000, START - 10 * SECOND),
        _entry(AWA, EntryKind.CONSUMPTION, 1, START - SECOND),  # before the start
        _entry(AWA, EntryKind.CONSUMPTION, 20, START),  # at the start
        _entry(AWA, EntryKind.CONSUMPTION, 300, START + timedelta(days=15)),
        _entry(AWA, EntryKind.RECHARGE, 4_000, START + timedelta(days=16)),
        _entry(AWA, EntryKind.CONSUMPTION, 5_000, END - SECOND),  # just before the end
        _entry(AWA, EntryKind.CONSUMPTION, 60_000, END),  # at the end
        _entry(KOFFI, EntryKind.CONSUMPTION, 700_000, START + timedelta(days=3)),
    ]
    with UnitOfWork(ctx.engine) as uow:
        assert uow.subscribers.add(AWA_AS_ADDED)
        assert uow.subscribers.add(Subscriber(KOFFI, "tigre", "Asia/Tokyo", "XOF", AWA_AS_ADDED.created_at))
        for entry in entries:
            uow.ledger.add(entry, entry.at)
        uow.commit()
    return AWA_AS_ADDED


def test_the_subscriber_comes_with_the_main_credit_consumed_in_start_to_end_in_one_statement(ctx, awa) -> None:
    with statements(ctx.engine) as sent, UnitOfWork(ctx.engine) as uow:
        found = uow.subscribers.lock_with_consumption(AWA, START, END)
        from_ledger = uow.ledger.consumed_minor(AWA, START, END)
    assert found == (awa, 5_320)
    assert from_ledger == 5_320
    assert len(sent) == 2
    assert sent[0].startswith("SELECT prepaid_subscribers.msisdn")
    locked = _SUBSCRIBER_CONSUMED_LOCKED if ctx.engine.dialect.name == "postgresql" else _SUBSCRIBER_CONSUMED
    [plan] = compiled._PLANS[locked].values()
    assert isinstance(plan, compiled._Plan)  # run on the driver's cursor


def test_the_window_is_start_inclusive_end_exclusive(ctx, awa) -> None:
    with UnitOfWork(ctx.engine) as uow:
        assert uow.subscribers.lock_with_consumption(AWA, START, START) == (awa, 0)
        assert uow.subscribers.lock_with_consumption(AWA, START - SECOND, START + SECOND) == (awa, 21)
        assert uow.subscribers.lock_with_consumption(AWA, END - SECOND, END + SECOND) == (awa, 65_000)
        assert uow.subscribers.lock_with_consumption(AWA, END + SECOND, END + 2 * SECOND) == (awa, 0)


def test_an_unknown_number_is_none(ctx, awa) -> None:
    with statements(ctx.engine) as sent, UnitOfWork(ctx.engine) as uow:
        assert uow.subscribers.lock_with_consumption("+2250700000000", START, END) is None
    assert len(sent) == 1


def test_on_postgresql_the_subscribers_row_is_locked_and_its_ledger_is_not(ctx, awa) -> None:
    if ctx.engine.dialect.name != "postgresql":
        pytest.skip("PostgreSQL only: SQLite writers are serialised by BEGIN IMMEDIATE")
    nowait = "SELECT msisdn FROM {table} WHERE msisdn = :msisdn FOR UPDATE NOWAIT"
    with statements(ctx.engine) as sent, UnitOfWork(ctx.engine) as uow:
        assert uow.subscribers.lock_with_consumption(AWA, START, END) == (awa, 5_320)
        with ctx.engine.connect() as other:
            with pytest.raises(DBAPIError) as refused:
                other.execute(text(nowait.format(table="prepaid_subscribers")), {"msisdn": AWA})
            assert refused.value.orig.sqlstate == "55P03"  # lock_not_available
            other.rollback()
            assert other.execute(text(nowait.format(table="prepaid_subscribers")), {"msisdn": KOFFI}).all()
            assert len(other.execute(text(nowait.format(table="prepaid_ledger")), {"msisdn": AWA}).all()) == 7
            other.rollback()
    assert sent[0].endswith("FOR UPDATE OF prepaid_subscribers")
    with ctx.engine.connect() as other:  # the transaction is over: the row is free again
        assert other.execute(text(nowait.format(table="prepaid_subscribers")), {"msisdn": AWA}).all()
        other.rollback()


def _standing_of_awa(ctx) -> None:
    """Awa's balance at 4 321, and two of June's profile changes used."""
    with UnitOfWork(ctx.engine) as uow:
        uow.subscribers.credit(AWA, 4_321)
        assert uow.slots.take(MIGRATION_SLOT_SCOPE, AWA, "2026-06", 3)
        assert uow.slots.take(MIGRATION_SLOT_SCOPE, AWA, "2026-06", 3)
        uow.commit()


def test_a_subscribers_screens_read_it_with_its_balance_consumption_and_changes_used_in_one_statement(ctx, awa) -> None:
    _standing_of_awa(ctx)
    with statements(ctx.engine) as sent, UnitOfWork(ctx.engine, write=False) as uow:
        found = uow.subscribers.with_standing(AWA, START, END, MIGRATION_SLOT_SCOPE, "2026-06")
        apart = uow.subscribers.month_standing(AWA, START, END, MIGRATION_SLOT_SCOPE, "2026-06")
    assert found == (awa, 4_321, 5_320, 2)
    assert apart == (5_320, 2)
    assert len(sent) == 2
    [plan] = compiled._PLANS[_SUBSCRIBER_STANDING].values()
    assert isinstance(plan, compiled._Plan)  # run on the driver's cursor


def _bucket(name: str, msisdn: str, remaining: int, granted_at: datetime, expires_at: datetime) -> BonusBucket:
    return BonusBucket(
        f"bon_{name}", msisdn, BonusKind.DATA, 1_000, remaining, granted_at, expires_at, "novamix", name, "recharge"
    )


def test_a_summary_reads_the_subscriber_its_standing_and_its_live_bonuses_in_one_statement(ctx, awa) -> None:
    """Live at the instant: granted by then, not expired, not used up; in order of expiry, then grant, then id.
    Koffi's bucket is his own; a subscriber with none is read alone."""
    now = datetime(2026, 6, 16, 9, tzinfo=UTC)
    day = timedelta(days=1)
    buckets = [
        _bucket("late", AWA, 10, now - day, now + 9 * day),
        _bucket("soon", AWA, 400, now - 2 * day, now + day),
        _bucket("soon_later_grant", AWA, 1, now - day, now + day),
        _bucket("used_up", AWA, 0, now - day, now + day),
        _bucket("expired", AWA, 50, now - 9 * day, now),  # expires at the instant itself
        _bucket("not_yet", AWA, 50, now + SECOND, now + 9 * day),
        _bucket("koffis", KOFFI, 70, now - day, now + day),
    ]
    _standing_of_awa(ctx)
    with UnitOfWork(ctx.engine) as uow:
        for bucket in buckets:
            assert uow.bonuses.add(bucket)
        uow.commit()
    with statements(ctx.engine) as sent, UnitOfWork(ctx.engine, write=False) as uow:
        found = uow.subscribers.with_standing_and_bonuses(AWA, START, END, MIGRATION_SLOT_SCOPE, "2026-06", now)
        apart = uow.bonuses.live_at(AWA, now)
    assert len(sent) == 2
    assert found == (awa, 4_321, 5_320, 2, [buckets[1], buckets[2], buckets[0]])
    assert apart == found[4]
    with UnitOfWork(ctx.engine, write=False) as uow:
        read = uow.subscribers.with_standing_and_bonuses
        assert read(KOFFI, START, END, MIGRATION_SLOT_SCOPE, "2026-06", now)[1:] == (0, 700_000, 0, [buckets[6]])
        assert read(AWA, START, END, MIGRATION_SLOT_SCOPE, "2026-06", now + 10 * day) == (awa, 4_321, 5_320, 2, [])
        assert read("+2250700000000", START, END, MIGRATION_SLOT_SCOPE, "2026-06", now) is None


def test_the_screens_read_counts_only_its_window_its_month_and_its_subscriber(ctx, awa) -> None:
    _standing_of_awa(ctx)
    with UnitOfWork(ctx.engine, write=False) as uow:
        standing = uow.subscribers.with_standing
        assert standing(AWA, START, START, MIGRATION_SLOT_SCOPE, "2026-05") == (awa, 4_321, 0, 0)
        assert standing(AWA, END - SECOND, END + SECOND, MIGRATION_SLOT_SCOPE, "2026-06") == (awa, 4_321, 65_000, 2)
        assert standing(AWA, START, END, "another-scope", "2026-06") == (awa, 4_321, 5_320, 0)
        koffi = standing(KOFFI, START, END, MIGRATION_SLOT_SCOPE, "2026-06")
        assert koffi is not None
        assert (koffi[0].timezone, koffi[1:]) == ("Asia/Tokyo", (0, 700_000, 0))
        assert standing("+2250700000000", START, END, MIGRATION_SLOT_SCOPE, "2026-06") is None


def _moves(ctx) -> tuple[str, int]:
    with UnitOfWork(ctx.engine, write=False) as uow:
        subscriber = uow.subscribers.get(AWA)
        used = uow.slots.used(MIGRATION_SLOT_SCOPE, AWA, "2026-05")
    assert subscriber is not None
    return subscriber.profile_id, used


def test_a_migration_takes_its_slot_and_moves_the_profile_in_one_statement_on_postgresql(ctx, awa) -> None:
    """The last slot of the month moves the profile; past it nothing changes; from a profile that is no longer
    the subscriber's, the slot is taken but the profile stays (the use case then rolls back)."""
    two = 1 if ctx.engine.dialect.name == "postgresql" else 2  # a slot taken, then the profile

    def move(from_profile: str, to_profile: str, limit: int) -> tuple[ProfileMove, int]:
        with statements(ctx.engine) as sent, UnitOfWork(ctx.engine) as uow:
            moved = uow.subscribers.change_profile_taking_slot(
                AWA, from_profile, to_profile, MIGRATION_SLOT_SCOPE, "2026-05", limit
            )
            uow.commit()
        return moved, len(sent)

    assert move("novamix", "tigre", 1) == (ProfileMove.MOVED, two)
    assert _moves(ctx) == ("tigre", 1)
    assert move("tigre", "dauphin", 1) == (ProfileMove.NO_SLOT_LEFT, 1)
    assert _moves(ctx) == ("tigre", 1)
    assert move("novamix", "dauphin", 3) == (ProfileMove.PROFILE_CHANGED, two)
    assert _moves(ctx) == ("tigre", 2)
    assert move("tigre", "aigle", 0) == (ProfileMove.NO_SLOT_LEFT, 0)  # no slot to take: nothing sent
    assert _moves(ctx) == ("tigre", 2)
