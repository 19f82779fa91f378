"""The test clock (only with BASCULE_TEST_CLOCK=1): every time-dependent rule reads it."""

from __future__ import annotations

from fastapi import APIRouter, Depends

from bascule.channels.rest.schemas import ClockIn, ClockOut
from bascule.channels.rest.security import context
from bascule.context import Context
from bascule.kernel.clock import SettableClock

router = APIRouter(prefix="/api/v1/test", tags=["test clock"])


@router.get("/clock", response_model=ClockOut)
def read_clock(ctx: Context = Depends(context)) -> ClockOut:
    return ClockOut(now=ctx.clock.now())


@router.put("/clock", response_model=ClockOut)
def set_clock(body: ClockIn, ctx: Context = Depends(context)) -> ClockOut:
    if not isinstance(ctx.clock, SettableClock):  # the route is mounted only with BASCULE_TEST_CLOCK=1
        raise RuntimeError("the clock of this process cannot be set")
    ctx.clock.set(body.now)
    return ClockOut(now=ctx.clock.now())
