"""Change batches: create (every line quoted as its own change request, in one transaction), confirm (one
identity check, then each line confirmed as its own request, a group of lines per transaction, each line in a
savepoint of its own), cancel, read.

A confirmation that stops half-way leaves the lines confirmed so far confirmed, the others awaiting: the batch
reads `confirming`, and confirming it again confirms the rest (a line is confirmed once: its request is)."""

from __future__ import annotations

import time
from datetime import datetime

from bascule.audit.trail import record
from bascule.context import Context
from bascule.evolutions.batch import BatchItem, ChangeBatch, ItemStatus, check_lines, require_open
from bascule.evolutions.ports import EvolutionsUnit as Unit
from bascule.evolutions.rules import RequestedChanges
from bascule.evolutions.usecases import (
    Confirmed,
    await_networks,
    confirm_in,
    open_change_request,
    withdraw_change_request,
)
from bascule.identity.model import Account, Channel, Principal
from bascule.identity.usecases import confirm_identity
from bascule.kernel.errors import DomainError, ErrorCode
from bascule.kernel.ids import new_id
from bascule.kernel.messages_fr import message

Ctx = Context[Unit]  # the context as these use cases see it: their ports, no database

CONFIRM_GROUP = 50  # lines confirmed per transaction, each in a savepoint of its own


def create_change_batch(
    ctx: Ctx, actor: Principal, channel: Channel, service_ids: list[str], changes: RequestedChanges
) -> ChangeBatch:
    """One request per line, or the line's refusal with the code a request of its own would get. A line the
    actor may not see refuses the whole batch, and then nothing is created."""
    check_lines(service_ids)
    now = ctx.clock.now()
    with ctx.uow() as uow:
        account = _account_of_lines(uow, actor, service_ids)
        actor.require_change_right()
        batch = ChangeBatch(
            id=new_id("chb"),
            account_id=account.id,
            currency=account.currency,
            changes=changes.as_dict(),
            channel=channel.value,
            actor_kind=actor.kind.value,
            actor_id=actor.audit_id,
            created_at=now,
            items=_quote_lines(ctx, uow, actor, channel, service_ids, changes, now),
        )
        uow.batches.add(batch)
        record(
            uow,
            at=now,
            actor=actor,
            channel=channel,
            entity=("change_batch", batch.id),
            customer=("account", batch.account_id),
            action="change_batch.created",
            after={"changes": batch.changes, "lines": len(batch.items), "quoted": len(batch.awaiting())},
        )
        stored = uow.batches.get(batch.id)  # as every later read will show it
        uow.commit()
    if stored is None:
        raise RuntimeError(f"batch {batch.id} not found in the transaction that wrote it")
    return stored


def _account_of_lines(uow: Unit, actor: Principal, service_ids: list[str]) -> Account:
    found = uow.fleet.services(service_ids)
    if len(found) != len(service_ids) or not all(actor.may_see_account(s.account_id) for s in found.values()):
        raise DomainError(ErrorCode.NOT_FOUND, what="service")
    accounts = {service.account_id for service in found.values()}
    if len(accounts) != 1:  # only the operator sees several accounts
        raise DomainError(ErrorCode.VALIDATION_ERROR, reason="batch-accounts")
    account = uow.accounts.get(accounts.pop())
    if account is None:  # a service's account is never deleted
        raise DomainError(ErrorCode.NOT_FOUND, what="account")
    return account


def _quote_lines(
    ctx: Ctx,
    uow: Unit,
    actor: Principal,
    channel: Channel,
    service_ids: list[str],
    changes: RequestedChanges,
    now: datetime,
) -> tuple[BatchItem, ...]:
    """The lines in the order asked; locked in id order, as every bulk path locks them, so that two batches never
    wait on each other in a circle."""
    in_lock_order = sorted(enumerate(service_ids), key=lambda numbered: numbered[1])
    items: list[BatchItem] = []
    for start in range(0, len(in_lock_order), CONFIRM_GROUP):
        items += _quote_group(ctx, uow, actor, channel, in_lock_order[start : start + CONFIRM_GROUP], changes, now)
    return tuple(sorted(items, key=lambda item: item.position))


