"""The calls handed to the application's threads (`bascule/channels/threads.py`)."""

from __future__ import annotations

import asyncio
import contextvars
import threading

import pytest

from bascule.channels.threads import CallThreads

REQUEST_ID: contextvars.ContextVar[str] = contextvars.ContextVar("request_id", default="none")


def test_a_call_runs_off_the_loop_with_the_callers_context_and_gives_its_result():
    threads = CallThreads(2)

    def in_thread() -> tuple[str, int]:
        return REQUEST_ID.get(), threading.get_ident()

    async def call() -> tuple[str, int, int]:
        REQUEST_ID.set("req-7")
        request_id, thread = await threads.run(in_thread)
        return request_id, thread, threading.get_ident()

    request_id, call_thread, loop_thread = asyncio.run(call())
    assert request_id == "req-7"
    assert call_thread != loop_thread


def test_an_error_of_the_call_reaches_the_caller_and_the_thread_serves_the_next():
    threads = CallThreads(1)

    def refused() -> None:
        raise LookupError("no such line")

    async def calls() -> int:
        with pytest.raises(LookupError, match="no such line"):
            await threads.run(refused)
        return await threads.run(lambda: 41 + 1)

    assert asyncio.run(calls()) == 42


def test_as_many_calls_run_at_once_as_there_are_threads():
    threads = CallThreads(4)
    all_in = threading.Barrier(4, timeout=10)  # broken (an error) unless four calls wait in it together

    async def calls() -> list[int]:
        return await asyncio.gather(*(threads.run(lambda n=n: (all_in.wait(), n)[1]) for n in range(4)))

    assert asyncio.run(calls()) == [0, 1, 2, 3]


def test_a_call_whose_caller_went_away_ends_and_leaves_the_thread_to_the_next():
    threads = CallThreads(1)
    release = threading.Event()
    ended = threading.Event()

    def slow() -> None:
        release.wait(10)
        ended.set()

    async def calls() -> str:
        waiting = asyncio.ensure_future(threads.run(slow))
        await asyncio.sleep(0.05)
        waiting.cancel()  # the client hung up
        release.set()
        return await threads.run(lambda: "served")

    assert asyncio.run(calls()) == "served"
    assert ended.is_set()
