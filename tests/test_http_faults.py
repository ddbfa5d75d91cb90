"""SafeFetcher against a local server that misbehaves: every fault ends in a one-line FetchError, fast."""

from __future__ import annotations

import asyncio
import gzip
import time
import zlib
from collections.abc import Awaitable, Callable
from contextlib import ExitStack
from http.server import BaseHTTPRequestHandler
from typing import TypeVar

import pytest

from connectors.http import FetchResponse, HTTPStatusError, SafeFetcher, address_allowed, retry_after_seconds
from listener.errors import FetchError, RateLimited
from listener.settings import FetchSettings
from tests.servers.http import Reply, drip, endless, hang, serve

T = TypeVar("T")
LOCAL = FetchSettings(allow_private_networks=True, connect_timeout=1.0, total_timeout=2.0, max_bytes=200_000)


def fetch(url: str, settings: FetchSettings = LOCAL, headers: dict[str, str] | None = None) -> FetchResponse:
    async def run() -> FetchResponse:
        fetcher = SafeFetcher(settings)
        try:
            return await fetcher.get(url, headers)
        finally:
            await fetcher.aclose()

    return asyncio.run(run())


def timed(call: Callable[[], T]) -> tuple[T | BaseException, float]:
    started = time.monotonic()
    try:
        return call(), time.monotonic() - started
    except BaseException as exc:
        return exc, time.monotonic() - started


def test_plain_fetch_returns_body_and_lowercase_headers() -> None:
    with serve() as (base, routes):
        routes["/f"] = Reply(b"<rss/>", headers={"Content-Type": "application/rss+xml", "ETag": '"x"'})
        response = fetch(f"{base}/f")
    assert response.status == 200 and response.body == b"<rss/>" and response.headers["etag"] == '"x"'


def test_loopback_is_refused_by_default() -> None:
    with serve() as (base, routes):
        routes["/f"] = Reply(b"<rss/>")
        with pytest.raises(FetchError, match="refused to contact"):
            fetch(f"{base}/f", FetchSettings())
        assert routes.requests == []  # not even a connection reached the server


@pytest.mark.parametrize("url", ["http://0x7f000001/", "http://2130706433/", "http://[::1]/", "http://localhost/"])
def test_loopback_spellings_are_refused_after_resolution(url: str) -> None:
    with pytest.raises(FetchError, match=r"refused|cannot resolve"):
        fetch(url, FetchSettings(connect_timeout=1, total_timeout=2))


def test_metadata_address_is_refused_even_when_private_networks_are_allowed() -> None:
    assert not address_allowed("169.254.169.254", allow_private=True)
    assert not address_allowed("fd00:ec2::254", allow_private=True)
    assert not address_allowed("::ffff:169.254.169.254", allow_private=True)
    assert address_allowed("10.1.2.3", allow_private=True) and not address_allowed("10.1.2.3", allow_private=False)
    assert address_allowed("93.184.216.34", allow_private=False)


def test_redirect_to_metadata_is_refused_at_the_hop() -> None:
    def to_metadata(h: BaseHTTPRequestHandler) -> None:
        h.send_response(302)
        h.send_header("Location", "http://169.254.169.254/latest/meta-data/")
        h.send_header("Content-Length", "0")
        h.end_headers()

    with serve() as (base, routes):
        routes["/r"] = to_metadata
        with pytest.raises(FetchError, match="refused to contact"):
            fetch(f"{base}/r")


def test_non_http_schemes_are_refused() -> None:
    for url in ("file:///etc/passwd", "ftp://example.com/x", "gopher://x/", "/etc/passwd"):
        with pytest.raises(FetchError, match="not an http"):
            fetch(url)


def test_hanging_server_hits_the_total_time_limit() -> None:
    with serve() as (base, routes):
        routes["/h"] = hang(10)
        error, seconds = timed(lambda: fetch(f"{base}/h"))
    assert isinstance(error, FetchError) and "no complete answer within 2 s" in error.message
    assert seconds < 4


