"""The one HTTP client every connector uses: time, size, redirect and address limits that hostile servers cannot dodge.

The address check lives in the network backend, so it runs after DNS resolution for every connection, including
each redirect hop, and the connection goes to the address that was checked (no DNS rebinding between check and use).
"""

from __future__ import annotations

import asyncio
import ipaddress
import socket
import ssl
import zlib
from collections import OrderedDict
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from email.utils import parsedate_to_datetime
from typing import Any
from urllib.parse import urljoin, urlsplit

import httpcore
import httpx

from listener.errors import FetchError, RateLimited
from listener.settings import FetchSettings

_REDIRECTS = {301, 302, 303, 307, 308}
_PERMANENT = {301, 308}
# Cloud metadata endpoints (AWS/GCP/Azure/OpenStack, AWS IPv6, Alibaba): refused even when private networks are allowed.
_METADATA = {
    ipaddress.ip_address("169.254.169.254"),
    ipaddress.ip_address("fd00:ec2::254"),
    ipaddress.ip_address("100.100.100.200"),
}
_DEFAULT_RATE_LIMIT_WAIT = 1800.0
_MAX_RETRY_AFTER = 7 * 24 * 3600.0


class HTTPStatusError(FetchError):
    """The server answered with an error status; `status` lets API connectors react (401: refresh a token)."""

    def __init__(self, message: str, *, status: int, permanent: bool = False) -> None:
        super().__init__(message, permanent=permanent)
        self.status = status


@dataclass(frozen=True)
class FetchResponse:
    """A complete, size-checked, decompressed response."""

    status: int
    url: str  # the final URL, after redirects
    headers: Mapping[str, str]  # lower-case names
    body: bytes
    permanent_url: str | None = None  # where an unbroken chain of permanent redirects (301/308) led, if any
    redirects: tuple[str, ...] = field(default=())


def address_allowed(address: str, allow_private: bool) -> bool:
    """Whether a resolved address may be contacted: public always, private only when allowed, metadata never."""
    try:
        ip = ipaddress.ip_address(address.split("%", 1)[0])
    except ValueError:
        return False
    if isinstance(ip, ipaddress.IPv6Address) and ip.ipv4_mapped is not None:
        ip = ip.ipv4_mapped
    if ip in _METADATA or ip.is_multicast or ip.is_unspecified:
        return False
    if ip.is_global:
        return True
    return allow_private


class _GuardedBackend(httpcore.AsyncNetworkBackend):
    """Resolves the host itself, checks every address, and connects only to an allowed one."""

    def __init__(self, allow_private: bool) -> None:
        self._inner = httpcore.AnyIOBackend()
        self._allow_private = allow_private

    async def connect_tcp(
        self,
        host: str,
        port: int,
        timeout: float | None = None,
        local_address: str | None = None,
        socket_options: Iterable[Any] | None = None,
    ) -> httpcore.AsyncNetworkStream:
        loop = asyncio.get_running_loop()
        try:
            infos = await loop.getaddrinfo(host.strip("[]"), port, type=socket.SOCK_STREAM)
        except (socket.gaierror, UnicodeError) as exc:
            raise FetchError(f"cannot resolve host {host}: {exc}") from None
        addresses = list(dict.fromkeys(str(info[4][0]) for info in infos))
        allowed = [a for a in addresses if address_allowed(a, self._allow_private)]
        if not allowed:
            raise FetchError(
                f"refused to contact {host}: it resolves to {', '.join(addresses[:3])}, a loopback, private, "
                "link-local or metadata address (set fetch.allow_private_networks for intranet feeds)"
            )
        last: Exception | None = None
        for address in allowed:
            try:
                return await self._inner.connect_tcp(address, port, timeout, local_address, socket_options)
            except (httpcore.ConnectError, httpcore.ConnectTimeout) as exc:
                last = exc
        assert last is not None
        raise last

    async def connect_unix_socket(
        self, path: str, timeout: float | None = None, socket_options: Iterable[Any] | None = None
    ) -> httpcore.AsyncNetworkStream:
        raise FetchError("unix sockets are not fetched")

    async def sleep(self, seconds: float) -> None:
        await self._inner.sleep(seconds)


