"""The safe fetcher's connections (connectors/http_pool.py): DNS cache, keep-alive, per-origin limits, TLS, timeouts.

Every server here is on loopback; fake resolvers hand out addresses that are checked but, when refused, never
contacted.
"""

from __future__ import annotations

import asyncio
import shutil
import socket
import ssl
import subprocess
import threading
import time
from collections.abc import Callable
from contextlib import ExitStack, suppress
from http.server import BaseHTTPRequestHandler
from pathlib import Path
from typing import Any

import pytest

from connectors import http_pool
from connectors.http import FetchResponse, SafeFetcher
from connectors.http_pool import DNS_TTL, GuardedBackend
from listener.errors import FetchError
from listener.settings import FetchSettings
from tests.servers.http import Reply, hang, serve

LOCAL = FetchSettings(allow_private_networks=True, connect_timeout=1.0, total_timeout=5.0, max_bytes=10_000_000)


def run(settings: FetchSettings, body: Callable[[SafeFetcher], Any]) -> Any:
    async def main() -> Any:
        fetcher = SafeFetcher(settings)
        try:
            return await body(fetcher)
        finally:
            await fetcher.aclose()

    return asyncio.run(main())


Handler = Callable[[BaseHTTPRequestHandler], None]


def recorded(ports: list[int], body: bytes = b"<rss/>", close: bool = False) -> Handler:
    """A 200 route that records the client port of each request (one port per TCP connection)."""

    def handler(h: BaseHTTPRequestHandler) -> None:
        ports.append(h.client_address[1])
        h.send_response(200)
        h.send_header("Content-Length", str(len(body)))
        h.end_headers()
        h.wfile.write(body)
        if close:  # the server hangs up after answering, without saying so in a header
            h.wfile.flush()
            h.close_connection = True

    return handler


# ---------------------------------------------------------------- keep-alive


def test_requests_to_one_host_share_one_connection() -> None:
    ports: list[int] = []
    with serve() as (base, routes):
        routes["/f"] = recorded(ports)

        async def body(fetcher: SafeFetcher) -> int:
            for _ in range(5):
                assert (await fetcher.get(f"{base}/f")).body == b"<rss/>"
            return fetcher._pools.connects

        connects = run(LOCAL, body)
    assert len(ports) == 5 and len(set(ports)) == 1 and connects == 1


def test_conditional_get_leaves_the_connection_reusable() -> None:
    with serve() as (base, routes):
        routes["/f"] = Reply(b"<rss/>", headers={"ETag": '"v1"'})

        async def body(fetcher: SafeFetcher) -> list[int]:
            first = await fetcher.get(f"{base}/f")
            again = [await fetcher.get(f"{base}/f", {"If-None-Match": first.headers["etag"]}) for _ in range(3)]
            return [first.status] + [r.status for r in again] + [fetcher._pools.connects]

        statuses = run(LOCAL, body)
    assert statuses == [200, 304, 304, 304, 1]


def test_a_redirect_to_the_same_origin_reuses_the_connection() -> None:
    ports: list[int] = []
    with serve() as (base, routes):

        def moved(h: BaseHTTPRequestHandler) -> None:
            ports.append(h.client_address[1])
            h.send_response(301)
            h.send_header("Location", "/new")
            h.send_header("Content-Length", "11")
            h.end_headers()
            h.wfile.write(b"moved here.")

        routes["/old"] = moved
        routes["/new"] = recorded(ports)
        response = run(LOCAL, lambda fetcher: fetcher.get(f"{base}/old"))
    assert response.url == f"{base}/new" and response.permanent_url == f"{base}/new"
    assert len(ports) == 2 and len(set(ports)) == 1


def test_a_connection_the_server_closed_is_not_reused() -> None:
    ports: list[int] = []
    with serve() as (base, routes):
        routes["/f"] = recorded(ports, close=True)

        async def body(fetcher: SafeFetcher) -> list[bytes]:
            bodies = []
            for _ in range(3):
                bodies.append((await fetcher.get(f"{base}/f")).body)
                await asyncio.sleep(0.1)  # the server's FIN arrives while the connection is idle
            return bodies

        assert run(LOCAL, body) == [b"<rss/>"] * 3
    assert len(set(ports)) == 3