def _quote_group(
    ctx: Ctx,
    uow: Unit,
    actor: Principal,
    channel: Channel,
    lines: list[tuple[int, str]],
    changes: RequestedChanges,
    now: datetime,
) -> list[BatchItem]:
    """A group of lines quoted at once in one savepoint; if one of them is refused, the group is undone and
    quoted again line by line, each in a savepoint of its own."""
    savepoint = uow.savepoint()
    try:
        uow.services.lock_many([service_id for _, service_id in lines])
        with uow.appends_deferred():
            requests = [
                (position, service_id, open_change_request(ctx, uow, actor, channel, service_id, changes, now))
                for position, service_id in lines
            ]
    except DomainError:
        savepoint.rollback()
        uow.services.forget_locked()
        return [
            _quote_line(ctx, uow, actor, channel, position, service_id, changes, now) for position, service_id in lines
        ]
    savepoint.commit()
    return [
        BatchItem(position, service_id, request.id, request.status, request.quote)
        for position, service_id, request in requests
    ]


def _quote_line(
    ctx: Ctx,
    uow: Unit,
    actor: Principal,
    channel: Channel,
    position: int,
    service_id: str,
    changes: RequestedChanges,
    now: datetime,
) -> BatchItem:
    """The line's own change request; a refused line keeps nothing of its attempt (its savepoint is undone)."""
    savepoint = uow.savepoint()
    try:
        request = open_change_request(ctx, uow, actor, channel, service_id, changes, now)
    except DomainError as refusal:
        savepoint.rollback()
        return BatchItem(position, service_id, None, None, None, refusal.code.value, message(refusal))
    savepoint.commit()
    return BatchItem(position, service_id, request.id, request.status, request.quote)


def confirm_change_batch(
    ctx: Ctx, actor: Principal, channel: Channel, batch_id: str, password: str | None
) -> ChangeBatch:
    batch = get_change_batch(ctx, actor, batch_id)
    actor.require_change_right()
    require_open(batch)
    confirm_identity(ctx, actor, password)
    now = ctx.clock.now()
    with ctx.uow() as uow:
        uow.batches.confirmed(batch.id, now)
        record(
            uow,
            at=now,
            actor=actor,
            channel=channel,
            entity=("change_batch", batch.id),
            customer=("account", batch.account_id),
            action="change_batch.confirmed",
            after={"lines": len(batch.awaiting())},
        )
        uow.commit()
    confirmed: dict[str, Confirmed] = {}
    waiting = sorted(batch.awaiting(), key=lambda item: item.service_id)  # the lock order of every bulk path
    for start in range(0, len(waiting), CONFIRM_GROUP):
        confirmed.update(_confirm_group(ctx, actor, channel, batch.id, waiting[start : start + CONFIRM_GROUP]))
    _await_networks(ctx, get_change_batch(ctx, actor, batch_id), confirmed)
    return get_change_batch(ctx, actor, batch_id)


def _confirm_group(
    ctx: Ctx, actor: Principal, channel: Channel, batch_id: str, items: list[BatchItem]
) -> dict[str, Confirmed]:
    """A group of lines in one transaction. Lines are seldom refused at confirmation, so the group is first
    confirmed whole without savepoints; if one line is refused, that attempt is rolled back and the group is
    confirmed again line by line, each in a savepoint."""
    for item in items:
        if item.change_request_id is None:
            raise RuntimeError(f"line {item.position} of batch {batch_id} awaits confirmation without a request")
    now = ctx.clock.now()
    confirmed: dict[str, Confirmed] = {}
    try:
        with ctx.uow() as uow:
            uow.change_requests.lock_many([item.change_request_id for item in items if item.change_request_id])
            uow.services.lock_many([item.service_id for item in items])
            with uow.appends_deferred():
                for item in items:
                    line = confirm_in(ctx, uow, actor, channel, item.request_id, now)
                    confirmed[line.request.id] = line
            uow.commit()
    except DomainError:
        return _confirm_line_by_line(ctx, actor, channel, batch_id, items)
    return confirmed


