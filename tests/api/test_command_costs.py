"""What a change and a profile migration cost through the API, counted (issue 13's target for a change: at most 16
statements in 3 transactions). On PostgreSQL, the rows nobody reads back in their transaction (a new request, a
charge, audit rows, notices, jobs, a migration's record) go in one statement (`compiled.insert_together`), with
the command's Idempotency-Key when it has one, or its final answer once the networks answered
(`UnitOfWork.hold_writes`); SQLite writes them one table at a time."""

from __future__ import annotations

from typing import Any

import httpx
import pytest
from sqlalchemy import Engine

from bascule.persistence import identity
from tests.api.helpers import OPERATOR, make_customer, make_service, ok, set_clock
from tests.api.prepaid_helpers import consume, make_subscriber, money, problem, profile_needing, recharge
from tests.support.sql import statements


def _change(http: httpx.Client, engine: Engine, service: dict[str, Any], tag: str) -> tuple[list[str], str]:
    """Create and confirm a 4G → 5G change, each with an Idempotency-Key, as the bench does: the statements the
    server sent (less the catalogue's stamp check, made once a second whatever the request), and the state the
    confirmation answered (its inline completion is written before the answer)."""
    with statements(engine) as sent:
        created = ok(
            http.post(
                f"/api/v1/services/{service['id']}/change-requests",
                json={"changes": {"radio": "5G"}},
                headers={**OPERATOR, "Idempotency-Key": f"{tag}-create"},
            ),
            201,
        )
        confirmed = ok(
            http.post(
                f"/api/v1/change-requests/{created['id']}/confirm",
                json={},
                headers={**OPERATOR, "Idempotency-Key": f"{tag}-confirm"},
            )
        )
    return [sql for sql in sent if "catalog_stamp" not in sql], confirmed["status"]


@pytest.mark.parametrize(("with_manager", "on_sqlite", "on_postgresql"), [(False, 16, 6), (True, 18, 6)])
def test_a_change_costs_sixteen_statements_on_sqlite_and_one_more_per_notice_six_on_postgresql_with_notices(
    http, ctx, with_manager, on_sqlite, on_postgresql
):
    if with_manager:  # told "confirmée", then "appliquée"
        account_id = make_customer(http).account_id
    else:
        account_id = ok(http.post("/api/v1/admin/accounts", json={"name": "Sans gestionnaire"}, headers=OPERATOR), 201)[
            "id"
        ]
    first, second = (make_service(http, account_id, msisdn=f"+3361234567{n}") for n in (1, 2))
    _change(http, ctx.engine, first, "warm")  # the statements are prepared
    identity._KNOWN_ACCOUNTS.clear()  # as in a fleet of thousands of accounts: this one is new to the process
    sent, status = _change(http, ctx.engine, second, "counted")
    assert status == "completed"
    assert len(sent) == (on_postgresql if ctx.engine.dialect.name == "postgresql" else on_sqlite)
    assert sum("insert into notifications" in sql.lower() for sql in sent) == (  # alone, or with others
        2 if with_manager else 0
    )


_LEDGER_ALONE = "SELECT coalesce(sum(prepaid_ledger.amount_minor)"  # `Ledger.consumed_minor`


def _migrate(http: httpx.Client, engine: Engine, msisdn: str, profile_id: str) -> tuple[httpx.Response, list[str]]:
    """A migration as the bench asks it (operator token, an Idempotency-Key) and the statements it cost, less the
    catalogue's stamp check."""
    with statements(engine) as sent:
        answer = http.post(
            f"/api/v1/subscribers/{msisdn}/profile-migrations",
            json={"profile_id": profile_id},
            headers={**OPERATOR, "Idempotency-Key": f"migrate-{msisdn}"},
        )
    return answer, [sql for sql in sent if "catalog_stamp" not in sql]


