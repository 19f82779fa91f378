"""Servers on loopback for the tests: a free port, the app served by uvicorn in a thread of the test process, and
`bascule serve` as a process of its own (for crashes, restarts and several workers)."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import httpx
import uvicorn

from bascule.channels.http_protocol import http_protocol

LOOPBACK = "127.0.0.1"
START_TIMEOUT = 60.0


def free_port() -> int:
    """A TCP port nobody listens on right now (the kernel picks it)."""
    with socket.socket() as probe:
        probe.bind((LOOPBACK, 0))
        return int(probe.getsockname()[1])


def base_url(port: int) -> str:
    return f"http://{LOOPBACK}:{port}"


@contextmanager
def live_server(app: Any, port: int | None = None) -> Iterator[str]:
    """`app` behind uvicorn on a loopback port, in a thread of this process; yields its base URL."""
    server = uvicorn.Server(
        uvicorn.Config(
            app,
            host=LOOPBACK,
            port=port or free_port(),
            log_level="warning",
            lifespan="on",
            http=http_protocol("auto"),  # as `bascule serve` speaks HTTP
        )
    )
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + START_TIMEOUT
    while not server.started:
        if not thread.is_alive() or time.monotonic() > deadline:
            raise RuntimeError("the test server did not start")
        time.sleep(0.02)
    try:
        yield base_url(server.config.port)
    finally:
        server.should_exit = True
        thread.join(timeout=10)


def environment_without_bascule(**settings: str) -> dict[str, str]:
    """This process's environment less its BASCULE_ settings, plus `settings` (BASCULE_ names)."""
    return {key: value for key, value in os.environ.items() if not key.startswith("BASCULE_")} | settings


def wait_until_up(base: str, process: subprocess.Popen[bytes], describe: Callable[[], str]) -> None:
    """Until /healthz answers 200; fails with `describe()` (the log, say) if the process ends first."""
    deadline = time.monotonic() + START_TIMEOUT
    while True:
        assert process.poll() is None, describe()
        assert time.monotonic() < deadline, f"the server did not answer within {START_TIMEOUT:.0f} s"
        try:
            if httpx.get(base + "/healthz", timeout=1).status_code == 200:
                return
        except httpx.TransportError:
            time.sleep(0.2)


def start_serving(
    port: int, env: Mapping[str, str], log: Path, *options: str, cwd: Path | None = None
) -> subprocess.Popen[bytes]:
    """`bascule serve --port PORT OPTIONS…` as a process of its own, its output appended to `log`, once it
    answers."""
    with log.open("ab") as output:
        process = subprocess.Popen(
            [sys.executable, "-m", "bascule", "serve", *options, "--port", str(port)],
            env=dict(env),
            cwd=cwd,
            stdout=output,
            stderr=output,
        )
    wait_until_up(base_url(port), process, lambda: log.read_text()[-3000:])
    return process


def kill(process: subprocess.Popen[bytes]) -> None:
    """A crash: SIGKILL, nothing cleaned up."""
    process.send_signal(signal.SIGKILL)
    process.wait(timeout=30)


def stop(process: subprocess.Popen[bytes]) -> None:
    """A clean stop (SIGINT, as Ctrl-C), killed if it does not end within 30 s."""
    process.send_signal(signal.SIGINT)
    try:
        process.wait(timeout=30)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait(timeout=30)


@contextmanager
def serving_process(
    env: Mapping[str, str], log: Path, *options: str, cwd: Path | None = None
) -> Iterator[tuple[str, subprocess.Popen[bytes]]]:
    """`bascule serve` on a free port for the `with` block: (base URL, process); stopped cleanly after."""
    port = free_port()
    process = start_serving(port, env, log, *options, cwd=cwd)
    try:
        yield base_url(port), process
    finally:
        stop(process)
