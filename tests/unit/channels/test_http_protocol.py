"""`bascule serve`'s HTTP protocol: uvicorn's httptools protocol with what a connection writes in one loop turn sent in
one socket write (an answer's head and body together)."""

from __future__ import annotations

import asyncio
import functools
from collections.abc import Callable, Coroutine
from typing import Any

import pytest
from typer.testing import CliRunner
from uvicorn.config import Config
from uvicorn.server import ServerState

from bascule.channels.cli import app as cli
from bascule.channels.http_protocol import HOLD_AT_MOST, OneWriteHttpToolsProtocol, OneWritePerTurn, http_protocol


class SocketTransport(asyncio.Transport):
    """A connection's transport as the protocol sees it: each `write` is one write to the socket."""

    def __init__(self) -> None:
        super().__init__()
        self.writes: list[bytes] = []
        self.closed = False
        self.aborted = False
        self.protocol: Any = None

    def write(self, data: Any) -> None:
        assert not self.closed, "written after close"
        self.writes.append(bytes(data))

    def is_closing(self) -> bool:
        return self.closed

    def close(self) -> None:
        self.closed = True

    def abort(self) -> None:
        self.aborted = self.closed = True

    def get_write_buffer_size(self) -> int:
        return 7

    def get_extra_info(self, name: str, default: Any = None) -> Any:
        return {"peername": ("127.0.0.1", 40000), "sockname": ("127.0.0.1", 8000)}.get(name, default)

    def set_protocol(self, protocol: Any) -> None:
        self.protocol = protocol

    def pause_reading(self) -> None: ...

    def resume_reading(self) -> None: ...


def on_a_loop(test: Callable[[], Coroutine[Any, Any, None]]) -> Callable[[], None]:
    """The test, run on an event loop of its own."""

    @functools.wraps(test)
    def run() -> None:
        asyncio.run(test())

    return run


async def _turns(count: int = 3) -> None:
    for _ in range(count):
        await asyncio.sleep(0)


@on_a_loop
async def test_what_is_written_in_one_turn_reaches_the_socket_in_one_write_at_the_end_of_the_turn() -> None:
    socket = SocketTransport()
    transport = OneWritePerTurn(socket, asyncio.get_running_loop())
    transport.write(b"HTTP/1.1 200 OK\r\ncontent-length: 2\r\n\r\n")
    transport.write(memoryview(b"ok"))
    assert socket.writes == []
    assert transport.get_write_buffer_size() == 7 + 38 + 2
    await _turns()
    assert socket.writes == [b"HTTP/1.1 200 OK\r\ncontent-length: 2\r\n\r\nok"]
    transport.write(b"next")
    transport.write(b"")
    await _turns()
    assert socket.writes[1:] == [b"next"]