class _GuardedTransport(httpx.AsyncHTTPTransport):
    """httpx's transport on a pool whose every connection goes through `_GuardedBackend`."""

    def __init__(self, backend: _GuardedBackend, ssl_context: ssl.SSLContext, connections: int) -> None:
        limits = httpx.Limits(max_connections=connections, max_keepalive_connections=connections)
        super().__init__(verify=ssl_context, limits=limits, trust_env=False)
        # httpx offers no hook for the network backend, so the pool is rebuilt with ours (same options otherwise).
        self._pool = httpcore.AsyncConnectionPool(
            ssl_context=ssl_context,
            max_connections=limits.max_connections,
            max_keepalive_connections=limits.max_keepalive_connections,
            keepalive_expiry=30.0,
            network_backend=backend,
        )


@dataclass
class _Origin:
    transport: _GuardedTransport
    active: int = 0  # responses handed out and not closed yet


class _CountedStream(httpx.AsyncByteStream):
    """A response body that tells its origin's pool when it is closed (the pool is idle, and may be closed)."""

    def __init__(self, inner: Any, origin: _Origin) -> None:
        self._inner = inner
        self._origin: _Origin | None = origin

    async def __aiter__(self) -> Any:
        async for chunk in self._inner:
            yield chunk

    async def aclose(self) -> None:
        if self._origin is not None:
            self._origin.active -= 1
            self._origin = None
        await self._inner.aclose()


def _origin_budget(settings: FetchSettings) -> int:
    """How many origins' pools may stay open: as many as file descriptors allow, at least twice the concurrency.

    Keeping an idle pool lets the next feed on that host reuse its connection (no new TCP or TLS handshake); each
    holds up to `per_host` sockets, and the active fetches, SQLite and the parser processes' pipes need some too.
    """
    floor = max(16, 2 * settings.concurrency)
    try:
        import resource

        soft, _ = resource.getrlimit(resource.RLIMIT_NOFILE)
    except (ImportError, OSError, ValueError):
        return floor
    if soft == resource.RLIM_INFINITY:
        soft = 65536
    room = (soft - 2 * settings.concurrency - 200) // max(1, settings.per_host)
    return max(floor, min(room, 5000))


class _PerOriginTransport(httpx.AsyncBaseTransport):
    """One small connection pool per origin; beyond `max_origins` pools, the least recently used idle ones close.

    httpcore's pool rescans all its connections for every request it assigns, and for each idle connection builds
    a list of all of them: quadratic in its size. One shared pool of 200 connections over thousands of hosts spent
    most of an ingest run there; a pool per origin holds at most `per_host` connections, so its scans are trivial.
    """

    def __init__(self, settings: FetchSettings, ssl_context: ssl.SSLContext) -> None:
        self._backend = _GuardedBackend(settings.allow_private_networks)
        self._ssl_context = ssl_context
        self._connections = max(1, settings.per_host)
        self._max_origins = _origin_budget(settings)
        self._origins: OrderedDict[tuple[bytes, bytes, int | None], _Origin] = OrderedDict()

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        key = (request.url.raw_scheme, request.url.raw_host, request.url.port)
        origin = self._origins.get(key)
        idle: list[_Origin] = []
        if origin is None:
            idle = self._take_idle(room_for=1)
            origin = self._origins[key] = _Origin(
                _GuardedTransport(self._backend, self._ssl_context, self._connections)
            )
        self._origins.move_to_end(key)
        origin.active += 1
        try:
            for old in idle:  # out of the table before any await: no other request can pick a closing pool
                await old.transport.aclose()
            response = await origin.transport.handle_async_request(request)
        except BaseException:
            origin.active -= 1
            raise
        return httpx.Response(
            status_code=response.status_code,
            headers=response.headers,
            stream=_CountedStream(response.stream, origin),
            extensions=response.extensions,
        )

    def _take_idle(self, room_for: int) -> list[_Origin]:
        """Remove least recently used idle pools until `room_for` more fit; closing them is the caller's job."""
        excess = len(self._origins) + room_for - self._max_origins
        if excess <= 0:
            return []
        keys = []
        for key, origin in self._origins.items():  # least recently used first: the first few are usually idle
            if origin.active == 0:
                keys.append(key)
                if len(keys) == excess:
                    break
        return [self._origins.pop(key) for key in keys]

    async def aclose(self) -> None:
        origins, self._origins = list(self._origins.values()), OrderedDict()
        for origin in origins:
            await origin.transport.aclose()


