"""The API's reads of the Redis online store: fields of many hashes in one round trip, cheaply.

A client of its own for the two commands the API sends (HMGET, pipelined, and PING):
redis-py spends ~2 µs of CPU per reply in Python layers (~8 µs in its pipeline), most of a
100-entity request; here hiredis, the parser redis-py uses, reads the replies straight off
the socket.
"""

from __future__ import annotations

import asyncio
from collections.abc import Sequence
from typing import Any, Protocol

import hiredis
import redis

PING = b"*1\r\n$4\r\nPING\r\n"
READ_SIZE = 1 << 16

Read = tuple[Sequence[str], Sequence[str]]  # (keys, fields): the fields of each key's hash


class Store(Protocol):
    """The online store as the API reads it; one that does not answer raises RedisError."""

    async def hmget(self, keys: Sequence[str], fields: Sequence[str]) -> list[list[str | None]]:
        """`fields` of the hash at each key (None for a field it lacks), in one round trip."""
        ...

    async def hmget_each(self, reads: Sequence[Read]) -> list[list[list[str | None]]]:
        """Per read (keys, fields), `hmget`'s answer; all reads in one round trip."""
        ...

    async def ping(self) -> None: ...


def _pack(read: Read) -> bytes:
    """One HMGET per key of the read, pipelined: the fields are packed once."""
    keys, fields = read
    head = b"*%d\r\n$5\r\nHMGET\r\n" % (len(fields) + 2)
    tail = b"".join([b"$%d\r\n%b\r\n" % (len(f), f) for f in map(str.encode, fields)])
    return b"".join([b"%b$%d\r\n%b\r\n%b" % (head, len(k), k, tail) for k in map(str.encode, keys)])


class RedisStore:
    """Pooled connections to the Redis at `host`:`port`; every call answers within `timeout` s.

    A connection a call fails on is closed. A call that fails on a pooled connection (Redis
    restarted meanwhile) is retried once on a new one. With a `password`, every new
    connection authenticates first (AUTH).
    """

    def __init__(self, host: str, port: int, timeout: float = 1.0, password: str = "") -> None:
        self.host = host
        self.port = port
        self.timeout = timeout
        secret = password.encode()
        # Sent first on every new connection; nothing without a password.
        self._auth = b"*2\r\n$4\r\nAUTH\r\n$%d\r\n%b\r\n" % (len(secret), secret)
        if not password:
            self._auth = b""
        self._idle: list[_Connection] = []

    async def hmget(self, keys: Sequence[str], fields: Sequence[str]) -> list[list[str | None]]:
        (replies,) = await self.hmget_each([(keys, fields)])
        return replies

    async def hmget_each(self, reads: Sequence[Read]) -> list[list[list[str | None]]]:
        replies = await self._call(b"".join(map(_pack, reads)), sum(len(k) for k, _ in reads))
        answers, first = [], 0
        for keys, _ in reads:
            answers.append(replies[first : first + len(keys)])
            first += len(keys)
        return answers

    async def ping(self) -> None:
        await self._call(PING, 1)

    def close(self) -> None:
        while self._idle:
            self._idle.pop().close()

    async def _call(self, packed: bytes, count: int) -> list[Any]:
        try:
            async with asyncio.timeout(self.timeout):
                if self._idle:
                    try:
                        return await self._exchange(self._idle.pop(), packed, count)
                    except ConnectionError:
                        self.close()  # Redis closed them: a restart, most likely
                return await self._exchange(await self._connect(), packed, count)
        except TimeoutError:  # an OSError too: first
            raise redis.TimeoutError(f"no answer within {self.timeout} s") from None
        except (OSError, hiredis.ProtocolError) as exc:
            raise redis.ConnectionError(str(exc)) from exc

    async def _connect(self) -> _Connection:
        conn = _Connection(*await asyncio.open_connection(self.host, self.port))
        if self._auth:
            try:
                (reply,) = await conn.exchange(self._auth, 1)
            except BaseException:
                conn.close()
                raise
            if isinstance(reply, hiredis.ReplyError):
                conn.close()
                raise redis.AuthenticationError(str(reply))
        return conn

    async def _exchange(self, conn: _Connection, packed: bytes, count: int) -> list[Any]:
        try:
            replies = await conn.exchange(packed, count)
        except BaseException:
            conn.close()  # its replies may be half read
            raise
        self._idle.append(conn)
        errors = [reply for reply in replies if isinstance(reply, hiredis.ReplyError)]
        if errors:
            raise redis.ResponseError(str(errors[0]))
        return replies


class _Connection:
    def __init__(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self._reader = reader
        self._writer = writer
        self._parser = hiredis.Reader(encoding="utf-8")

    async def exchange(self, packed: bytes, count: int) -> list[Any]:
        """Send pipelined commands; their `count` replies (an error reply as a ReplyError)."""
        self._writer.write(packed)
        await self._writer.drain()
        replies: list[Any] = []
        while len(replies) < count:
            data = await self._reader.read(READ_SIZE)
            if not data:
                raise ConnectionResetError("Redis closed the connection")
            self._parser.feed(data)
            while (reply := self._parser.gets()) is not False:
                replies.append(reply)
        return replies

    def close(self) -> None:
        self._writer.close()
