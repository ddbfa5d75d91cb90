"""The one HTTP client every connector uses: time, size, redirect and address limits that hostile servers cannot dodge.

The address check lives in the network backend (connectors/http_pool.py), so it runs after DNS resolution for every
connection, including each redirect hop, and the connection goes to the address that was checked (no DNS rebinding
between check and use). HTTP/1.1 is httpcore's, on h11; URLs are parsed and normalized by httpx.URL, cookies kept by
httpx.Cookies, as when httpx.AsyncClient sent the requests: the client itself cost more CPU per request than the
protocol, for features a feed fetcher does not use (auth, hooks, its own redirect handling, a cookie pass per
response).
"""

from __future__ import annotations

import asyncio
import ssl
import zlib
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from email.utils import parsedate_to_datetime
from typing import Any
from urllib.parse import urljoin, urlsplit

import httpcore
import httpx

from connectors.http_pool import GuardedBackend, Pools, Release, address_allowed
from listener.errors import FetchError, RateLimited
from listener.settings import FetchSettings

__all__ = [
    "FetchResponse",
    "HTTPStatusError",
    "SafeFetcher",
    "address_allowed",
    "check_url",
    "retry_after_seconds",
]

_REDIRECTS = {301, 302, 303, 307, 308}
_PERMANENT = {301, 308}
_DEFAULT_RATE_LIMIT_WAIT = 1800.0
# What a broken exchange raises (the connect errors and timeouts, named apart, are caught first).
_BROKEN = (httpcore.NetworkError, httpcore.ProtocolError, httpcore.UnsupportedProtocol, httpx.InvalidURL)
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
    _checked_host(url)
    return url


def _checked_host(url: str) -> str:
    """check_url's check; the URL's host name, lower-case."""
    parts = urlsplit(url)
    host = parts.hostname
    if parts.scheme not in ("http", "https") or not host:
        raise FetchError(f"{url[:200]!r} is not an http(s) URL", permanent=True)
    return host


@dataclass
class _Answer:
    """One hop's response: status and headers read, the body not yet."""

    status: int
    reason: bytes
    headers: dict[str, str]  # lower-case names, repeated headers joined with ", " (as httpx.Headers.items())
    release: Release

    def reason_phrase(self) -> str:
        """The status line's reason phrase, which the server chooses: printable, short, one line."""
        text = self.reason.decode("ascii", errors="ignore")
        return "".join(c for c in text if c.isprintable())[:60].strip()


