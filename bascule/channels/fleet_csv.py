"""The fleet export, one format for every channel that offers it (the API's and the Centre's CSV)."""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable

from bascule.evolutions.services import ServiceView

CSV_HEADER = (
    "msisdn",
    "plan_id",
    "radio",
    "network",
    "apn",
    "status",
    "quota_used_bytes",
    "quota_total_bytes",
    "changes_left_this_month",
)


def csv_rows(views: Iterable[ServiceView], *, header: bool = False) -> str:
    """Lines of the fleet export (RFC 4180: CRLF, fields quoted only when they need it)."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\r\n")
    if header:
        writer.writerow(CSV_HEADER)
    writer.writerows(
        (
            view.service.msisdn,
            view.plan.id,
            view.plan.radio.value,
            view.service.network,
            view.service.apn,
            view.service.status.value,
            view.quota.used_bytes,
            view.quota.total_bytes,
            view.changes_left_this_month,
        )
        for view in views
    )
    return buffer.getvalue()
