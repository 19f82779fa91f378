"""The unit of work: one transaction per command, rolled back unless committed once at its end.

A command (see `bascule.commands.runner`) opens one unit of work; the use cases it calls open theirs
with `ctx.uow()`, and get a `JoinedUnit` of it: the same transaction, where their own `commit()` keeps
their work and an exception discards it (a SAVEPOINT, taken only when earlier work must survive), so a
use case reads the same whether it runs alone or inside a command.

A read-only unit (`write=False`) outside a command runs, on PostgreSQL, on the read engine's sessions
(`engine.make_read_engine`): in autocommit, each statement a read-only transaction of its own, with no BEGIN and no
COMMIT to send; a write in it fails. Given another engine (`write=False` alone), it runs `BEGIN READ ONLY` and
ends in COMMIT: psycopg empties its cache of prepared statements at every ROLLBACK (psycopg/_preparing.py), so
reads that rolled back left every statement to be parsed and planned again; READ ONLY makes the COMMIT of such a
unit commit nothing, as its ROLLBACK did. On SQLite a read-only unit is `BEGIN DEFERRED` and still ends in ROLLBACK:
nothing is cached there to keep, and the rollback keeps it from persisting anything. A write unit left without
`commit()` that wrote nothing (a quote, a refusal before any write: the engine notes each statement that may
write, `engine.WROTE`) ends in COMMIT on PostgreSQL for the same reason.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from types import TracebackType
from typing import Any, Self

from psycopg.pq import TransactionStatus
from sqlalchemy import Connection, Engine, NestedTransaction
from sqlalchemy.exc import SQLAlchemyError

from bascule.persistence import prepaid as p
from bascule.persistence.audit import Audit
from bascule.persistence.batches import ChangeBatches
from bascule.persistence.billing import BillRuns, Invoices
from bascule.persistence.catalog_overrides import CatalogOverrides
from bascule.persistence.compiled import (
    drop_held,
    flush_held_together,
    hold,
    holding,
    insert_together,
    start_holding,
)
from bascule.persistence.engine import WROTE
from bascule.persistence.evolutions import Buckets, ChangeRequests, Charges, Cycles, Services, Slots
from bascule.persistence.fleet import Fleet
from bascule.persistence.idempotency import IdempotencyRecords
from bascule.persistence.identity import Accounts, Tokens, Users
from bascule.persistence.jobs import Jobs
from bascule.persistence.operator_lists import OperatorLists
from bascule.persistence.outbox import OutboxRows
from bascule.persistence.staff import Staff
from bascule.persistence.usage import LineIndex, UsageImports, UsageRecords


class UnitOfWork:
    # The repositories, each made on its first use in the unit (`_REPOSITORIES`, `_MadeOnFirstUse`): most units use
    # two or three.
    accounts: Accounts
    users: Users
    staff: Staff
    operator_lists: OperatorLists
    tokens: Tokens
    buckets: Buckets
    slots: Slots
    services: Services
    cycles: Cycles
    change_requests: ChangeRequests
    charges: Charges
    audit: Audit
    invoices: Invoices
    usage: UsageRecords
    lines: LineIndex
    jobs: Jobs
    fleet: Fleet
    batches: ChangeBatches
    subscribers: p.Subscribers
    ledger: p.Ledger
    bonuses: p.Bonuses
    migrations: p.Migrations
    otp_codes: p.OneTimeCodes
    notifications: p.Notifications
    outbox: OutboxRows
    usage_imports: UsageImports
    bill_runs: BillRuns
    idempotency: IdempotencyRecords
    catalog_overrides: CatalogOverrides

    def __init__(self, engine: Engine, *, write: bool = True, autocommitted: bool = False) -> None:
        self._engine = engine
        self._write = write
        self._autocommitted = autocommitted  # a read on `engine.make_read_engine`'s sessions: no BEGIN, no COMMIT
        self._connection: Connection | None = None
        self._committed = False
        self.kept_writes = False  # a joined unit committed its writes: they outlive a later refusal
        self.discarded_writes = False  # a joined unit wrote and ended without commit, with no savepoint
        self._read_only = False  # a PostgreSQL READ ONLY transaction: COMMIT and ROLLBACK mean the same
        self._made: list[str] = []  # the repositories made in this unit, bound to its connection

    def __enter__(self) -> Self:
        connection = self._engine.connect()
        if connection.dialect.name == "sqlite":
            connection = connection.execution_options(sqlite_begin="IMMEDIATE" if self._write else "DEFERRED")
        elif self._autocommitted:
            self._read_only = True  # its sessions are read only; its COMMIT, like its BEGIN, sends nothing
        elif not self._write:
            connection = connection.execution_options(postgresql_readonly=True)
            self._read_only = True
        if not self._autocommitted:  # an autocommitted read has no transaction to begin or to end
            connection.begin()
        connection.info[WROTE] = False
        self._connection = connection
        self._latest_cycles: dict[str, str | None] = {}  # read with each locked service, for its rules
        return self

    def _repository(self, name: str, make: Callable[[UnitOfWork], Any]) -> Any:
        """A repository, made on its first use in this unit and kept for the rest of it (`_MadeOnFirstUse`)."""
        if self._connection is None:
            raise AttributeError(name)
        repository = make(self)
        setattr(self, name, repository)
        self._made.append(name)
        return repository

    def savepoint(self) -> NestedTransaction:
        """A part of this transaction that can be undone alone."""
        return self.connection.begin_nested()

    @contextmanager
    def appends_deferred(self) -> Iterator[None]:
        """New change requests, charges, audit rows, notices, provisioning jobs and profile migrations written inside
        are gathered, and written when the block ends: on PostgreSQL in one statement when they are few (a
        command's), else one statement per table (a batch writes hundreds; `compiled.insert_together`). Nothing
        may read them inside the block; an error inside drops them with the rest of its work. No savepoint may be
        taken inside: its rollback would not take back the rows gathered. Inside another such block, the outer
        one writes them."""
        deferring = (self.change_requests, self.charges, self.audit, self.notifications, self.jobs, self.migrations)
        if any(repository.deferring for repository in deferring):
            yield
            return
        for repository in deferring:
            repository.defer()
        try:
            yield
        except BaseException:
            for repository in deferring:
                repository.discard()
            raise
        parts = [repository.taken() for repository in deferring]
        if holding(self.connection):
            hold(self.connection, parts)
        else:
            insert_together(self.connection, parts)

    def hold_writes(self) -> None:
        """The rows `appends_deferred` gathers, the saves of lines and requests (`compiled.hold_update`) and the
        conditions (`compiled.hold_condition`: a month's slot, a profile moved) wait for the statement that joins
        them (the command's stored answer, its Idempotency-Key row) or for the commit, to go in one statement on
        PostgreSQL: a round trip less for each. Whatever runs before writes them first (`compiled.hold`), so that
        no statement of the transaction runs without them."""
        start_holding(self.connection)

    def joined(self, *, write: bool = True) -> JoinedUnit:
        """A use case's unit of work inside this command's transaction."""
        return JoinedUnit(self, write=write)

    @property
    def connection(self) -> Connection:
        if self._connection is None:
            raise RuntimeError("unit of work not entered")
        return self._connection

    def commit(self) -> None:
        if self._committed:
            raise RuntimeError("a unit of work commits once")
        flush_held_together(self.connection)  # a held condition may refuse here: the unit then rolls back
        self.connection.commit()
        self._committed = True

    def restart(self) -> None:
        """Drop everything written so far and go on in a new transaction (a command discarding its work)."""
        was_holding = holding(self.connection)
        drop_held(self.connection)
        if was_holding:
            start_holding(self.connection)
        self.connection.rollback()
        self.connection.begin()
        self.connection.info[WROTE] = False
        self.kept_writes = self.discarded_writes = False

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        connection = self.connection
        if not connection.invalidated:  # an invalidated connection's `info` went with it
            drop_held(connection)  # rows held for a commit that did not come
        try:
            if self._committed:
                pass
            elif self._ends_in_commit(connection, exc):
                connection.commit()  # keeps psycopg's prepared statements (an error of the database rolls back)
            else:
                connection.rollback()
        finally:
            connection.close()
            self._connection = None
            for name in self._made:  # bound to the connection just closed
                delattr(self, name)
            self._made.clear()

    def _ends_in_commit(self, connection: Connection, exc: BaseException | None) -> bool:
        """A unit left without `commit()` that wrote nothing (read only, or a quote, or a refusal before any
        write) ends in COMMIT on PostgreSQL, which keeps nothing a ROLLBACK would not, and keeps psycopg's
        prepared statements, which a ROLLBACK throws away."""
        if isinstance(exc, SQLAlchemyError) or connection.invalidated:
            return False
        if self._read_only:
            return True
        if connection.dialect.name != "postgresql" or connection.info.get(WROTE) is not False:
            return False
        driver = connection.connection.driver_connection
        return driver is not None and driver.info.transaction_status is not TransactionStatus.INERROR


class JoinedUnit(UnitOfWork):
    """`ctx.uow()` inside a command: the command's transaction, with a use case's commit semantics."""

    def __init__(self, outer: UnitOfWork, *, write: bool) -> None:
        self._outer = outer
        self._write = write
        self._savepoint: Any = None
        self._committed = False

    def __getattr__(self, name: str) -> Any:  # what else the command's unit has
        return getattr(self._outer, name)

    def _repository(self, name: str, make: Callable[[UnitOfWork], Any]) -> Any:  # the command's unit's
        return getattr(self._outer, name)

    @property
    def connection(self) -> Connection:
        return self._outer.connection

    def joined(self, *, write: bool = True) -> JoinedUnit:
        return self._outer.joined(write=write)

    def restart(self) -> None:
        raise RuntimeError("only the command restarts its transaction")

    def __enter__(self) -> Self:
        if self._write and self._outer.discarded_writes:
            self._outer.restart()  # what an earlier unit left uncommitted never happened
        if self._write and self._outer.kept_writes:
            self._savepoint = self._outer.connection.begin_nested()  # earlier, committed work must survive us
        return self

    def commit(self) -> None:
        if self._committed:
            raise RuntimeError("a unit of work commits once")
        if self._savepoint is not None:
            self._savepoint.commit()
        self._committed = True
        if self._write:
            self._outer.kept_writes = True

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        if self._committed or not self._write:
            return
        if self._savepoint is not None:
            self._savepoint.rollback()
        else:
            self._outer.discarded_writes = True


def _simple(repository: Callable[[Connection], Any]) -> Callable[[UnitOfWork], Any]:
    return lambda unit: repository(unit.connection)


_REPOSITORIES: dict[str, Callable[[UnitOfWork], Any]] = {
    "accounts": _simple(Accounts),
    "users": _simple(Users),
    "staff": _simple(Staff),
    "operator_lists": _simple(OperatorLists),
    "tokens": _simple(Tokens),
    "buckets": _simple(Buckets),
    "slots": _simple(Slots),
    "services": lambda unit: Services(unit.connection, unit._latest_cycles, unit.buckets, unit.slots),
    "cycles": lambda unit: Cycles(unit.connection, unit._latest_cycles, unit.buckets),
    "change_requests": lambda unit: ChangeRequests(unit.connection, unit.services, unit.buckets, unit.users),
    "charges": _simple(Charges),
    "audit": _simple(Audit),
    "invoices": _simple(Invoices),
    "usage": _simple(UsageRecords),
    "lines": _simple(LineIndex),
    "jobs": _simple(Jobs),
    "fleet": _simple(Fleet),
    "batches": _simple(ChangeBatches),
    "subscribers": _simple(p.Subscribers),
    "ledger": _simple(p.Ledger),
    "bonuses": _simple(p.Bonuses),
    "migrations": _simple(p.Migrations),
    "otp_codes": _simple(p.OneTimeCodes),
    "notifications": _simple(p.Notifications),
    "outbox": _simple(OutboxRows),
    "usage_imports": _simple(UsageImports),
    "bill_runs": _simple(BillRuns),
    "idempotency": _simple(IdempotencyRecords),
    "catalog_overrides": _simple(CatalogOverrides),
}


class _MadeOnFirstUse:
    """A repository as an attribute of a unit of work: made on the first look in a unit (then kept in the unit's own
    attributes, which come first), without the failed lookup and the AttributeError that reaching `__getattr__`
    would cost each time."""

    def __init__(self, name: str, make: Callable[[UnitOfWork], Any]) -> None:
        self.name = name
        self.make = make

    def __get__(self, unit: UnitOfWork | None, owner: type[UnitOfWork] | None = None) -> Any:
        if unit is None:
            return self
        return unit._repository(self.name, self.make)


for _name, _make in _REPOSITORIES.items():
    setattr(UnitOfWork, _name, _MadeOnFirstUse(_name, _make))
