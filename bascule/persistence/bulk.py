"""Set-based reads and writes for the batch jobs (bill run, usage import): one statement per table and batch.

On PostgreSQL a batch of rows goes in by COPY, straight into its table or, to skip conflicts or
return what was inserted, into a temporary twin followed by one `INSERT … SELECT … ON CONFLICT DO
NOTHING [RETURNING]`; small updates of many rows go through `unnest` arrays. On SQLite the same
rows go through an executemany. Like the repositories, nothing here commits.
"""

from __future__ import annotations

import json
from collections import defaultdict
from collections.abc import Iterable, Iterator, Mapping, Sequence
from datetime import datetime
from operator import itemgetter
from typing import Any, NamedTuple

from sqlalchemy import JSON, Connection, Row, Table, func, select, update
from sqlalchemy.dialects import sqlite

from bascule.billing.cycles import recurring_key
from bascule.evolutions.model import Service, ServiceStatus
from bascule.evolutions.ports import CycleTemplate, StoredCharge
from bascule.kernel.ids import new_ids
from bascule.persistence import tables as t
from bascule.persistence.evolutions import _charge, _service
from bascule.persistence.statements import _jsonable

CHUNK = 2000  # ids per IN (…) list


def chunks(items: Sequence[Any], size: int = CHUNK) -> Iterator[Sequence[Any]]:
    for start in range(0, len(items), size):
        yield items[start : start + size]


def _pg_type(connection: Connection, table: Table, name: str) -> str:
    return str(table.c[name].type.compile(dialect=connection.dialect))


def _pg_value(table: Table, name: str, value: Any) -> Any:
    if isinstance(table.c[name].type, JSON):
        return None if value is None else json.dumps(_jsonable(value))
    return value


def insert_rows(
    connection: Connection,
    table: Table,
    rows: Sequence[Mapping[str, Any]],
    *,
    ignore_conflicts: bool = False,
    returning: Sequence[str] = (),
) -> list[Row[Any]]:
    """Insert many rows at once; with `returning`, the rows actually inserted.

    PostgreSQL: COPY straight into the table, or, to skip conflicts or return rows, COPY into a
    temporary twin and `INSERT … SELECT … ON CONFLICT DO NOTHING RETURNING` from it."""
    if not rows:
        return []
    names = list(rows[0])
    if connection.dialect.name != "postgresql":
        statement = sqlite.insert(table)
        if ignore_conflicts:
            statement = statement.on_conflict_do_nothing()
        if returning:
            return list(connection.execute(statement.returning(*(table.c[n] for n in returning)), list(rows)))
        connection.execute(statement, list(rows))
        return []
    columns = ", ".join(_quoted(n) for n in names)
    if not ignore_conflicts and not returning:
        _copy(connection, table, table.name, names, rows)
        return []
    twin = f"bulk_{table.name}"
    connection.exec_driver_sql(
        f"CREATE TEMPORARY TABLE IF NOT EXISTS {twin} (LIKE {table.name} INCLUDING DEFAULTS) ON COMMIT DELETE ROWS"
    )
    connection.exec_driver_sql(f"TRUNCATE {twin}")
    _copy(connection, table, twin, names, rows)
    sql = f"INSERT INTO {table.name} ({columns}) SELECT {columns} FROM {twin}"  # noqa: S608 - names from the schema
    if ignore_conflicts:
        sql += " ON CONFLICT DO NOTHING"
    if returning:
        sql += " RETURNING " + ", ".join(_quoted(n) for n in returning)
        return list(connection.exec_driver_sql(sql))
    connection.exec_driver_sql(sql)
    return []


def _copy(
    connection: Connection, table: Table, target: str, names: list[str], rows: Sequence[Mapping[str, Any]]
) -> None:
    driver = driver_of(connection)
    json_columns = [name for name in names if isinstance(table.c[name].type, JSON)]
    with (
        driver.cursor() as cursor,
        cursor.copy(f"COPY {target} ({', '.join(_quoted(n) for n in names)}) FROM STDIN") as copy,
    ):
        if json_columns:
            for row in rows:
                copy.write_row([_pg_value(table, name, row[name]) for name in names])
        else:
            values = itemgetter(*names) if len(names) > 1 else (lambda row: (row[names[0]],))
            for row in rows:
                copy.write_row(values(row))


def _quoted(name: str) -> str:
    return f'"{name}"'


# --- reads by many keys ---------------------------------------------------------------------------


def services_of_accounts(connection: Connection, account_ids: Sequence[str]) -> list[Service]:
    found: list[Service] = []
    for part in chunks(account_ids):
        query = select(t.services).where(t.services.c.account_id.in_(list(part))).order_by(t.services.c.id)
        found.extend(_service(row) for row in connection.execute(query))
    return found


