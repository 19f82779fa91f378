"""The work a process does for itself rather than for a command: a worker's round that found nothing to do, a look
at the catalogue's stamp. Counters of a command's work (the benchmark's, `persistence/sqlcount.py`) keep it
apart: it goes on at a few rounds a second whatever the load, and would otherwise be shared out among the
commands measured. Nothing else reads it; outside the benchmark a round only sets a context variable.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass, field
from typing import Any

_TALLY: ContextVar[Counter[Any] | None] = ContextVar("bascule_upkeep_tally", default=None)
_ENDED: list[Callable[[Counter[Any], bool], None]] = []


@dataclass
class Round:
    """A round under way; `idle` is its verdict, kept true unless the round did work for a command."""

    idle: bool = True
    tally: Counter[Any] = field(default_factory=Counter)


@contextmanager
def upkeep_round() -> Iterator[Round]:
    """What is counted inside is held in the round's tally, then handed to the counters once the round ends, as
    upkeep if it stayed idle, as commands' work otherwise."""
    this_round = Round()
    token = _TALLY.set(this_round.tally)
    try:
        yield this_round
    finally:
        _TALLY.reset(token)
        for ended in _ENDED:
            ended(this_round.tally, this_round.idle)


def current_tally() -> Counter[Any] | None:
    """The tally of the round under way in this context, if any."""
    return _TALLY.get()


def when_a_round_ends(listener: Callable[[Counter[Any], bool], None]) -> None:
    _ENDED.append(listener)
