"""The safe fetcher's connections: address checks after DNS, TCP and TLS on asyncio, one small pool per origin.

HTTP/1.1 itself is httpcore's (`AsyncHTTP11Connection`, on h11). What this module replaces is the machinery around
it, which cost more CPU per request than the protocol: httpcore's generic pool (locks, cancellation shields and a
rescan of its connections per request) and its anyio network stream (a cancel scope, a typed-attribute lookup and an
exception map per read or write). Every connection still goes to an address that was checked, after every DNS
resolution, including each redirect hop's.
"""

from __future__ import annotations

import asyncio
import ipaddress
import select
import socket
import ssl
import time
from collections import OrderedDict, deque
from collections.abc import AsyncGenerator, Awaitable, Callable, Iterable
from dataclasses import dataclass, field
from typing import Any, cast

import httpcore

from connectors.addresses import address_allowed
from listener.errors import FetchError

DNS_TTL = 30.0  # seconds a resolved name is reused within one fetcher (one run); failures are never cached
KEEPALIVE_EXPIRY = 30.0  # seconds an idle connection may be reused
_READ_HIGH_WATER = 1 << 20  # bytes buffered from the socket before it is paused until they are read


# ---------------------------------------------------------------- a network stream on asyncio's transports


class _Protocol(asyncio.Protocol):
    """Buffers what the socket delivers and wakes the one reader or writer waiting on it."""

    def __init__(self, loop: asyncio.AbstractEventLoop) -> None:
        self.loop = loop
        self.transport: asyncio.Transport | None = None
        self.chunks: deque[bytes] = deque()
        self.buffered = 0
        self.eof = False
        self.lost = False
        self.error: BaseException | None = None
        self.reading_paused = False
        self.writing_paused = False
        self._waiter: asyncio.Future[None] | None = None

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self.transport = transport  # type: ignore[assignment]

    def data_received(self, data: bytes) -> None:
        self.chunks.append(data)
        self.buffered += len(data)
        if self.buffered > _READ_HIGH_WATER and not self.reading_paused and self.transport is not None:
            self.reading_paused = True
            self.transport.pause_reading()
        self._wake()

    def eof_received(self) -> bool:
        self.eof = True
        self._wake()
        return False  # the transport closes itself: HTTP/1.1 sends nothing after the server is done

    def connection_lost(self, exc: Exception | None) -> None:
        self.lost = True
        self.error = exc
        self._wake()

    def pause_writing(self) -> None:
        self.writing_paused = True

    def resume_writing(self) -> None:
        self.writing_paused = False
        self._wake()

    def _wake(self) -> None:
        waiter = self._waiter
        if waiter is not None and not waiter.done():
            waiter.set_result(None)

    async def wait(self, timeout: float | None, on_timeout: type[Exception]) -> None:
        """Until something happens on the connection (data, end, loss, room to write), or `timeout` passes."""
        waiter = self._waiter = self.loop.create_future()
        timer = None
        if timeout is not None:
            timer = self.loop.call_later(timeout, _expire, waiter, on_timeout)
        try:
            await waiter
        finally:
            self._waiter = None
            if timer is not None:
                timer.cancel()


def _expire(waiter: asyncio.Future[None], exc: type[Exception]) -> None:
    if not waiter.done():
        waiter.set_exception(exc("timed out"))


