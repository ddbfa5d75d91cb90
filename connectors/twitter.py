"""X/Twitter connector: one account's new posts through the API v2 (tweepy `Client`), polled with `since_id`.

Cost per poll: one user lookup the first time only (the id is kept in the source state), then one timeline
call per page of up to 100 new posts. tweepy is synchronous, so every call runs in a thread (one at a time
per run) and never blocks the feeds polled on the same event loop.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Any, ClassVar

import requests
import tweepy

from connectors.base import ConnectorContext
from connectors.social_common import (
    ApiHandle,
    BoundedSession,
    check_deferred,
    defer,
    header_float,
    unreachable_error,
)
from connectors.twitter_parse import TWEET_FIELDS, newest_id, normalize_handle, tweet_to_post
from listener.errors import FetchError, RateLimited
from listener.models import FetchResult, Post, SourceRef
from listener.settings import Settings

log = logging.getLogger(__name__)

TWEEPY_HOST = "https://api.twitter.com"  # hard-coded in tweepy's Client.request; our session rewrites it
LOOKUP = "twitter:user_lookup"  # rate-limit groups, as X counts them: per endpoint, per app
TIMELINE = "twitter:user_timeline"
FIRST_POLL_MAX = 20  # a new source reads only its latest posts: X bills every post read
PAGE_MAX = 100  # the largest page the timeline endpoint gives
MAX_PAGES = 5  # per poll; a source with more new posts than this between polls loses the oldest
DEFAULT_WINDOW = 15 * 60.0  # X's rate-limit window, used when a 429 carries no reset header
SHARED_KEY = "twitter:api"


class _NoDebug(logging.Filter):
    """tweepy logs request headers, bearer token included, at DEBUG: those lines never leave the process."""

    def filter(self, record: logging.LogRecord) -> bool:
        return record.levelno > logging.DEBUG


_NO_DEBUG = _NoDebug()


def _api(ctx: ConnectorContext) -> ApiHandle:
    """The run's one tweepy client, created on first use."""
    handle = ctx.shared.get(SHARED_KEY)
    if isinstance(handle, ApiHandle):
        return handle
    settings = ctx.settings.twitter
    tweepy_log = logging.getLogger("tweepy.client")
    if _NO_DEBUG not in tweepy_log.filters:
        tweepy_log.addFilter(_NO_DEBUG)
    session = BoundedSession(
        timeout=settings.timeout, api_name="X API", rewrite=(TWEEPY_HOST, settings.api_base.rstrip("/"))
    )
    # wait_on_rate_limit=False: a 429 must defer the source, never sleep the run.
    client = tweepy.Client(settings.bearer_token, return_type=requests.Response, wait_on_rate_limit=False)
    client.session = session
    client.user_agent = f"{ctx.settings.fetch.user_agent} Tweepy/{tweepy.__version__}"
    handle = ApiHandle(client=client, session=session)
    ctx.shared[SHARED_KEY] = handle
    return handle