def test_dripping_server_hits_the_total_time_limit() -> None:
    with serve() as (base, routes):
        routes["/d"] = drip(b"<", every=0.1, total=500)
        error, seconds = timed(lambda: fetch(f"{base}/d"))
    assert isinstance(error, FetchError) and "no complete answer" in error.message
    assert seconds < 4


def test_endless_body_hits_the_size_limit() -> None:
    with serve() as (base, routes):
        routes["/e"] = endless()
        error, seconds = timed(lambda: fetch(f"{base}/e"))
    assert isinstance(error, FetchError) and "larger than 200,000 bytes" in error.message
    assert seconds < 4


def test_declared_oversize_is_refused_before_reading() -> None:
    with serve() as (base, routes):
        routes["/big"] = Reply(b"x" * 300_000)
        with pytest.raises(FetchError, match="Content-Length"):
            fetch(f"{base}/big")


@pytest.mark.parametrize("encoding", ["gzip", "deflate", "raw-deflate"])
def test_compression_bombs_stop_at_the_limit_after_decompression(encoding: str) -> None:
    payload = b"\0" * 50_000_000
    if encoding == "gzip":
        body = gzip.compress(payload, 9)
    elif encoding == "deflate":
        body = zlib.compress(payload, 9)
    else:
        squeezer = zlib.compressobj(9, zlib.DEFLATED, -zlib.MAX_WBITS)
        body = squeezer.compress(payload) + squeezer.flush()
    assert len(body) < 200_000  # the bomb itself passes the wire limit
    header = "gzip" if encoding == "gzip" else "deflate"
    with serve() as (base, routes):
        routes["/bomb"] = Reply(body, headers={"Content-Encoding": header})
        with pytest.raises(FetchError, match="after decompression"):
            fetch(f"{base}/bomb")


def test_gzip_and_deflate_bodies_are_decoded() -> None:
    feed = b"<rss><channel><title>t</title></channel></rss>" * 10
    with serve() as (base, routes):
        routes["/g"] = Reply(gzip.compress(feed), headers={"Content-Encoding": "gzip"})
        routes["/z"] = Reply(zlib.compress(feed), headers={"Content-Encoding": "deflate"})
        assert fetch(f"{base}/g").body == feed
        assert fetch(f"{base}/z").body == feed


def test_corrupt_gzip_is_a_fetch_error() -> None:
    with serve() as (base, routes):
        routes["/c"] = Reply(b"\x1f\x8b\x08\x00garbage-not-gzip", headers={"Content-Encoding": "gzip"})
        with pytest.raises(FetchError, match="corrupt gzip"):
            fetch(f"{base}/c")


