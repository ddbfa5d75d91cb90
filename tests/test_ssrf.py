"""SSRF through IPv6 spellings of IPv4 addresses (issue #17 item 5): the address table, then the real fetch path.

The fetch-path tests watch `http_pool._open`, the one place a socket is connected: a refused address must never get
there, whether it came from a literal URL, a resolver's answer or a redirect. A "public" host in these tests is a
fake resolver's answer (93.184.216.34) whose connection `_open` routes to the loopback server; the address check in
front of it is the real one.
"""

from __future__ import annotations

import asyncio
import ipaddress
import socket
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler
from typing import Any

import pytest
from sqlalchemy import select

from connectors import http_pool
from connectors.addresses import address_allowed
from connectors.http import FetchResponse, SafeFetcher
from listener.cli.app import App
from listener.db.schema import Source
from listener.directory import add_customer, add_rep
from listener.errors import FetchError
from listener.settings import FetchSettings
from tests.conftest import Invoke, allow_loopback
from tests.servers.http import Reply, serve


def teredo(server: str, client: str) -> str:
    """The Teredo address (2001::/32) of a client behind a NAT, its IPv4 address inverted as on the wire."""
    value = (0x20010000 << 96) | (int(ipaddress.IPv4Address(server)) << 64)
    value |= 0xFFFF << 32  # flags 0, the obfuscated port
    value |= int(ipaddress.IPv4Address(client)) ^ 0xFFFFFFFF
    return str(ipaddress.IPv6Address(value))


# Refused whatever the settings: cloud metadata, in every spelling.
METADATA = [
    "169.254.169.254",
    "::ffff:169.254.169.254",
    "::ffff:a9fe:a9fe",
    "::a9fe:a9fe",  # IPv4-compatible
    "::ffff:0:a9fe:a9fe",  # SIIT IPv4-translated
    "64:ff9b::a9fe:a9fe",  # NAT64
    "64:ff9b::169.254.169.254",
    "64:ff9b:1:a9fe:a9fe::",  # local-use NAT64, a /48 layout (RFC 6052: the IPv4 goes round bits 64-71)
    "64:ff9b:1:a9fe:a9:fe00::",  # ... a /48 layout with the u octet in place
    "64:ff9b:1::a9fe:a9fe",  # ... a /96 layout
    "2002:a9fe:a9fe::1",  # 6to4
    teredo("65.54.227.120", "169.254.169.254"),
    "fd00:ec2::254",  # AWS's IPv6 metadata address
    "100.100.100.200",
]
# Loopback, private, link-local and other non-public ranges, spelled as IPv6: refused unless private networks are
# allowed (the review's seven first).
PRIVATE = [
    "::7f00:1",
    "::ffff:0:7f00:1",
    "64:ff9b::7f00:1",
    "64:ff9b::a00:1",
    "2002:7f00:1::",
    "fec0::1",
    "::ffff:127.0.0.1",
    "::ffff:10.0.0.1",
    "::ffff:192.168.1.1",
    "::c0a8:101",
    "64:ff9b::c0a8:101",
    "64:ff9b::6440:1",  # 100.64.0.1, carrier-grade NAT
    "64:ff9b::ac10:1",  # 172.16.0.1
    "64:ff9b:1:7f00:1::",
    "2002:a00:1::1",
    "2002:c0a8:101::",
    teredo("65.54.227.120", "127.0.0.1"),
    teredo("10.0.0.1", "93.184.216.34"),
    "fec0:0:0:ffff::1",
    "feff::1",
    "fe80::1",
    "fc00::1",
    "fd12:3456::1",
    "::1",
    "127.0.0.1",
    "10.0.0.1",
    "100.64.0.1",
    "0.1.2.3",
    "198.18.0.1",
    "240.0.0.1",
]
# Public hosts, also through a NAT64 gateway or 6to4: a NAT64 network must still reach IPv4-only feeds.
PUBLIC = [
    "93.184.216.34",
    "::ffff:93.184.216.34",
    "64:ff9b::5db8:d822",
    "2002:5db8:d822::1",
    "2606:4700:4700::1111",
    "2a00:1450:4001:82b::200e",
]
NEVER = ["::", "0.0.0.0", "::ffff:0.0.0.0", "64:ff9b::", "ff02::1", "224.0.0.1", "64:ff9b::e000:1", "not an address"]


