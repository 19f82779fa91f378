"""Charges of an account for a period: everything owed so far."""

from __future__ import annotations

from dataclasses import dataclass

from bascule.billing.ports import BillingUnit as Unit
from bascule.context import Context
from bascule.evolutions.ports import StoredCharge
from bascule.evolutions.services import refresh_cycles
from bascule.identity.model import Principal
from bascule.kernel.calendar import Period
from bascule.kernel.errors import DomainError, ErrorCode
from bascule.kernel.money import Money, total

Ctx = Context[Unit]  # the context as these use cases see it: their ports, no database


@dataclass(frozen=True, slots=True)
class ChargeStatement:
    period: Period
    lines: list[StoredCharge]
    total: Money


def account_charges(ctx: Ctx, actor: Principal, account_id: str, period: Period) -> ChargeStatement:
    actor.require_account(account_id)
    with ctx.uow(write=False) as uow:
        account = uow.accounts.get(account_id)
        if account is None:
            raise DomainError(ErrorCode.NOT_FOUND, what="account")
        services = uow.services.of_account(account_id)
    refresh_cycles(ctx, services)
    with ctx.uow(write=False) as uow:
        lines = uow.charges.of_account(account_id, str(period))
    return ChargeStatement(period, lines, total([line.amount for line in lines], account.currency))