@pytest.mark.parametrize(
    ("now", "consumed_at", "eligible_in"),
    [
        (None, "2026-05-31T23:30:00+00:00", "Africa/Abidjan"),  # 31 May in Abidjan; 1 June, 08:30, in Tokyo
        (None, "2026-04-30T23:30:00+00:00", "Asia/Tokyo"),  # 30 April in Abidjan; 1 May, 08:30, in Tokyo
        ("2026-05-31T23:30:00+00:00", "2026-05-15T12:00:00+00:00", "Asia/Tokyo"),  # last month: April in Abidjan
    ],
)
def test_a_migration_costs_two_statements_on_postgresql_eight_on_sqlite_and_one_more_in_another_zone(
    http, ctx, now, consumed_at, eligible_in
):
    """The subscriber and last month's consumption come in one read, the month taken in the catalogue's zone
    (Abidjan, UTC); a subscriber in Tokyo (UTC+9) has the consumption of its own month read again. 2 500 F CFA
    consumed open Tigre in the one zone whose last month holds them; the other is refused and nothing changes.
    Counted: all statements, and those that read the ledger alone. On PostgreSQL the month's slot, the profile, the
    migration's record, its job, its SMS, its audit row and its Idempotency-Key are one statement; on SQLite the
    slot and the profile are two, the rest five."""
    on_postgresql = ctx.engine.dialect.name == "postgresql"
    moved = 0 if on_postgresql else 2  # the month's slot and the profile, with the rest on PostgreSQL
    written = 1 if on_postgresql else 5
    assert ctx.catalog.prepaid.timezone == "Africa/Abidjan"
    if now:
        set_clock(http, now)
    tigre = profile_needing(http, "2500")["id"]
    costs = {}
    for msisdn, zone in (("+2250701020304", "Africa/Abidjan"), ("+2250701020305", "Asia/Tokyo")):
        make_subscriber(http, msisdn, profile_needing(http, None)["id"], None if zone == "Africa/Abidjan" else zone)
        recharge(http, msisdn, 3000, "2026-04-01T08:00:00+00:00")
        consume(http, msisdn, 2500, consumed_at)
        answer, sent = _migrate(http, ctx.engine, msisdn, tigre)
        costs[zone] = (len(sent), sum(sql.startswith(_LEDGER_ALONE) for sql in sent))
        subscriber = ok(http.get(f"/api/v1/subscribers/{msisdn}", headers=OPERATOR))
        assert subscriber["timezone"] == zone
        if zone == eligible_in:
            assert ok(answer, 201)["to_profile_id"] == tigre
            assert (subscriber["profile_id"], subscriber["migrations_left_this_month"]) == (tigre, 2)
        else:
            body = problem(answer, 422, "not-eligible")
            assert (body["required"], body["consumed"]) == (money("2500"), money("0"))
            assert subscriber["migrations_left_this_month"] == 3
            assert ok(http.get(f"/api/v1/subscribers/{msisdn}/profile-migrations", headers=OPERATOR)) == []
    # A refusal sends the migration's reads, then the Idempotency-Key's look-up and record of the refusal.
    if eligible_in == "Africa/Abidjan":
        assert costs == {"Africa/Abidjan": (1 + moved + written, 0), "Asia/Tokyo": (4, 1)}
    else:
        assert costs == {"Africa/Abidjan": (3, 0), "Asia/Tokyo": (2 + moved + written, 1)}


def _read(http: httpx.Client, engine: Engine, path: str) -> tuple[Any, int]:
    """A subscriber's screen read by the operator, and the statements it cost (less the catalogue's stamp check)."""
    with statements(engine) as sent:
        answer = ok(http.get(path, headers=OPERATOR))
    return answer, sum("catalog_stamp" not in sql for sql in sent)


def test_a_subscribers_summary_and_options_cost_one_statement_fewer_in_the_catalogues_zone(http, ctx):
    """The summary (balance, bonuses, last month's consumption, changes left) and the profile options read the
    subscriber with its balance and standing in one statement (the summary with its live bonuses), the months taken
    in the catalogue's zone; a subscriber in Tokyo has its standing read again in its own. 2 500 F CFA consumed at
    23:30 UTC on 31 May are May's in Abidjan and June's in Tokyo: on 16 June, each screen shows the consumption of
    its own zone."""
    set_clock(http, "2026-06-16T09:00:00+00:00")
    tigre = profile_needing(http, "2500")["id"]
    seen = {}
    for msisdn, zone in (("+2250701020304", "Africa/Abidjan"), ("+2250701020305", "Asia/Tokyo")):
        make_subscriber(http, msisdn, profile_needing(http, None)["id"], None if zone == "Africa/Abidjan" else zone)
        recharge(http, msisdn, 3000, "2026-04-01T08:00:00+00:00")
        consume(http, msisdn, 2500, "2026-05-31T23:30:00+00:00")
        summary, summary_cost = _read(http, ctx.engine, f"/api/v1/subscribers/{msisdn}")
        options, options_cost = _read(http, ctx.engine, f"/api/v1/subscribers/{msisdn}/profile-options")
        eligible = {option["profile_id"]: option["eligible"] for option in options}[tigre]
        seen[zone] = (
            summary["balance"],
            summary["last_month"],
            summary["consumption_last_month"],
            summary["migrations_left_this_month"],
            eligible,
            summary_cost,
            options_cost,
        )
    assert seen == {
        "Africa/Abidjan": (money("500"), "2026-05", money("2500"), 3, True, 1, 1),
        "Asia/Tokyo": (money("500"), "2026-05", money("0"), 3, False, 2, 2),
    }
