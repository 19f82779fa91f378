"""`bascule usage import`: CSV and Parquet, deduplicated by record id, drawing buckets as the API does."""

from __future__ import annotations

import csv
import os
import subprocess
import sys
from datetime import date
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from bascule.evolutions.services import create_service, get_service
from bascule.identity.model import OPERATOR, Channel
from bascule.identity.usecases import create_account

GIB = 1024**3
MIB = 1024**2


def _lines(ctx) -> dict[str, str]:
    account = create_account(ctx, OPERATOR, Channel.CLI, "Import Exemple", None)
    bundle = next(p for p in ctx.catalog.plans if p.data_bytes == 10 * GIB and p.price.amount == 6)
    metered = next(p for p in ctx.catalog.plans if p.kind.value == "metered" and p.radio.value == "4G")
    made = {}
    for msisdn, plan in (("+33611000001", bundle), ("+33611000002", metered)):
        view = create_service(
            ctx,
            OPERATOR,
            Channel.CLI,
            account_id=account.id,
            plan_id=plan.id,
            network=ctx.catalog.networks[0].id,
            apn=ctx.catalog.apns[0].id,
            msisdn=msisdn,
            activated_on=date(2026, 6, 1),
        )
        made[msisdn] = view.service.id
    return made


RECORDS = [
    ("r1", "+33611000001", 2 * GIB, "2026-06-10T10:00:00+02:00"),
    ("r2", "+33611000001", 1 * GIB, "2026-06-12T23:30:00+02:00"),
    ("r2", "+33611000001", 1 * GIB, "2026-06-12T23:30:00+02:00"),  # the same record twice in the file
    ("r3", "+33611000002", 250 * MIB, "2026-06-11T08:00:00+02:00"),
    ("r4", "+33699999999", 5 * GIB, "2026-06-11T08:00:00+02:00"),  # no such line
]