@pytest.mark.parametrize("address", METADATA)
def test_metadata_in_any_spelling_is_refused_even_when_private_networks_are_allowed(address: str) -> None:
    assert not address_allowed(address, allow_private=True)
    assert not address_allowed(address, allow_private=False)


@pytest.mark.parametrize("address", PRIVATE)
def test_private_ranges_in_any_spelling_need_private_networks_allowed(address: str) -> None:
    assert not address_allowed(address, allow_private=False)
    assert address_allowed(address, allow_private=True)


@pytest.mark.parametrize("address", PUBLIC)
def test_public_addresses_and_their_translations_are_allowed(address: str) -> None:
    assert address_allowed(address, allow_private=False)


@pytest.mark.parametrize("address", NEVER)
def test_unspecified_multicast_and_garbage_are_never_allowed(address: str) -> None:
    assert not address_allowed(address, allow_private=True)


# ---------------------------------------------------------------- through the real fetch path

PUBLIC_STAND_IN = "93.184.216.34"


class Resolver:
    """Answers every name with the addresses the test set."""

    def __init__(self, *addresses: str) -> None:
        self.addresses = addresses

    async def __call__(self, host: str, port: int) -> list[Any]:
        return [(socket.AF_INET6, socket.SOCK_STREAM, 6, "", (address, port)) for address in self.addresses]


@pytest.fixture
def connects(monkeypatch: pytest.MonkeyPatch) -> Iterator[list[str]]:
    """Every address a socket is connected to; the public stand-in is routed to loopback."""
    seen: list[str] = []
    real_open = http_pool._open

    async def watched(address: str, port: int, *args: Any) -> Any:
        seen.append(address)
        return await real_open("127.0.0.1" if address == PUBLIC_STAND_IN else address, port, *args)

    monkeypatch.setattr(http_pool, "_open", watched)
    yield seen


def fetch(url: str, settings: FetchSettings, *answers: str) -> FetchResponse:
    async def run() -> FetchResponse:
        fetcher = SafeFetcher(settings)
        if answers:
            fetcher._backend._resolve_with = Resolver(*answers)
        try:
            return await fetcher.get(url)
        finally:
            await fetcher.aclose()

    return asyncio.run(run())


DEFAULTS = FetchSettings(connect_timeout=1.0, total_timeout=5.0)
INTRANET = FetchSettings(allow_private_networks=True, connect_timeout=1.0, total_timeout=5.0)


@pytest.mark.parametrize("address", [*PRIVATE[:7], *METADATA[1:8]])
def test_a_literal_ipv6_url_of_a_private_address_is_never_connected(address: str, connects: list[str]) -> None:
    host = f"[{address}]" if ":" in address else address
    with pytest.raises(FetchError, match="refused to contact"):
        fetch(f"http://{host}:8080/feed", DEFAULTS)
    assert connects == []


@pytest.mark.parametrize("address", [*PRIVATE[:7], *METADATA[1:8]])
def test_a_resolver_answer_in_an_ipv6_spelling_is_never_connected(address: str, connects: list[str]) -> None:
    with pytest.raises(FetchError, match=r"refused to contact feeds\.example"):
        fetch("http://feeds.example:8080/feed", DEFAULTS, address)
    assert connects == []


def redirect_to(location: str) -> Any:
    def handler(h: BaseHTTPRequestHandler) -> None:
        h.send_response(302)
        h.send_header("Location", location)
        h.send_header("Content-Length", "0")
        h.end_headers()

    return handler


