"""A real HTTP server on 127.0.0.1 (port 0) whose routes can behave well or badly, for fetch and ingest tests."""

from __future__ import annotations

import ssl
import sys
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager, suppress
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

from tests.feeds import rss

Handler = Callable[[BaseHTTPRequestHandler], None]


@dataclass
class Reply:
    """A plain response; `conditional` answers 304 when the request's validators match."""

    body: bytes = b""
    status: int = 200
    headers: dict[str, str] = field(default_factory=dict)
    conditional: bool = True


class Routes:
    """Path -> Reply or handler; records each request's path and headers."""

    def __init__(self) -> None:
        self.routes: dict[str, Reply | Handler] = {}
        self.requests: list[tuple[str, dict[str, str]]] = []
        self.lock = threading.Lock()

    def __setitem__(self, path: str, value: Reply | Handler) -> None:
        self.routes[path] = value

    def hits(self, path: str) -> int:
        with self.lock:
            return sum(1 for p, _ in self.requests if p == path)


def send_reply(handler: BaseHTTPRequestHandler, reply: Reply) -> None:
    headers = {k.lower(): v for k, v in reply.headers.items()}
    if reply.conditional and reply.status == 200:
        etag = headers.get("etag")
        modified = headers.get("last-modified")
        if (etag and handler.headers.get("If-None-Match") == etag) or (
            modified and handler.headers.get("If-Modified-Since") == modified
        ):
            handler.send_response(304)
            handler.send_header("Content-Length", "0")
            handler.end_headers()
            return
    handler.send_response(reply.status)
    for name, value in reply.headers.items():
        handler.send_header(name, value)
    if "content-length" not in headers:
        handler.send_header("Content-Length", str(len(reply.body)))
    handler.end_headers()
    handler.wfile.write(reply.body)


def _make_handler(routes: Routes) -> type[BaseHTTPRequestHandler]:
    class _Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def log_message(self, format: str, *args: object) -> None:
            pass

        def do_GET(self) -> None:
            path = self.path
            with routes.lock:
                routes.requests.append((path, dict(self.headers.items())))
            route = routes.routes.get(path) or routes.routes.get(path.split("?")[0])
            if route is None:
                send_reply(self, Reply(b"not found", 404))
            elif isinstance(route, Reply):
                send_reply(self, route)
            else:
                with suppress(BrokenPipeError, ConnectionResetError):
                    route(self)

    return _Handler


class _QuietServer(ThreadingHTTPServer):
    """Clients that hang up early (a fetcher past its size or time limit) are expected here, not errors."""

    def handle_error(self, request: object, client_address: object) -> None:
        if not isinstance(sys.exc_info()[1], ConnectionError):
            super().handle_error(request, client_address)  # type: ignore[arg-type]


@contextmanager
def serve(
    routes: Routes | None = None, host: str = "127.0.0.1", tls: ssl.SSLContext | None = None
) -> Iterator[tuple[str, Routes]]:
    """Serve `routes` on host:0 in a thread (over TLS with a server context); yields (base URL, routes)."""
    routes = routes or Routes()
    server = _QuietServer((host, 0), _make_handler(routes))
    if tls is not None:
        server.socket = tls.wrap_socket(server.socket, server_side=True)
    server.daemon_threads = True
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"{'https' if tls else 'http'}://{host}:{server.server_address[1]}", routes
    finally:
        server.shutdown()
        server.server_close()


# Misbehaviours, as route handlers.


def hang(seconds: float = 30.0) -> Handler:
    def handler(h: BaseHTTPRequestHandler) -> None:
        time.sleep(seconds)

    return handler


def drip(chunk: bytes = b"<", every: float = 0.2, total: int = 1000) -> Handler:
    def handler(h: BaseHTTPRequestHandler) -> None:
        h.send_response(200)
        h.send_header("Content-Type", "application/rss+xml")
        h.send_header("Content-Length", str(len(chunk) * total))
        h.end_headers()
        for _ in range(total):
            h.wfile.write(chunk)
            h.wfile.flush()
            time.sleep(every)

    return handler


def endless(content_type: str = "application/rss+xml") -> Handler:
    def handler(h: BaseHTTPRequestHandler) -> None:
        h.send_response(200)
        h.send_header("Content-Type", content_type)
        h.send_header("Connection", "close")
        h.end_headers()
        block = b"<item><title>x</title></item>" * 2000
        h.wfile.write(b"<rss><channel>")
        while True:
            h.wfile.write(block)

    return handler


def slow_feed(seconds: float) -> Handler:
    """An RSS feed of one item named after the path, answered after `seconds`: polls that overlap in time."""

    def handler(h: BaseHTTPRequestHandler) -> None:
        time.sleep(seconds)
        body = rss([{"guid": f"https://acme.example{h.path}", "title": "Item " + h.path}])
        h.send_response(200)
        h.send_header("Content-Type", "application/rss+xml")
        h.send_header("Content-Length", str(len(body)))
        h.end_headers()
        h.wfile.write(body)

    return handler
