"""A small asyncio HTTP/1.1 client for flows that need ids from answers (create, then confirm).

One keep-alive connection per simulated client, raw HTTP/1.1 over asyncio streams on uvloop: no
HTTP library in the way, so one Python process drives thousands of requests a second. Its own
ceiling is measured against a bare endpoint in the same run (see `ceiling`).
"""

from __future__ import annotations

import asyncio
import json
import time
from collections.abc import Awaitable, Callable, Iterator
from dataclasses import dataclass, field
from typing import Any

from bench.common import percentile

try:
    import uvloop
except ImportError:  # pragma: no cover - uvicorn[standard] brings it
    uvloop = None


class HttpError(RuntimeError):
    pass


class Connection:
    def __init__(self, host: str, port: int) -> None:
        self.host, self.port = host, port
        self.reader: asyncio.StreamReader | None = None
        self.writer: asyncio.StreamWriter | None = None

    async def open(self) -> None:
        self.reader, self.writer = await asyncio.open_connection(self.host, self.port)

    async def request(
        self, method: str, path: str, body: Any = None, headers: dict[str, str] | None = None, form: bytes | None = None
    ) -> tuple[int, bytes]:
        if self.writer is None:
            await self.open()
        assert self.reader is not None
        assert self.writer is not None
        payload = form if form is not None else (b"" if body is None else json.dumps(body).encode())
        lines = [f"{method} {path} HTTP/1.1", f"Host: {self.host}:{self.port}", f"Content-Length: {len(payload)}"]
        if payload:
            lines.append(
                "Content-Type: " + ("application/x-www-form-urlencoded" if form is not None else "application/json")
            )
        lines += [f"{name}: {value}" for name, value in (headers or {}).items()]
        self.writer.write(("\r\n".join(lines) + "\r\n\r\n").encode() + payload)
        status_line = await self.reader.readline()
        if not status_line:
            raise HttpError("connection closed")
        status = int(status_line.split(b" ", 2)[1])
        length, chunked = 0, False
        while True:
            line = await self.reader.readline()
            if line in (b"\r\n", b""):
                break
            name, _, value = line.partition(b":")
            name = name.strip().lower()
            if name == b"content-length":
                length = int(value)
            elif name == b"transfer-encoding" and b"chunked" in value.lower():
                chunked = True
        if not chunked:
            return status, await self.reader.readexactly(length)
        parts = []
        while True:
            size = int((await self.reader.readline()).strip(), 16)
            chunk = await self.reader.readexactly(size + 2)
            if size == 0:
                return status, b"".join(parts)
            parts.append(chunk[:-2])

    def close(self) -> None:
        if self.writer is not None:
            self.writer.close()


@dataclass
class Tally:
    latencies_ms: list[float] = field(default_factory=list)
    flows: int = 0
    failures: dict[str, int] = field(default_factory=dict)
    seconds: float = 0.0

    def fail(self, what: str) -> None:
        self.failures[what] = self.failures.get(what, 0) + 1

    def summary(self) -> dict[str, Any]:
        return {
            "flows": self.flows,
            "flows_per_s": self.flows / self.seconds if self.seconds else 0.0,
            "requests": len(self.latencies_ms),
            "requests_per_s": len(self.latencies_ms) / self.seconds if self.seconds else 0.0,
            "p50_ms": percentile(self.latencies_ms, 0.50),
            "p99_ms": percentile(self.latencies_ms, 0.99),
            "failures": self.failures,
            "seconds": self.seconds,
        }


Flow = Callable[[Connection, Any, Tally], Awaitable[bool]]


async def timed(tally: Tally, call: Awaitable[tuple[int, bytes]]) -> tuple[int, bytes]:
    started = time.perf_counter()
    status, body = await call
    tally.latencies_ms.append((time.perf_counter() - started) * 1000)
    return status, body


async def _drive(
    port: int,
    clients: int,
    seconds: float,
    items: Iterator[Any],
    flow: Flow,
    warmup: float,
    probe: Callable[[int], None] | None,
) -> Tally:
    tally = Tally()
    warm = Tally()
    exhausted = False
    ended = 0  # flows ended, whatever their outcome: the probe divides by those ended in the window

    async def client() -> None:
        nonlocal exhausted, ended
        connection = Connection("127.0.0.1", port)
        await connection.open()
        try:
            while time.perf_counter() < deadline and not exhausted:
                current = warm if time.perf_counter() < measure_from else tally
                try:
                    item = next(items)
                except StopIteration:
                    exhausted = True
                    break
                if await flow(connection, item, current):
                    current.flows += 1
                ended += 1
        finally:
            connection.close()

    async def probing() -> None:
        assert probe is not None
        loop = asyncio.get_running_loop()
        for at in (measure_from, deadline):
            await asyncio.sleep(max(0.0, at - time.perf_counter()))
            await loop.run_in_executor(None, probe, ended)

    measure_from = time.perf_counter() + warmup
    deadline = measure_from + seconds
    await asyncio.gather(*(client() for _ in range(clients)), *([probing()] if probe else []))
    tally.seconds = min(seconds, time.perf_counter() - measure_from)
    if exhausted:
        tally.fail("ran out of prepared items: raise the seeded count")
    return tally


def drive(
    port: int,
    clients: int,
    seconds: float,
    items: Iterator[Any],
    flow: Flow,
    warmup: float = 2.0,
    probe: Callable[[int], None] | None = None,
) -> Tally:
    """Run `flow` over `items` from `clients` connections for `seconds` after `warmup`; flows/s and latencies.
    `probe(flows ended so far)` is called when the measured window opens and when it closes."""
    if uvloop is not None:
        return uvloop.run(_drive(port, clients, seconds, items, flow, warmup, probe))
    return asyncio.run(_drive(port, clients, seconds, items, flow, warmup, probe))


def ceiling(port: int, path: str, clients: int, seconds: float = 5.0) -> dict[str, Any]:
    """The client's own ceiling: two POSTs per flow, as a change request does, against a bare endpoint."""

    async def flow(connection: Connection, _item: Any, tally: Tally) -> bool:
        for _ in range(2):
            status, _body = await timed(tally, connection.request("POST", path, {"changes": {"radio": "5G"}}))
            if status != 200:
                tally.fail(str(status))
                return False
        return True

    def forever() -> Iterator[int]:
        n = 0
        while True:
            n += 1
            yield n

    return drive(port, clients, seconds, forever(), flow, warmup=1.0).summary()
