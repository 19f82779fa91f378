"""Turning use-case results into API bodies (shared by the routers)."""

from __future__ import annotations

from bascule.channels.rest.schemas import (
    ChangeRequestOut,
    ChargeLineOut,
    CycleOut,
    MoneyOut,
    QuotaOut,
    QuoteOut,
    ServiceOut,
)
from bascule.evolutions.model import ChangeRequest
from bascule.evolutions.rules import Quote
from bascule.evolutions.services import ServiceView


def service_out(view: ServiceView) -> ServiceOut:
    service, plan = view.service, view.plan
    return ServiceOut(
        id=service.id, account_id=service.account_id, msisdn=service.msisdn, plan_id=plan.id,
        plan_name=plan.name, kind=plan.kind.value, radio=plan.radio.value, network=service.network,
        apn=service.apn, status=service.status.value, ceiling_bytes=service.ceiling_bytes,
        activated_on=service.activated_on,
        cycle=CycleOut(start=view.period.first_day, end=view.period.last_day),
        quota=QuotaOut(total_bytes=view.quota.total_bytes, used_bytes=view.quota.used_bytes,
                       remaining_bytes=view.quota.remaining_bytes),
        changes_left_this_month=view.changes_left_this_month,
    )


def quote_out(quote: Quote) -> QuoteOut:
    return QuoteOut(
        charges=[ChargeLineOut(kind=line.kind.value, description=line.description, amount=MoneyOut.of(line.amount))
                 for line in quote.charges],
        total=MoneyOut.of(quote.total),
        quota_after_bytes=quote.quota_after_bytes,
        notice=quote.notice,
    )


def request_out(request: ChangeRequest) -> ChangeRequestOut:
    return ChangeRequestOut(
        id=request.id, service_id=request.service_id, account_id=request.account_id, status=request.status.value,
        changes=request.changes, quote=QuoteOut.model_validate(request.quote), channel=request.channel,
        created_at=request.created_at, confirmed_at=request.confirmed_at, completed_at=request.completed_at,
        cancelled_at=request.cancelled_at, failed_at=request.failed_at,
    )