class _Decoder:
    """Content-Encoding decoding whose output can never exceed the size limit, however the input was crafted."""

    def __init__(self, encoding: str, limit: int) -> None:
        self._limit = limit
        self._size = 0
        self._fed = False
        self._encoding = encoding
        if encoding in ("", "identity"):
            self._z: Any = None
        elif encoding in ("gzip", "x-gzip"):
            self._z = zlib.decompressobj(16 + zlib.MAX_WBITS)
        elif encoding == "deflate":
            self._z = None
            self._deflate_pending = b""
        else:
            raise FetchError(f"unsupported Content-Encoding {encoding[:40]!r}")

    def _count(self, data: bytes) -> bytes:
        self._size += len(data)
        if self._size > self._limit:
            raise FetchError(f"response larger than {self._limit:,} bytes (after decompression)")
        return data

    def feed(self, chunk: bytes) -> bytes:
        self._fed = self._fed or bool(chunk)
        if self._encoding == "deflate" and self._z is None:
            # "deflate" is zlib-wrapped by the standard and raw in much of the wild: decide on the first bytes.
            self._deflate_pending += chunk
            if len(self._deflate_pending) < 2:
                return b""
            head = self._deflate_pending
            self._deflate_pending = b""
            wrapped = (head[0] & 0x0F) == 8 and ((head[0] << 8) | head[1]) % 31 == 0
            self._z = zlib.decompressobj(zlib.MAX_WBITS if wrapped else -zlib.MAX_WBITS)
            chunk = head
        if self._z is None:
            return self._count(chunk)
        out = bytearray()
        data = chunk
        try:
            while data:
                room = self._limit - self._size + 1
                piece = self._z.decompress(data, room)
                out += self._count(piece)
                data = self._z.unconsumed_tail
                if self._z.eof and self._z.unused_data:  # a second gzip member
                    data = self._z.unused_data
                    self._z = zlib.decompressobj(16 + zlib.MAX_WBITS)
        except zlib.error as exc:
            raise FetchError(f"corrupt {self._encoding} body: {exc}") from None
        return bytes(out)

    def finish(self) -> bytes:
        if self._encoding == "deflate" and self._z is None and self._deflate_pending:
            raise FetchError("corrupt deflate body: too short")
        if self._z is None:
            return b""
        try:
            tail = self._count(self._z.flush(self._limit - self._size + 1))
        except zlib.error as exc:
            raise FetchError(f"corrupt {self._encoding} body: {exc}") from None
        if self._fed and not self._z.eof:
            # zlib hands out what it could decode of a stream cut short: never let that pass for the whole feed.
            raise FetchError(f"truncated {self._encoding} body: the compressed stream ends early")
        return tail


def retry_after_seconds(value: str | None, now: datetime | None = None) -> float | None:
    """Seconds to wait from a Retry-After header (delta-seconds or HTTP date), clamped to a sane range."""
    if not value:
        return None
    value = value.strip()
    seconds: float | None = None
    if value.isdigit():
        seconds = float(value)
    else:
        try:
            when = parsedate_to_datetime(value)
        except (TypeError, ValueError, IndexError):
            return None
        if when.tzinfo is None:
            when = when.replace(tzinfo=UTC)
        seconds = (when - (now or datetime.now(UTC))).total_seconds()
    return min(max(seconds, 1.0), _MAX_RETRY_AFTER)


def check_url(url: str) -> str:
    """The URL if it is an absolute http(s) URL with a host; FetchError otherwise (never a file or other scheme)."""
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise FetchError(f"{url[:200]!r} is not an http(s) URL", permanent=True)
    return url


