"""Bulk seeding on the server side (INSERT … SELECT generate_series): the rows Bascule's use cases would write.

A service activated on the first day of a month, with its cycles opened, has exactly what
`bascule.billing.cycles._open_one` writes for each cycle: the cycle row, the recurring charge
(`once_key` recurring:<service>:<period>) and the allowance bucket; the amounts and wording come
from the domain's own `first_cycle_charge`.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from bascule.billing.cycles import first_cycle_charge
from bascule.catalog.loader import load
from bascule.evolutions.model import Service, ServiceStatus
from bascule.evolutions.rules import allowance_bytes
from bascule.kernel.calendar import Period, zone
from bench.common import Database

CATALOG = load(None)
TZ_NAME = CATALOG.b2b.timezone
TZ = zone(TZ_NAME)
# Ten slots: the share of each plan among the lines (i % 10).
PLAN_MIX = ["data-10go-4g"] * 4 + ["data-30go-4g"] * 2 + ["data-10go-5g"] * 2 + ["compteur-4g"] * 2


@dataclass(frozen=True)
class Lines:
    """Services svc_<tag><n> (n = 1..count) on MSISDNs +336<msisdn_base + n>, `per_account` per account."""

    tag: str
    count: int
    per_account: int
    msisdn_base: int

    def msisdn(self, n: int) -> str:
        return f"+336{self.msisdn_base + n:08d}"

    def service_id(self, n: int) -> str:
        return f"svc_{self.tag}{n:012d}"


def _case(values: list[str], expr: str = "i %% 10") -> str:
    arms = " ".join(f"WHEN {n} THEN {value}" for n, value in enumerate(values))
    return f"(CASE {expr} {arms} END)"


def _quote(value: object) -> str:
    return "'" + str(value).replace("'", "''") + "'"


def seed_lines(db: Database, lines: Lines, activated: Period, opened: list[Period]) -> None:
    """Accounts, services activated on `activated.first_day`, and the cycles of `opened` periods."""
    now = datetime.now(UTC)
    accounts = -(-lines.count // lines.per_account)
    plans = [CATALOG.plan(plan_id) for plan_id in PLAN_MIX]
    t = lines.tag
    with db.connect() as connection:
        connection.execute(
            f"INSERT INTO accounts (id, name, timezone, currency, created_at) "
            f"SELECT 'acc_{t}' || lpad(a::text, 12, '0'), 'Client {t} ' || a, %s, %s, %s "
            f"FROM generate_series(1, %s) a",
            (TZ_NAME, CATALOG.b2b.currency, now, accounts),
        )
        ceilings = [str(p.default_ceiling_bytes) if p.default_ceiling_bytes else "NULL" for p in plans]
        connection.execute(
            f"INSERT INTO services (id, account_id, msisdn, plan_id, network, apn, ceiling_bytes, status, "
            f"activated_on, created_at, version) "
            f"SELECT 'svc_{t}' || lpad(i::text, 12, '0'), "
            f"'acc_{t}' || lpad(((i - 1) / {lines.per_account} + 1)::text, 12, '0'), "
            f"'+336' || lpad(({lines.msisdn_base} + i)::text, 8, '0'), "
            f"{_case([_quote(p.id) for p in plans])}, %s, %s, {_case(ceilings)}, 'active', %s, %s, 1 "
            f"FROM generate_series(1, %s) i",
            (CATALOG.networks[0].id, CATALOG.apns[0].id, activated.first_day, now, lines.count),
        )
        for period in opened:
            _open_cycles(connection, lines, plans, activated, period, now)
        connection.execute("ANALYZE accounts, services, service_cycles, charges, buckets")


def _open_cycles(
    connection: object, lines: Lines, plans: list, activated: Period, period: Period, now: datetime
) -> None:
    t = lines.tag
    start, end = period.start_instant(TZ), period.end_instant(TZ)
    charges = [first_cycle_charge(plan, activated.first_day, period, CATALOG) for plan in plans]
    allowances = [
        str(
            allowance_bytes(
                plan,
                Service(
                    "x",
                    "x",
                    "x",
                    plan.id,
                    "x",
                    "x",
                    plan.default_ceiling_bytes,
                    ServiceStatus.ACTIVE,
                    activated.first_day,
                ),
            )
        )
        for plan in plans
    ]
    charge_at = max(start, min(now, end - timedelta(microseconds=1)))
    svc = f"'svc_{t}' || lpad(i::text, 12, '0')"
    acc = f"'acc_{t}' || lpad(((i - 1) / {lines.per_account} + 1)::text, 12, '0')"
    n = lines.count
    connection.execute(  # type: ignore[attr-defined]
        f"INSERT INTO service_cycles (service_id, period, opened_at) SELECT {svc}, %s, %s "
        f"FROM generate_series(1, %s) i",
        (str(period), now, n),
    )
    connection.execute(  # type: ignore[attr-defined]
        f"INSERT INTO charges (id, account_id, service_id, period, kind, description, amount, currency, at, "
        f"change_request_id, once_key) "
        f"SELECT 'chg_seed{t}{period}_' || i, {acc}, {svc}, %s, 'recurring', "
        f"{_case([_quote(c.description) for c in charges])}, {_case([str(c.amount.amount) for c in charges])}, "
        f"%s, %s, NULL, 'recurring:' || {svc} || ':{period}' FROM generate_series(1, %s) i",
        (str(period), CATALOG.b2b.currency, charge_at, n),
    )
    connection.execute(  # type: ignore[attr-defined]
        f"INSERT INTO buckets (id, service_id, period, kind, total_bytes, used_bytes, valid_from, valid_until, "
        f"closed_at, source_ref) "
        f"SELECT 'bkt_seed{t}{period}_' || i, {svc}, %s, 'allowance', {_case(allowances)}, 0, %s, %s, NULL, NULL "
        f"FROM generate_series(1, %s) i",
        (str(period), start, end, n),
    )


def seed_subscribers(db: Database, count: int, msisdn_base: int, profile_id: str = "novamix") -> list[str]:
    """Prepaid subscribers on +225<msisdn_base + n>, with credit, on a profile without condition."""
    now = datetime.now(UTC)
    with db.connect() as connection:
        connection.execute(
            "INSERT INTO prepaid_subscribers (msisdn, profile_id, timezone, currency, balance_minor, created_at, "
            "version) SELECT '+22507' || lpad((%s + i)::text, 8, '0'), %s, %s, %s, 100000, %s, 1 "
            "FROM generate_series(1, %s) i",
            (msisdn_base, profile_id, CATALOG.prepaid.timezone, CATALOG.prepaid.currency, now, count),
        )
        connection.execute("ANALYZE prepaid_subscribers")
    return [f"+22507{msisdn_base + n:08d}" for n in range(1, count + 1)]
