"""What a channel keeps on the context: one object per typed key, made once, shared by the copies of the context."""

from __future__ import annotations

from dataclasses import replace

from bascule.catalog.live import LiveCatalog
from bascule.catalog.model import Catalog
from bascule.context import Context, Kept
from bascule.kernel.clock import SettableClock
from tests.conftest import START

COUNTS: Kept[list[int]] = Kept("counts")
OTHER: Kept[list[int]] = Kept("counts")  # the same name, another key


def test_an_object_is_made_once_per_key_and_shared_by_the_copies(catalog: Catalog) -> None:
    ctx: Context = Context(LiveCatalog(catalog), SettableClock(START), units=None)  # type: ignore[arg-type]
    made: list[str] = []

    def make() -> list[int]:
        made.append("made")
        return []

    assert ctx.kept.get(COUNTS) is None
    first = ctx.kept.setdefault(COUNTS, make)
    first.append(1)
    copy = replace(ctx, clock=SettableClock(START))  # as a command copies it (`in_command`)
    assert copy.kept.setdefault(COUNTS, make) is first
    assert ctx.kept.get(COUNTS) == [1]
    assert made == ["made"]
    assert ctx.kept.get(OTHER) is None
