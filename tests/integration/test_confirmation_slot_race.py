"""A keyed confirmation takes its month's slot with its stored answer (`Slots.take_or_refuse`, held for the
Idempotency-Key's statement on PostgreSQL). When the slot its read saw free is taken between that read and the
key (another transaction's take, committed after the read's snapshot), the statement that carried the change
refuses it: the command rolls back whole and the refusal is its stored answer. Without a key (the portal), the
take is held for the commit, and refused there the same way. A rule checked after the slot that refuses (the
line changed meanwhile: the quote no longer holds) lets the slot decide first: the month's limit is the refusal."""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal
from typing import Any

import pytest
from sqlalchemy import func, select

from bascule.catalog.model import Radio
from bascule.commands.answers import Answer, Keyed
from bascule.commands.runner import answer, run
from bascule.evolutions import usecases
from bascule.evolutions.lifecycle import RequestStatus
from bascule.evolutions.model import ChangeRequest, Service
from bascule.evolutions.rules import SLOT_SCOPE, RequestedChanges
from bascule.evolutions.usecases import Confirmed, confirm_as_identified, create_change_request
from bascule.identity.model import OPERATOR, Channel
from bascule.identity.usecases import create_account
from bascule.kernel.errors import DomainError, ErrorCode
from bascule.persistence import tables as t
from bascule.persistence.uow import UnitOfWork
from tests.support.lines import line_on


def _render(confirmed: Confirmed) -> Answer:
    return Answer(200, confirmed.request.status.value.encode(), {})


def _refuse(error: DomainError) -> Answer:
    return Answer(409, error.code.value.encode(), {})  # as the API answers a rule's refusal


def _latest_cycle(ctx, service_id: str) -> str:
    with UnitOfWork(ctx.engine, write=False) as uow:
        period = uow.connection.execute(
            select(func.max(t.service_cycles.c.period)).where(t.service_cycles.c.service_id == service_id)
        ).scalar_one()
    return str(period)


@dataclass(frozen=True)
class _Race:
    """A line with a 4G → 5G change quoted, about to be confirmed while another transaction takes its month's slots."""

    ctx: Any
    line: Service
    request: ChangeRequest
    limit: int
    period: str

    @classmethod
    def on(cls, ctx: Any, name: str, msisdn: str) -> _Race:
        if ctx.engine.dialect.name != "postgresql":
            pytest.skip("PostgreSQL only: SQLite takes the slot at once (its writers are serialised)")
        account = create_account(ctx, OPERATOR, Channel.PORTAL, name, None)
        line = line_on(ctx, account.id, msisdn)
        request = create_change_request(ctx, OPERATOR, Channel.PORTAL, line.id, RequestedChanges(radio=Radio.G5))
        return cls(ctx, line, request, ctx.catalog.b2b.monthly_change_limit, _latest_cycle(ctx, line.id))

    def confirm(self, c: Any) -> Confirmed:
        return confirm_as_identified(c, OPERATOR, Channel.PORTAL, self.request.id)

    def take_every_slot(self) -> None:
        """Committed now, after the confirmation read the slot free under the line's lock."""
        for _ in range(self.limit):
            with UnitOfWork(self.ctx.engine) as other:
                assert other.slots.take(SLOT_SCOPE, self.line.id, self.period, self.limit)
                other.commit()

    def confirm_while_another_takes_the_slots(self, c: Any) -> Confirmed:
        confirmed = self.confirm(c)
        self.take_every_slot()
        return confirmed

    def keyed(self, key: str) -> Keyed:
        return Keyed("ops", key, f"/api/v1/change-requests/{self.request.id}/confirm", "f" * 64)

    def assert_nothing_changed(self) -> None:
        """The request still awaits its confirmation, the line is as it was, no charge, no job, the other's slots."""
        with UnitOfWork(self.ctx.engine, write=False) as uow:
            after = uow.change_requests.get(self.request.id)
            service = uow.services.get(self.line.id)
            charges = uow.charges.of_request(self.request.id)
            jobs = uow.jobs.of_request(self.request.id)
            used = uow.slots.used(SLOT_SCOPE, self.line.id, self.period)
        assert after is not None
        assert (after.status, service, charges, jobs, used) == (
            RequestStatus.AWAITING_CONFIRMATION,
            self.line,
            [],
            [],
            self.limit,
        )


