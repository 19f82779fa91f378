"""The lists an operator works from: every change request and profile migration, the audit log, the failed
provisioning jobs. Filters in the query string, pages by keyset cursor, the same filters exported as CSV.

The audit reads as people write it: who (a staff member's name, a user's e-mail), on whose behalf (the
account's name or the line), and what changed, before → after, in French.
"""

from __future__ import annotations

import csv
import io
import re
from collections.abc import Iterator, Mapping
from datetime import date, datetime, time, timedelta
from typing import Any, TypeVar
from urllib.parse import urlencode
from zoneinfo import ZoneInfo

from fastapi import APIRouter, Depends, Request
from fastapi.responses import Response, StreamingResponse

from bascule.audit.ports import AuditEvent
from bascule.channels.portal.backoffice import PREFIX, operator
from bascule.channels.portal.backoffice_audit import Reader, actor_label, catalog_name, readable
from bascule.channels.portal.web import PortalRoute, ctx_of, render
from bascule.context import Context
from bascule.identity.model import Principal
from bascule.kernel.calendar import zone
from bascule.kernel.errors import DomainError, ErrorCode
from bascule.operations.lists import (
    PAGE_SIZE as JOBS_PAGE,  # also the lists' page size when none is asked for
)
from bascule.operations.lists import (
    AuditFilter,
    RequestFilter,
    RequestKind,
    RequestRow,
    after_request,
    keyset_cursor,
)
from bascule.operations.usecases import Names, audit_page, every_event, every_request, names_of, requests_page
from bascule.provisioning.retries import failed_jobs

T = TypeVar("T")
router = APIRouter(prefix=PREFIX, route_class=PortalRoute, include_in_schema=False)

# ---------------------------------------------------------------- filters from the query string


def _clean(value: str | None) -> str | None:
    return value.strip() or None if value else None


def _day_bounds(since: str | None, until: str | None, tz: ZoneInfo) -> tuple[datetime | None, datetime | None]:
    """`du` and `au` are days in the operator's zone, both included."""

    def start(text: str | None) -> datetime | None:
        if not text:
            return None
        try:
            return datetime.combine(date.fromisoformat(text), time(), tz)
        except ValueError:
            raise DomainError(ErrorCode.VALIDATION_ERROR, "Dates : indiquez des jours au format AAAA-MM-JJ.") from None

    last = start(until)
    return start(since), last + timedelta(days=1) if last else None


def request_filter(ctx: Context, query: Mapping[str, str]) -> RequestFilter:
    since, until = _day_bounds(_clean(query.get("du")), _clean(query.get("au")), zone(ctx.catalog.b2b.timezone))
    kind = _clean(query.get("type"))
    if kind is not None and kind not in {k.value for k in RequestKind}:
        raise DomainError(ErrorCode.VALIDATION_ERROR, "Type : évolution ou migration.")
    return RequestFilter(
        kind=RequestKind(kind) if kind else None,
        status=_clean(query.get("statut")),
        channel=_clean(query.get("canal")),
        account_id=_clean(query.get("compte")),
        msisdn=_clean(query.get("ligne")),
        since=since,
        until=until,
    )


def audit_filter(ctx: Context, query: Mapping[str, str]) -> AuditFilter:
    since, until = _day_bounds(_clean(query.get("du")), _clean(query.get("au")), zone(ctx.catalog.b2b.timezone))
    return AuditFilter(
        actor_id=_clean(query.get("qui")),
        customer_id=_clean(query.get("client")),
        action=_clean(query.get("action")),
        channel=_clean(query.get("canal")),
        since=since,
        until=until,
    )


FILTER_KEYS = {
    "demandes": ("type", "statut", "canal", "compte", "ligne", "du", "au", "taille"),
    "audit": ("qui", "client", "action", "canal", "du", "au", "taille"),
}
MAX_PAGE = 200


def _size(request: Request) -> int:
    """Rows a page: `taille`, 1 to 200 (50 when not given)."""
    text = request.query_params.get("taille", "").strip()
    if not text:
        return JOBS_PAGE
    if not text.isdigit() or not 1 <= int(text) <= MAX_PAGE:
        raise DomainError(ErrorCode.VALIDATION_ERROR, f"Taille de page : un nombre de 1 à {MAX_PAGE}.")
    return int(text)


def _kept(request: Request, which: str) -> dict[str, str]:
    return {key: value for key in FILTER_KEYS[which] if (value := request.query_params.get(key, "").strip())}


def _next_link(path: str, kept: dict[str, str], cursor: str | None) -> str | None:
    return None if cursor is None else f"{path}?{urlencode({**kept, 'apres': cursor})}"


# ---------------------------------------------------------------- requests and migrations


@router.get("/demandes")
def requests_list(request: Request, actor: Principal = Depends(operator)) -> Response:
    ctx = ctx_of(request)
    wanted = request_filter(ctx, request.query_params)
    page = requests_page(ctx, actor, wanted, _clean(request.query_params.get("apres")), _size(request))
    kept = _kept(request, "demandes")
    names = _names_of_rows(ctx, page.rows)
    return render(
        request,
        "backoffice/requests.html",
        rows=page.rows,
        values=kept,
        accounts=names.accounts,
        next_link=_next_link(f"{PREFIX}/demandes", kept, page.next_cursor),
        export=f"{PREFIX}/demandes.csv" + (f"?{urlencode(kept)}" if kept else ""),
        describe=lambda row: describe(ctx, row),
        author=lambda row: actor_label(row.actor_kind, row.actor_id, names),
        tz=zone(ctx.catalog.b2b.timezone),
    )