def test_idle_connections_expire(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(http_pool, "KEEPALIVE_EXPIRY", 0.05)
    ports: list[int] = []
    with serve() as (base, routes):
        routes["/f"] = recorded(ports)

        async def body(fetcher: SafeFetcher) -> None:
            await fetcher.get(f"{base}/f")
            await asyncio.sleep(0.2)
            await fetcher.get(f"{base}/f")

        run(LOCAL, body)
    assert len(set(ports)) == 2


def test_closing_the_fetcher_closes_its_idle_connections() -> None:
    with serve() as (base, routes):
        routes["/f"] = Reply(b"<rss/>")

        async def body() -> tuple[int, int]:
            fetcher = SafeFetcher(LOCAL)
            await asyncio.gather(*(fetcher.get(f"{base}/f") for _ in range(4)))
            idle = fetcher._pools.idle_connections()
            await fetcher.aclose()
            return idle, fetcher._pools.idle_connections()

        before, after = asyncio.run(body())
    assert before >= 1 and after == 0


def test_the_request_is_what_httpx_sent() -> None:
    """Same headers, same order, as when httpx.AsyncClient built the request; the caller's headers come last."""
    with serve() as (base, routes):
        routes["/f"] = Reply(b"<rss/>")
        run(LOCAL, lambda fetcher: fetcher.get(f"{base}/f", {"If-None-Match": '"x"', "user-agent": "custom"}))
        _, headers = routes.requests[0]
    assert list(headers) == ["Host", "Accept", "Connection", "Accept-Encoding", "If-None-Match", "user-agent"]
    assert headers["Host"] == base.removeprefix("http://") and headers["user-agent"] == "custom"
    assert headers["Accept-Encoding"] == "gzip, deflate" and headers["Connection"] == "keep-alive"


def test_cookies_a_server_sets_are_sent_back_to_it_within_a_run_only() -> None:
    with serve() as (base, routes):
        routes["/login"] = Reply(b"ok", headers={"Set-Cookie": "session=abc; Path=/"})
        routes["/f"] = Reply(b"<rss/>")

        async def body(fetcher: SafeFetcher) -> None:
            await fetcher.get(f"{base}/login")
            await fetcher.get(f"{base}/f")

        run(LOCAL, body)
        run(LOCAL, lambda fetcher: fetcher.get(f"{base}/f"))  # a new run, a new jar
        cookies = [headers.get("Cookie") for _, headers in routes.requests]
    assert cookies == [None, "session=abc", None]


def test_repeated_response_headers_are_joined_and_names_lower_cased() -> None:
    with serve() as (base, routes):

        def twice(h: BaseHTTPRequestHandler) -> None:
            h.send_response(200)
            h.send_header("X-Tag", "a")
            h.send_header("x-tag", "b")
            h.send_header("Content-Length", "2")
            h.end_headers()
            h.wfile.write(b"ok")

        routes["/f"] = twice
        response = run(LOCAL, lambda fetcher: fetcher.get(f"{base}/f"))
    assert response.headers["x-tag"] == "a, b" and response.headers["content-length"] == "2"


def test_a_body_larger_than_the_read_buffer_arrives_whole() -> None:
    feed = b"<rss>" + b"<item><title>x</title></item>" * 150_000 + b"</rss>"  # 4.4 MB: reading pauses and resumes
    with serve() as (base, routes):
        routes["/big"] = Reply(feed)
        response = run(LOCAL, lambda fetcher: fetcher.get(f"{base}/big"))
    assert response.body == feed


# ---------------------------------------------------------------- limits per origin, time limits


def test_the_per_host_limit_holds_at_an_origin_that_many_hosts_redirect_to() -> None:
    settings = FetchSettings(allow_private_networks=True, per_host=2, concurrency=50, total_timeout=10)
    active = {"now": 0, "max": 0}
    lock = threading.Lock()

    def slow(h: BaseHTTPRequestHandler) -> None:
        with lock:
            active["now"] += 1
            active["max"] = max(active["max"], active["now"])
        time.sleep(0.1)
        with lock:
            active["now"] -= 1
        h.send_response(200)
        h.send_header("Content-Length", "2")
        h.end_headers()
        h.wfile.write(b"ok")

    with ExitStack() as stack:
        target, target_routes = stack.enter_context(serve())
        target_routes["/feed"] = slow
        bases = []
        for n in range(2, 8):
            base, routes = stack.enter_context(serve(host=f"127.0.0.{n}"))
            routes["/r"] = Reply(b"", 302, {"Location": f"{target}/feed"})
            bases.append(base)

        async def body(fetcher: SafeFetcher) -> list[FetchResponse]:
            return list(await asyncio.gather(*(fetcher.get(f"{base}/r") for base in bases * 2)))

        results = run(settings, body)
    assert [r.body for r in results] == [b"ok"] * 12 and active["max"] == 2


def test_fetches_cut_by_the_time_limit_give_their_connections_back() -> None:
    settings = FetchSettings(allow_private_networks=True, per_host=2, concurrency=10, total_timeout=0.3)
    ports: list[int] = []
    with serve() as (base, routes):
        routes["/slow"] = hang(1.0)
        routes["/fast"] = recorded(ports)

        async def body(fetcher: SafeFetcher) -> tuple[list[str], bytes, int]:
            cut = await asyncio.gather(*(fetcher.get(f"{base}/slow") for _ in range(6)), return_exceptions=True)
            fast = await fetcher.get(f"{base}/fast")  # the origin's two slots are free again
            return [str(e) for e in cut], fast.body, fetcher._pools.idle_connections()

        errors, fast, idle = run(settings, body)
    assert errors == ["no complete answer within 0.3 s"] * 6
    assert fast == b"<rss/>" and idle == 1  # a fresh connection: none of the cut ones was kept


def test_a_server_that_never_accepts_hits_the_connect_limit() -> None:
    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    listener.listen(0)
    port = listener.getsockname()[1]
    waiting = []
    for _ in range(3):  # fill the accept queue: further connection attempts get no answer at all
        client = socket.socket()
        client.setblocking(False)
        with suppress(BlockingIOError):
            client.connect(("127.0.0.1", port))
        waiting.append(client)
    try:
        settings = FetchSettings(allow_private_networks=True, connect_timeout=0.5, total_timeout=5)
        started = time.monotonic()
        with pytest.raises(FetchError, match=r"could not connect within 0\.5 s"):
            run(settings, lambda fetcher: fetcher.get(f"http://127.0.0.1:{port}/f"))
        assert time.monotonic() - started < 3
    finally:
        for client in waiting:
            client.close()
        listener.close()


def test_a_refused_connection_is_a_fetch_error() -> None:
    probe = socket.socket()
    probe.bind(("127.0.0.1", 0))
    port = probe.getsockname()[1]
    probe.close()  # nothing listens there now
    with pytest.raises(FetchError, match="cannot connect"):
        run(LOCAL, lambda fetcher: fetcher.get(f"http://127.0.0.1:{port}/f"))


# ---------------------------------------------------------------- TLS


def server_context(cert: Path, key: Path) -> ssl.SSLContext:
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.load_cert_chain(cert, key)
    return context


@pytest.fixture
def certificate(tmp_path: Path) -> tuple[Path, Path]:
    if shutil.which("openssl") is None:
        pytest.skip("openssl is needed to make a test certificate")
    cert, key = tmp_path / "cert.pem", tmp_path / "key.pem"
    subprocess.run(
        ["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "2", "-subj", "/CN=127.0.0.1",
         "-addext", "subjectAltName=IP:127.0.0.1", "-keyout", str(key), "-out", str(cert)],
        check=True, capture_output=True,
    )  # fmt: skip
    return cert, key


def test_https_is_fetched_over_one_verified_connection(
    certificate: tuple[Path, Path], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("SSL_CERT_FILE", str(certificate[0]))  # httpx's default context trusts it, nothing else
    with serve(tls=server_context(*certificate)) as (base, routes):
        routes["/f"] = Reply(b"<rss/>", headers={"ETag": '"1"'})

        async def body(fetcher: SafeFetcher) -> tuple[list[int], int]:
            first = await fetcher.get(f"{base}/f")
            second = await fetcher.get(f"{base}/f", {"If-None-Match": '"1"'})
            return [first.status, second.status], fetcher._pools.connects

        assert run(LOCAL, body) == ([200, 304], 1)


def test_an_untrusted_certificate_is_refused(certificate: tuple[Path, Path], monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("SSL_CERT_FILE", raising=False)
    monkeypatch.delenv("SSL_CERT_DIR", raising=False)
    with serve(tls=server_context(*certificate)) as (base, routes):
        routes["/f"] = Reply(b"<rss/>")
        with pytest.raises(FetchError, match=r"cannot connect: .*CERTIFICATE_VERIFY_FAILED"):
            run(LOCAL, lambda fetcher: fetcher.get(f"{base}/f"))
        assert routes.requests == []


# ---------------------------------------------------------------- the DNS cache


class FakeDNS:
    """A resolver whose answers the test sets; counts its lookups."""

    def __init__(self, *answers: str | Exception) -> None:
        self.answers = list(answers)
        self.calls = 0
        self.delay = 0.0

    async def __call__(self, host: str, port: int) -> list[Any]:
        self.calls += 1
        await asyncio.sleep(self.delay)
        answer = self.answers[min(self.calls, len(self.answers)) - 1]
        if isinstance(answer, Exception):
            raise answer
        return [(socket.AF_INET, socket.SOCK_STREAM, 6, "", (address, port)) for address in answer.split(",")]


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def test_a_cached_private_address_is_still_refused_on_every_connection() -> None:
    dns = FakeDNS("127.0.0.1")
    backend = GuardedBackend(allow_private=False, resolve=dns)

    async def main() -> None:
        for _ in range(3):
            with pytest.raises(FetchError, match=r"refused to contact feeds\.example"):
                await backend.connect_tcp("feeds.example", 80)

    asyncio.run(main())
    assert dns.calls == 1  # cached, and checked each time


def test_cached_answers_expire_after_the_ttl() -> None:
    dns = FakeDNS("127.0.0.1", "127.0.0.2")
    clock = Clock()
    backend = GuardedBackend(allow_private=True, resolve=dns, clock=clock)

    async def main() -> list[list[str]]:
        seen = [await backend.resolve("feeds.example", 80)]
        clock.now += DNS_TTL - 1
        seen.append(await backend.resolve("feeds.example", 80))
        clock.now += 2
        seen.append(await backend.resolve("feeds.example", 80))
        return seen

    assert asyncio.run(main()) == [["127.0.0.1"], ["127.0.0.1"], ["127.0.0.2"]]
    assert dns.calls == 2 and DNS_TTL <= 60


def test_a_name_rebound_to_a_private_address_is_refused_once_the_ttl_passed() -> None:
    dns = FakeDNS("93.184.216.34", "10.0.0.5")  # the public address is checked, never contacted here
    clock = Clock()
    backend = GuardedBackend(allow_private=False, resolve=dns, clock=clock)

    async def main() -> None:
        assert await backend.resolve("feeds.example", 80) == ["93.184.216.34"]
        clock.now += DNS_TTL + 1
        with pytest.raises(FetchError, match=r"refused to contact feeds\.example: it resolves to 10\.0\.0\.5"):
            await backend.connect_tcp("feeds.example", 80)

    asyncio.run(main())


def test_failed_lookups_are_not_cached() -> None:
    dns = FakeDNS(socket.gaierror(socket.EAI_NONAME, "Name or service not known"), "127.0.0.1")
    backend = GuardedBackend(allow_private=True, resolve=dns)

    async def main() -> list[str]:
        with pytest.raises(FetchError, match=r"cannot resolve host feeds\.example"):
            await backend.resolve("feeds.example", 80)
        return await backend.resolve("feeds.example", 80)

    assert asyncio.run(main()) == ["127.0.0.1"] and dns.calls == 2


def test_concurrent_connections_share_one_lookup_and_a_cancelled_one_does_not_spoil_it() -> None:
    dns = FakeDNS("127.0.0.1")
    dns.delay = 0.1
    backend = GuardedBackend(allow_private=True, resolve=dns)

    async def main() -> list[list[str]]:
        first = asyncio.ensure_future(backend.resolve("feeds.example", 80))
        others = [asyncio.ensure_future(backend.resolve("feeds.example", 80)) for _ in range(4)]
        await asyncio.sleep(0.01)
        first.cancel()  # the fetch that started the lookup gives up
        return list(await asyncio.gather(*others))

    assert asyncio.run(main()) == [["127.0.0.1"]] * 4 and dns.calls == 1


def test_ip_literals_need_no_lookup() -> None:
    dns = FakeDNS(socket.gaierror(socket.EAI_NONAME, "unused"))
    backend = GuardedBackend(allow_private=False, resolve=dns)

    async def main() -> None:
        assert await backend.resolve("[::1]", 80) == ["::1"]
        with pytest.raises(FetchError, match=r"refused to contact 127\.0\.0\.1"):
            await backend.connect_tcp("127.0.0.1", 80)

    asyncio.run(main())
    assert dns.calls == 0


def test_each_fetcher_has_its_own_dns_cache() -> None:
    """A name is looked up once per run (the cache never outlives the fetcher), and the answer is checked."""
    with serve() as (base, routes):
        port = base.rsplit(":", 1)[1]
        routes["/f"] = Reply(b"<rss/>", headers={"Connection": "close"})  # a new connection each time

        async def body(fetcher: SafeFetcher) -> tuple[int, int]:
            for _ in range(3):
                await fetcher.get(f"http://localhost:{port}/f")
            return fetcher._backend.lookups, fetcher._pools.connects

        assert run(LOCAL, body) == (1, 3)
        assert run(LOCAL, body) == (1, 3)
        with pytest.raises(FetchError, match="refused to contact localhost"):
            run(FetchSettings(), lambda fetcher: fetcher.get(f"http://localhost:{port}/f"))


def test_closing_the_fetcher_forgets_its_dns_answers() -> None:
    dns = FakeDNS("127.0.0.1")

    async def main() -> int:
        fetcher = SafeFetcher(LOCAL)
        fetcher._backend._resolve_with = dns
        await fetcher._backend.resolve("feeds.example", 80)
        await fetcher.aclose()
        return len(fetcher._backend._cache)

    assert asyncio.run(main()) == 0 and dns.calls == 1
