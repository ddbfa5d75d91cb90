"""Local fake X API v2 and Reddit API on one 127.0.0.1 port, speaking the real JSON, for the demo and the tests.

Use it as the base URL of `twitter.api_base`, `reddit.oauth_base` and `reddit.www_base`:

    url, stop = start_fake_social_server()          # data from listener/demo/data/social (x.json, reddit.json)
    ...
    stop()

or, with more control (tests):

    with FakeSocialAPI(data_dir=None, bearer_token="t", reddit_client=("id", "secret")) as fake:
        fake.url                                     # http://127.0.0.1:<port>
        fake.data.add_tweet("Acme", "text")          # also add_x_user, add_reddit_post (fakeapi_data.SocialData)
        fake.fail("/2/users/", 429, headers={"x-rate-limit-reset": "1700000000"}, times=1, skip=0)
        fake.hang("/r/acme/new")                     # accept the connection, never answer
        fake.x_page_size = 2; fake.reddit_page_size = 2   # smaller pages than asked for: exercises pagination
        fake.reddit_remaining = 0                    # the x-ratelimit-remaining it reports next
        fake.requests                                # every request seen: Seen(method, path, query, headers)

Endpoints: GET /2/users/by/username/<name>, GET /2/users/<id>/tweets (since_id, until_id, max_results,
pagination_token, exclude); POST /api/v1/access_token (client credentials, HTTP basic auth);
GET /r/<sub>/new, /user/<name>/submitted, /search (q, sort=new, limit, after). Errors use each API's own shapes.
"""

from __future__ import annotations

import base64
import json
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

from listener.demo.fakeapi_data import SocialData, load_social_data

DEMO_BEARER = "demo-bearer-token"
DEMO_REDDIT_CLIENT = ("demo-client", "demo-secret")


@dataclass(frozen=True)
class Seen:
    method: str
    path: str
    query: dict[str, str]
    headers: dict[str, str]


@dataclass
class _Rule:
    prefix: str
    status: int  # 0 means: never answer
    headers: dict[str, str]
    body: Any
    times: int | None
    skip: int = 0


class FakeSocialAPI:
    """The fake APIs; `start()` binds 127.0.0.1 on a free port and serves in a background thread."""

    def __init__(
        self,
        data_dir: Path | None = None,
        *,
        bearer_token: str = DEMO_BEARER,
        reddit_client: tuple[str, str] = DEMO_REDDIT_CLIENT,
        data: SocialData | None = None,
    ) -> None:
        self.data = data if data is not None else load_social_data(data_dir)
        self.bearer_token = bearer_token
        self.reddit_client = reddit_client
        self.x_page_size = 100
        self.reddit_page_size = 100
        self.reddit_remaining = 996.0
        self.requests: list[Seen] = []
        self._rules: list[_Rule] = []
        self._issued: set[str] = set()
        self._lock = threading.Lock()
        self._stopping = threading.Event()
        self._server: ThreadingHTTPServer | None = None
        self._thread: threading.Thread | None = None

    @property
    def url(self) -> str:
        assert self._server is not None, "start() first"
        return f"http://127.0.0.1:{self._server.server_address[1]}"

    def start(self) -> FakeSocialAPI:
        """Serve on a free 127.0.0.1 port until stop()."""
        handler = type("Handler", (_Handler,), {"api": self})
        self._server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
        self._server.daemon_threads = True
        server = self._server
        self._thread = threading.Thread(
            target=lambda: server.serve_forever(poll_interval=0.05), name="fake-social-api", daemon=True
        )
        self._thread.start()
        return self

    def stop(self) -> None:
        """Stop serving; hanging requests are released."""
        self._stopping.set()
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
        if self._thread is not None:
            self._thread.join(timeout=5)

    def __enter__(self) -> FakeSocialAPI:
        return self.start()

    def __exit__(self, *_exc: object) -> None:
        self.stop()

    def fail(
        self,
        prefix: str,
        status: int,
        *,
        headers: dict[str, str] | None = None,
        body: Any = None,
        times: int | None = 1,
        skip: int = 0,
    ) -> None:
        """After `skip` matching requests, the next `times` whose path starts with `prefix` get this (None: all)."""
        with self._lock:
            self._rules.append(_Rule(prefix, status, headers or {}, body, times, skip))

    def hang(self, prefix: str, *, times: int | None = None) -> None:
        """Requests whose path starts with `prefix` are accepted and never answered."""
        self.fail(prefix, 0, times=times)

    def seen(self, prefix: str) -> list[Seen]:
        """The requests whose path starts with `prefix`."""
        return [r for r in self.requests if r.path.startswith(prefix)]

    def _take_rule(self, path: str) -> _Rule | None:
        with self._lock:
            for rule in self._rules:
                if path.startswith(rule.prefix):
                    if rule.skip > 0:
                        rule.skip -= 1
                        continue
                    if rule.times is not None:
                        rule.times -= 1
                        if rule.times <= 0:
                            self._rules.remove(rule)
                    return rule
        return None