def services_and_latest_cycles(
    connection: Connection, account_ids: Sequence[str]
) -> tuple[list[Service], dict[str, str]]:
    """The accounts' services (in id order) and the last period opened of each (absent when none)."""
    if connection.dialect.name != "postgresql":
        found = services_of_accounts(connection, account_ids)
        return found, latest_cycles(connection, [s.id for s in found])
    services: list[Service] = []
    latest: dict[str, str] = {}
    statuses = {status.value: status for status in ServiceStatus}
    with driver_of(connection).cursor() as cursor:
        for part in chunks(account_ids, 20_000):
            cursor.execute(
                "SELECT s.id, s.account_id, s.msisdn, s.plan_id, s.network, s.apn, s.ceiling_bytes, s.status, "
                "s.activated_on, (SELECT max(c.period) FROM service_cycles c WHERE c.service_id = s.id) "
                "FROM services s WHERE s.account_id = ANY(%s) ORDER BY s.id",
                (list(part),),
            )
            for row in cursor:
                services.append(
                    Service(row[0], row[1], row[2], row[3], row[4], row[5], row[6], statuses[row[7]], row[8])
                )
                if row[9] is not None:
                    latest[row[0]] = row[9]
    return services, latest


def driver_of(connection: Connection) -> Any:
    """The driver's own connection under SQLAlchemy's (psycopg's or sqlite3's), for COPY and bulk reads."""
    driver = connection.connection.driver_connection
    if driver is None:
        raise RuntimeError("the pooled connection has no driver connection (it was invalidated)")
    return driver


def account_zones(connection: Connection, account_ids: Sequence[str]) -> list[tuple[str, str]]:
    found: list[tuple[str, str]] = []
    for part in chunks(account_ids):
        query = select(t.accounts.c.id, t.accounts.c.timezone).where(t.accounts.c.id.in_(list(part)))
        found.extend((row.id, row.timezone) for row in connection.execute(query))
    return found


def lock_services(connection: Connection, service_ids: Sequence[str]) -> list[Service]:
    """The services, locked until commit on PostgreSQL, always in id order (no deadlock between batches)."""
    found: list[Service] = []
    for part in chunks(sorted(service_ids)):
        query = select(t.services).where(t.services.c.id.in_(list(part))).order_by(t.services.c.id)
        if connection.dialect.name == "postgresql":
            query = query.with_for_update()
        found.extend(_service(row) for row in connection.execute(query))
    return found


def latest_cycles(connection: Connection, service_ids: Sequence[str]) -> dict[str, str]:
    """The last period opened per service (services with none are absent)."""
    latest: dict[str, str] = {}
    c = t.service_cycles.c
    for part in chunks(service_ids):
        query = select(c.service_id, func.max(c.period)).where(c.service_id.in_(list(part))).group_by(c.service_id)
        for service_id, period in connection.execute(query):
            latest[service_id] = period
    return latest


def charges_of_accounts(
    connection: Connection, account_ids: Sequence[str], period: str
) -> dict[str, list[StoredCharge]]:
    """Each account's charges of the period, ordered as an invoice lists them (time, then id)."""
    found: dict[str, list[StoredCharge]] = defaultdict(list)
    c = t.charges.c
    for part in chunks(account_ids):
        query = (
            select(t.charges).where(c.account_id.in_(list(part)), c.period == period).order_by(c.account_id, c.at, c.id)
        )
        for row in connection.execute(query):
            found[row.account_id].append(_charge(row))
    return found


def invoiced_accounts(connection: Connection, account_ids: Sequence[str], period: str) -> set[str]:
    done: set[str] = set()
    c = t.invoices.c
    for part in chunks(account_ids):
        query = select(c.account_id).where(c.account_id.in_(list(part)), c.period == period)
        done.update(connection.execute(query).scalars())
    return done


def open_buckets(connection: Connection, service_ids: Sequence[str]) -> list[Row[Any]]:
    """Every bucket not closed of these services (the callers pick the ones open at an instant)."""
    rows: list[Row[Any]] = []
    c = t.buckets.c
    for part in chunks(service_ids):
        query = select(t.buckets).where(c.service_id.in_(list(part)), c.closed_at.is_(None)).order_by(c.id)
        rows.extend(connection.execute(query))
    return rows


# --- opening cycles ------------------------------------------------------------------------------


