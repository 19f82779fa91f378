"""One command, one transaction: the use case, its stored answer (for a keyed retry) and its effects
commit together, or nothing does.

Channels hand a command to `run` (no key: the portal, USSD, the TMF facade, the CLI) or to `answer`
(API v1, whose POSTs may carry an `Idempotency-Key`). Neither channel commits: this module does.

A keyed command runs, then writes its answer under its key in the same transaction: a first try (nearly
every command) costs no lookup. The insert finds the key when the command ran before (a retry) or a repeat
committed first (a race, serialised by the rows the command locks and by the key's unique index): the work
is then rolled back and the stored answer replayed, or a 422 given when the body differs. So a crash before
the commit leaves no key behind (the retry runs the command, once) and a crash after it leaves the answer
(the retry replays it); a retry pays for running the command again, inside a transaction that never commits.

A confirmation whose networks answer after the commit (`settle`) stores the answer of the commit
first, marked unsettled, and the final answer once the networks have answered; a repeat waits a
moment for the final answer, then takes the committed one (the process may have died meanwhile).
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Generic, TypeVar

from bascule.commands.answers import Answer, Keyed, StoredAnswer
from bascule.commands.ports import CommandUnit
from bascule.context import Context
from bascule.kernel.errors import DomainError, ErrorCode

T = TypeVar("T")

SETTLE_WAIT_SECONDS = 5.0  # longer than a confirmation waits for the networks (3 s by default)


def run(ctx: Context, work: Callable[[Context], T]) -> T:
    """`work` in one transaction, committed when it returns. A refusal (DomainError) keeps what the use
    case committed before refusing (a failed attempt counted, say) and nothing else.

    Its writes are held for the commit (`hold_writes`), so a condition left to the database (a month's slot seen
    free) may refuse the command there: the whole command then rolls back, and the refusal is raised."""
    if ctx.within_command:  # already inside a command: one transaction
        return work(ctx)
    with ctx.uow() as unit:
        unit.hold_writes()
        try:
            result = work(ctx.in_command(unit))
        except DomainError:
            _commit_kept(unit)
            raise
        _commit_kept(unit)
    return result


def run_on_unit(ctx: Context, work: Callable[[Any], T]) -> T:
    """`work` on the command's unit of work (a channel's own records, such as the TMF facade's documents)."""

    def on_unit(ctx: Context) -> T:
        with ctx.uow() as unit:
            result = work(unit)
            unit.commit()
        return result

    return run(ctx, on_unit)


Settle = Callable[[T, Callable[[Any, T], None]], T]


def answer(
    ctx: Context,
    keyed: Keyed | None,
    work: Callable[[Context], T],
    render: Callable[[T], Answer],
    refuse: Callable[[DomainError], Answer],
    settle: Settle[T] | None = None,
) -> Answer:
    """`work` as `run` does, its answer rendered and stored under its key in the same transaction.

    `settle(result, within)` runs after the commit (the networks); it calls `within(unit, final)` in the
    transaction where it records their answer, so that the final answer is stored there."""
    if keyed is None:
        return _answer_unkeyed(ctx, work, render, refuse, settle)
    with ctx.uow() as unit:
        ran = _run_and_store(ctx, unit, keyed, work, render, refuse, unsettled=settle is not None)
    if ran is None:  # the key was there (a retry), or a repeat of this command committed first
        return _replay(ctx, keyed, _find(ctx, keyed))
    if not ran.stored:  # a refusal that kept nothing: its transaction is gone, the answer is stored alone
        return _store_refusal(ctx, keyed, ran.answer)
    if settle is None or ran.refused:
        return ran.answer
    return _settled(ctx, keyed, ran.result, render, settle)  # type: ignore[arg-type]


def _answer_unkeyed(
    ctx: Context,
    work: Callable[[Context], T],
    render: Callable[[T], Answer],
    refuse: Callable[[DomainError], Answer],
    settle: Settle[T] | None,
) -> Answer:
    try:
        result = run(ctx, work)
    except DomainError as error:
        return refuse(error)
    return render(settle(result, lambda _unit, _final: None) if settle else result)