class _Handler(BaseHTTPRequestHandler):
    api: FakeSocialAPI
    protocol_version = "HTTP/1.1"

    def log_message(self, format: str, *args: Any) -> None:  # quiet: tests and the demo read their own output
        pass

    def do_GET(self) -> None:
        self._handle("GET")

    def do_POST(self) -> None:
        self._handle("POST")

    def _handle(self, method: str) -> None:
        parts = urlsplit(self.path)
        query = {k: v[-1] for k, v in parse_qs(parts.query).items()}
        if method == "POST":
            length = int(self.headers.get("Content-Length") or 0)
            query.update({k: v[-1] for k, v in parse_qs(self.rfile.read(length).decode()).items()})
        path = parts.path.rstrip("/") or "/"
        self.api.requests.append(Seen(method, path, query, {k.lower(): v for k, v in self.headers.items()}))
        rule = self.api._take_rule(path)
        if rule is not None and rule.status == 0:
            self.api._stopping.wait(timeout=120)  # never answers (until the server stops)
            self.close_connection = True
            return
        is_x = path.startswith("/2/")
        if rule is not None:
            self._send(
                rule.status, rule.body if rule.body is not None else _error_body(is_x, rule.status), rule.headers
            )
            return
        route = _x_route if is_x else _reddit_route
        status, body, headers = route(self.api, method, path, query, self.headers.get("Authorization") or "")
        self._send(status, body, headers)

    def _send(self, status: int, body: Any, headers: dict[str, str]) -> None:
        is_x = self.path.startswith("/2/")
        defaults = _x_limit_headers() if is_x else _reddit_limit_headers(self.api, status)
        payload = body if isinstance(body, bytes) else json.dumps(body).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json; charset=utf-8")
        self.send_header("Content-Length", str(len(payload)))
        if (self.headers.get("Connection") or "").lower() == "close":
            self.send_header("Connection", "close")  # say so, as a real server does, so the client does not reuse it
        for name, value in {**defaults, **headers}.items():
            self.send_header(name, value)
        self.end_headers()
        self.wfile.write(payload)


Answer = tuple[int, Any, dict[str, str]]


def _error_body(is_x: bool, status: int) -> Any:
    """The body each API sends with this status (X: RFC 7807 problem; Reddit: message + error)."""
    titles = {401: "Unauthorized", 403: "Forbidden", 404: "Not Found", 429: "Too Many Requests"}
    title = titles.get(status, "Service Unavailable" if status >= 500 else "Error")
    if is_x:
        return {"title": title, "detail": title, "type": "about:blank", "status": status}
    return {"message": title, "error": status}


def _x_limit_headers() -> dict[str, str]:
    return {
        "x-rate-limit-limit": "1500",
        "x-rate-limit-remaining": "1499",
        "x-rate-limit-reset": str(int(time.time()) + 900),
    }


def _reddit_limit_headers(api: FakeSocialAPI, status: int) -> dict[str, str]:
    remaining = api.reddit_remaining
    if status < 400 and remaining > 0:
        api.reddit_remaining -= 1
    used = max(0, int(1000 - remaining))
    return {
        "x-ratelimit-used": str(used),
        "x-ratelimit-remaining": f"{remaining:.1f}",
        "x-ratelimit-reset": str(600 - int(time.time()) % 600),
    }


def _x_route(api: FakeSocialAPI, method: str, path: str, query: dict[str, str], auth: str) -> Answer:
    if auth != f"Bearer {api.bearer_token}":
        return 401, _error_body(True, 401), {}
    parts = path.split("/")  # ["", "2", "users", ...]
    if method == "GET" and len(parts) == 6 and parts[2:5] == ["users", "by", "username"]:
        return 200, _x_user(api, parts[5]), {}
    if method == "GET" and len(parts) == 5 and parts[2] == "users" and parts[4] == "tweets":
        return _x_timeline(api, parts[3], query)
    return 404, {"errors": [{"message": "Sorry, that page does not exist", "code": 34}]}, {}


def _x_user(api: FakeSocialAPI, username: str) -> dict[str, Any]:
    user = api.data.x_users.get(username.lower())
    if user is None:
        return {
            "errors": [{
                "value": username, "detail": f"Could not find user with username: [{username}].",
                "title": "Not Found Error", "resource_type": "user", "parameter": "username",
                "resource_id": username, "type": "https://api.twitter.com/2/problems/resource-not-found",
            }]
        }  # fmt: skip
    return {"data": {k: v for k, v in user.items() if not k.startswith("_")}}