def open_cycles(
    connection: Connection,
    wanted: Sequence[tuple[str, str, str, int]],
    templates: Sequence[CycleTemplate],
    now: datetime,
) -> None:
    """Open the cycles `wanted` ((service id, account id, period, template index) each) not open yet.

    Only the cycles inserted here get their recurring line (its `once_key` from `billing.cycles.recurring_key`,
    skipped if it exists) and their allowance bucket, as `billing.cycles._open_one` writes them. The ids and keys
    are made here, in the order of the cycles (service, period); PostgreSQL: one statement, the cycles,
    lines and buckets written on the server from the templates."""
    if not wanted:
        return
    planned = _planned(wanted)
    if connection.dialect.name != "postgresql":
        opened = insert_rows(
            connection,
            t.service_cycles,
            [{"service_id": p.service_id, "period": p.period, "opened_at": now} for p in planned],
            ignore_conflicts=True,
            returning=("service_id", "period"),
        )
        made = {(row.service_id, row.period) for row in opened}
        rows = [p for p in planned if (p.service_id, p.period) in made]
        insert_rows(
            connection,
            t.charges,
            [
                {
                    "id": p.charge_id,
                    "account_id": p.account_id,
                    "service_id": p.service_id,
                    "period": p.period,
                    "kind": templates[p.template].kind,
                    "description": templates[p.template].description,
                    "amount": templates[p.template].amount,
                    "currency": templates[p.template].currency,
                    "at": templates[p.template].at,
                    "change_request_id": None,
                    "once_key": p.once_key,
                }
                for p in rows
            ],
            ignore_conflicts=True,
        )
        insert_rows(
            connection,
            t.buckets,
            [
                {
                    "id": p.bucket_id,
                    "service_id": p.service_id,
                    "period": p.period,
                    "kind": "allowance",
                    "total_bytes": templates[p.template].total_bytes,
                    "used_bytes": 0,
                    "valid_from": templates[p.template].valid_from,
                    "valid_until": templates[p.template].valid_until,
                    "closed_at": None,
                    "source_ref": None,
                }
                for p in rows
            ],
        )
        return
    driver = driver_of(connection)
    with driver.cursor() as cursor:
        cursor.execute(
            _OPEN_CYCLES,
            {
                "service": [p.service_id for p in planned],
                "account": [p.account_id for p in planned],
                "period": [p.period for p in planned],
                "template": [p.template for p in planned],
                "charge_id": [p.charge_id for p in planned],
                "bucket_id": [p.bucket_id for p in planned],
                "once_key": [p.once_key for p in planned],
                "t_index": list(range(len(templates))),
                "t_kind": [x.kind for x in templates],
                "t_description": [x.description for x in templates],
                "t_amount": [x.amount for x in templates],
                "t_currency": [x.currency for x in templates],
                "t_at": [x.at for x in templates],
                "t_bytes": [x.total_bytes for x in templates],
                "t_from": [x.valid_from for x in templates],
                "t_until": [x.valid_until for x in templates],
                "now": now,
            },
        )


class _Planned(NamedTuple):
    service_id: str
    account_id: str
    period: str
    template: int
    charge_id: str
    bucket_id: str
    once_key: str


def _planned(wanted: Sequence[tuple[str, str, str, int]]) -> list[_Planned]:
    """Each cycle with the ids and once-key its line and bucket get if this call opens it (ids of cycles
    found open already are simply not used)."""
    ordered = sorted(set(wanted), key=itemgetter(0, 2))
    charges, buckets = new_ids("chg", len(ordered)), new_ids("bkt", len(ordered))
    return [
        _Planned(
            service_id, account_id, period, template, next(charges), next(buckets), recurring_key(service_id, period)
        )
        for service_id, account_id, period, template in ordered
    ]


_OPEN_CYCLES = """
WITH wanted AS (
    SELECT * FROM unnest(%(service)s::varchar[], %(account)s::varchar[], %(period)s::varchar[], %(template)s::int[],
                         %(charge_id)s::varchar[], %(bucket_id)s::varchar[], %(once_key)s::varchar[])
        AS w(service_id, account_id, period, template, charge_id, bucket_id, once_key)
), templates AS (
    SELECT * FROM unnest(%(t_index)s::int[], %(t_kind)s::varchar[], %(t_description)s::varchar[],
                         %(t_amount)s::numeric[], %(t_currency)s::varchar[], %(t_at)s::timestamptz[],
                         %(t_bytes)s::bigint[], %(t_from)s::timestamptz[], %(t_until)s::timestamptz[])
        AS t(template, kind, description, amount, currency, at, total_bytes, valid_from, valid_until)
), opened AS (
    INSERT INTO service_cycles (service_id, period, opened_at)
    SELECT service_id, period, %(now)s FROM wanted ORDER BY service_id, period
    ON CONFLICT DO NOTHING RETURNING service_id, period
), made AS (
    SELECT w.service_id, w.account_id, w.period, w.charge_id, w.bucket_id, w.once_key, t.*
    FROM opened o JOIN wanted w USING (service_id, period) JOIN templates t ON t.template = w.template
), charged AS (
    INSERT INTO charges (id, account_id, service_id, period, kind, description, amount, currency, at,
                         change_request_id, once_key)
    SELECT charge_id, account_id, service_id, period, kind, description, amount, currency, at, NULL, once_key
    FROM made ORDER BY charge_id
    ON CONFLICT DO NOTHING
)
INSERT INTO buckets (id, service_id, period, kind, total_bytes, used_bytes, valid_from, valid_until, closed_at,
                     source_ref)
SELECT bucket_id, service_id, period, 'allowance', total_bytes, 0, valid_from, valid_until, NULL, NULL
FROM made ORDER BY bucket_id
"""