class SafeFetcher:
    """Async GETs with connect/total time limits, a decompressed-size limit, redirect and address checks."""

    def __init__(self, settings: FetchSettings) -> None:
        self.settings = settings
        self._global = asyncio.Semaphore(max(1, settings.concurrency))
        self._per_host: dict[str, asyncio.Semaphore] = {}
        timeout = httpx.Timeout(settings.total_timeout, connect=settings.connect_timeout)
        self._client = httpx.AsyncClient(
            transport=_PerOriginTransport(settings, httpx.create_ssl_context()),
            timeout=timeout,
            follow_redirects=False,
            trust_env=False,
            headers={"User-Agent": settings.user_agent, "Accept-Encoding": "gzip, deflate"},
        )

    def _host_slot(self, url: str) -> asyncio.Semaphore:
        host = (urlsplit(url).hostname or "").lower()
        slot = self._per_host.get(host)
        if slot is None:
            slot = self._per_host[host] = asyncio.Semaphore(max(1, self.settings.per_host))
        return slot

    async def get(self, url: str, headers: Mapping[str, str] | None = None) -> FetchResponse:
        """GET the URL, following redirects; raise FetchError (RateLimited on 429/503 with a wait) on failure."""
        check_url(url)
        # The host's slot first: a fetch waiting for a busy host must not hold one of the run's global slots meanwhile
        # (a thousand feeds on one platform would otherwise take every global slot and poll at the host's pace).
        async with self._host_slot(url), self._global:
            try:
                async with asyncio.timeout(self.settings.total_timeout):
                    return await self._follow(url, dict(headers or {}))
            except TimeoutError:
                raise FetchError(f"no complete answer within {self.settings.total_timeout:g} s") from None
            except httpx.ConnectTimeout:
                raise FetchError(f"could not connect within {self.settings.connect_timeout:g} s") from None
            except httpx.TimeoutException:
                raise FetchError(f"no complete answer within {self.settings.total_timeout:g} s") from None
            except httpx.ConnectError as exc:
                raise FetchError(f"cannot connect: {_short(exc)}") from None
            except (httpx.HTTPError, httpx.InvalidURL, httpcore.ProtocolError) as exc:
                raise FetchError(f"broken HTTP exchange: {_short(exc)}") from None

    async def _follow(self, url: str, headers: dict[str, str]) -> FetchResponse:
        current = url
        permanent_url: str | None = None
        still_permanent = True
        hops: list[str] = []
        for _ in range(self.settings.max_redirects + 1):
            check_url(current)
            request = self._client.build_request("GET", current, headers=headers)
            response = await self._client.send(request, stream=True)
            try:
                location = (response.headers.get("location") or "").strip()
                if response.status_code in _REDIRECTS and not location:
                    status = f"HTTP {response.status_code} {_reason(response)}".strip()
                    raise HTTPStatusError(f"{status} without a Location header", status=response.status_code)
                if response.status_code in _REDIRECTS:
                    target = urljoin(current, location)
                    if still_permanent and response.status_code in _PERMANENT:
                        permanent_url = target
                    else:
                        still_permanent = False
                    hops.append(target)
                    current = target
                    continue
                _raise_for_status(response, current)
                body = await self._read_body(response)
            finally:
                await response.aclose()
            return FetchResponse(
                status=response.status_code,
                url=current,
                headers={k.lower(): v for k, v in response.headers.items()},
                body=body,
                permanent_url=permanent_url,
                redirects=tuple(hops),
            )
        raise FetchError(f"more than {self.settings.max_redirects} redirects (last to {current[:200]})")

    async def _read_body(self, response: httpx.Response) -> bytes:
        limit = self.settings.max_bytes
        declared = response.headers.get("content-length", "")
        if declared.isdigit() and int(declared) > limit:
            raise FetchError(f"response larger than {limit:,} bytes (Content-Length {int(declared):,})")
        encoding = response.headers.get("content-encoding", "").strip().lower()
        decoder = _Decoder(encoding, limit)
        parts: list[bytes] = []
        async for chunk in response.aiter_raw(65536):
            parts.append(decoder.feed(chunk))
        parts.append(decoder.finish())
        return b"".join(parts)

    async def aclose(self) -> None:
        """Close pooled connections."""
        await self._client.aclose()


def _raise_for_status(response: httpx.Response, url: str) -> None:
    status = response.status_code
    if status < 400:
        return
    if status in (429, 503):
        wait = retry_after_seconds(response.headers.get("retry-after"))
        if wait is not None or status == 429:
            wait = wait if wait is not None else _DEFAULT_RATE_LIMIT_WAIT
            raise RateLimited(f"HTTP {status}: the server asked to wait {wait:.0f} s", retry_after=wait)
    if status == 410:
        raise HTTPStatusError("HTTP 410 Gone: the feed was removed for good", status=status, permanent=True)
    raise HTTPStatusError(f"HTTP {status} {_reason(response)}".strip(), status=status)


def _reason(response: httpx.Response) -> str:
    """The status line's reason phrase, which the server chooses: printable, short, one line."""
    return "".join(c for c in response.reason_phrase or "" if c.isprintable())[:60].strip()


def _short(exc: BaseException) -> str:
    text = " ".join(str(exc).split()) or type(exc).__name__
    return text[:200]