class AsyncioStream(httpcore.AsyncNetworkStream):
    """A TCP or TLS connection for httpcore, on an asyncio transport and `_Protocol`."""

    def __init__(self, transport: asyncio.Transport, protocol: _Protocol) -> None:
        self._transport = transport
        self._protocol = protocol
        self._socket = transport.get_extra_info("socket")

    async def read(self, max_bytes: int, timeout: float | None = None) -> bytes:
        protocol = self._protocol
        while not protocol.chunks:
            if protocol.lost or protocol.eof:
                if protocol.error is not None:
                    raise httpcore.ReadError(str(protocol.error) or type(protocol.error).__name__)
                return b""
            await protocol.wait(timeout, httpcore.ReadTimeout)
        chunk = protocol.chunks.popleft()
        if len(chunk) > max_bytes:
            protocol.chunks.appendleft(chunk[max_bytes:])
            chunk = chunk[:max_bytes]
        protocol.buffered -= len(chunk)
        if protocol.reading_paused and protocol.buffered <= _READ_HIGH_WATER // 4:
            protocol.reading_paused = False
            self._transport.resume_reading()
        return chunk

    async def write(self, buffer: bytes, timeout: float | None = None) -> None:
        if not buffer:
            return
        protocol = self._protocol
        if protocol.lost or self._transport.is_closing():
            raise httpcore.WriteError(str(protocol.error or "the connection is closed"))
        self._transport.write(buffer)
        while protocol.writing_paused and not protocol.lost:
            await protocol.wait(timeout, httpcore.WriteTimeout)
        if protocol.lost and protocol.error is not None:
            raise httpcore.WriteError(str(protocol.error))

    async def aclose(self) -> None:
        self._transport.close()

    async def start_tls(
        self, ssl_context: ssl.SSLContext, server_hostname: str | None = None, timeout: float | None = None
    ) -> httpcore.AsyncNetworkStream:
        loop = self._protocol.loop
        try:
            async with asyncio.timeout(timeout):
                transport = await loop.start_tls(
                    self._transport, self._protocol, ssl_context, server_hostname=server_hostname
                )
        except TimeoutError:
            self._transport.abort()
            raise httpcore.ConnectTimeout("TLS handshake timed out") from None
        except (OSError, ssl.SSLError) as exc:  # ssl.SSLError is an OSError; named for the reader
            self._transport.abort()
            raise httpcore.ConnectError(str(exc) or type(exc).__name__) from None
        except BaseException:
            self._transport.abort()
            raise
        if transport is None:  # the connection was lost during the handshake
            raise httpcore.ConnectError("the connection closed during the TLS handshake")
        self._protocol.transport = transport
        return AsyncioStream(transport, self._protocol)

    def get_extra_info(self, info: str) -> Any:
        if info == "is_readable":  # asked of idle connections: has the server closed (or sent anything)?
            protocol = self._protocol
            return bool(protocol.chunks) or protocol.eof or protocol.lost or _socket_readable(self._socket)
        if info == "ssl_object":
            return self._transport.get_extra_info("ssl_object")
        if info == "client_addr":
            return self._transport.get_extra_info("sockname")
        if info == "server_addr":
            return self._transport.get_extra_info("peername")
        if info == "socket":
            return self._socket
        return None


def _socket_readable(sock: Any) -> bool:
    fd = -1 if sock is None else sock.fileno()
    if fd < 0:
        return True
    poller = select.poll()
    poller.register(fd, select.POLLIN)
    return bool(poller.poll(0))


# ---------------------------------------------------------------- resolving and connecting, with the address check


@dataclass
class _Resolved:
    expires: float
    lookup: asyncio.Task[list[str]]


