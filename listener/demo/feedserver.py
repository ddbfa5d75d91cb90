"""A small local HTTP server for the demo's bundled feeds, with dates made relative to today.

Feed files hold `{{DATE:-3}}` (three days ago); the server writes it as RFC 822 in RSS and RFC 3339 in Atom,
so the demo reads as fresh news on any day. It answers conditional requests (ETag) like a real blog would.
"""

from __future__ import annotations

import hashlib
import re
import threading
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from email.utils import format_datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

_PLACEHOLDER = re.compile(r"\{\{DATE:([+-]?\d+)\}\}")


def render_feed(raw: str, now: datetime) -> str:
    """Replace the date placeholders with dates relative to `now`, in the feed format's own date syntax."""
    is_atom = "<feed" in raw[:500]

    def replace(match: re.Match[str]) -> str:
        # Spread items over the morning so items of the same day keep a stable order.
        when = (now + timedelta(days=int(match.group(1)))).replace(hour=8, minute=0, second=0, microsecond=0)
        when = min(when, now)
        return when.isoformat().replace("+00:00", "Z") if is_atom else format_datetime(when, usegmt=True)

    return _PLACEHOLDER.sub(replace, raw)


class DemoFeedServer:
    """Serves `<feeds_dir>/<name>` at `http://127.0.0.1:<port>/feeds/<name>` until stopped."""

    def __init__(self, feeds_dir: Path, now: Callable[[], datetime] | None = None) -> None:
        self.feeds_dir = feeds_dir
        self.now = now or (lambda: datetime.now(UTC))
        self._server = ThreadingHTTPServer(("127.0.0.1", 0), self._handler_class())
        self._server.daemon_threads = True
        self._thread = threading.Thread(target=self._server.serve_forever, name="demo-feeds", daemon=True)
        self.requests = 0
        self.not_modified = 0

    @property
    def url(self) -> str:
        host, port = self._server.server_address[:2]
        return f"http://{host!s}:{port}"

    def feed_url(self, name: str) -> str:
        return f"{self.url}/feeds/{name}"

    def start(self) -> DemoFeedServer:
        self._thread.start()
        return self

    def stop(self) -> None:
        self._server.shutdown()
        self._server.server_close()

    def __enter__(self) -> DemoFeedServer:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    def _body_for(self, path: str) -> bytes | None:
        if not path.startswith("/feeds/"):
            return None
        name = path.removeprefix("/feeds/")
        candidate = (self.feeds_dir / name).resolve()
        # Only files directly in the feeds folder: no traversal out of it.
        if candidate.parent != self.feeds_dir.resolve() or not candidate.is_file():
            return None
        return render_feed(candidate.read_text(encoding="utf-8"), self.now()).encode("utf-8")

    def _handler_class(self) -> type[BaseHTTPRequestHandler]:
        server = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:
                server.requests += 1
                body = server._body_for(self.path.split("?", 1)[0])
                if body is None:
                    self.send_error(404, "no such feed")
                    return
                etag = '"' + hashlib.sha256(body).hexdigest()[:16] + '"'
                if self.headers.get("If-None-Match") == etag:
                    server.not_modified += 1
                    self.send_response(304)
                    self.send_header("ETag", etag)
                    self.end_headers()
                    return
                is_atom = b"<feed" in body[:500]
                self.send_response(200)
                self.send_header("Content-Type", "application/atom+xml" if is_atom else "application/rss+xml")
                self.send_header("Content-Length", str(len(body)))
                self.send_header("ETag", etag)
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, format: str, *args: object) -> None:  # quiet: the demo prints its own summary
                return

        return Handler