def _write_csv(path: Path) -> Path:
    with path.open("w", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(["record_id", "msisdn", "bytes", "at"])
        writer.writerows(RECORDS)
    return path


def _write_parquet(path: Path) -> Path:
    columns = list(zip(*RECORDS, strict=True))
    table = pa.table(
        {"record_id": columns[0], "msisdn": columns[1], "bytes": pa.array(columns[2], pa.int64()), "at": columns[3]}
    )
    pq.write_table(table, path)
    return path


def _import(settings, path: Path) -> str:
    env = os.environ | {"BASCULE_DATABASE_URL": settings.database_url}
    done = subprocess.run(
        [sys.executable, "-m", "bascule", "usage", "import", str(path)],
        env=env,
        capture_output=True,
        timeout=120,
        check=False,
    )
    assert done.returncode == 0, done.stderr.decode()
    return done.stdout.decode().strip()


@pytest.mark.parametrize("writer", [_write_csv, _write_parquet], ids=["csv", "parquet"])
def test_an_import_draws_each_record_once_and_a_reimport_changes_nothing(ctx, settings, tmp_path, writer):
    services = _lines(ctx)
    path = writer(tmp_path / ("usage.csv" if writer is _write_csv else "usage.parquet"))

    first = _import(settings, path)
    again = _import(settings, path)

    assert first == "4 enregistrements lus, 3 nouveaux, 0 déjà reçus, 1 sur une ligne inconnue, 2 services mis à jour."
    assert again == "4 enregistrements lus, 0 nouveaux, 3 déjà reçus, 1 sur une ligne inconnue, 0 services mis à jour."
    bundle = get_service(ctx, OPERATOR, services["+33611000001"])
    metered = get_service(ctx, OPERATOR, services["+33611000002"])
    assert (bundle.quota.total_bytes, bundle.quota.used_bytes) == (10 * GIB, 3 * GIB)
    assert metered.quota.used_bytes == 250 * MIB


def test_a_file_without_the_needed_columns_is_refused(ctx, settings, tmp_path):
    path = tmp_path / "bad.csv"
    path.write_text("id,msisdn\n1,+33611000001\n")
    env = os.environ | {"BASCULE_DATABASE_URL": settings.database_url}
    done = subprocess.run(
        [sys.executable, "-m", "bascule", "usage", "import", str(path)],
        env=env,
        capture_output=True,
        timeout=120,
        check=False,
    )
    assert done.returncode == 1
    assert "bad.csv: missing columns ['record_id', 'bytes', 'at']" in done.stderr.decode()


# Each line's records, in the account's zone (Europe/Paris). Those at 00:10 and 00:30 on 1 July are July's
# in Paris and still 30 June in UTC: the month a record counts in is the account's, whoever sums it.
LINE_RECORDS = {
    "bundle": [
        (3 * GIB, "2026-06-10T10:00:00+02:00"),
        (4 * GIB, "2026-06-20T12:00:00+02:00"),
        (4 * GIB, "2026-06-30T23:30:00+02:00"),
        (1 * GIB, "2026-07-01T00:30:00+02:00"),
    ],
    "metered": [
        (250 * MIB, "2026-06-11T08:00:00+02:00"),
        (120 * MIB, "2026-06-30T23:59:00+02:00"),
        (300 * MIB, "2026-07-01T00:10:00+02:00"),
    ],
}


def _twin_lines(ctx, name: str, first_msisdn: int) -> dict[str, str]:
    account = create_account(ctx, OPERATOR, Channel.CLI, name, None)
    plans = {
        "bundle": next(p for p in ctx.catalog.plans if p.data_bytes == 10 * GIB and p.price.amount == 6),
        "metered": next(p for p in ctx.catalog.plans if p.kind.value == "metered" and p.radio.value == "4G"),
    }
    return {
        kind: create_service(
            ctx,
            OPERATOR,
            Channel.CLI,
            account_id=account.id,
            plan_id=plan.id,
            network=ctx.catalog.networks[0].id,
            apn=ctx.catalog.apns[0].id,
            msisdn=f"+336110{first_msisdn + n:05d}",
            activated_on=date(2026, 6, 1),
        ).service.id
        for n, (kind, plan) in enumerate(plans.items())
    }


def _what_the_customer_sees(ctx, service_ids: dict[str, str]) -> dict[str, object]:
    from bascule.billing.usecases import account_charges
    from bascule.kernel.calendar import Period

    seen: dict[str, object] = {}
    for kind, service_id in service_ids.items():
        view = get_service(ctx, OPERATOR, service_id)
        seen[kind] = (view.service.status.value, view.quota.total_bytes, view.quota.used_bytes)
    account_id = get_service(ctx, OPERATOR, service_ids["bundle"]).service.account_id
    kinds = {service_id: kind for kind, service_id in service_ids.items()}
    for period in ("2026-06", "2026-07"):
        statement = account_charges(ctx, OPERATOR, account_id, Period.parse(period))
        seen[period] = sorted(
            (kinds[line.service_id], line.kind, line.description, str(line.amount.amount)) for line in statement.lines
        )
    return seen


@pytest.mark.parametrize("batch_rows", [200_000, 2], ids=["one-batch", "batches-written-side-by-side"])
def test_the_import_draws_and_charges_exactly_as_records_sent_one_by_one_across_the_month_end(
    ctx, clock, tmp_path, batch_rows
):
    from datetime import datetime

    from bascule.evolutions.services import record_usage
    from bascule.usage.files import read_batches
    from bascule.usage.importer import import_usage

    clock.set(datetime.fromisoformat("2026-07-05T12:00:00+02:00"))
    imported = _twin_lines(ctx, "Par fichier", 1)
    one_by_one = _twin_lines(ctx, "Un par un", 11)
    rows = []
    for kind, records in LINE_RECORDS.items():
        with ctx.uow(write=False) as uow:
            msisdn = uow.services.get(imported[kind]).msisdn
        for n, (used, at) in enumerate(records):
            rows.append((f"{kind}-{n}", msisdn, used, at))
            record_usage(
                ctx, OPERATOR, Channel.API, one_by_one[kind], used, datetime.fromisoformat(at), f"api-{kind}-{n}"
            )
    path = tmp_path / "usage.csv"
    with path.open("w", newline="") as handle:
        csv.writer(handle).writerows([("record_id", "msisdn", "bytes", "at"), *rows])

    report = import_usage(ctx, OPERATOR, Channel.CLI, read_batches(path, batch_rows))

    assert (report.read, report.new, report.repeated) == (7, 7, 0)
    by_file, by_api = _what_the_customer_sees(ctx, imported), _what_the_customer_sees(ctx, one_by_one)
    assert by_file == by_api
    # What both say: June's bundle used up (its last GiB refused), July's first GiB drawn from July's allowance;
    # the metered line billed per started 100 MiB in the month of each record in Paris (370 MiB: 4, 300 MiB: 3).
    assert by_file["bundle"] == ("active", 10 * GIB, 1 * GIB)
    assert by_file["metered"] == ("active", 5 * GIB, 300 * MIB)
    assert by_file["2026-06"] == [
        ("bundle", "recurring", "Data Mobile 10 Go 4G, juin 2026", "6.00"),
        ("metered", "recurring", "Data Mobile au Compteur 4G, juin 2026", "2.00"),
        ("metered", "usage", "Consommation au compteur, juin 2026", "0.80"),
    ]
    assert by_file["2026-07"] == [
        ("bundle", "recurring", "Data Mobile 10 Go 4G, juillet 2026", "6.00"),
        ("metered", "recurring", "Data Mobile au Compteur 4G, juillet 2026", "2.00"),
        ("metered", "usage", "Consommation au compteur, juillet 2026", "0.60"),
    ]
