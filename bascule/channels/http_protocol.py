"""How `bascule serve` speaks HTTP/1.1: uvicorn's httptools protocol, with each answer sent in one socket write.

uvicorn writes an answer's head when the application starts it and its body when the application sends it: two
`send` calls, and on loopback each one also runs the receiver's side of TCP. An answer of ours is nearly always
started and finished in the same turn of the event loop, so what a connection writes in one turn is held and sent
once, at the end of that turn. Nothing waits longer than the turn: a streamed body still goes out as it comes.
Past `HOLD_AT_MOST` bytes held, they go at once, so that the connection's flow control (uvicorn pauses a sender
whose socket buffer is full) sees a large body as it did.
"""

from __future__ import annotations

import asyncio
from typing import Any

from uvicorn.protocols.http.httptools_impl import HttpToolsProtocol

HTTP_CHOICES = ("auto", "h11", "httptools")
HOLD_AT_MOST = 64 * 1024


class OneWritePerTurn:
    """A connection's transport whose writes of one loop turn reach the socket as one write; the rest of the
    transport (flow control, closing, peer address) is the connection's own."""

    __slots__ = ("_held", "_held_bytes", "_loop", "_transport")

    def __init__(self, transport: asyncio.Transport, loop: asyncio.AbstractEventLoop) -> None:
        self._transport = transport
        self._loop = loop
        self._held: list[bytes] = []
        self._held_bytes = 0

    def write(self, data: bytes | bytearray | memoryview) -> None:
        if not data:
            return
        if not self._held:
            self._loop.call_soon(self.flush)
        self._held.append(bytes(data))
        self._held_bytes += len(data)
        if self._held_bytes >= HOLD_AT_MOST:
            self.flush()

    def writelines(self, chunks: Any) -> None:
        for chunk in chunks:
            self.write(chunk)

    def flush(self) -> None:
        held, self._held, self._held_bytes = self._held, [], 0
        if held and not self._transport.is_closing():
            self._transport.write(held[0] if len(held) == 1 else b"".join(held))

    def get_write_buffer_size(self) -> int:
        return self._transport.get_write_buffer_size() + self._held_bytes

    def is_closing(self) -> bool:
        return self._transport.is_closing()

    def close(self) -> None:
        self.flush()
        self._transport.close()

    def abort(self) -> None:
        self._held, self._held_bytes = [], 0
        self._transport.abort()

    def __getattr__(self, name: str) -> Any:
        return getattr(self._transport, name)


class OneWriteHttpToolsProtocol(HttpToolsProtocol):
    """uvicorn's httptools protocol over `OneWritePerTurn`."""

    def connection_made(self, transport: asyncio.Transport) -> None:  # type: ignore[override]
        super().connection_made(OneWritePerTurn(transport, self.loop))  # type: ignore[arg-type]


def http_protocol(choice: str) -> str | type[asyncio.Protocol]:
    """What to give uvicorn's `http=` for `serve --http CHOICE`: httptools (the default, installed with uvicorn's
    standard extra) with one write per answer, or h11 as uvicorn has it."""
    if choice not in HTTP_CHOICES:
        raise ValueError(f"unknown HTTP implementation {choice!r}: one of {', '.join(HTTP_CHOICES)}")
    return "h11" if choice == "h11" else OneWriteHttpToolsProtocol
