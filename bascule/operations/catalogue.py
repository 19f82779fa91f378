"""Catalogue overrides: a supervisor withdraws or reinstates an offer, or changes a price or a fee, without a
redeploy. Every channel reads the catalogue in force (`ctx.catalog`), so every channel applies it at once."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from bascule.audit.trail import record
from bascule.catalog.overrides import (
    OfferKind,
    Override,
    OverrideField,
    canonical,
    effective,
    entry_of,
    parse_kind,
    shipped_value,
)
from bascule.context import Context
from bascule.identity.model import Channel, Principal
from bascule.kernel.errors import DomainError, ErrorCode
from bascule.operations.ports import CatalogueUnit as Unit

Ctx = Context[Unit]  # the context as these use cases see it: their ports, no database
ACTION = "catalog.overridden"


@dataclass(frozen=True, slots=True)
class OverrideInForce:
    """An override as the back office lists it: what the file says, what is in force, who set it and when."""

    kind: OfferKind
    entry_id: str
    name: str
    field: OverrideField
    shipped: str | None
    value: str
    set_at: datetime | None
    set_by: str | None


def overrides_in_force(ctx: Ctx, actor: Principal) -> list[OverrideInForce]:
    """Agents and supervisors alike may read them."""
    actor.require_operator()
    document = _document(ctx)
    with ctx.uow(write=False) as uow:
        found = uow.catalog_overrides.all()
    return [
        OverrideInForce(
            o.kind,
            o.entry_id,
            str(entry_of(document, o.kind, o.entry_id).get("name", o.entry_id)),
            o.field,
            shipped_value(document, o.kind, o.entry_id, o.field),
            o.value,
            o.set_at,
            o.set_by,
        )
        for o in found
        if _fits(document, o)
    ]


def override_catalogue(
    ctx: Ctx, actor: Principal, channel: Channel, kind: str, entry_id: str, field: str, value: str
) -> bool:
    """Sets one value of one entry (back to the file's value: the override is dropped). False when it was
    already so (nothing written). A refusal changes nothing."""
    actor.require_supervisor()
    document = _document(ctx)
    offer, wanted = parse_kind(kind, field)
    entry_of(document, offer, entry_id)
    new_value = canonical(document, offer, wanted, value)
    shipped = shipped_value(document, offer, entry_id, wanted)
    now = ctx.clock.now()
    with ctx.uow() as uow:
        uow.catalog_overrides.bump()  # first: two supervisors' changes take turns from here
        stored = uow.catalog_overrides.all()
        others = [o for o in stored if o.key != (offer, entry_id, wanted)]
        before = next((o.value for o in stored if o.key == (offer, entry_id, wanted)), shipped)
        if before == new_value:
            return False
        change = Override(offer, entry_id, wanted, new_value, now, actor.name or actor.audit_id)
        effective(document, [*others, change] if new_value != shipped else others)
        if new_value == shipped:
            uow.catalog_overrides.remove(offer, entry_id, wanted)
        else:
            uow.catalog_overrides.put(change, actor.audit_id)
        record(
            uow,
            at=now,
            actor=actor,
            channel=channel,
            entity=("catalogue", f"{offer.value}:{entry_id}"),
            action=ACTION,
            before={wanted.value: _shown(wanted, before)},
            after={wanted.value: _shown(wanted, new_value)},
        )
        uow.commit()
    ctx.catalogs.expire()
    if not ctx.within_command:
        ctx.catalogs.refresh(force=True)
    return True


def _document(ctx: Ctx) -> Any:
    document = ctx.catalogs.document
    if document is None:
        raise DomainError(ErrorCode.INVALID_STATE, reason="catalogue-not-editable", current_status="")
    return document


def _fits(document: Any, override: Override) -> bool:
    try:
        entry_of(document, override.kind, override.entry_id)
    except DomainError:
        return False
    return True


def _shown(field: OverrideField, value: str | None) -> object:
    """As the audit trail keeps it: a yes/no for sale, the amount's text for a price."""
    if field is OverrideField.ON_SALE:
        return value == "true"
    return value