@pytest.mark.parametrize("encoding", ["gzip", "deflate"])
def test_compressed_stream_cut_short_is_a_fetch_error_not_a_partial_feed(encoding: str) -> None:
    feed = b"<rss><channel>" + b"<item><title>t</title></item>" * 500 + b"</channel></rss>"
    body = gzip.compress(feed) if encoding == "gzip" else zlib.compress(feed)
    with serve() as (base, routes):
        routes["/cut"] = Reply(body[: len(body) // 2], headers={"Content-Encoding": encoding})
        with pytest.raises(FetchError, match=f"truncated {encoding} body"):
            fetch(f"{base}/cut")


def test_redirect_without_location_says_so() -> None:
    with serve() as (base, routes):
        routes["/r"] = Reply(b"<rss/>", 302)
        with pytest.raises(HTTPStatusError, match="HTTP 302 Found without a Location header"):
            fetch(f"{base}/r")


def test_redirect_loops_stop_at_the_limit() -> None:
    def redirect(to: str) -> Callable[[BaseHTTPRequestHandler], None]:
        def handler(h: BaseHTTPRequestHandler) -> None:
            h.send_response(302)
            h.send_header("Location", to)
            h.send_header("Content-Length", "0")
            h.end_headers()

        return handler

    with serve() as (base, routes):
        routes["/a"] = redirect("/b")
        routes["/b"] = redirect("/a")
        with pytest.raises(FetchError, match="more than 5 redirects"):
            fetch(f"{base}/a")


def test_permanent_redirect_chain_is_reported_and_temporary_one_is_not() -> None:
    with serve() as (base, routes):
        routes["/old"] = Reply(b"", 301, {"Location": "/new"})
        routes["/new"] = Reply(b"<rss/>")
        routes["/tmp"] = Reply(b"", 302, {"Location": "/new"})
        moved = fetch(f"{base}/old")
        assert moved.permanent_url == f"{base}/new" and moved.url == f"{base}/new"
        assert fetch(f"{base}/tmp").permanent_url is None


def test_status_errors() -> None:
    with serve() as (base, routes):
        routes["/500"] = Reply(b"oops", 500)
        routes["/410"] = Reply(b"gone", 410)
        routes["/429"] = Reply(b"slow down", 429, {"Retry-After": "120"})
        routes["/503"] = Reply(b"busy", 503, {"Retry-After": "30"})
        routes["/503-bare"] = Reply(b"busy", 503)
        with pytest.raises(HTTPStatusError, match="HTTP 500") as server_error:
            fetch(f"{base}/500")
        assert not server_error.value.permanent
        with pytest.raises(FetchError, match="410") as gone:
            fetch(f"{base}/410")
        assert gone.value.permanent
        with pytest.raises(RateLimited) as limited:
            fetch(f"{base}/429")
        assert limited.value.retry_after == 120
        with pytest.raises(RateLimited) as busy:
            fetch(f"{base}/503")
        assert busy.value.retry_after == 30
        with pytest.raises(HTTPStatusError, match="HTTP 503"):
            fetch(f"{base}/503-bare")


def test_retry_after_accepts_http_dates_and_clamps() -> None:
    assert retry_after_seconds("Wed, 21 Oct 2015 07:28:00 GMT") == 1.0  # in the past: retry soon
    assert retry_after_seconds("99999999") == 7 * 24 * 3600
    assert retry_after_seconds("soon") is None


def test_per_host_limit_holds(monkeypatch: pytest.MonkeyPatch) -> None:
    settings = FetchSettings(allow_private_networks=True, per_host=2, concurrency=50, total_timeout=10)
    with serve() as (base, routes):
        active = {"now": 0, "max": 0}

        def slow(h: BaseHTTPRequestHandler) -> None:
            with routes.lock:
                active["now"] += 1
                active["max"] = max(active["max"], active["now"])
            time.sleep(0.1)
            with routes.lock:
                active["now"] -= 1
            h.send_response(200)
            h.send_header("Content-Length", "2")
            h.end_headers()
            h.wfile.write(b"ok")

        routes["/s"] = slow

        async def run() -> list[FetchResponse]:
            fetcher = SafeFetcher(settings)
            try:
                calls: list[Awaitable[FetchResponse]] = [fetcher.get(f"{base}/s") for _ in range(8)]
                return list(await asyncio.gather(*calls))
            finally:
                await fetcher.aclose()

        results = asyncio.run(run())
    assert len(results) == 8 and active["max"] == 2


def test_many_origins_share_a_bounded_set_of_pools() -> None:
    """More hosts than the pool table holds, fetched concurrently: idle pools close, no request trips over one."""
    settings = FetchSettings(allow_private_networks=True, concurrency=4, per_host=2, total_timeout=10)
    with ExitStack() as stack:
        bases = []
        for n in range(1, 21):
            base, routes = stack.enter_context(serve(host=f"127.0.0.{n}"))
            routes["/f"] = Reply(b"<rss/>")
            bases.append(base)

        async def run() -> list[FetchResponse]:
            fetcher = SafeFetcher(settings)
            try:
                return list(await asyncio.gather(*(fetcher.get(f"{base}/f") for base in bases * 3)))
            finally:
                await fetcher.aclose()

        results = asyncio.run(run())
    assert [r.body for r in results] == [b"<rss/>"] * 60
