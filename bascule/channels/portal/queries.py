"""Read-only look-ups the pages need around the use cases: names to show, and the operator's search.

Nothing here decides anything: rules stay in the use cases, which the routes call for every action.
"""

from __future__ import annotations

from dataclasses import dataclass

from bascule.audit.ports import AuditEvent
from bascule.context import Context
from bascule.identity.model import Account, Principal, User
from bascule.identity.ports import IdentityUnit
from bascule.kernel.errors import DomainError, ErrorCode


def account_of(ctx: Context, principal: Principal) -> Account:
    if principal.account_id is None:
        raise DomainError(ErrorCode.NOT_FOUND, what="account")
    return account(ctx, principal.account_id)


def account(ctx: Context[IdentityUnit], account_id: str) -> Account:
    with ctx.uow(write=False) as uow:
        found = uow.accounts.get(account_id)
    if found is None:
        raise DomainError(ErrorCode.NOT_FOUND, what="account")
    return found


def user(ctx: Context[IdentityUnit], user_id: str) -> User | None:
    with ctx.uow(write=False) as uow:
        return uow.users.get(user_id)


def audit_trail(ctx: Context[IdentityUnit], operator: Principal, entity_kind: str, entity_id: str) -> list[AuditEvent]:
    operator.require_operator()
    with ctx.uow(write=False) as uow:
        return uow.audit.of_entity(entity_kind, entity_id)


def users_of(ctx: Context, operator: Principal, account_id: str) -> list[User]:
    operator.require_operator()
    from sqlalchemy import select

    from bascule.persistence import tables

    with ctx.uow(write=False) as uow:
        rows = uow.connection.execute(
            select(tables.users.c.id).where(tables.users.c.account_id == account_id).order_by(tables.users.c.email)
        ).all()
        return [found for row in rows if (found := uow.users.get(row.id)) is not None]


@dataclass(frozen=True, slots=True)
class Hit:
    kind: str  # "account", "service", "subscriber"
    id: str
    title: str
    detail: str


def search(ctx: Context, operator: Principal, text: str) -> list[Hit]:
    """Accounts by id or name, services by id or MSISDN, subscribers by MSISDN (when Line B is there)."""
    operator.require_operator()
    needle = text.strip().lower()
    if not needle:
        return []
    compact = needle.replace(" ", "")
    hits: list[Hit] = []
    with ctx.uow(write=False) as uow:
        accounts = {a.id: a for a in uow.accounts.all()}
        for found in accounts.values():
            if needle in found.id.lower() or needle in found.name.lower():
                hits.append(Hit("account", found.id, found.name, found.id))
        for service in uow.services.all():
            if compact in service.id.lower() or compact in service.msisdn:
                owner = accounts.get(service.account_id)
                hits.append(
                    Hit(
                        "service",
                        service.id,
                        service.msisdn,
                        f"{owner.name if owner else service.account_id} — {service.id}",
                    )
                )
        for subscriber in uow.subscribers.all():
            if compact in subscriber.msisdn:
                profile = ctx.catalog.profile(subscriber.profile_id)
                hits.append(Hit("subscriber", subscriber.msisdn, subscriber.msisdn, f"Abonné prépayé — {profile.name}"))
    return hits[:100]
