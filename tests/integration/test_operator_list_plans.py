"""The back office's lists read their pages off an index, in the index's order: no table scan, and no sort of
every matching row, however many there are (asked of the database's own planner, on SQLite and PostgreSQL)."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from sqlalchemy import text

from bascule.operations.lists import AuditFilter, RequestFilter
from bascule.persistence.operator_lists import audit_query, changes_query, migrations_query

AFTER = (datetime(2026, 6, 1, tzinfo=UTC), "chr_0661")
DAY = {"since": datetime(2026, 6, 1, tzinfo=UTC), "until": datetime(2026, 6, 2, tzinfo=UTC)}

# query, the index it reads, whether the index gives the order (PostgreSQL's planner prefers a sort of what it
# thinks is a handful of rows in an empty table unless a filter narrows the index: those are checked on SQLite)
PLANS = {
    "every request": (changes_query(RequestFilter(), AFTER, 51), "ix_change_requests_created_id", False),
    "by status": (
        changes_query(RequestFilter(status="cancelled"), AFTER, 51),
        "ix_change_requests_status_created_id",
        True,
    ),
    "by account": (
        changes_query(RequestFilter(account_id="acc_1"), AFTER, 51),
        "ix_change_requests_account_created_id",
        True,
    ),
    "by line": (
        changes_query(RequestFilter(msisdn="+33612345678"), AFTER, 51),
        "ix_change_requests_service_created_id",
        True,
    ),
    "every migration": (migrations_query(RequestFilter(), AFTER, 51), "ix_prepaid_migrations_at_id", False),
    "a line's migrations": (
        migrations_query(RequestFilter(msisdn="+2250701234567"), AFTER, 51),
        "ix_prepaid_migrations_msisdn_at_id",
        True,
    ),
    "by who": (audit_query(AuditFilter(actor_id="stf_1"), 1000, 51), "ix_audit_actor_id", True),
    "by customer": (audit_query(AuditFilter(customer_id="acc_1"), 1000, 51), "ix_audit_customer_id", True),
    "by dates": (audit_query(AuditFilter(**DAY), None, 51), "ix_audit_at", None),  # sorts that range's rows
}


@pytest.mark.parametrize("name", list(PLANS))
def test_each_list_reads_its_index(ctx, name):
    query, index, ordered = PLANS[name]
    with ctx.engine.connect() as connection:
        postgres = connection.dialect.name == "postgresql"
        if postgres:
            connection.execute(text("SET enable_seqscan = off"))
        sql = str(query.compile(dialect=connection.dialect, compile_kwargs={"literal_binds": True}))
        plan = " | ".join(
            str(row[-1]) for row in connection.execute(text(("EXPLAIN " if postgres else "EXPLAIN QUERY PLAN ") + sql))
        )
    assert index in plan, plan
    if ordered is None:
        return
    if postgres:
        if ordered:
            assert "Sort" not in plan, plan
    else:
        assert "TEMP B-TREE" not in plan, plan
