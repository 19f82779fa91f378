"""The USSD sessions' connection to Redis: commands of concurrent screens on one connection, each reply to its own
caller, a lost connection opened again, a silent server failing in time, the URL's credentials and database.

The real Redis of this machine answers where it can (this worker's database, emptied before and after); a small
server of the test's own plays what a real one will not do on demand (stay silent, drop the connection on a command,
record what a new connection sends first)."""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator
from contextlib import asynccontextmanager
from typing import Any

import hiredis
import pytest
import redis

from bascule.channels.ussd.redis_link import (
    RedisAddress,
    RedisLink,
    RedisLinkError,
    RedisReplyError,
    RedisTimeoutError,
    _Wire,
)
from tests.ussd.conftest import REDIS_URL, flushed_redis


@pytest.fixture
def real_redis() -> Iterator[redis.Redis]:
    client = flushed_redis()
    yield client
    client.flushdb()
    client.close()


def play(steps: Callable[[], Awaitable[Any]]) -> Any:
    return asyncio.run(steps())


@asynccontextmanager
async def opened(url: str, **options: Any) -> AsyncIterator[RedisLink]:
    link = RedisLink(url, **options)
    try:
        yield link
    finally:
        await link.close()


class ScriptedServer:
    """A server speaking RESP that records every command of every connection; `answer(connection, command)` gives
    the raw reply to write, None to stay silent, or `DROP` to close the connection."""

    DROP = b"drop"

    def __init__(self, answer: Callable[[int, list[str]], bytes | None], unix_path: str | None = None) -> None:
        self.answer = answer
        self.unix_path = unix_path
        self.received: list[tuple[int, list[str]]] = []
        self.connections = 0
        self.ended = 0  # connections the client closed
        self.port = 0
        self._server: asyncio.Server | None = None
        self._writers: list[asyncio.StreamWriter] = []

    async def __aenter__(self) -> ScriptedServer:
        if self.unix_path is not None:
            self._server = await asyncio.start_unix_server(self._serve, self.unix_path)
            return self
        self._server = await asyncio.start_server(self._serve, "127.0.0.1", 0)
        self.port = self._server.sockets[0].getsockname()[1]
        return self

    async def __aexit__(self, *exc: object) -> None:
        assert self._server is not None
        self._server.close()
        for writer in self._writers:
            writer.close()
        await self._server.wait_closed()

    def url(self, credentials: str = "", db: str = "") -> str:
        return f"redis://{credentials}127.0.0.1:{self.port}{db}"

    async def _serve(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self.connections += 1
        connection = self.connections
        self._writers.append(writer)
        parser = hiredis.Reader(encoding="utf-8")
        while data := await reader.read(65536):
            parser.feed(data)
            while (command := parser.gets()) is not False:
                self.received.append((connection, command))
                reply = self.answer(connection, command)
                if reply == self.DROP:
                    writer.close()
                    return
                if reply is not None:
                    writer.write(reply)
        self.ended += 1
        writer.close()


# Against the real Redis


def test_concurrent_commands_share_one_connection_and_each_caller_gets_its_own_reply(real_redis):
    async def steps():
        async with opened(REDIS_URL) as link:
            first_id = await link.command("CLIENT", "ID")
            await asyncio.gather(*(link.command("SET", f"k{i}", f"v{i}", "EX", 60) for i in range(300)))
            values = await asyncio.gather(*(link.command("GET", f"k{i}") for i in range(300)))
            last_id = await link.command("CLIENT", "ID")
            return first_id, values, last_id

    first_id, values, last_id = play(steps)
    assert values == [f"v{i}" for i in range(300)]
    assert last_id == first_id  # one connection all along
    assert real_redis.get("k299") == "v299"  # in this worker's database, as the URL says
    assert 0 < real_redis.ttl("k0") <= 60


def test_a_connection_redis_closed_is_opened_again_and_the_command_sent_once_more(real_redis):
    async def steps():
        async with opened(REDIS_URL) as link:
            killed = await link.command("CLIENT", "ID")
            real_redis.client_kill_filter(_id=killed)  # as Redis does to an idle client, or a restart
            written = await link.command("SET", "after", "yes")
            return killed, written, await link.command("GET", "after"), await link.command("CLIENT", "ID")

    killed, written, value, now = play(steps)
    assert (written, value) == ("OK", "yes")
    assert now != killed


def test_an_error_reply_is_raised_to_its_caller_and_the_connection_goes_on(real_redis):
    real_redis.set("word", "abc")

    async def steps():
        async with opened(REDIS_URL) as link:
            before = await link.command("CLIENT", "ID")
            with pytest.raises(RedisReplyError, match="not an integer"):
                await link.command("INCR", "word")
            return before, await link.command("GET", "word"), await link.command("CLIENT", "ID")

    before, value, after = play(steps)
    assert value == "abc"
    assert after == before
    assert real_redis.get("word") == "abc"  # the refused command changed nothing


def test_a_caller_that_stops_waiting_does_not_shift_the_replies_of_the_others(real_redis):
    real_redis.set("k", "mine")

    async def steps():
        async with opened(REDIS_URL) as link:
            await link.command("PING")
            blocked = asyncio.ensure_future(link.command("BLPOP", "no-such-list", 0.3))  # its reply comes in 0.3 s: nil
            await asyncio.sleep(0.05)
            blocked.cancel()
            return await link.command("GET", "k"), blocked.cancelled()

    assert play(steps) == ("mine", True)


def test_a_password_redis_refuses_is_its_error_and_nothing_is_sent(real_redis):
    async def steps():
        async with opened(REDIS_URL.replace("redis://", "redis://:wrong@")) as link:
            with pytest.raises(RedisReplyError, match="AUTH"):
                await link.command("SET", "k", "v")

    play(steps)
    assert real_redis.get("k") is None


def test_redis_that_cannot_be_reached_is_a_link_error():
    async def steps():
        async with ScriptedServer(lambda _connection, _command: None) as server:
            url = server.url()
        async with opened(url) as link:  # the port is closed by now
            started = time.monotonic()
            with pytest.raises(RedisLinkError, match="cannot reach Redis"):
                await link.command("GET", "k")
            return time.monotonic() - started

    assert play(steps) < 1.0


# Against a scripted server


GREETING = ["CLIENT", "SETNAME", "bascule-ussd-sessions"]


def greeted_then(answer: Callable[[int, list[str]], bytes | None]) -> Callable[[int, list[str]], bytes | None]:
    """A server that answers a new connection's greeting, then as `answer` says."""
    return lambda connection, command: b"+OK\r\n" if command == GREETING else answer(connection, command)


def test_a_silent_server_fails_every_waiting_command_in_time_and_none_is_sent_again():
    async def steps():
        async with (
            ScriptedServer(greeted_then(lambda _connection, _command: None)) as server,
            opened(server.url(), timeout=0.2) as link,
        ):
            started = time.monotonic()
            outcomes = await asyncio.gather(
                link.command("GET", "a"), link.command("GET", "b"), link.command("GET", "c"), return_exceptions=True
            )
            return time.monotonic() - started, outcomes, server.received, server.connections

    elapsed, outcomes, received, connections = play(steps)
    assert 0.2 <= elapsed < 1.0
    assert [type(outcome) for outcome in outcomes] == [RedisTimeoutError] * 3
    assert {str(outcome) for outcome in outcomes} == {"Redis did not answer within 0.2 s"}
    assert len({id(outcome) for outcome in outcomes}) == 3  # each caller its own error, and its own traceback
    assert received == [(1, GREETING), (1, ["GET", "a"]), (1, ["GET", "b"]), (1, ["GET", "c"])]
    assert connections == 1


def test_callers_that_come_while_redis_does_not_answer_the_greeting_share_one_timeout():
    async def steps():
        async with (
            ScriptedServer(lambda _connection, _command: None) as server,
            opened(server.url(), timeout=0.2) as link,
        ):
            started = time.monotonic()
            outcomes = await asyncio.gather(*(link.command("GET", key) for key in "abcd"), return_exceptions=True)
            return time.monotonic() - started, outcomes, server.received, server.connections

    elapsed, outcomes, received, connections = play(steps)
    assert 0.2 <= elapsed < 0.4  # one timeout for the four, not four one after the other
    assert [type(outcome) for outcome in outcomes] == [RedisTimeoutError] * 4
    assert (received, connections) == ([(1, GREETING)], 1)


def test_a_greeting_that_gets_no_answer_fails_in_time_and_closes_its_connection():
    async def steps():
        async with (
            ScriptedServer(lambda _connection, _command: None) as server,
            opened(server.url(":pw@"), timeout=0.2) as link,
        ):
            with pytest.raises(RedisTimeoutError):
                await link.command("GET", "k")
            await asyncio.sleep(0.1)
            return server.received, server.connections, server.ended

    assert play(steps) == ([(1, ["AUTH", "pw"]), (1, ["CLIENT", "SETNAME", "bascule-ussd-sessions"])], 1, 1)


def test_a_connection_lost_with_a_command_in_flight_sends_it_once_more_on_a_new_one():
    def answer(connection: int, command: list[str]) -> bytes | None:
        return ScriptedServer.DROP if connection == 1 else b"$5\r\nvalue\r\n"

    async def steps():
        async with ScriptedServer(greeted_then(answer)) as server, opened(server.url()) as link:
            return await link.command("GET", "k"), server.received, server.connections

    value, received, connections = play(steps)
    assert value == "value"
    assert received == [(1, GREETING), (1, ["GET", "k"]), (2, GREETING), (2, ["GET", "k"])]
    assert connections == 2


def test_a_connection_lost_twice_in_a_row_is_the_callers_error():
    async def steps():
        async with (
            ScriptedServer(lambda _connection, _command: ScriptedServer.DROP) as server,
            opened(server.url()) as link,
        ):
            with pytest.raises(RedisLinkError, match="lost"):
                await link.command("GET", "k")
            return server.connections

    assert play(steps) == 2


def test_a_new_connection_authenticates_and_selects_the_database_of_the_url_first():
    async def steps():
        async with (
            ScriptedServer(lambda _connection, _command: b"+OK\r\n") as server,
            opened(server.url("ussd:s%40cret@", "/3")) as link,
        ):
            await link.command("SET", "k", "v")
            await link.command("SET", "k", "w")
            return server.received

    assert play(steps) == [
        (1, ["AUTH", "ussd", "s@cret"]),
        (1, ["CLIENT", "SETNAME", "bascule-ussd-sessions"]),
        (1, ["SELECT", "3"]),
        (1, ["SET", "k", "v"]),
        (1, ["SET", "k", "w"]),
    ]


def test_a_unix_socket_url_is_spoken_over_that_socket(tmp_path):
    socket_path = str(tmp_path / "redis.sock")

    async def steps():
        async with (
            ScriptedServer(lambda _connection, _command: b"$2\r\nok\r\n", unix_path=socket_path) as server,
            opened(f"unix://{socket_path}?db=2") as link,
        ):
            return await link.command("GET", "k"), server.received

    assert play(steps) == (
        "ok",
        [(1, ["CLIENT", "SETNAME", "bascule-ussd-sessions"]), (1, ["SELECT", "2"]), (1, ["GET", "k"])],
    )


class RecordingTransport:
    def __init__(self) -> None:
        self.writes: list[bytes] = []

    def write(self, data: bytes) -> None:
        self.writes.append(data)

    def abort(self) -> None:
        self.writes.append(b"<abort>")


def test_the_commands_of_one_turn_of_the_loop_go_out_in_one_write_and_each_reply_to_its_caller():
    async def steps():
        wire = _Wire(timeout=5.0)
        transport = RecordingTransport()
        wire.connection_made(transport)  # type: ignore[arg-type]
        first = [wire.send(("GET", "a")), wire.send(("SET", "b", "1", "EX", 60)), wire.send(("GET", "c"))]
        await asyncio.sleep(0)
        later = wire.send(("DEL", "a"))
        await asyncio.sleep(0)
        wire.data_received(b"$2\r\nva\r\n+OK\r\n$-1\r\n:")  # the last reply arrives in two pieces
        wire.data_received(b"1\r\n")
        return transport.writes, [await reply for reply in first], await later

    writes, replies, deleted = play(steps)
    assert writes == [
        hiredis.pack_command(("GET", "a"))
        + hiredis.pack_command(("SET", "b", "1", "EX", 60))
        + hiredis.pack_command(("GET", "c")),
        hiredis.pack_command(("DEL", "a")),
    ]
    assert replies == ["va", "OK", None]
    assert deleted == 1


# The URL


@pytest.mark.parametrize(
    ("url", "address"),
    [
        ("redis://127.0.0.1:6379/15", RedisAddress("127.0.0.1", 6379, None, 15)),
        ("redis://cache.internal", RedisAddress("cache.internal", 6379, None, 0)),
        ("redis://:pw@cache:6380/2", RedisAddress("cache", 6380, None, 2, None, "pw")),
        ("redis://ops:p%3Aw@cache?db=4", RedisAddress("cache", 6379, None, 4, "ops", "p:w")),
        ("rediss://cache:6390/1", RedisAddress("cache", 6390, None, 1, tls=True)),
        ("unix:///run/redis.sock?db=5", RedisAddress(path="/run/redis.sock", db=5)),
    ],
)
def test_a_redis_url_gives_where_and_who(url, address):
    assert RedisAddress.from_url(url) == address


def test_a_url_that_is_not_redis_is_refused_without_repeating_it():
    with pytest.raises(ValueError, match="a Redis URL starts with") as refused:
        RedisAddress.from_url("http://:secret@127.0.0.1:6379/0")
    assert str(refused.value) == "a Redis URL starts with redis://, rediss:// or unix://, not http://"
    with pytest.raises(ValueError, match="a Redis URL starts with") as refused:
        RedisAddress.from_url("127.0.0.1:6379")
    assert str(refused.value) == "a Redis URL starts with redis://, rediss:// or unix://, not nothing of the kind"


def test_a_database_that_is_not_a_number_is_refused():
    with pytest.raises(ValueError, match="not 'sessions'"):
        RedisAddress.from_url("redis://127.0.0.1:6379/sessions")


def test_serve_refuses_a_redis_url_it_cannot_read_before_doing_anything(tmp_path, monkeypatch):
    from typer.testing import CliRunner

    from bascule.channels.cli import app as cli

    monkeypatch.setenv("BASCULE_DATABASE_URL", f"sqlite:///{tmp_path / 'never.db'}")
    monkeypatch.setenv("BASCULE_REDIS_URL", "http://127.0.0.1:6379/0")
    result = CliRunner().invoke(cli, ["serve", "--workers", "2"])
    said = " ".join(result.output.replace("│", " ").split())  # as the terminal's box wraps it
    assert result.exit_code == 2
    assert "BASCULE_REDIS_URL" in said
    assert "a Redis URL starts with redis://, rediss:// or unix://, not http://" in said
    assert not (tmp_path / "never.db").exists()
