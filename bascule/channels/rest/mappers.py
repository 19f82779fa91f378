"""Turning use-case results into API bodies (shared by the routers)."""

from __future__ import annotations

from bascule.catalog.model import Radio
from bascule.channels.rest.schemas import (
    ChangeBatchItemOut,
    ChangeBatchOut,
    ChangeRequestOut,
    ChangesIn,
    ChargeLineOut,
    CycleOut,
    MoneyOut,
    QuotaOut,
    QuoteOut,
    ServiceOut,
    UsageDayOut,
    UsageOut,
)
from bascule.evolutions.batch import BatchItem, ChangeBatch
from bascule.evolutions.fleet import DailyUsage
from bascule.evolutions.model import ChangeRequest
from bascule.evolutions.rules import Quote, RequestedChanges
from bascule.evolutions.services import ServiceView
from bascule.kernel.errors import DomainError, ErrorCode


def service_out(view: ServiceView) -> ServiceOut:
    service, plan = view.service, view.plan
    return ServiceOut(
        id=service.id,
        account_id=service.account_id,
        msisdn=service.msisdn,
        plan_id=plan.id,
        plan_name=plan.name,
        kind=plan.kind.value,
        radio=plan.radio.value,
        network=service.network,
        apn=service.apn,
        status=service.status.value,
        ceiling_bytes=service.ceiling_bytes,
        activated_on=service.activated_on,
        cycle=CycleOut(start=view.period.first_day, end=view.period.last_day),
        quota=QuotaOut(
            total_bytes=view.quota.total_bytes,
            used_bytes=view.quota.used_bytes,
            remaining_bytes=view.quota.remaining_bytes,
        ),
        changes_left_this_month=view.changes_left_this_month,
    )


def quote_out(quote: Quote) -> QuoteOut:
    return QuoteOut(
        charges=[
            ChargeLineOut(kind=line.kind.value, description=line.description, amount=MoneyOut.of(line.amount))
            for line in quote.charges
        ],
        total=MoneyOut.of(quote.total),
        quota_after_bytes=quote.quota_after_bytes,
        notice=quote.notice,
    )


def request_out(request: ChangeRequest) -> ChangeRequestOut:
    return ChangeRequestOut(
        id=request.id,
        service_id=request.service_id,
        account_id=request.account_id,
        status=request.status.value,
        changes=request.changes,
        quote=QuoteOut.model_validate(request.quote),
        channel=request.channel,
        created_at=request.created_at,
        confirmed_at=request.confirmed_at,
        completed_at=request.completed_at,
        cancelled_at=request.cancelled_at,
        failed_at=request.failed_at,
    )


def requested_changes(body: ChangesIn) -> RequestedChanges:
    changes = RequestedChanges(
        plan_id=body.plan_id,
        radio=Radio(body.radio) if body.radio else None,
        apn=body.apn,
        network=body.network,
        ceiling_bytes=body.ceiling_bytes,
    )
    if not changes.as_dict():
        raise DomainError(ErrorCode.VALIDATION_ERROR, "Indiquez au moins un élément à changer.")
    return changes


def usage_out(usage: DailyUsage) -> UsageOut:
    return UsageOut(
        period=str(usage.period),
        days=[UsageDayOut(date=day, bytes=used) for day, used in usage.days],
        total_bytes=usage.total_bytes,
    )


def batch_out(batch: ChangeBatch) -> ChangeBatchOut:
    return ChangeBatchOut(
        id=batch.id,
        account_id=batch.account_id,
        status=batch.status.value,
        changes=batch.changes,
        items=[_batch_item_out(item) for item in batch.items],
        total=MoneyOut.of(batch.total),
        created_at=batch.created_at,
        confirmed_at=batch.confirmed_at,
        cancelled_at=batch.cancelled_at,
    )


def _batch_item_out(item: BatchItem) -> ChangeBatchItemOut:
    refused = item.refusal_code is not None
    return ChangeBatchItemOut(
        service_id=item.service_id,
        status=item.status.value,
        change_request_id=item.change_request_id,
        quote=None if refused or item.quote is None else QuoteOut.model_validate(item.quote),
        code=item.refusal_code,
        detail=item.refusal_detail,
    )
