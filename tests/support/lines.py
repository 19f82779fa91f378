"""One way for the integration tests to make a Line A line through its use case."""

from __future__ import annotations

from datetime import date
from typing import Any

from bascule.evolutions.model import Service
from bascule.evolutions.services import create_service
from bascule.identity.model import OPERATOR, Channel

GIB = 1024**3


def line_on(ctx: Any, account_id: str, msisdn: str, plan_volume: int = 10 * GIB, network: str = "orange") -> Service:
    """A 4G line of `plan_volume` on `account_id`, activated on 1 June 2026, on the catalogue's first APN."""
    plan = next(p for p in ctx.catalog.plans if p.data_bytes == plan_volume and p.radio.value == "4G")
    return create_service(
        ctx,
        OPERATOR,
        Channel.API,
        account_id=account_id,
        plan_id=plan.id,
        network=network,
        apn=ctx.catalog.apns[0].id,
        msisdn=msisdn,
        activated_on=date(2026, 6, 1),
    ).service