def _confirm_line_by_line(
    ctx: Ctx, actor: Principal, channel: Channel, batch_id: str, items: list[BatchItem]
) -> dict[str, Confirmed]:
    """A group of lines in one transaction, each line's request confirmed as a request of its own in a savepoint
    of its own: a line refused (its month's slot taken meanwhile, its price changed) is undone alone, withdrawn
    and charges nothing; the others of the group commit together."""
    now = ctx.clock.now()
    confirmed: dict[str, Confirmed] = {}
    with ctx.uow() as uow:
        for item in items:
            savepoint = uow.savepoint()
            try:
                line = confirm_in(ctx, uow, actor, channel, item.request_id, now)
            except DomainError as refusal:
                savepoint.rollback()
                if refusal.code is not ErrorCode.INVALID_STATE:  # else confirmed or cancelled meanwhile: it says so
                    withdraw_change_request(uow, actor, channel, item.request_id, now)
                    uow.batches.refuse(batch_id, item.position, refusal.code.value, message(refusal))
                continue
            savepoint.commit()
            confirmed[line.request.id] = line
        uow.commit()
    return confirmed


def _await_networks(ctx: Ctx, batch: ChangeBatch, confirmed: dict[str, Confirmed]) -> None:
    """The networks get the moment one confirmation gets, for the whole batch, asked in one pass for the lines
    this confirmation leased (recorded a group per transaction); lines confirmed by an earlier, interrupted
    confirmation are waited for one by one. What they have not answered by then stays `provisioning` for the
    workers."""
    provisioner = ctx.provisioner
    if provisioner is None:
        return
    deadline = time.monotonic() + provisioner.config.inline_seconds
    leased = [list(line.leased) for line in confirmed.values() if line.leased]
    provisioner.run_leased_many(leased, deadline, CONFIRM_GROUP)
    for item in batch.items:
        left = deadline - time.monotonic()
        if left <= 0:
            return
        if (
            item.status is ItemStatus.PROVISIONING
            and item.change_request_id is not None
            and item.change_request_id not in confirmed
        ):  # confirmed by an earlier, interrupted confirmation
            with ctx.uow(write=False) as uow:
                request = uow.change_requests.get(item.change_request_id)
            if request is not None:
                await_networks(ctx, Confirmed(request), left)


def cancel_change_batch(ctx: Ctx, actor: Principal, channel: Channel, batch_id: str) -> ChangeBatch:
    """Every line not confirmed yet is cancelled, at once."""
    now = ctx.clock.now()
    with ctx.uow() as uow:
        batch = _visible(uow.batches.get(batch_id, lock=True), actor)
        actor.require_change_right()
        require_open(batch)
        # in id order, as a confirmation locks them
        uow.change_requests.lock_many([item.change_request_id for item in batch.awaiting() if item.change_request_id])
        for item in batch.awaiting():
            try:
                withdraw_change_request(uow, actor, channel, item.request_id, now)
            except DomainError as error:
                if error.code is not ErrorCode.INVALID_STATE:
                    raise  # else confirmed meanwhile: a confirmed line stays
        uow.batches.cancelled(batch.id, now)
        record(
            uow,
            at=now,
            actor=actor,
            channel=channel,
            entity=("change_batch", batch.id),
            customer=("account", batch.account_id),
            action="change_batch.cancelled",
            after={"lines": len(batch.awaiting())},
        )
        uow.commit()
    return get_change_batch(ctx, actor, batch_id)


def get_change_batch(ctx: Ctx, actor: Principal, batch_id: str) -> ChangeBatch:
    with ctx.uow(write=False) as uow:
        return _visible(uow.batches.get(batch_id), actor)


def _visible(batch: ChangeBatch | None, actor: Principal) -> ChangeBatch:
    if batch is None or not actor.may_see_account(batch.account_id):
        raise DomainError(ErrorCode.NOT_FOUND, what="change_batch")
    return batch
