"""`open_cycles_many` (the bill run's bulk opening) writes exactly what `open_cycles` writes, one service at a time."""

from __future__ import annotations

import re
from datetime import date

from sqlalchemy import select

from bascule.billing.cycles import open_cycles, open_cycles_many
from bascule.catalog.model import PlanKind
from bascule.evolutions.model import Service, ServiceStatus
from bascule.identity.model import OPERATOR, Channel
from bascule.identity.usecases import create_account
from bascule.kernel.calendar import zone
from bascule.kernel.ids import new_id
from bascule.persistence import bulk
from bascule.persistence import tables as t

ID = re.compile(r"^(chg|bkt)_[0-9a-f]{24}$")


def _services(ctx, account_id: str, tag: str) -> list[Service]:
    bundle = next(p for p in ctx.catalog.plans if p.kind is PlanKind.BUNDLE)
    metered = next(p for p in ctx.catalog.plans if p.kind is PlanKind.METERED)
    shapes = [  # plan, activation day, status, ceiling
        (bundle, date(2026, 6, 1), ServiceStatus.ACTIVE, None),
        (bundle, date(2026, 6, 10), ServiceStatus.ACTIVE, None),  # prorated first cycle
        (bundle, date(2026, 3, 17), ServiceStatus.ACTIVE, None),  # back-dated: four cycles
        (metered, date(2026, 5, 1), ServiceStatus.ACTIVE, metered.default_ceiling_bytes),
        (bundle, date(2026, 4, 1), ServiceStatus.BARRED, None),  # barred: its new cycles lift the bar
    ]
    return [
        Service(
            new_id("svc"),
            account_id,
            f"+3370{tag}{n:05d}",
            plan.id,
            ctx.catalog.networks[0].id,
            ctx.catalog.apns[0].id,
            ceiling,
            status,
            activated,
        )
        for n, (plan, activated, status, ceiling) in enumerate(shapes)
    ]


def _written(ctx, services: list[Service]) -> list[tuple[object, ...]]:
    order = {s.id: n for n, s in enumerate(services)}
    ids = list(order)
    with ctx.engine.connect() as connection:
        cycles = connection.execute(select(t.service_cycles).where(t.service_cycles.c.service_id.in_(ids))).all()
        charges = connection.execute(select(t.charges).where(t.charges.c.service_id.in_(ids))).all()
        buckets = connection.execute(select(t.buckets).where(t.buckets.c.service_id.in_(ids))).all()
        statuses = connection.execute(
            select(t.services.c.id, t.services.c.status).where(t.services.c.id.in_(ids))
        ).all()
    for row in [*charges, *buckets]:
        assert ID.match(row.id), row.id
    key = {s.id: f"#{n}" for n, s in enumerate(services)}
    return sorted(
        [
            *(("cycle", key[c.service_id], c.period) for c in cycles),
            *(
                (
                    "charge",
                    key[c.service_id],
                    c.period,
                    c.kind,
                    c.description.replace(c.service_id, "?"),
                    c.amount,
                    c.currency,
                    c.at,
                    c.once_key.replace(c.service_id, "?"),
                )
                for c in charges
            ),
            *(
                (
                    "bucket",
                    key[b.service_id],
                    b.period,
                    b.kind,
                    b.total_bytes,
                    b.used_bytes,
                    b.valid_from,
                    b.valid_until,
                )
                for b in buckets
            ),
            *(("status", key[s.id], s.status) for s in statuses),
        ],
        key=str,
    )


def test_the_bulk_opening_writes_what_the_one_by_one_opening_writes(ctx):
    one = create_account(ctx, OPERATOR, Channel.CLI, "Un par un", None)
    many = create_account(ctx, OPERATOR, Channel.CLI, "En bloc", None)
    singles, bulks = _services(ctx, one.id, "1"), _services(ctx, many.id, "2")
    now = ctx.clock.now()
    tz = zone(one.timezone)
    with ctx.uow() as uow:
        for service in [*singles, *bulks]:
            uow.services.add(service, now)
        uow.commit()
    with ctx.uow() as uow:
        for service in singles:
            open_cycles(uow, ctx.catalog, service, tz, now)
        uow.commit()
    with ctx.uow() as uow:
        found, latest = bulk.services_and_latest_cycles(uow.connection, [many.id])
        assert {s.id for s in found} == {s.id for s in bulks}
        assert latest == {}
        open_cycles_many(uow, ctx.catalog, found, {many.id: tz}, now, latest)
        uow.commit()

    expected = _written(ctx, singles)
    assert _written(ctx, bulks) == expected
    assert len([row for row in expected if row[0] == "cycle"]) == 1 + 1 + 4 + 2 + 3
    assert ("status", "#4", "active") in expected

    with ctx.uow() as uow:  # a second opening finds every cycle open and changes nothing
        found, latest = bulk.services_and_latest_cycles(uow.connection, [many.id])
        assert set(latest.values()) == {"2026-06"}
        open_cycles_many(uow, ctx.catalog, found, {many.id: tz}, now, latest)
        open_cycles_many(uow, ctx.catalog, found, {many.id: tz}, now)
        uow.commit()
    assert _written(ctx, bulks) == expected


def test_the_bulk_opening_skips_a_recurring_line_that_already_exists(ctx):
    account = create_account(ctx, OPERATOR, Channel.CLI, "Déjà facturé", None)
    service = _services(ctx, account.id, "3")[0]
    now = ctx.clock.now()
    with ctx.uow() as uow:
        uow.services.add(service, now)
        uow.charges.add(
            account_id=account.id,
            service_id=service.id,
            period="2026-06",
            kind="recurring",
            description="déjà là",
            amount=ctx.catalog.plan(service.plan_id).price,
            at=now,
            once_key=f"recurring:{service.id}:2026-06",
        )
        uow.commit()
    with ctx.uow() as uow:
        open_cycles_many(uow, ctx.catalog, [service], {account.id: zone(account.timezone)}, now)
        uow.commit()
    with ctx.engine.connect() as connection:
        charges = connection.execute(select(t.charges.c.description).where(t.charges.c.service_id == service.id)).all()
        buckets = connection.execute(select(t.buckets.c.period).where(t.buckets.c.service_id == service.id)).all()
    assert [c.description for c in charges] == ["déjà là"]
    assert [b.period for b in buckets] == ["2026-06"]
