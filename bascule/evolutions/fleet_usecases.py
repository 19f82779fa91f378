"""A business customer's fleet: its lines filtered page by page or exported whole, and a line's usage by day.

Each line is shown as `GET /services/{id}` shows it (its current cycle opened first, its quota from the buckets
open now, its changes left this month), but for a whole page at once: a page is read in three statements
whatever its size, and the lines whose month has turned get their cycles opened together."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime
from zoneinfo import ZoneInfo

from bascule.context import Context
from bascule.evolutions.fleet import (
    DEFAULT_PAGE_SIZE,
    MAX_PAGE_SIZE,
    DailyUsage,
    FleetFilter,
    LineMatch,
    cursor_after,
    daily_usage,
    msisdn_of_cursor,
)
from bascule.evolutions.ports import EvolutionsUnit as Unit
from bascule.evolutions.ports import FleetLine
from bascule.evolutions.quota import quota_of
from bascule.evolutions.rules import SLOT_SCOPE
from bascule.evolutions.services import ServiceView, account_zone, changes_left, cycle_opener
from bascule.identity.model import Principal
from bascule.kernel.calendar import Period, zone
from bascule.kernel.errors import DomainError, ErrorCode

Ctx = Context[Unit]  # the context as these use cases see it: their ports, no database

EXPORT_BATCH = 500
# The zone furthest ahead of UTC: no account's month can have turned before it has turned there.
_FIRST_TO_TURN = ZoneInfo("Etc/GMT-14")


@dataclass(frozen=True, slots=True)
class FleetPage:
    views: list[ServiceView]
    next_cursor: str | None  # None on the last page


def fleet_page(
    ctx: Ctx,
    actor: Principal,
    wanted: FleetFilter,
    *,
    account_id: str | None = None,
    cursor: str | None = None,
    limit: int = DEFAULT_PAGE_SIZE,
    descending: bool = False,
) -> FleetPage:
    """One page of the lines the actor may see that match, by MSISDN (`descending`: from the highest); the
    operator sees every account's (or `account_id`'s)."""
    if not 1 <= limit <= MAX_PAGE_SIZE:
        raise DomainError(ErrorCode.VALIDATION_ERROR, reason="page-size", max_size=MAX_PAGE_SIZE)
    after = msisdn_of_cursor(cursor) if cursor else None
    scope = actor.business_scope(account_id)
    _lift_bars_of_a_new_month(ctx, scope, wanted)
    views = _matching(ctx, scope, wanted.match(ctx.catalog), after, limit + 1, descending)
    if len(views) <= limit:
        return FleetPage(views, None)
    return FleetPage(views[:limit], cursor_after(views[limit - 1].service.msisdn))


def fleet_export(
    ctx: Ctx, actor: Principal, wanted: FleetFilter, *, account_id: str | None = None, descending: bool = False
) -> Iterator[list[ServiceView]]:
    """Every matching line, by MSISDN (`descending`: from the highest), a batch at a time (the caller streams
    them)."""
    scope = actor.business_scope(account_id)  # refused now, not once the answer has started
    _lift_bars_of_a_new_month(ctx, scope, wanted)
    match = wanted.match(ctx.catalog)

    def batches() -> Iterator[list[ServiceView]]:
        after: str | None = None
        while True:
            views = _matching(ctx, scope, match, after, EXPORT_BATCH, descending)
            if views:
                yield views
            if len(views) < EXPORT_BATCH:
                return
            after = views[-1].service.msisdn

    return batches()


def _lift_bars_of_a_new_month(ctx: Ctx, scope: str | None, wanted: FleetFilter) -> None:
    """A line barred last month may be active once its new cycle is open: when the listing filters on status,
    such lines get their cycle first, so that they are filtered as they are now."""
    if wanted.status is None:
        return
    now = ctx.clock.now()
    with ctx.uow(write=False) as uow:
        behind = _behind(uow.fleet.restricted_before(scope, str(Period.at(now, _FIRST_TO_TURN))), now)
    if behind:
        _open_cycles(ctx, behind, now)


def _matching(
    ctx: Ctx, scope: str | None, match: LineMatch, after: str | None, limit: int, descending: bool = False
) -> list[ServiceView]:
    now = ctx.clock.now()
    with ctx.uow(write=False) as uow:
        lines = uow.fleet.page(scope, match, after, limit, descending=descending)
        behind = _behind(lines, now)
        if not behind:
            return _views(ctx, uow, lines, now)
    _open_cycles(ctx, behind, now)
    with ctx.uow(write=False) as uow:
        return _views(ctx, uow, uow.fleet.page(scope, match, after, limit, descending=descending), now)


def _current_periods(lines: list[FleetLine], now: datetime) -> dict[str, Period]:
    """The current period of each account zone among `lines`."""
    return {name: Period.at(now, zone(name)) for name in {line.timezone for line in lines}}


def _behind(lines: list[FleetLine], now: datetime) -> list[FleetLine]:
    """The lines whose current cycle is not open yet."""
    current = _current_periods(lines, now)
    return [line for line in lines if line.latest_cycle is None or line.latest_cycle < str(current[line.timezone])]


def _open_cycles(ctx: Ctx, lines: list[FleetLine], now: datetime) -> None:
    with ctx.uow() as uow:
        cycle_opener(ctx).open_many(
            uow,
            ctx.catalog,
            [line.service for line in lines],
            {line.service.account_id: zone(line.timezone) for line in lines},
            now,
            {line.service.id: line.latest_cycle for line in lines if line.latest_cycle is not None},
        )
        uow.commit()


def _views(ctx: Ctx, uow: Unit, lines: list[FleetLine], now: datetime) -> list[ServiceView]:
    """What `services.view_of` shows of each line, read for all of them at once."""
    if not lines:
        return []
    ids = [line.service.id for line in lines]
    current = _current_periods(lines, now)
    buckets = uow.fleet.buckets_open_at(ids, now)
    used = uow.fleet.slots_used(SLOT_SCOPE, ids, [str(period) for period in current.values()])
    return [
        ServiceView(
            service=line.service,
            plan=ctx.catalog.plan(line.service.plan_id),
            period=current[line.timezone],
            quota=quota_of(buckets.get(line.service.id, [])),
            changes_left_this_month=changes_left(
                ctx.catalog, used.get((line.service.id, str(current[line.timezone])), 0)
            ),
        )
        for line in lines
    ]


def usage_by_day(ctx: Ctx, actor: Principal, service_id: str, period: Period | None) -> DailyUsage:
    """A line's usage records summed per calendar day of `period` (default: the current cycle) in its account's
    zone."""
    with ctx.uow(write=False) as uow:
        service = uow.services.get(service_id)
        if service is None or not actor.may_see_account(service.account_id):
            raise DomainError(ErrorCode.NOT_FOUND, what="service")
        tz = zone(account_zone(uow, service.account_id))
        wanted = period or Period.at(ctx.clock.now(), tz)
        quarters = uow.fleet.usage_by_quarter_hour(service.id, wanted.start_instant(tz), wanted.end_instant(tz))
    return daily_usage(wanted, tz, quarters)