@on_a_loop
async def test_a_large_body_goes_to_the_socket_at_once_for_its_flow_control_to_see_it() -> None:
    socket = SocketTransport()
    transport = OneWritePerTurn(socket, asyncio.get_running_loop())
    head, chunk = b"HTTP/1.1 200 OK\r\n\r\n", b"x" * (HOLD_AT_MOST // 2)
    transport.write(head)
    transport.write(chunk)
    assert socket.writes == []
    transport.write(chunk)  # past HOLD_AT_MOST held
    assert socket.writes == [head + chunk + chunk]
    assert transport.get_write_buffer_size() == 7
    transport.write(b"end")
    await _turns()
    assert socket.writes[1:] == [b"end"]


@on_a_loop
async def test_closing_sends_what_is_held_first_and_aborting_drops_it() -> None:
    loop = asyncio.get_running_loop()
    socket = SocketTransport()
    transport = OneWritePerTurn(socket, loop)
    transport.write(b"HTTP/1.1 400 Bad Request\r\n\r\n")
    transport.close()
    assert (socket.writes, socket.closed) == ([b"HTTP/1.1 400 Bad Request\r\n\r\n"], True)
    await _turns()
    assert socket.writes == [b"HTTP/1.1 400 Bad Request\r\n\r\n"]  # the turn's end finds nothing more to send

    aborted = SocketTransport()
    transport = OneWritePerTurn(aborted, loop)
    transport.writelines([b"a", b"b"])
    transport.abort()
    await _turns()
    assert (aborted.writes, aborted.aborted) == ([], True)


@on_a_loop
async def test_nothing_is_written_to_a_connection_that_closed_within_the_turn() -> None:
    socket = SocketTransport()
    transport = OneWritePerTurn(socket, asyncio.get_running_loop())
    transport.write(b"late")
    socket.closed = True  # the peer went away
    await _turns()
    assert socket.writes == []
    assert transport.is_closing() is True


def test_the_rest_of_the_transport_is_the_connection_s_own() -> None:
    socket = SocketTransport()
    loop = asyncio.new_event_loop()
    transport = OneWritePerTurn(socket, loop)
    loop.close()
    assert transport.get_extra_info("peername") == ("127.0.0.1", 40000)
    transport.set_protocol("p")
    assert socket.protocol == "p"


async def _served(app: Any, request: bytes) -> SocketTransport:
    """`request` on one connection of the protocol `bascule serve` runs, `app` answering."""
    config = Config(app, http=http_protocol("auto"), lifespan="off", log_level="warning")
    config.load()
    protocol = config.http_protocol_class(config=config, server_state=ServerState(), app_state={})
    socket = SocketTransport()
    protocol.connection_made(socket)
    protocol.data_received(request)
    await _turns(10)
    return socket


async def _answer_at_once(scope: Any, receive: Any, send: Any) -> None:
    await receive()
    await send({"type": "http.response.start", "status": 200, "headers": [(b"content-length", b"7")]})
    await send({"type": "http.response.body", "body": b"CON Bon"})


@on_a_loop
async def test_an_answer_goes_out_in_one_write_head_and_body_together() -> None:
    socket = await _served(_answer_at_once, b"POST /ussd HTTP/1.1\r\nhost: x\r\ncontent-length: 2\r\n\r\nab")
    assert len(socket.writes) == 1
    head, body = socket.writes[0].split(b"\r\n\r\n")
    assert head.split(b"\r\n")[0] == b"HTTP/1.1 200 OK"
    assert b"content-length: 7" in head.split(b"\r\n")
    assert body == b"CON Bon"
    assert socket.closed is False  # kept alive


@on_a_loop
async def test_two_pipelined_requests_get_their_answers_in_order() -> None:
    request = b"GET /a HTTP/1.1\r\nhost: x\r\n\r\n"
    socket = await _served(_answer_at_once, request + request)
    sent = b"".join(socket.writes)
    assert sent.count(b"HTTP/1.1 200 OK") == 2
    assert sent.endswith(b"CON Bon")


@on_a_loop
async def test_a_streamed_body_goes_out_as_it_comes() -> None:
    async def stream(scope: Any, receive: Any, send: Any) -> None:
        await send({"type": "http.response.start", "status": 200, "headers": []})
        await send({"type": "http.response.body", "body": b"one", "more_body": True})
        await asyncio.sleep(0.01)
        await send({"type": "http.response.body", "body": b"two", "more_body": False})

    socket = await _served(stream, b"GET /s HTTP/1.1\r\nhost: x\r\n\r\n")
    await asyncio.sleep(0.05)
    assert len(socket.writes) == 2
    assert socket.writes[0].endswith(b"\r\n\r\n3\r\none\r\n")  # the head and the first chunk, before the second
    assert socket.writes[1] == b"3\r\ntwo\r\n0\r\n\r\n"


@on_a_loop
async def test_a_malformed_request_gets_its_400_before_the_connection_closes() -> None:
    socket = await _served(_answer_at_once, b"NOT HTTP\r\n\r\n")
    assert len(socket.writes) == 1
    assert socket.writes[0].startswith(b"HTTP/1.1 400 Bad Request\r\n")
    assert socket.closed is True


def test_serve_speaks_httptools_with_one_write_unless_asked_for_h11() -> None:
    assert http_protocol("auto") is OneWriteHttpToolsProtocol
    assert http_protocol("httptools") is OneWriteHttpToolsProtocol
    assert http_protocol("h11") == "h11"
    with pytest.raises(ValueError, match="unknown HTTP implementation 'h2'"):
        http_protocol("h2")


def test_serve_refuses_an_unknown_http_implementation_before_doing_anything(tmp_path, monkeypatch) -> None:
    monkeypatch.setenv("BASCULE_DATABASE_URL", f"sqlite:///{tmp_path / 'never.db'}")
    result = CliRunner().invoke(cli, ["serve", "--http", "h2"])
    assert result.exit_code == 2
    assert "unknown HTTP implementation 'h2'" in result.output
    assert not (tmp_path / "never.db").exists()