class SafeFetcher:
    """Async GETs with connect/total time limits, a decompressed-size limit, redirect and address checks."""

    def __init__(self, settings: FetchSettings) -> None:
        self.settings = settings
        self._global = asyncio.Semaphore(max(1, settings.concurrency))
        self._per_host: dict[str, asyncio.Semaphore] = {}
        self._ssl: ssl.SSLContext | None = None
        self._backend = GuardedBackend(settings.allow_private_networks)
        self._pools = Pools(
            self._backend,
            per_origin=settings.per_host,
            max_origins=_origin_budget(settings),
            connect_timeout=settings.connect_timeout,
            ssl_context=self._ssl_context,
        )
        # What httpx.AsyncClient sent, in its order: its defaults, then ours (each replaced one moves to the end).
        self._headers = [
            (b"Accept", b"*/*"),
            (b"Connection", b"keep-alive"),
            (b"User-Agent", settings.user_agent.encode("ascii")),
            (b"Accept-Encoding", b"gzip, deflate"),
        ]
        # Cookies a server set during this run are sent back to it, as httpx's client did; built on the first one.
        self._cookies: httpx.Cookies | None = None

    def _ssl_context(self) -> ssl.SSLContext:
        """httpx's default context (certifi's roots, or SSL_CERT_FILE/SSL_CERT_DIR), built on the first https URL."""
        if self._ssl is None:
            context = httpx.create_ssl_context()
            context.set_alpn_protocols(["http/1.1"])
            self._ssl = context
        return self._ssl

    def _host_slot(self, host: str) -> asyncio.Semaphore:
        slot = self._per_host.get(host)
        if slot is None:
            slot = self._per_host[host] = asyncio.Semaphore(max(1, self.settings.per_host))
        return slot

    async def get(self, url: str, headers: Mapping[str, str] | None = None) -> FetchResponse:
        """GET the URL, following redirects; raise FetchError (RateLimited on 429/503 with a wait) on failure."""
        host = _checked_host(url)
        # The host's slot first: a fetch waiting for a busy host must not hold one of the run's global slots meanwhile
        # (a thousand feeds on one platform would otherwise take every global slot and poll at the host's pace).
        async with self._host_slot(host), self._global:
            try:
                async with asyncio.timeout(self.settings.total_timeout):
                    return await self._follow(url, headers or {})
            except TimeoutError:
                raise FetchError(f"no complete answer within {self.settings.total_timeout:g} s") from None
            except httpcore.ConnectTimeout:
                raise FetchError(f"could not connect within {self.settings.connect_timeout:g} s") from None
            except httpcore.TimeoutException:
                raise FetchError(f"no complete answer within {self.settings.total_timeout:g} s") from None
            except httpcore.ConnectError as exc:
                raise FetchError(f"cannot connect: {_short(exc)}") from None
            except _BROKEN as exc:
                raise FetchError(f"broken HTTP exchange: {_short(exc)}") from None

    async def _follow(self, url: str, headers: Mapping[str, str]) -> FetchResponse:
        current = url
        permanent_url: str | None = None
        still_permanent = True
        hops: list[str] = []
        for _ in range(self.settings.max_redirects + 1):
            if hops:  # the first URL was checked by get()
                check_url(current)
            answer = await self._send(httpx.URL(current), headers)
            try:
                location = answer.headers.get("location", "").strip()
                if answer.status in _REDIRECTS and not location:
                    status = f"HTTP {answer.status} {answer.reason_phrase()}".strip()
                    raise HTTPStatusError(f"{status} without a Location header", status=answer.status)
                if answer.status in _REDIRECTS:
                    target = urljoin(current, location)
                    if still_permanent and answer.status in _PERMANENT:
                        permanent_url = target
                    else:
                        still_permanent = False
                    hops.append(target)
                    current = target
                    await _drain(answer)  # the next hop may well go to the same origin: keep the connection
                    continue
                _raise_for_status(answer)
                body = await self._read_body(answer)
            finally:
                await answer.release()
            return FetchResponse(
                status=answer.status,
                url=current,
                headers=answer.headers,
                body=body,
                permanent_url=permanent_url,
                redirects=tuple(hops),
            )
        raise FetchError(f"more than {self.settings.max_redirects} redirects (last to {current[:200]})")

    async def _send(self, url: httpx.URL, headers: Mapping[str, str]) -> _Answer:
        """One GET on a pooled connection to the URL's origin: its status and headers."""
        request = httpcore.Request(
            b"GET",
            httpcore.URL(scheme=url.raw_scheme, host=url.raw_host, port=url.port, target=url.raw_path),
            headers=self._request_headers(url, headers),
        )
        response, release = await self._pools.request(request)
        try:
            raw = response.headers
            if self._cookies is not None or any(name.lower() == b"set-cookie" for name, _ in raw):
                self._keep_cookies(url, response.status, raw)
            reason = response.extensions.get("reason_phrase", b"")
            return _Answer(response.status, reason, _decode_headers(raw), release)
        except BaseException:
            await release()
            raise

    def _request_headers(self, url: httpx.URL, extra: Mapping[str, str]) -> list[tuple[bytes, bytes]]:
        headers = list(self._headers)
        for name, value in extra.items():
            key = name.encode("ascii")
            lower = key.lower()
            headers = [(k, v) for k, v in headers if k.lower() != lower]
            headers.append((key, value.encode("latin-1")))  # HTTP's obs-text: a validator as the server sent it
        if not any(k.lower() == b"host" for k, _ in headers):
            headers.insert(0, (b"Host", url.netloc))
        if self._cookies:
            probe = httpx.Request("GET", url)
            self._cookies.set_cookie_header(probe)
            headers.extend((b"Cookie", value) for name, value in probe.headers.raw if name.lower() == b"cookie")
        return headers

    def _keep_cookies(self, url: httpx.URL, status: int, raw: list[tuple[bytes, bytes]]) -> None:
        if self._cookies is None:
            self._cookies = httpx.Cookies()
        self._cookies.extract_cookies(httpx.Response(status, headers=raw, request=httpx.Request("GET", url)))

    async def _read_body(self, answer: _Answer) -> bytes:
        limit = self.settings.max_bytes
        declared = answer.headers.get("content-length", "")
        if declared.isdigit() and int(declared) > limit:
            raise FetchError(f"response larger than {limit:,} bytes (Content-Length {int(declared):,})")
        encoding = answer.headers.get("content-encoding", "").strip().lower()
        decoder = _Decoder(encoding, limit)
        parts: list[bytes] = []
        body = answer.release.body()
        try:
            async for chunk in body:
                parts.append(decoder.feed(chunk))
        finally:
            await body.aclose()
        parts.append(decoder.finish())
        return b"".join(parts)

    async def aclose(self) -> None:
        """Close pooled connections."""
        await self._pools.aclose()


_DRAIN_LIMIT = 65536


async def _drain(answer: _Answer) -> None:
    """Read a small redirect body to its end, so that its connection can serve the next hop; give up quietly."""
    declared = answer.headers.get("content-length", "")
    if not declared.isdigit() or int(declared) > _DRAIN_LIMIT:
        return  # unknown or large: the connection closes instead
    body = answer.release.body()
    read = 0
    try:
        async for chunk in body:
            read += len(chunk)
            if read > _DRAIN_LIMIT:
                break
    except (httpcore.NetworkError, httpcore.ProtocolError, httpcore.TimeoutException):
        pass
    finally:
        await body.aclose()


def _decode_headers(raw: list[tuple[bytes, bytes]]) -> dict[str, str]:
    """Response headers as httpx.Headers.items() gave them: ascii, else utf-8, else latin-1 for all; lower-case
    names; a repeated header's values joined with ", "."""
    encoding = "iso-8859-1"
    for candidate in ("ascii", "utf-8"):
        try:
            for name, value in raw:
                name.decode(candidate)
                value.decode(candidate)
        except UnicodeDecodeError:
            continue
        encoding = candidate
        break
    headers: dict[str, str] = {}
    for name, value in raw:
        key = name.decode(encoding).lower()
        text = value.decode(encoding)
        headers[key] = f"{headers[key]}, {text}" if key in headers else text
    return headers


def _raise_for_status(answer: _Answer) -> None:
    status = answer.status
    if status < 400:
        return
    if status in (429, 503):
        wait = retry_after_seconds(answer.headers.get("retry-after"))
        if wait is not None or status == 429:
            wait = wait if wait is not None else _DEFAULT_RATE_LIMIT_WAIT
            raise RateLimited(f"HTTP {status}: the server asked to wait {wait:.0f} s", retry_after=wait)
    if status == 410:
        raise HTTPStatusError("HTTP 410 Gone: the feed was removed for good", status=status, permanent=True)
    raise HTTPStatusError(f"HTTP {status} {answer.reason_phrase()}".strip(), status=status)


def _short(exc: BaseException) -> str:
    text = " ".join(str(exc).split()) or type(exc).__name__
    return text[:200]