def _x_timeline(api: FakeSocialAPI, user_id: str, query: dict[str, str]) -> Answer:
    if not any(u["id"] == user_id for u in api.data.x_users.values()):
        problem = {"detail": f"Could not find user with id: [{user_id}].", "title": "Not Found Error",
                   "type": "https://api.twitter.com/2/problems/resource-not-found"}  # fmt: skip
        return 200, {"errors": [problem]}, {}
    max_results = int(query.get("max_results", "10"))
    if not 5 <= max_results <= 100:
        return 400, {"errors": [{"parameters": {"max_results": [str(max_results)]},
                                 "message": "The `max_results` query parameter value is not between 5 and 100"}],
                     "title": "Invalid Request", "detail": "One or more parameters to your request was invalid.",
                     "type": "https://api.twitter.com/2/problems/invalid-request"}, {}  # fmt: skip
    excluded = set(filter(None, query.get("exclude", "").split(",")))
    kinds = {"retweets": "retweet", "replies": "reply"}
    tweets = [
        t for t in api.data.tweets
        if t["author_id"] == user_id and t["_kind"] not in {kinds[e] for e in excluded if e in kinds}
        and int(t["id"]) > int(query.get("since_id", "0")) and int(t["id"]) < int(query.get("until_id", str(2**63)))
    ]  # fmt: skip
    tweets.sort(key=lambda t: -int(t["id"]))
    start = int(query["pagination_token"][1:]) if query.get("pagination_token", "").startswith("p") else 0
    size = min(max_results, api.x_page_size)
    page = tweets[start : start + size]
    fields = set(query.get("tweet.fields", "").split(",")) | {"id", "text", "edit_history_tweet_ids"}
    data = [{k: v for k, v in t.items() if k in fields} for t in page]
    if not page:
        return 200, {"meta": {"result_count": 0}}, {}
    meta: dict[str, Any] = {"result_count": len(page), "newest_id": page[0]["id"], "oldest_id": page[-1]["id"]}
    if start + size < len(tweets):
        meta["next_token"] = f"p{start + size}"
    return 200, {"data": data, "meta": meta}, {}


def _reddit_route(api: FakeSocialAPI, method: str, path: str, query: dict[str, str], auth: str) -> Answer:
    if path == "/api/v1/access_token" and method == "POST":
        return _reddit_token(api, query, auth)
    if not auth.lower().startswith("bearer ") or auth.split(" ", 1)[1] not in api._issued:
        return (
            401,
            {"message": "Unauthorized", "error": 401},
            {"www-authenticate": 'Bearer realm="reddit", error="invalid_token"'},
        )
    parts = path.split("/")
    data = api.data
    if len(parts) == 4 and parts[1] == "r" and parts[3] == "new":
        status = data.subreddits.get(parts[2].lower())
        if status is None:  # reddit sends unknown subreddits to its subreddit search
            return 302, b"", {"Location": f"/subreddits/search.json?q={parts[2]}"}
        if status in ("private", "banned"):
            code = 403 if status == "private" else 404
            return code, {"reason": status, "message": "Forbidden" if code == 403 else "Not Found", "error": code}, {}
        return _listing(api, query, lambda p: p["subreddit"].lower() == parts[2].lower())
    if len(parts) == 4 and parts[1] == "user" and parts[3] == "submitted":
        if data.reddit_users.get(parts[2].lower(), "missing") != "active":
            return 404, {"message": "Not Found", "error": 404}, {}
        return _listing(api, query, lambda p: p["author"].lower() == parts[2].lower())
    if path == "/search":
        words = query.get("q", "").strip('"').lower()
        return _listing(api, query, lambda p: words in (p["title"] + " " + p["selftext"]).lower())
    return 404, {"message": "Not Found", "error": 404}, {}


def _reddit_token(api: FakeSocialAPI, form: dict[str, str], auth: str) -> Answer:
    expected = base64.b64encode(":".join(api.reddit_client).encode()).decode()
    if auth != f"Basic {expected}":
        return 401, {"message": "Unauthorized", "error": 401}, {}
    if form.get("grant_type") != "client_credentials":
        return 200, {"error": "unsupported_grant_type"}, {}
    token = f"fake-{len(api._issued) + 1}-{int(time.time())}"
    api._issued.add(token)
    return 200, {"access_token": token, "token_type": "bearer", "expires_in": 86400, "scope": "*"}, {}


def _listing(api: FakeSocialAPI, query: dict[str, str], keep: Callable[[dict[str, Any]], bool]) -> Answer:
    """A `Listing` of t3 things, newest first, `limit` long, continued by `after` (a fullname)."""
    posts = sorted((p for p in api.data.reddit_posts if keep(p)), key=lambda p: (-p["created_utc"], p["name"]))
    names = [p["name"] for p in posts]
    start = names.index(query["after"]) + 1 if query.get("after") in names else 0
    size = min(int(query.get("limit", "25")), 100, api.reddit_page_size)
    page = posts[start : start + size]
    after = page[-1]["name"] if page and start + size < len(posts) else None
    children = [{"kind": "t3", "data": dict(p)} for p in page]
    listing = {"after": after, "dist": len(page), "modhash": "", "geo_filter": "", "children": children, "before": None}
    return 200, {"kind": "Listing", "data": listing}, {}


def start_fake_social_server(data_dir: Path | None = None) -> tuple[str, Callable[[], None]]:
    """Start the fake APIs with the demo credentials (fakeapi.DEMO_*); returns (base URL, stop)."""
    api = FakeSocialAPI(data_dir).start()
    return api.url, api.stop
