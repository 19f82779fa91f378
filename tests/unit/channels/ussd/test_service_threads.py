"""Where a USSD call's work runs (`UssdService.answer`): the session is read and saved on the event loop, the screen
between goes through `off_loop` (a worker thread in the channel), and a gateway's retry runs nothing at all."""

from __future__ import annotations

import asyncio
import threading
from concurrent.futures import ThreadPoolExecutor
from typing import Any

from bascule.channels.ussd.service import Call, Reply, UssdService
from bascule.channels.ussd.sessions import StoredSession

CALLER = "+2250700000001"


class RecordingStore:
    """A session store in memory that notes the thread each of its calls ran on."""

    def __init__(self, sessions: dict[str, StoredSession] | None = None) -> None:
        self.sessions = dict(sessions or {})
        self.threads: list[tuple[str, int]] = []

    async def load(self, session_id: str) -> StoredSession | None:
        self.threads.append(("load", threading.get_ident()))
        return self.sessions.get(session_id)

    async def save(self, session_id: str, session: StoredSession) -> None:
        self.threads.append(("save", threading.get_ident()))
        self.sessions[session_id] = session

    async def delete(self, session_id: str) -> None:
        self.sessions.pop(session_id, None)


def answered(service: UssdService, call: Call) -> tuple[Reply, int, list[int]]:
    """The reply, the loop's thread, and the threads `off_loop` ran work on."""
    pool = ThreadPoolExecutor(1)
    ran_on: list[int] = []

    async def off_loop(work: Any) -> Any:
        def noted() -> Any:
            ran_on.append(threading.get_ident())
            return work()

        return await asyncio.get_running_loop().run_in_executor(pool, noted)

    async def scenario() -> tuple[Reply, int]:
        return await service.answer(call, off_loop), threading.get_ident()

    try:
        reply, loop_thread = asyncio.run(scenario())
    finally:
        pool.shutdown()
    return reply, loop_thread, ran_on


def test_the_screen_runs_off_the_loop_and_the_session_is_read_and_saved_on_it(monkeypatch):
    store = RecordingStore()
    service = UssdService(ctx=None, store=store)  # type: ignore[arg-type]
    state = {"inputs": ["#121#"], "final": False, "screen": "Menu", "lists": {}, "resume": None}
    screens: list[tuple[list[str], StoredSession | None, int]] = []

    def screen(call: Call, inputs: list[str], saved: StoredSession | None) -> tuple[Reply, dict[str, Any]]:
        screens.append((inputs, saved, threading.get_ident()))
        return Reply(False, "Menu"), state

    monkeypatch.setattr(service, "_screen", screen)
    reply, loop_thread, ran_on = answered(service, Call("s1", "#121#", CALLER, ""))

    assert reply == Reply(False, "Menu")
    assert len(ran_on) == 1
    assert ran_on[0] != loop_thread
    assert screens == [([], None, ran_on[0])]  # "#121#" alone: no input yet, and a new session
    assert store.threads == [("load", loop_thread), ("save", loop_thread)]
    assert store.sessions == {"s1": StoredSession(CALLER, state)}


def test_a_retry_of_the_last_call_gets_the_same_screen_and_runs_nothing(monkeypatch):
    kept = StoredSession(CALLER, {"inputs": ["1"], "final": False, "screen": "Choisissez", "lists": {}})
    store = RecordingStore({"s1": kept})
    service = UssdService(ctx=None, store=store)  # type: ignore[arg-type]
    monkeypatch.setattr(service, "_screen", lambda *args: (_ for _ in ()).throw(AssertionError("walked again")))

    reply, loop_thread, ran_on = answered(service, Call("s1", "#121#", CALLER, "1"))

    assert reply == Reply(False, "Choisissez")
    assert ran_on == []
    assert store.threads == [("load", loop_thread)]  # read, and not saved again
    assert store.sessions == {"s1": kept}


def test_another_numbers_session_is_not_resumed(monkeypatch):
    theirs = StoredSession("+2250700000002", {"inputs": ["1"], "final": True, "screen": "Fin", "lists": {}})
    store = RecordingStore({"s1": theirs})
    service = UssdService(ctx=None, store=store)  # type: ignore[arg-type]
    seen: list[StoredSession | None] = []

    def screen(call: Call, inputs: list[str], saved: StoredSession | None) -> tuple[Reply, dict[str, Any]]:
        seen.append(saved)
        return Reply(True, "Menu"), {"inputs": inputs, "final": True, "screen": "Menu", "lists": {}, "resume": None}

    monkeypatch.setattr(service, "_screen", screen)
    reply, _, ran_on = answered(service, Call("s1", "#121#", CALLER, "1"))

    assert reply == Reply(True, "Menu")
    assert seen == [None]  # walked as a new session, not replayed from the other number's
    assert len(ran_on) == 1
    assert store.sessions["s1"].msisdn == CALLER