class TwitterConnector:
    """Polls one X account's timeline for posts newer than the last one seen."""

    kind: ClassVar[str] = "twitter"

    @classmethod
    def unavailable_reason(cls, settings: Settings) -> str | None:
        if settings.twitter.bearer_token.strip():
            return None
        return "X sources are skipped: no API token (set LISTENER_TWITTER_BEARER_TOKEN, see docs/social.md)."

    @classmethod
    def normalize_locator(cls, locator: str) -> str | None:
        return normalize_handle(locator)

    async def fetch(self, source: SourceRef, ctx: ConnectorContext) -> FetchResult:
        """One poll: resolve the account once, then read its timeline since the newest post seen."""
        handle = normalize_handle(source.locator)
        if handle is None:
            raise FetchError(f"{source.locator!r} is not an X account (use @handle or an x.com URL)", permanent=True)
        api = _api(ctx)
        if api.fatal is not None:
            raise api.fatal
        if api.session.unreachable:
            raise unreachable_error(api.session)
        state = dict(source.state)
        if state.get("handle") != handle or not state.get("user_id"):
            user = await self._lookup(api, ctx, handle)
            # A new account (or a changed locator) starts over: the old since_id belongs to someone else.
            state = {"handle": handle, "user_id": str(user["id"]), "username": str(user.get("username") or handle[1:])}
        posts, state = await self._timeline(api, ctx, state)
        return FetchResult(posts=tuple(posts), state=state, not_modified=not posts)

    async def _lookup(self, api: ApiHandle, ctx: ConnectorContext, handle: str) -> dict[str, Any]:
        """GET /2/users/by/username/:username, once per source."""
        client = api.client
        body = await self._call(api, ctx, LOOKUP, handle, lambda: client.get_user(username=handle[1:]))
        user = body.get("data")
        if isinstance(user, dict) and user.get("id"):
            return user
        problem = _first_error(body)
        detail = str(problem.get("detail") or "no such account")
        if "suspended" in detail.lower() or problem.get("title") == "Forbidden":
            raise FetchError(f"X account {handle} is suspended ({detail})")
        raise FetchError(f"X account {handle} does not exist ({detail}); check the handle", permanent=True)

    async def _timeline(
        self, api: ApiHandle, ctx: ConnectorContext, state: dict[str, Any]
    ) -> tuple[list[Post], dict[str, Any]]:
        """GET /2/users/:id/tweets with since_id, following meta.next_token; the newest id becomes since_id."""
        settings = ctx.settings.twitter
        handle, username, since_id = state["handle"], state["username"], state.get("since_id")
        params: dict[str, Any] = {
            "max_results": PAGE_MAX if since_id else FIRST_POLL_MAX,
            "tweet_fields": TWEET_FIELDS,
        }
        exclude = [
            kind
            for kind, keep in (("retweets", settings.include_retweets), ("replies", settings.include_replies))
            if not keep
        ]
        if exclude:
            params["exclude"] = exclude
        if since_id:
            params["since_id"] = since_id
        posts: list[Post] = []
        newest = since_id
        token: str | None = None
        for _page in range(MAX_PAGES):
            page_params = dict(params, pagination_token=token) if token else params
            try:
                body = await self._call(
                    api, ctx, TIMELINE, handle, _timeline_call(api.client, state["user_id"], page_params)
                )
            except RateLimited:
                if not posts:
                    raise
                log.warning(
                    "%s: rate limit reached after %d new posts; older new posts are skipped", handle, len(posts)
                )
                break
            tweets = body.get("data") or []
            if not tweets and body.get("errors"):
                raise _timeline_error(handle, _first_error(body))
            posts.extend(tweet_to_post(tweet, username) for tweet in tweets)
            meta = body.get("meta") or {}
            newest = newest_id([str(t["id"]) for t in tweets] + [str(meta.get("newest_id") or "")], newest)
            token = meta.get("next_token")
            if not token or not since_id:  # the first poll reads one page only: X bills every post read
                break
        else:
            if token:
                log.warning("%s: more than %d pages of new posts; the oldest are skipped", handle, MAX_PAGES)
        new_state = dict(state)
        if newest:
            new_state["since_id"] = newest
        return posts, new_state

    async def _call(
        self, api: ApiHandle, ctx: ConnectorContext, group: str, handle: str, call: Callable[[], Any]
    ) -> dict[str, Any]:
        """One API call in a thread, with X's errors turned into ours; a 401/403 stops all X sources."""
        check_deferred(ctx, group, f"X account {handle}")
        try:
            response = await api.call(call)
        except tweepy.TooManyRequests as exc:
            raise _rate_limited(ctx, group, handle, exc.response) from None
        except (tweepy.Unauthorized, tweepy.Forbidden) as exc:
            api.fatal = _auth_error(exc)
            raise api.fatal from None
        except tweepy.NotFound as exc:
            raise FetchError(f"X account {handle}: not found ({_api_message(exc)})", permanent=True) from None
        except tweepy.TwitterServerError as exc:
            raise FetchError(f"X API server error ({_status(exc)}) for {handle}; will try again") from None
        except tweepy.HTTPException as exc:
            raise FetchError(f"X API refused the request for {handle} ({_status(exc)}: {_api_message(exc)})") from None
        except requests.RequestException:
            raise (
                unreachable_error(api.session)
                if api.session.unreachable
                else FetchError(f"X API request for {handle} failed; will try again")
            ) from None
        _note_remaining(ctx, group, response.headers)
        try:
            body = response.json()
        except ValueError:
            raise FetchError(f"X API answered {handle} with something that is not JSON") from None
        if not isinstance(body, dict):
            raise FetchError(f"X API answered {handle} with unexpected JSON")
        return body


