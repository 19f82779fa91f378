"""A bill run killed with SIGKILL half-way is finished by the next run: no duplicate, no gap."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from datetime import date

import pytest
from sqlalchemy import func, select

from bascule.evolutions.services import create_service
from bascule.identity.model import OPERATOR, Channel
from bascule.identity.usecases import create_account
from bascule.persistence import tables as t

ACCOUNTS = 200


def _invoice_count(ctx) -> int:
    with ctx.engine.connect() as connection:
        return int(connection.execute(select(func.count()).select_from(t.invoices)).scalar_one())


def _bill_run(settings, output: int) -> subprocess.Popen[bytes]:
    env = os.environ | {"BASCULE_DATABASE_URL": settings.database_url}
    return subprocess.Popen(
        [sys.executable, "-m", "bascule", "bill-run", "--period", "2026-06"], env=env, stdout=output, stderr=output
    )


@pytest.mark.slow
def test_a_bill_run_killed_mid_way_is_completed_exactly_by_the_next(ctx, settings):
    plan = next(p for p in ctx.catalog.plans if p.price.amount == 6 and p.data_bytes == 10 * 1024**3)
    for n in range(ACCOUNTS):
        account = create_account(ctx, OPERATOR, Channel.CLI, f"Client {n:03d}", None)
        create_service(
            ctx,
            OPERATOR,
            Channel.CLI,
            account_id=account.id,
            plan_id=plan.id,
            network=ctx.catalog.networks[0].id,
            apn=ctx.catalog.apns[0].id,
            msisdn=f"+33700{n:06d}",
            activated_on=date(2026, 6, 1),
        )

    first = _bill_run(settings, subprocess.DEVNULL)
    deadline = time.monotonic() + 120
    while _invoice_count(ctx) < 20 and time.monotonic() < deadline and first.poll() is None:
        time.sleep(0.005)
    first.send_signal(signal.SIGKILL)
    first.wait(timeout=30)
    at_kill = _invoice_count(ctx)
    assert first.returncode == -signal.SIGKILL
    assert 20 <= at_kill < ACCOUNTS

    second = _bill_run(settings, subprocess.PIPE)
    out, err = second.communicate(timeout=300)
    assert second.returncode == 0, err.decode()
    assert f"{ACCOUNTS - at_kill} factures émises, {at_kill} déjà émises" in out.decode()

    with ctx.engine.connect() as connection:
        rows = connection.execute(select(t.invoices.c.account_id, t.invoices.c.number, t.invoices.c.total)).all()
    year = rows[0].number[:4]
    assert sorted(row.number for row in rows) == [f"{year}-{n:06d}" for n in range(1, ACCOUNTS + 1)]
    assert len({row.account_id for row in rows}) == ACCOUNTS
    assert {str(row.total).rstrip("0").rstrip(".") for row in rows} == {"6"}