class GuardedBackend(httpcore.AsyncNetworkBackend):
    """Resolves the host itself, checks every address, and connects only to an allowed one.

    Resolutions are cached for `DNS_TTL` seconds in this object (one per fetcher, so never beyond a run; failures
    are not cached), and concurrent connections to one host share one lookup. The address check runs on every
    connection, cached addresses included. An IP literal needs no lookup at all.
    """

    def __init__(
        self,
        allow_private: bool,
        resolve: Callable[[str, int], Awaitable[list[Any]]] | None = None,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._allow_private = allow_private
        self._resolve_with = resolve
        self._clock = clock
        self._cache: dict[str, _Resolved] = {}
        self.lookups = 0  # name resolutions started (for tests and benchmarks)

    async def resolve(self, host: str, port: int) -> list[str]:
        """The addresses `host` resolves to (not checked here), from the cache while it is fresh."""
        host = host.strip("[]")
        try:
            return [str(ipaddress.ip_address(host))]
        except ValueError:
            pass
        entry = self._cache.get(host)
        if entry is None or entry.expires <= self._clock():
            # The lookup is a task of its own, so that a fetch cancelled while waiting never cancels it for others.
            lookup = asyncio.get_running_loop().create_task(self._lookup(host, port))
            self.lookups += 1
            entry = self._cache[host] = _Resolved(self._clock() + DNS_TTL, lookup)
            lookup.add_done_callback(lambda task, entry=entry: self._settled(host, entry))  # type: ignore[misc]
        elif entry.lookup.done() and not entry.lookup.cancelled() and entry.lookup.exception() is None:
            return entry.lookup.result()
        return await asyncio.shield(entry.lookup)

    def _settled(self, host: str, entry: _Resolved) -> None:
        lookup = entry.lookup
        if lookup.cancelled() or lookup.exception() is not None:
            if self._cache.get(host) is entry:
                del self._cache[host]  # failures are not remembered
            return
        entry.expires = self._clock() + DNS_TTL  # counted from the answer
        if len(self._cache) > 4096:  # a long run over many hosts: forget what has expired
            now = self._clock()
            for name in [name for name, e in self._cache.items() if e.expires <= now and e.lookup.done()]:
                del self._cache[name]

    def forget(self) -> None:
        """Drop every cached answer and stop lookups in flight (the fetcher is closing: its run is over)."""
        cache, self._cache = self._cache, {}
        for entry in cache.values():
            entry.lookup.cancel()

    async def _lookup(self, host: str, port: int) -> list[str]:
        try:
            if self._resolve_with is not None:
                infos = await self._resolve_with(host, port)
            else:
                infos = await asyncio.get_running_loop().getaddrinfo(host, port, type=socket.SOCK_STREAM)
        except (socket.gaierror, UnicodeError) as exc:
            raise FetchError(f"cannot resolve host {host}: {exc}") from None
        return list(dict.fromkeys(str(info[4][0]) for info in infos))

    async def connect_tcp(
        self,
        host: str,
        port: int,
        timeout: float | None = None,
        local_address: str | None = None,
        socket_options: Iterable[Any] | None = None,
    ) -> httpcore.AsyncNetworkStream:
        addresses = await self.resolve(host, port)
        allowed = [a for a in addresses if address_allowed(a, self._allow_private)]
        if not allowed:
            raise FetchError(
                f"refused to contact {host}: it resolves to {', '.join(addresses[:3])}, a loopback, private, "
                "link-local or metadata address (set fetch.allow_private_networks for intranet feeds)"
            )
        last: Exception | None = None
        for address in allowed:
            try:
                return await _open(address, port, timeout, local_address, socket_options)
            except (httpcore.ConnectError, httpcore.ConnectTimeout) as exc:
                last = exc
        assert last is not None
        raise last

    async def connect_unix_socket(
        self, path: str, timeout: float | None = None, socket_options: Iterable[Any] | None = None
    ) -> httpcore.AsyncNetworkStream:
        raise FetchError("unix sockets are not fetched")

    async def sleep(self, seconds: float) -> None:
        await asyncio.sleep(seconds)


async def _open(
    address: str, port: int, timeout: float | None, local_address: str | None, socket_options: Iterable[Any] | None
) -> AsyncioStream:
    """A TCP connection to this (already checked) address, within `timeout` seconds."""
    loop = asyncio.get_running_loop()
    family = socket.AF_INET6 if ":" in address else socket.AF_INET
    sock = socket.socket(family, socket.SOCK_STREAM)
    try:
        sock.setblocking(False)
        for option in socket_options or ():
            sock.setsockopt(*option)
        if local_address:
            sock.bind((local_address, 0))
        async with asyncio.timeout(timeout):
            await loop.sock_connect(sock, (address, port))
            transport, protocol = await loop.create_connection(lambda: _Protocol(loop), sock=sock)
    except TimeoutError:
        sock.close()
        raise httpcore.ConnectTimeout(f"connecting to {address} port {port} timed out") from None
    except OSError as exc:
        sock.close()
        raise httpcore.ConnectError(str(exc) or type(exc).__name__) from None
    except BaseException:
        sock.close()
        raise
    return AsyncioStream(transport, protocol)


# ---------------------------------------------------------------- one small pool per origin


class _Connection(httpcore.AsyncHTTP11Connection):
    """httpcore's HTTP/1.1 connection, its state guarded by an asyncio lock instead of an anyio one.

    anyio's lock is a checkpoint: every acquisition, free or not, yields to the event loop (twice per request).
    asyncio's lock only waits when it is held, and the pool never gives one connection to two requests anyway.
    """

    def __init__(self, origin: httpcore.Origin, stream: httpcore.AsyncNetworkStream, keepalive_expiry: float) -> None:
        super().__init__(origin, stream, keepalive_expiry=keepalive_expiry)
        self._state_lock = asyncio.Lock()  # type: ignore[assignment]


Origin = tuple[bytes, bytes, int]  # scheme, host, port


@dataclass
class _OriginPool:
    slots: asyncio.Semaphore  # connections open and in use at once: at most per_host
    idle: list[httpcore.AsyncHTTP11Connection] = field(default_factory=list)
    active: int = 0  # requests sent and responses not closed yet


class Pools:
    """HTTP/1.1 connections kept per origin; beyond `max_origins` origins, the least recently used idle ones close.

    An origin has at most `per_origin` connections in use at once (further requests wait for one to be released),
    as httpcore's pool allowed; idle connections are reused last-in first-out and dropped when their keep-alive
    expired or the server closed them. A response's connection is released when the response is closed: back to
    the idle list when its exchange completed (h11 says so), closed otherwise.
    """

    def __init__(
        self,
        backend: GuardedBackend,
        per_origin: int,
        max_origins: int,
        connect_timeout: float | None,
        ssl_context: Callable[[], ssl.SSLContext],
    ) -> None:
        self._backend = backend
        self._per_origin = max(1, per_origin)
        self._max_origins = max_origins
        self._connect_timeout = connect_timeout
        self._ssl_context = ssl_context
        self._origins: OrderedDict[Origin, _OriginPool] = OrderedDict()
        self._closed = False
        self.connects = 0  # TCP connections opened (for tests and benchmarks)

    async def request(self, request: httpcore.Request) -> tuple[httpcore.Response, Release]:
        """Send the request on a connection of its origin; the response, and what closes it."""
        url = request.url
        key = (url.scheme, url.host, url.port or (443 if url.scheme == b"https" else 80))
        pool = self._origins.get(key)
        idle: list[_OriginPool] = []
        if pool is None:
            idle = self._take_idle(room_for=1)
            pool = self._origins[key] = _OriginPool(asyncio.Semaphore(self._per_origin))
        else:
            self._origins.move_to_end(key)
        pool.active += 1  # before any await: an origin in use is never taken for idle
        try:
            for old in idle:  # out of the table already: no other request can pick a closing pool
                await _close_all(old)
            await pool.slots.acquire()
        except BaseException:
            pool.active -= 1
            raise
        try:
            connection = await self._connection(pool, key)
            response = await connection.handle_async_request(request)
        except BaseException:
            pool.active -= 1
            pool.slots.release()
            raise
        return response, Release(self, pool, connection, response)

    async def _connection(self, pool: _OriginPool, key: Origin) -> httpcore.AsyncHTTP11Connection:
        while pool.idle:
            connection = pool.idle.pop()
            if not connection.has_expired():
                return connection
            await connection.aclose()
        scheme, host, port = key
        name = host.decode("ascii")
        stream = await self._backend.connect_tcp(name, port, timeout=self._connect_timeout)
        self.connects += 1
        if scheme == b"https":
            stream = await stream.start_tls(self._ssl_context(), server_hostname=name, timeout=self._connect_timeout)
        origin = httpcore.Origin(scheme, host, port)
        return _Connection(origin, stream, keepalive_expiry=KEEPALIVE_EXPIRY)

    async def _release(self, pool: _OriginPool, connection: httpcore.AsyncHTTP11Connection, stream: Any) -> None:
        try:
            await stream.aclose()  # h11 decides: the connection is idle again, or it was closed
        finally:
            if connection.is_idle() and not self._closed and len(pool.idle) < self._per_origin:
                pool.idle.append(connection)
            elif not connection.is_closed():
                await connection.aclose()
            pool.active -= 1
            pool.slots.release()

    def _take_idle(self, room_for: int) -> list[_OriginPool]:
        """Remove least recently used idle pools until `room_for` more fit; closing them is the caller's job."""
        excess = len(self._origins) + room_for - self._max_origins
        if excess <= 0:
            return []
        keys = []
        for key, pool in self._origins.items():  # least recently used first: the first few are usually idle
            if pool.active == 0:
                keys.append(key)
                if len(keys) == excess:
                    break
        return [self._origins.pop(key) for key in keys]

    def idle_connections(self) -> int:
        return sum(len(pool.idle) for pool in self._origins.values())

    async def aclose(self) -> None:
        self._closed = True
        self._backend.forget()
        pools, self._origins = list(self._origins.values()), OrderedDict()
        for pool in pools:
            await _close_all(pool)
        await asyncio.sleep(0)  # the transports' connection_lost callbacks close their sockets


async def _close_all(pool: _OriginPool) -> None:
    idle, pool.idle = pool.idle, []
    for connection in idle:
        await connection.aclose()


class Release:
    """Closes a response: its body stream, then hands its connection back to the origin's pool (once)."""

    def __init__(
        self, pools: Pools, pool: _OriginPool, connection: httpcore.AsyncHTTP11Connection, response: httpcore.Response
    ) -> None:
        self._pools: Pools | None = pools
        self._pool = pool
        self._connection = connection
        self._stream = response.stream

    def body(self) -> AsyncGenerator[bytes, None]:
        # httpcore's HTTP/1.1 body stream iterates with an async generator, which the caller closes (aclose).
        return cast(AsyncGenerator[bytes, None], self._stream.__aiter__())  # type: ignore[union-attr]

    async def __call__(self) -> None:
        pools, self._pools = self._pools, None
        if pools is not None:
            await pools._release(self._pool, self._connection, self._stream)