def _timeline_call(client: tweepy.Client, user_id: str, params: dict[str, Any]) -> Callable[[], Any]:
    return lambda: client.get_users_tweets(user_id, **params)


def _first_error(body: dict[str, Any]) -> dict[str, Any]:
    errors = body.get("errors") or [{}]
    return errors[0] if isinstance(errors[0], dict) else {"detail": str(errors[0])}


def _timeline_error(handle: str, problem: dict[str, Any]) -> FetchError:
    """A 200 answer that carries only `errors`: a protected, suspended or vanished account."""
    kind = str(problem.get("type") or "")
    detail = str(problem.get("detail") or problem.get("title") or "unknown problem")
    if kind.endswith("not-authorized-for-resource"):
        return FetchError(f"X account {handle} is protected: only approved followers can read it ({detail})")
    return FetchError(f"X account {handle} cannot be read ({detail})")


def _rate_limited(ctx: ConnectorContext, group: str, handle: str, response: Any) -> RateLimited:
    """Defer the whole rate-limit group until X's reset time; a usage cap defers every X call."""
    headers = getattr(response, "headers", None)
    now = ctx.now().timestamp()
    reset = header_float(headers, "x-rate-limit-reset")
    wait = reset - now if reset else DEFAULT_WINDOW
    groups = [group]
    if "usage-capped" in getattr(response, "text", ""):
        daily = header_float(headers, "x-app-limit-24hour-reset")
        wait = max(wait, daily - now if daily else 24 * 3600.0)
        groups = [LOOKUP, TIMELINE]
    for name in groups:
        until = defer(ctx, name, wait)
    log.info("X rate limit on %s: deferred until %s", group, until.isoformat(timespec="minutes"))
    return RateLimited(
        f"X account {handle}: rate limit reached, waiting until {until:%H:%M} UTC", retry_after=max(1.0, wait)
    )


def _note_remaining(ctx: ConnectorContext, group: str, headers: Any) -> None:
    """When a page used the window's last call, defer the group now instead of earning a 429 later."""
    if header_float(headers, "x-rate-limit-remaining") == 0:
        reset = header_float(headers, "x-rate-limit-reset")
        defer(ctx, group, (reset - ctx.now().timestamp()) if reset else DEFAULT_WINDOW)


def _auth_error(exc: tweepy.HTTPException) -> FetchError:
    """401/403: the token is wrong, revoked, or its plan does not include the endpoint."""
    status = _status(exc)
    message = _api_message(exc)
    if status == 401:
        return FetchError(
            "X rejected the API token (401 Unauthorized): set a valid LISTENER_TWITTER_BEARER_TOKEN "
            "(developer.x.com, your app's Keys and tokens); X sources wait until then"
        )
    return FetchError(
        f"X refused access (403 Forbidden: {message}): the token's app must belong to a project whose plan "
        "includes reading user timelines (see docs/social.md); X sources wait until then"
    )


def _status(exc: tweepy.HTTPException) -> int:
    return int(getattr(exc.response, "status_code", 0) or 0)


def _api_message(exc: tweepy.HTTPException) -> str:
    # X's problem bodies say what is wrong; never the request headers, so no token can leak here.
    text = "; ".join(str(m) for m in exc.api_messages) or getattr(exc.response, "reason", "") or "no detail"
    return text[:200]
