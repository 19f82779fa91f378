"""The unit of work: one transaction per use case, rolled back unless committed once at its end.

A read-only unit (`write=False`) on PostgreSQL runs `BEGIN READ ONLY` and ends in COMMIT: psycopg empties its
cache of prepared statements at every ROLLBACK (psycopg/_preparing.py), so reads that rolled back left every
statement to be parsed and planned again; READ ONLY makes the COMMIT of such a unit commit nothing, as its
ROLLBACK did (a write in it fails). On SQLite a read-only unit is `BEGIN DEFERRED` and still ends in ROLLBACK:
nothing is cached there to keep, and the rollback keeps it from persisting anything.
"""

from __future__ import annotations

from types import TracebackType
from typing import Self

from sqlalchemy import Connection, Engine
from sqlalchemy.exc import SQLAlchemyError

from bascule.persistence import prepaid as p
from bascule.persistence import repositories as r
from bascule.persistence.batches import ChangeBatches
from bascule.persistence.billing import Invoices
from bascule.persistence.fleet import Fleet
from bascule.persistence.jobs import Jobs


class UnitOfWork:
    def __init__(self, engine: Engine, *, write: bool = True) -> None:
        self._engine = engine
        self._write = write
        self._connection: Connection | None = None
        self._committed = False
        self._read_only = False  # a PostgreSQL READ ONLY transaction: COMMIT and ROLLBACK mean the same

    def __enter__(self) -> Self:
        connection = self._engine.connect()
        if connection.dialect.name == "sqlite":
            connection = connection.execution_options(sqlite_begin="IMMEDIATE" if self._write else "DEFERRED")
        elif not self._write:
            connection = connection.execution_options(postgresql_readonly=True)
            self._read_only = True
        connection.begin()
        self._connection = connection
        self.accounts = r.Accounts(connection)
        self.users = r.Users(connection)
        self.tokens = r.Tokens(connection)
        self.services = r.Services(connection)
        self.cycles = r.Cycles(connection)
        self.buckets = r.Buckets(connection)
        self.slots = r.Slots(connection)
        self.change_requests = r.ChangeRequests(connection)
        self.charges = r.Charges(connection)
        self.audit = r.Audit(connection)
        self.invoices = Invoices(connection)
        self.usage = r.UsageRecords(connection)
        self.lines = r.LineIndex(connection)
        self.jobs = Jobs(connection)
        self.fleet = Fleet(connection)
        self.batches = ChangeBatches(connection)
        self.subscribers = p.Subscribers(connection)
        self.ledger = p.Ledger(connection)
        self.bonuses = p.Bonuses(connection)
        self.migrations = p.Migrations(connection)
        self.otp_codes = p.OneTimeCodes(connection)
        self.notifications = p.Notifications(connection)
        return self

    @property
    def connection(self) -> Connection:
        if self._connection is None:
            raise RuntimeError("unit of work not entered")
        return self._connection

    def commit(self) -> None:
        if self._committed:
            raise RuntimeError("a unit of work commits once")
        self.connection.commit()
        self._committed = True

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        connection = self.connection
        try:
            if self._committed:
                pass
            elif self._read_only and not isinstance(exc, SQLAlchemyError) and not connection.invalidated:
                connection.commit()  # keeps psycopg's prepared statements (an error of the database rolls back)
            else:
                connection.rollback()
        finally:
            connection.close()
            self._connection = None
