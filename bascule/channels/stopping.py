"""How a long-running command (the provisioning worker) stops on SIGTERM or SIGINT.

Its rounds run on a thread of their own while the main thread only waits for them. A Python signal handler runs
on the main thread, between two bytecodes of whatever that thread was doing: had the main thread run the rounds,
a handler setting their `threading.Event` could arrive while that very thread held the Event's lock (inside
`Event.wait`) and wait for it forever (cpython#126434 is the same fault in `multiprocessing.Event`). The clean
clone's CI met it once: a worker sent SIGTERM never stopped.
"""

from __future__ import annotations

import signal
import threading
from collections.abc import Callable, Iterable

STOPPING_SIGNALS = (signal.SIGTERM, signal.SIGINT)


def run_until_signalled(
    rounds: Callable[[threading.Event], None], signals: Iterable[signal.Signals] = STOPPING_SIGNALS
) -> None:
    """Run `rounds(stop)` on a thread of its own until it returns; any of `signals` sets `stop`. The handlers
    in place before are back when this returns, and what `rounds` raised is raised here."""
    stop = threading.Event()
    raised: list[BaseException] = []

    def run() -> None:
        try:
            rounds(stop)
        except BaseException as error:  # handed to the main thread, which raises it
            raised.append(error)

    runner = threading.Thread(target=run, name="bascule-rounds")
    before = {signum: signal.signal(signum, lambda *_: stop.set()) for signum in signals}
    try:
        runner.start()
        while runner.is_alive():
            # A signal the kernel hands to the main thread interrupts this wait and its handler runs at once; one
            # handed to the rounds' thread waits for the main thread's next bytecode: the wait ends every half second.
            runner.join(0.5)
    finally:
        for signum, handler in before.items():  # first, so that no handler of ours can meet the set below
            signal.signal(signum, handler)
        if runner.is_alive():  # the wait was broken off by an error of the main thread
            stop.set()
            runner.join()
    if raised:
        raise raised[0]
