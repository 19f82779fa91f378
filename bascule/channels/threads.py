"""The threads where the HTTP channels' busiest calls run their synchronous use cases, off the event loop.

A pool of the process's own (`BASCULE_THREADS` threads), reached through the event loop's executor: handing a call
to it costs about half of what anyio's hand-off does (its capacity limiter and its idle-thread bookkeeping), on
every call. The call keeps the request's context (its request id in the logs), as with anyio.
"""

from __future__ import annotations

import asyncio
import contextvars
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from typing import TypeVar

T = TypeVar("T")


class CallThreads:
    def __init__(self, threads: int) -> None:
        self._pool = ThreadPoolExecutor(threads, thread_name_prefix="bascule-call")

    async def run(self, work: Callable[[], T]) -> T:
        """`work()` in one of the pool's threads, with the caller's context."""
        context = contextvars.copy_context()
        return await asyncio.get_running_loop().run_in_executor(self._pool, context.run, work)
