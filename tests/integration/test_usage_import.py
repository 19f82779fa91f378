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
        view = create_service(ctx, OPERATOR, Channel.CLI, account_id=account.id, plan_id=plan.id,
                              network=ctx.catalog.networks[0].id, apn=ctx.catalog.apns[0].id, msisdn=msisdn,
                              activated_on=date(2026, 6, 1))
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
    table = pa.table({"record_id": columns[0], "msisdn": columns[1], "bytes": pa.array(columns[2], pa.int64()),
                      "at": columns[3]})
    pq.write_table(table, path)
    return path


def _import(settings, path: Path) -> str:
    env = os.environ | {"BASCULE_DATABASE_URL": settings.database_url}
    done = subprocess.run([sys.executable, "-m", "bascule", "usage", "import", str(path)], env=env,
                          capture_output=True, timeout=120, check=False)
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
    done = subprocess.run([sys.executable, "-m", "bascule", "usage", "import", str(path)], env=env,
                          capture_output=True, timeout=120, check=False)
    assert done.returncode == 1
    assert "bad.csv: missing columns ['record_id', 'bytes', 'at']" in done.stderr.decode()