def answer_in_steps(
    ctx: Context,
    keyed: Keyed | None,
    work: Callable[[Context], T],
    render: Callable[[T], Answer],
    refuse: Callable[[DomainError], Answer],
) -> Answer:
    """For the commands made of many transactions by design (a bill run, a batch's confirmation: each line
    its own), which resume where a crash left them: the key is looked up first and the answer stored last,
    each in a transaction of its own; a retry after a crash runs the command again, and it resumes."""
    if keyed is not None:
        with ctx.uow(write=False) as unit:
            stored = unit.idempotency.find(keyed.caller, keyed.key)
        if stored is not None:
            return _replay(ctx, keyed, stored)
    try:
        result = work(ctx)
    except DomainError as error:
        return refuse(error) if keyed is None else _store_refusal(ctx, keyed, refuse(error))
    first = render(result)
    if keyed is None:
        return first
    with ctx.uow() as unit:
        if unit.idempotency.add(
            keyed.caller, keyed.key, keyed.path, keyed.fingerprint, first, settled=True, at=ctx.clock.now()
        ):
            unit.commit()
            return first
    return _replay(ctx, keyed, _find(ctx, keyed))


def _settled(ctx: Context, keyed: Keyed, result: T, render: Callable[[T], Answer], settle: Settle[T]) -> Answer:
    """The answer once the networks have answered, stored in the transaction that records theirs."""
    finals: list[Answer] = []

    def within(unit: CommandUnit, final: T) -> None:
        finals.append(render(final))
        unit.idempotency.settle(keyed.caller, keyed.key, finals[-1])

    result = settle(result, within)
    if not finals:
        with ctx.uow() as unit:
            within(unit, result)
            unit.commit()
    return finals[-1]


@dataclass(frozen=True, slots=True)
class _Ran(Generic[T]):
    result: T | None
    answer: Answer
    refused: bool
    stored: bool


def _run_and_store(
    ctx: Context,
    unit: CommandUnit,
    keyed: Keyed,
    work: Callable[[Context], T],
    render: Callable[[T], Answer],
    refuse: Callable[[DomainError], Answer],
    *,
    unsettled: bool,
) -> _Ran[T] | None:
    """The command and its answer in `unit`, committed; None when a repeat took the key first."""
    unit.hold_writes()
    try:
        result = work(ctx.in_command(unit))
    except DomainError as error:
        if not unit.kept_writes:
            return _Ran(None, refuse(error), refused=True, stored=False)
        ran = _Ran[T](None, refuse(error), refused=True, stored=True)
    else:
        ran = _Ran(result, render(result), refused=False, stored=True)
    if unit.discarded_writes:
        unit.restart()
    try:
        added = _add_answer(ctx, unit, keyed, ran.answer, settled=ran.refused or not unsettled)
    except DomainError as error:
        # A condition the command left to the database, written with its answer (a month's slot seen free, taken
        # meanwhile: `Slots.take_or_refuse`), refused it: the statement wrote the rest, so all of it goes, and
        # the refusal is the answer. Such a command keeps nothing from before its condition.
        unit.restart()
        ran = _Ran(None, refuse(error), refused=True, stored=True)
        added = _add_answer(ctx, unit, keyed, ran.answer, settled=True)
    if not added:
        return None
    unit.commit()
    return ran


def _add_answer(ctx: Context, unit: CommandUnit, keyed: Keyed, answer: Answer, *, settled: bool) -> bool:
    return unit.idempotency.add(
        keyed.caller, keyed.key, keyed.path, keyed.fingerprint, answer, settled=settled, at=ctx.clock.now()
    )


def _commit_kept(unit: CommandUnit) -> None:
    if unit.discarded_writes:
        return  # rolled back when the unit closes
    unit.commit()


def _find(ctx: Context[CommandUnit], keyed: Keyed) -> StoredAnswer:
    with ctx.uow(write=False) as unit:
        stored = unit.idempotency.find(keyed.caller, keyed.key)
    if stored is None:  # the winner of the race was rolled back after all: a server error, not a replay
        raise DomainError(ErrorCode.CONFLICT, reason="key-failed")
    return stored


def _store_refusal(ctx: Context, keyed: Keyed, refusal: Answer) -> Answer:
    with ctx.uow() as unit:
        stored = unit.idempotency.find(keyed.caller, keyed.key)
        if stored is None and unit.idempotency.add(
            keyed.caller, keyed.key, keyed.path, keyed.fingerprint, refusal, settled=True, at=ctx.clock.now()
        ):
            unit.commit()
            return refusal
    return _replay(ctx, keyed, stored or _find(ctx, keyed))


def _replay(ctx: Context, keyed: Keyed, stored: StoredAnswer) -> Answer:
    if stored.fingerprint != keyed.fingerprint:
        raise DomainError(ErrorCode.IDEMPOTENCY_KEY_REUSED)
    deadline = time.monotonic() + SETTLE_WAIT_SECONDS
    delay = 0.01
    while not stored.settled and time.monotonic() < deadline:
        time.sleep(delay)
        delay = min(delay * 2, 0.2)
        stored = _find(ctx, keyed)
    first = stored.answer
    return Answer(first.status, first.body, first.headers, replayed=True)
