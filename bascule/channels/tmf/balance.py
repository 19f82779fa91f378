"""TMF654 Prepay Balance Management: a prepaid line's buckets and its top-ups.

Buckets: the main credit (`main-<MSISDN>`) and every bonus bucket (its native id), with `validFor` and
a status (`active`, `expired`, or `depleted` once used up). A top-up (balanceTopup) is a recharge of
the main credit through the recharge use case (bonuses follow the line's profile); its id is the native
recharge id, and the request is kept as sent (store kind `balanceTopup`) so that it reads back whole.
"""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal, InvalidOperation
from typing import Any

from fastapi import APIRouter, Body, Depends, Request
from fastapi.responses import Response

from bascule.catalog.model import BonusKind
from bascule.channels.security import principal
from bascule.channels.tmf.common import BALANCE, bad_request, created, href, instant, many, one, quantity, text_field
from bascule.channels.tmf.products import LineB, find_line, product_ref, referenced_msisdn, visible_lines
from bascule.channels.tmf.store import Document, Documents, bonus_owner
from bascule.commands.runner import run, run_on_unit
from bascule.context import Context
from bascule.identity.model import Channel, Principal
from bascule.kernel.errors import DomainError, ErrorCode
from bascule.kernel.money import from_minor
from bascule.prepaid.model import BonusBucket
from bascule.prepaid.usecases import RechargeResult, SubscriberSummary, recharge

router = APIRouter(prefix="/prepayBalanceManagement/v4")
TOPUP = "balanceTopup"
MAIN = "main-"
UNITS = {BonusKind.DATA: "bytes", BonusKind.VOICE: "minutes", BonusKind.SMS: "sms"}
TYPES = {BonusKind.CREDIT: "bonus", BonusKind.DATA: "data", BonusKind.VOICE: "voice", BonusKind.SMS: "sms"}


def _context(request: Request) -> Context:
    ctx: Context = request.app.state.context
    return ctx


# --- buckets ----------------------------------------------------------------------------------------


def _status(bucket: BonusBucket, now: datetime) -> str:
    if now >= bucket.expires_at:
        return "expired"
    return "active" if bucket.remaining > 0 else "depleted"


def _bonus_bucket(request: Request, line: LineB, bucket: BonusBucket, now: datetime) -> dict[str, Any]:
    currency = line.summary.subscriber.currency
    remaining = (
        quantity(from_minor(bucket.remaining, currency).amount, currency)
        if bucket.kind is BonusKind.CREDIT
        else quantity(bucket.remaining, UNITS[bucket.kind])
    )
    return {
        "id": bucket.id,
        "href": href(request, BALANCE, "bucket", bucket.id),
        "@type": "BucketBalance",
        "name": bucket.label or f"{bucket.kind.value} bonus",
        "description": bucket.source,
        "bucketType": TYPES[bucket.kind],
        "remainedAmount": remaining,
        "validFor": {"startDateTime": instant(bucket.granted_at), "endDateTime": instant(bucket.expires_at)},
        "status": _status(bucket, now),
        "product": product_ref(request, line),
    }


def _main_bucket(request: Request, line: LineB) -> dict[str, Any]:
    summary: SubscriberSummary = line.summary
    bucket_id = MAIN + summary.subscriber.msisdn
    return {
        "id": bucket_id,
        "href": href(request, BALANCE, "bucket", bucket_id),
        "@type": "BucketBalance",
        "name": "Main credit",
        "description": f"profile {summary.profile.id}",
        "bucketType": "monetary",
        "remainedAmount": quantity(summary.balance.amount, summary.balance.currency),
        "validFor": {"startDateTime": instant(summary.subscriber.created_at)},
        "status": "active",
        "product": product_ref(request, line),
    }


def _buckets_of(ctx: Context, request: Request, line: LineB) -> list[dict[str, Any]]:
    now = ctx.clock.now()
    with ctx.uow(write=False) as uow:
        bonuses = uow.bonuses.of(line.summary.subscriber.msisdn)
    return [_main_bucket(request, line), *(_bonus_bucket(request, line, bucket, now) for bucket in bonuses)]


def _prepaid_line(ctx: Context, actor: Principal, product_id: str) -> LineB | None:
    try:
        line = find_line(ctx, actor, product_id)
    except DomainError as error:
        if error.code is ErrorCode.NOT_FOUND:
            return None
        raise
    return line if isinstance(line, LineB) else None


@router.get("/bucket")
@router.get("/bucket/", include_in_schema=False)
def list_buckets(request: Request, actor: Principal = Depends(principal)) -> Response:
    ctx = _context(request)
    product_id = request.query_params.get("product.id")
    if product_id is not None:
        line = _prepaid_line(ctx, actor, product_id.strip().strip('"').replace(" ", "+"))
        lines = [] if line is None else [line]
    else:
        lines = [line for line in visible_lines(ctx, actor) if isinstance(line, LineB)]
    buckets = [bucket for line in lines for bucket in _buckets_of(ctx, request, line)]
    return many(request, buckets, skip=frozenset({"product.id"}))


@router.get("/product/{product_id}/bucket")
def product_buckets(product_id: str, request: Request, actor: Principal = Depends(principal)) -> Response:
    ctx = _context(request)
    line = _prepaid_line(ctx, actor, product_id)
    if line is None:
        raise DomainError(ErrorCode.NOT_FOUND, what="product")
    return many(request, _buckets_of(ctx, request, line))


