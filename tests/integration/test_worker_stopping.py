"""The worker stops on SIGTERM or SIGINT, whenever the signal lands (bascule/channels/stopping.py)."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import threading
import time

import pytest

from bascule.channels.stopping import run_until_signalled

# A child whose rounds wait on their stop Event between short stretches of work, so that a signal often lands while
# the Event's lock is held: with the rounds on the main thread, about a third of such signals were never answered.
# (Rounds that only waited would hold that lock so often that a handler on the other thread could be starved of it
# for seconds on a loaded machine; the worker waits 50 ms at the least.)
_SPINNING_CHILD = """
import sys
from bascule.channels.stopping import run_until_signalled

def rounds(stop):
    sys.stdout.write("ready\\n")
    sys.stdout.flush()
    while not stop.is_set():
        stop.wait(0)
        for _ in range(200):
            pass

run_until_signalled(rounds)
sys.stdout.write("stopped\\n")
"""


def test_the_rounds_run_off_the_main_thread_until_a_signal_and_the_handlers_come_back():
    before = signal.getsignal(signal.SIGTERM)
    seen: dict[str, object] = {}

    def rounds(stop: threading.Event) -> None:
        seen["main thread"] = threading.current_thread() is threading.main_thread()
        os.kill(os.getpid(), signal.SIGTERM)
        seen["stopped"] = stop.wait(10)

    run_until_signalled(rounds)

    assert seen == {"main thread": False, "stopped": True}
    assert signal.getsignal(signal.SIGTERM) is before


def test_a_signal_the_kernel_hands_to_the_rounds_thread_stops_them_too():
    seen: dict[str, bool] = {}

    def rounds(stop: threading.Event) -> None:
        time.sleep(0.2)  # the main thread is waiting by now
        signal.pthread_kill(threading.get_ident(), signal.SIGTERM)  # to this thread, not to the main one
        seen["stopped"] = stop.wait(3)

    run_until_signalled(rounds)

    assert seen == {"stopped": True}


def test_what_the_rounds_raise_is_raised_once_the_handlers_are_back():
    before = signal.getsignal(signal.SIGINT)

    def rounds(stop: threading.Event) -> None:
        raise LookupError("no such network")

    with pytest.raises(LookupError, match="no such network"):
        run_until_signalled(rounds)
    assert signal.getsignal(signal.SIGINT) is before


@pytest.mark.parametrize("signum", [signal.SIGTERM, signal.SIGINT], ids=lambda signum: signum.name)
def test_a_signal_landing_while_the_rounds_wait_always_stops_them(signum):
    for _ in range(20):
        with subprocess.Popen([sys.executable, "-c", _SPINNING_CHILD], stdout=subprocess.PIPE, text=True) as child:
            try:
                assert child.stdout is not None
                assert child.stdout.readline() == "ready\n"
                child.send_signal(signum)
                out, _ = child.communicate(timeout=10)
            finally:
                child.kill()  # one that hung; the `with` closes its pipe and waits for it
        assert (child.returncode, out) == (0, "stopped\n")