@pytest.mark.parametrize("address", [*PRIVATE[:7], *METADATA[1:8]])
def test_a_redirect_from_a_public_host_to_an_ipv6_spelling_is_refused(address: str, connects: list[str]) -> None:
    host = f"[{address}]" if ":" in address else address
    with serve() as (base, routes):
        port = base.rsplit(":", 1)[1]
        routes["/feed"] = redirect_to(f"http://{host}:{port}/private")
        routes["/private"] = Reply(b"<rss>secret</rss>")
        with pytest.raises(FetchError, match="refused to contact"):
            fetch(f"http://feeds.example:{port}/feed", DEFAULTS, PUBLIC_STAND_IN)
        assert routes.hits("/feed") == 1 and routes.hits("/private") == 0
    assert connects == [PUBLIC_STAND_IN]


def test_the_public_stand_in_is_fetched_so_the_refusals_above_are_the_guards(connects: list[str]) -> None:
    with serve() as (base, routes):
        port = base.rsplit(":", 1)[1]
        routes["/feed"] = redirect_to(f"http://other.example:{port}/ok")
        routes["/ok"] = Reply(b"<rss/>")
        assert fetch(f"http://feeds.example:{port}/feed", DEFAULTS, PUBLIC_STAND_IN).body == b"<rss/>"
    assert connects == [PUBLIC_STAND_IN] * 2  # one connection per origin: feeds.example, other.example


@pytest.mark.parametrize("address", METADATA[1:])
def test_a_redirect_to_metadata_in_any_spelling_is_refused_on_intranets(address: str, connects: list[str]) -> None:
    host = f"[{address}]" if ":" in address else address
    with serve() as (base, routes):
        routes["/feed"] = redirect_to(f"http://{host}/latest/meta-data/")
        with pytest.raises(FetchError, match="refused to contact"):
            fetch(f"{base}/feed", INTRANET)
        assert routes.hits("/feed") == 1
    assert connects == ["127.0.0.1"]


@pytest.mark.parametrize("address", METADATA)
def test_a_name_resolving_to_metadata_is_refused_on_an_intranet_too(address: str, connects: list[str]) -> None:
    with pytest.raises(FetchError, match=r"refused to contact metadata\.example"):
        fetch("http://metadata.example/latest/meta-data/", INTRANET, address)
    assert connects == []


@pytest.mark.parametrize("address", PRIVATE[:7])
def test_source_add_refuses_an_ipv6_spelling_of_a_private_address(app: App, invoke: Invoke, address: str) -> None:
    with app.transaction() as session:
        add_rep(session, "ana@example.com", "Ana")
        add_customer(session, "Acme Corp", rep_email="ana@example.com")
    result = invoke("source", "add", "Acme Corp", f"http://[{address}]/feed", "--kind", "rss")
    assert result.exit_code == 2 and result.output.count("\n") == 1
    assert "is a loopback or private network address, which Listener does not fetch" in result.output
    with app.transaction() as session:
        assert session.scalars(select(Source)).all() == []


@pytest.mark.parametrize("intranet", [False, True])
@pytest.mark.parametrize("address", METADATA[:8])
def test_source_add_refuses_metadata_on_an_intranet_too(app: App, invoke: Invoke, address: str, intranet: bool) -> None:
    with app.transaction() as session:
        add_rep(session, "ana@example.com", "Ana")
        add_customer(session, "Acme Corp", rep_email="ana@example.com")
    if intranet:
        allow_loopback(app)
    host = f"[{address}]" if ":" in address else address
    result = invoke("source", "add", "Acme Corp", f"http://{host}/latest/meta-data/", "--kind", "rss")
    assert result.exit_code == 2 and result.output.count("\n") == 1
    assert "is a cloud metadata or unusable address, which Listener never fetches" in result.output
    with app.transaction() as session:
        assert session.scalars(select(Source)).all() == []
