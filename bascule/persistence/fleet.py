"""Reads of a fleet of lines: a filtered page by MSISDN, and what each line's view needs, a few statements
per page whatever its size."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import BigInteger, ColumnElement, and_, cast, false, func, or_, select, true

from bascule.evolutions.fleet import QUARTER_HOUR_SECONDS, LineMatch, Search
from bascule.evolutions.model import Service, ServiceStatus
from bascule.evolutions.ports import FleetLine
from bascule.evolutions.quota import Bucket
from bascule.persistence import tables as t
from bascule.persistence.evolutions import _bucket, _service
from bascule.persistence.statements import _Repository

_s, _c = t.services.c, t.service_cycles.c
_LATEST_CYCLE = select(func.max(_c.period)).where(_c.service_id == _s.id).scalar_subquery()


class Fleet(_Repository):
    def page(
        self, account_id: str | None, match: LineMatch, after: str | None, limit: int, *, descending: bool = False
    ) -> list[FleetLine]:
        """The first `limit` lines matching, by MSISDN (or by MSISDN down), after the line `after`."""
        conditions = _conditions(account_id, match)
        if after is not None:
            conditions.append(_s.msisdn < after if descending else _s.msisdn > after)
        return self._lines(and_(true(), *conditions), limit, descending=descending)

    def restricted_before(self, account_id: str | None, period: str) -> list[FleetLine]:
        """Barred or throttled lines whose last cycle opened is before `period` (a new cycle may lift them)."""
        scope = [] if account_id is None else [_s.account_id == account_id]
        stale = func.coalesce(_LATEST_CYCLE, "") < period
        return self._lines(and_(true(), *scope, _s.status != ServiceStatus.ACTIVE.value, stale), None)

    def _lines(self, where: ColumnElement[bool], limit: int | None, *, descending: bool = False) -> list[FleetLine]:
        order = _s.msisdn.desc() if descending else _s.msisdn
        query = (
            select(t.services, t.accounts.c.timezone, _LATEST_CYCLE.label("latest_cycle"))
            .join(t.accounts, t.accounts.c.id == _s.account_id)
            .where(where)
            .order_by(order)
            .limit(limit)
        )
        return [FleetLine(_service(row), row.timezone, row.latest_cycle) for row in self.connection.execute(query)]

    def buckets_open_at(self, service_ids: Sequence[str], instant: datetime) -> dict[str, list[Bucket]]:
        b = t.buckets.c
        query = select(t.buckets).where(
            b.service_id.in_(list(service_ids)), b.closed_at.is_(None), b.valid_from <= instant, b.valid_until > instant
        )
        found: dict[str, list[Bucket]] = defaultdict(list)
        for row in self.connection.execute(query):
            found[row.service_id].append(_bucket(row))
        return found

    def slots_used(self, scope: str, service_ids: Sequence[str], periods: Sequence[str]) -> dict[tuple[str, str], int]:
        """(service id, period) → slots used, for the periods asked (absent: none used)."""
        m = t.monthly_slots.c
        query = select(m.subject_id, m.period, m.used).where(
            m.scope == scope, m.subject_id.in_(list(service_ids)), m.period.in_(sorted(set(periods)))
        )
        return {(row.subject_id, row.period): int(row.used) for row in self.connection.execute(query)}

    def services(self, service_ids: Sequence[str]) -> dict[str, Service]:
        query = select(t.services).where(_s.id.in_(list(service_ids)))
        return {row.id: _service(row) for row in self.connection.execute(query)}

    def usage_by_quarter_hour(self, service_id: str, start: datetime, end: datetime) -> list[tuple[int, int]]:
        """The line's usage records in [start, end), summed per quarter of an hour: (its first epoch second,
        bytes)."""
        u = t.usage_records.c
        quarter = (_epoch(self.connection.dialect.name, u.at) // QUARTER_HOUR_SECONDS).label("quarter")
        query = (
            select(quarter, func.sum(u.bytes))
            .where(u.service_id == service_id, u.at >= start, u.at < end)
            .group_by(quarter)
        )
        return [(int(index) * QUARTER_HOUR_SECONDS, int(used)) for index, used in self.connection.execute(query)]


def _epoch(dialect: str, column: Any) -> ColumnElement[int]:
    """Whole seconds since the epoch of an instant column (UTC on both databases)."""
    if dialect == "postgresql":
        return cast(func.floor(func.extract("epoch", column)), BigInteger)
    # SQLite counts through the julian day, in milliseconds: 23:59:59.9999 would round up to midnight. The text
    # it keeps ("YYYY-MM-DD HH:MM:SS.ffffff") cut at the second floors it instead.
    return cast(func.strftime("%s", func.substr(column, 1, 19)), BigInteger)


def _conditions(account_id: str | None, match: LineMatch) -> list[ColumnElement[bool]]:
    conditions: list[ColumnElement[bool]] = []
    if account_id is not None:
        conditions.append(_s.account_id == account_id)
    if match.status is not None:
        conditions.append(_s.status == match.status.value)
    if match.network is not None:
        conditions.append(_s.network == match.network)
    if match.plan_ids is not None:
        conditions.append(_s.plan_id.in_(sorted(match.plan_ids)) if match.plan_ids else false())
    if match.search is not None:
        conditions.append(_matches_search(match.search))
    return conditions


def _matches_search(search: Search) -> ColumnElement[bool]:
    either: list[ColumnElement[bool]] = []
    if search.plan_ids:
        either.append(_s.plan_id.in_(sorted(search.plan_ids)))
    if search.msisdn_part is not None:
        either.append(_s.msisdn.contains(search.msisdn_part, autoescape=True))
    return or_(*either) if either else false()