# --- the invoice sequence -------------------------------------------------------------------------


def lock_invoice_years(connection: Connection, years: Iterable[int]) -> None:
    """Create and lock each year's sequence row (in year order): concurrent runs then take turns."""
    from bascule.persistence.statements import insert_ignoring_conflict

    for year in sorted(set(years)):
        insert_ignoring_conflict(connection, t.invoice_sequences, {"year": year, "last_number": 0})
        query = select(t.invoice_sequences.c.last_number).where(t.invoice_sequences.c.year == year)
        if connection.dialect.name == "postgresql":
            query = query.with_for_update()
        connection.execute(query)


def take_invoice_numbers(connection: Connection, year: int, count: int) -> int:
    """Take `count` consecutive numbers of the year; returns the first. They commit with the invoices."""
    s = t.invoice_sequences.c
    last = connection.execute(
        update(t.invoice_sequences)
        .where(s.year == year)
        .values(last_number=s.last_number + count)
        .returning(s.last_number)
    ).scalar_one()
    return int(last) - count + 1


# --- bucket draws and barring, many services at once -------------------------------------------


def set_bucket_usage(connection: Connection, changes: Sequence[tuple[str, int, int]]) -> None:
    """(bucket id, new used, previous used): set only where nobody moved it meanwhile, all or error."""
    if not changes:
        return
    if connection.dialect.name == "postgresql":
        result = connection.exec_driver_sql(
            "UPDATE buckets SET used_bytes = v.used FROM unnest(%s::varchar[], %s::bigint[], %s::bigint[]) "
            "AS v(id, used, previous) WHERE buckets.id = v.id AND buckets.used_bytes = v.previous",
            ([c[0] for c in changes], [c[1] for c in changes], [c[2] for c in changes]),
        )
        moved = result.rowcount
    else:
        moved = 0
        for bucket_id, used, previous in changes:
            moved += connection.execute(
                update(t.buckets)
                .where(t.buckets.c.id == bucket_id, t.buckets.c.used_bytes == previous)
                .values(used_bytes=used)
            ).rowcount
    if moved != len(changes):
        raise RuntimeError("a bucket changed under a locked service")


def add_to_charges(connection: Connection, rows: Sequence[Mapping[str, Any]]) -> None:
    """Grow the lines named by `once_key` by `amount` (made on first use): the bulk form of Charges.accumulate."""
    if not rows:
        return
    if connection.dialect.name == "postgresql":
        names = list(rows[0])
        arrays = tuple([row[name] for row in rows] for name in names)
        casts = ", ".join(f"%s::{_pg_type(connection, t.charges, name)}[]" for name in names)
        connection.exec_driver_sql(
            f"INSERT INTO charges ({', '.join(_quoted(n) for n in names)}) SELECT * FROM unnest({casts}) "  # noqa: S608
            "ON CONFLICT (once_key) DO UPDATE SET amount = charges.amount + excluded.amount, at = excluded.at",
            arrays,
        )
        return
    from bascule.kernel.money import Money
    from bascule.persistence.evolutions import Charges

    charges = Charges(connection)
    for row in rows:
        charges.accumulate(
            once_key=row["once_key"],
            account_id=row["account_id"],
            service_id=row["service_id"],
            period=row["period"],
            kind=row["kind"],
            description=row["description"],
            amount=Money(row["amount"], row["currency"]),
            at=row["at"],
        )


def audit_rows(rows: Iterable[Mapping[str, Any]]) -> list[dict[str, Any]]:
    """Audit events ready for `insert_rows(…, t.audit_events, …)`, as `Audit.record` writes them."""
    return [
        {
            "at": row["at"],
            "actor_kind": row["actor_kind"],
            "actor_id": row["actor_id"],
            "channel": row["channel"],
            "entity_kind": row["entity_kind"],
            "entity_id": row["entity_id"],
            "action": row["action"],
            "before": _jsonable(row.get("before")),
            "after": _jsonable(row.get("after")),
        }
        for row in rows
    ]