@router.get("/bucket/{bucket_id}")
def get_bucket(bucket_id: str, request: Request, actor: Principal = Depends(principal)) -> Response:
    ctx = _context(request)
    if bucket_id.startswith(MAIN):
        msisdn: str | None = bucket_id.removeprefix(MAIN)
    else:
        with ctx.uow(write=False) as uow:
            msisdn = bonus_owner(uow.connection, bucket_id)
    line = None if msisdn is None else _prepaid_line(ctx, actor, msisdn)
    for bucket in [] if line is None else _buckets_of(ctx, request, line):
        if bucket["id"] == bucket_id:
            return one(request, bucket)
    raise DomainError(ErrorCode.NOT_FOUND, what="bucket")


# --- top-ups ------------------------------------------------------------------------------------------


def _amount(body: dict[str, Any], currency: str) -> Decimal:
    amount = body.get("amount")
    if not isinstance(amount, dict):
        raise bad_request("`amount` is required: {amount, units}.")
    units = text_field(amount, "units")
    value = amount.get("amount")
    if isinstance(value, bool) or not isinstance(value, int | float | str):
        raise bad_request("`amount.amount` is a number.")
    try:
        number = Decimal(str(value))
    except InvalidOperation:
        raise bad_request("`amount.amount` is a number.") from None
    if units != currency:
        raise bad_request(f"This line's credit is in {currency}: `amount.units` must be {currency}.")
    return number


def _validated(body: dict[str, Any]) -> tuple[str, dict[str, Any]]:
    text_field(body, "type")
    channel = body.get("channel")
    if not isinstance(channel, dict):
        raise bad_request("`channel` is required, with at least a `name`.")
    text_field(channel, "name")
    product = body.get("product")
    if not isinstance(product, dict):
        raise bad_request("`product` is required: the prepaid line to top up.")
    product_id = text_field(product, "id")
    if product_id is None:
        raise bad_request("`product.id` is required: the prepaid line to top up.")
    requestor = body.get("requestor")
    if requestor is not None and (not isinstance(requestor, dict) or not requestor.get("id")):
        raise bad_request("`requestor` names the party that tops up: its `id` is required.")
    if "isAutoTopup" in body and not isinstance(body["isAutoTopup"], bool):
        raise bad_request("`isAutoTopup` is a boolean.")
    return product_id, body


def _topup(request: Request, document: Document) -> dict[str, Any]:
    return {"id": document.id, "href": href(request, BALANCE, TOPUP, document.id), **document.body}


@router.post(f"/{TOPUP}", status_code=201)
def create_topup(request: Request, body: Any = Body(...), actor: Principal = Depends(principal)) -> Response:
    if not isinstance(body, dict):
        raise bad_request("The body must be a JSON object.")
    ctx = _context(request)
    product_id, sent = _validated(body)
    line = _prepaid_line(ctx, actor, product_id)
    if line is None:
        raise DomainError(ErrorCode.NOT_FOUND, what="product")
    msisdn = line.summary.subscriber.msisdn
    amount = _amount(sent, line.summary.subscriber.currency)
    now = ctx.clock.now()

    def top_up(ctx: Context) -> tuple[RechargeResult, dict[str, Any]]:  # one command: the recharge and its document
        result = recharge(ctx, actor, Channel.TMF, msisdn, amount)
        stored = _topup_document(result, sent, msisdn, now)
        run_on_unit(ctx, lambda uow: Documents(uow.connection).add(TOPUP, result.entry.id, stored, now))
        return result, stored

    result, stored = run(ctx, top_up)
    return created(request, _public(_topup(request, Document(TOPUP, result.entry.id, stored, now, now))))


def _topup_document(result: RechargeResult, sent: dict[str, Any], msisdn: str, now: datetime) -> dict[str, Any]:
    stored = {
        "@type": "BalanceTopup",
        "description": f"Recharge of {result.entry.amount.text()}",
        "isAutoTopup": False,
        **{name: value for name, value in sent.items() if name not in ("id", "href")},
        "status": "confirmed",
        "severity": "normal",
        "requestedDate": instant(now),
        "confirmationDate": instant(result.entry.at),
        "creationDate": instant(now),
        "_line": msisdn,
    }
    stored.setdefault("validFor", {"startDateTime": instant(result.entry.at)})
    return stored


def _public(topup: dict[str, Any]) -> dict[str, Any]:
    return {name: value for name, value in topup.items() if not name.startswith("_")}


def _visible_topups(
    ctx: Context, request: Request, actor: Principal, product_id: str | None = None
) -> list[dict[str, Any]]:
    """Top-ups of the lines this actor may see; of one line when `product_id` is given (any of its ids)."""
    with ctx.uow(write=False) as uow:
        documents = [d for d in Documents(uow.connection).of_kind(TOPUP) if actor.may_see_line(str(d.body["_line"]))]
    if product_id is not None:
        msisdn = referenced_msisdn(ctx, product_id) or product_id
        documents = [d for d in documents if msisdn == d.body["_line"]]
    return [_public(_topup(request, d)) for d in documents]


@router.get(f"/{TOPUP}")
@router.get(f"/{TOPUP}/", include_in_schema=False)
def list_topups(request: Request, actor: Principal = Depends(principal)) -> Response:
    ctx = _context(request)
    product_id = request.query_params.get("product.id")
    wanted = None if product_id is None else product_id.strip().strip('"').replace(" ", "+")
    return many(request, _visible_topups(ctx, request, actor, wanted), skip=frozenset({"product.id"}))


@router.get(f"/{TOPUP}/{{topup_id}}")
def get_topup(topup_id: str, request: Request, actor: Principal = Depends(principal)) -> Response:
    ctx = _context(request)
    for topup in _visible_topups(ctx, request, actor):
        if topup["id"] == topup_id:
            return one(request, topup)
    raise DomainError(ErrorCode.NOT_FOUND, what=TOPUP)