def _names_of_rows(ctx: Context, rows: list[RequestRow]) -> Names:
    return names_of(
        ctx,
        {row.account_id for row in rows if row.account_id},
        {row.actor_id for row in rows if row.actor_kind == "user"},
        {row.actor_id for row in rows if row.actor_kind == "staff"},
    )


def describe(ctx: Context, row: RequestRow) -> str:
    if row.kind is RequestKind.MIGRATION:
        return (
            f"{catalog_name(ctx.catalog.profiles, row.from_profile_id or '')} → "
            f"{catalog_name(ctx.catalog.profiles, row.to_profile_id or '')}"
        )
    return ", ".join(Reader(ctx.catalog, Names({}, {}, {})).changes({}, row.changes or {}))


REQUEST_COLUMNS = [
    "type",
    "id",
    "date",
    "statut",
    "canal",
    "compte",
    "nom_du_compte",
    "ligne",
    "detail",
    "montant",
    "devise",
    "par",
]


@router.get("/demandes.csv")
def requests_export(request: Request, actor: Principal = Depends(operator)) -> Response:
    ctx = ctx_of(request)
    wanted = request_filter(ctx, request.query_params)

    def rows() -> Iterator[list[str]]:
        for chunk in _chunks(every_request(ctx, actor, wanted)):
            names = _names_of_rows(ctx, chunk)
            for row in chunk:
                yield [
                    row.kind.value,
                    row.id,
                    row.at.isoformat(),
                    row.status,
                    row.channel,
                    row.account_id or "",
                    names.accounts.get(row.account_id or "", ""),
                    row.msisdn,
                    describe(ctx, row),
                    row.total["amount"] if row.total else "",
                    row.total["currency"] if row.total else "",
                    actor_label(row.actor_kind, row.actor_id, names),
                ]

    return _csv("demandes.csv", REQUEST_COLUMNS, rows())


def _chunks(rows: Iterator[T], size: int = 500) -> Iterator[list[T]]:
    chunk: list[T] = []
    for row in rows:
        chunk.append(row)
        if len(chunk) == size:
            yield chunk
            chunk = []
    if chunk:
        yield chunk


# ---------------------------------------------------------------- the audit log


@router.get("/audit")
def audit_list(request: Request, actor: Principal = Depends(operator)) -> Response:
    ctx = ctx_of(request)
    wanted = audit_filter(ctx, request.query_params)
    page = audit_page(ctx, actor, wanted, _clean(request.query_params.get("apres")), _size(request))
    kept = _kept(request, "audit")
    with ctx.uow(write=False) as uow:
        staff = uow.staff.all()
    return render(
        request,
        "backoffice/audit.html",
        events=readable(ctx, page.rows),
        values=kept,
        staff=staff,
        next_link=_next_link(f"{PREFIX}/audit", kept, page.next_cursor),
        export=f"{PREFIX}/audit.csv" + (f"?{urlencode(kept)}" if kept else ""),
        tz=zone(ctx.catalog.b2b.timezone),
    )


AUDIT_COLUMNS = ["id", "date", "action", "libelle", "qui", "pour_le_client", "client", "canal", "objet", "detail"]


@router.get("/audit.csv")
def audit_export(request: Request, actor: Principal = Depends(operator)) -> Response:
    ctx = ctx_of(request)
    wanted = audit_filter(ctx, request.query_params)

    def rows() -> Iterator[list[str]]:
        for chunk in _chunks(every_event(ctx, actor, wanted)):
            yield from _audit_rows(ctx, chunk)

    return _csv("journal-audit.csv", AUDIT_COLUMNS, rows())


def _audit_rows(ctx: Context, events: list[AuditEvent]) -> Iterator[list[str]]:
    for event in readable(ctx, events):
        yield [
            str(event.id),
            event.at.isoformat(),
            event.action,
            event.action_label,
            event.who,
            event.on_behalf or "",
            event.customer or "",
            event.channel,
            event.entity,
            " ; ".join(event.changes),
        ]


_NUMBER = re.compile(r"[+-]?\d+(\.\d+)?")


def _inert(value: str) -> str:
    """A cell a spreadsheet would run as a formula (an account named "=HYPERLINK(…)") is kept as text; numbers and
    MSISDNs (+336…) stay as they are."""
    if value[:1] in ("=", "@", "\t", "\r") or (value[:1] in ("+", "-") and not _NUMBER.fullmatch(value)):
        return "'" + value
    return value


def _csv(filename: str, header: list[str], rows: Iterator[list[str]]) -> StreamingResponse:
    def lines() -> Iterator[str]:
        buffer = io.StringIO()
        writer = csv.writer(buffer, lineterminator="\n")
        writer.writerow(header)
        for row in rows:
            writer.writerow([_inert(value) for value in row])
            if buffer.tell() > 64_000:
                yield buffer.getvalue()
                buffer.seek(0)
                buffer.truncate()
        yield buffer.getvalue()

    return StreamingResponse(
        lines(),
        media_type="text/csv; charset=utf-8",
        headers={"Content-Disposition": f'attachment; filename="{filename}"'},
    )


# ---------------------------------------------------------------- failed provisioning jobs


def failed_jobs_view(ctx: Context, actor: Principal, cursor: str) -> dict[str, Any]:
    found = failed_jobs(ctx, actor, after_request(cursor) if cursor else None, JOBS_PAGE + 1)
    more = len(found) > JOBS_PAGE
    found = found[:JOBS_PAGE]
    next_link = (
        f"{PREFIX}/travaux?" + urlencode({"apres": keyset_cursor(found[-1].failed_at, found[-1].job.id)})
        if more
        else None
    )
    return {"jobs": found, "next_link": next_link, "tz": zone(ctx.catalog.b2b.timezone)}