def test_a_slot_taken_between_the_read_and_the_key_refuses_the_confirmation_and_nothing_changes(ctx) -> None:
    race = _Race.on(ctx, "Course au créneau", "+33655000071")
    keyed = race.keyed("race-1")
    first = answer(ctx, keyed, race.confirm_while_another_takes_the_slots, _render, _refuse)
    assert (first.status, first.body) == (409, ErrorCode.MONTHLY_LIMIT_REACHED.value.encode())
    with UnitOfWork(ctx.engine, write=False) as uow:
        stored = uow.idempotency.find("ops", "race-1")
    assert stored is not None
    assert (stored.settled, stored.answer.status) == (True, 409)
    race.assert_nothing_changed()
    retried = answer(ctx, keyed, race.confirm, _render, _refuse)
    assert (retried.status, retried.body, retried.replayed) == (409, first.body, True)


def test_without_a_key_a_slot_taken_between_the_read_and_the_commit_refuses_there_and_nothing_changes(ctx) -> None:
    race = _Race.on(ctx, "Course au créneau, sans clé", "+33655000073")
    with pytest.raises(DomainError) as refused:
        run(ctx, race.confirm_while_another_takes_the_slots)
    assert refused.value.code is ErrorCode.MONTHLY_LIMIT_REACHED
    race.assert_nothing_changed()


def test_a_keyed_confirmation_with_its_slot_free_takes_it_once_with_its_answer(ctx) -> None:
    account = create_account(ctx, OPERATOR, Channel.API, "Créneau libre", None)
    line = line_on(ctx, account.id, "+33655000072")
    request = create_change_request(ctx, OPERATOR, Channel.API, line.id, RequestedChanges(radio=Radio.G5))
    keyed = Keyed("ops", "free-1", f"/api/v1/change-requests/{request.id}/confirm", "f" * 64)
    done = answer(ctx, keyed, lambda c: confirm_as_identified(c, OPERATOR, Channel.API, request.id), _render, _refuse)
    assert (done.status, done.body) == (200, RequestStatus.PROVISIONING.value.encode())
    with UnitOfWork(ctx.engine, write=False) as uow:
        used = uow.slots.used(SLOT_SCOPE, line.id, _latest_cycle(ctx, line.id))
        charges = uow.charges.of_request(request.id)
        saved = uow.services.get(line.id)
    assert used == 1
    assert [charge.amount.amount for charge in charges] == [Decimal(request.quote["total"]["amount"])]
    assert saved is not None
    assert saved.network == line.network


@pytest.mark.parametrize("keyed", [True, False])
def test_a_slot_gone_and_a_rule_after_it_refusing_give_the_months_limit_first(ctx, monkeypatch, keyed) -> None:
    """What 50 parallel confirmations of one line met: a loser's lock waited for the winner, then read the slot in
    the snapshot from before the winner's commit (free) and the line as the winner left it, which no longer matches
    its quote. The quote's refusal would come first; the held take is made then, and the limit refuses."""
    race = _Race.on(ctx, f"Créneau puis devis ({keyed})", "+3365500007" + ("4" if keyed else "5"))
    quoted = race.request.quote["total"]

    def slots_taken_then_quote_expired(*_args: object) -> None:
        race.take_every_slot()
        raise DomainError(ErrorCode.QUOTE_EXPIRED, quoted=quoted, now_priced=quoted)

    monkeypatch.setattr(usecases, "_priced", slots_taken_then_quote_expired)
    if keyed:
        refused = answer(ctx, race.keyed(f"limit-first-{race.request.id}"), race.confirm, _render, _refuse)
        assert (refused.status, refused.body) == (409, ErrorCode.MONTHLY_LIMIT_REACHED.value.encode())
    else:
        with pytest.raises(DomainError) as raised:
            run(ctx, race.confirm)
        assert raised.value.code is ErrorCode.MONTHLY_LIMIT_REACHED
    race.assert_nothing_changed()
