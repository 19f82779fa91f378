"""The polls of the provisioning jobs and of the outbox (each a claim: one UPDATE of the due rows a subquery
picks) keep to their partial indexes on PostgreSQL even when the server plans them once for every execution
(a generic plan, which a prepared statement may switch to): the statuses they wait for are written into the SQL,
where the planner can prove the index's predicate."""

from __future__ import annotations

import psycopg
import pytest

from bascule.persistence import compiled
from bascule.persistence.jobs import _CLAIM as CLAIM_JOBS
from bascule.persistence.outbox import _CLAIM as CLAIM_NOTIFICATIONS

_FINISHED_JOBS = """
INSERT INTO provisioning_jobs (id, subject_kind, subject_id, network, operation, payload, status, attempts,
                               max_attempts, next_attempt_at, created_at, finished_at)
SELECT 'job_done_' || g, 'service', 'svc_' || g, 'orange', 'update_radio', '{}', 'succeeded', 1, 5,
       now() - interval '1 day', now() - interval '1 day', now() - interval '1 day'
FROM generate_series(1, 20000) AS g
"""
_SENT_NOTIFICATIONS = """
INSERT INTO notifications (id, channel, "to", body, created_at, status, attempts, sent_at)
SELECT 'ntf_sent_' || g, 'sms', '+33600000000', 'Votre profil est maintenant Dauphin.', now() - interval '1 day',
       'sent', 1, now() - interval '1 day'
FROM generate_series(1, 20000) AS g
"""


def _generic_plan(url: str, statement: object, keys: tuple[str, ...], arguments: str) -> str:
    """EXPLAIN of `statement` as Bascule sends it, prepared and planned once for all executions (not run)."""
    plan = compiled._plannable(statement, _dialect(), keys)
    assert plan is not None
    sql = plan.sql
    for number, name in enumerate(plan.names, 1):
        sql = sql.replace(f"%({name})s", f"${number}")
    with psycopg.connect(url) as connection:
        connection.execute("SET plan_cache_mode = force_generic_plan")
        connection.execute(f"PREPARE poll AS {sql}")
        return "\n".join(row[0] for row in connection.execute(f"EXPLAIN EXECUTE poll({arguments})"))


def _dialect():
    from sqlalchemy.dialects.postgresql.psycopg import PGDialect_psycopg

    return PGDialect_psycopg()


@pytest.fixture
def busy_tables(ctx, database_url: str) -> str:
    if ctx.engine.dialect.name != "postgresql":
        pytest.skip("PostgreSQL only: SQLite has no prepared plans to share")
    url = database_url.replace("postgresql+psycopg://", "postgresql://", 1)
    with psycopg.connect(url, autocommit=True) as connection:
        connection.execute(_FINISHED_JOBS)
        connection.execute(_SENT_NOTIFICATIONS)
        connection.execute("ANALYZE provisioning_jobs")
        connection.execute("ANALYZE notifications")
    return url


def test_the_jobs_poll_reads_the_waiting_jobs_by_their_partial_index_in_a_generic_plan(busy_tables: str) -> None:
    keys = ("now", "limit", "worker", "locked_until")
    arguments = "'running', 1, 'w1', now(), 'succeeded', now(), 10"  # in the order of the statement's parameters
    explained = _generic_plan(busy_tables, CLAIM_JOBS[(True, False)], keys, arguments)
    assert "ix_provisioning_jobs_waiting" in explained, explained
    assert "Seq Scan on provisioning_jobs " not in explained, explained


def test_the_outbox_poll_reads_the_unsent_rows_by_their_partial_index_in_a_generic_plan(busy_tables: str) -> None:
    arguments = "1, now(), now(), 100, 'pending'"
    explained = _generic_plan(busy_tables, CLAIM_NOTIFICATIONS[True], ("now", "batch", "lease_until"), arguments)
    assert "ix_notifications_unsent" in explained, explained
    assert "Seq Scan on notifications" not in explained, explained
