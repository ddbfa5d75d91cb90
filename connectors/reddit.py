"""Reddit connector (praw, read-only app credentials): new posts of a subreddit, of a user, or of a search.

Cost per poll: one listing call per page of up to 100 new posts (usually one), plus one token call per run.
praw is synchronous, so every call runs in a thread (one at a time per run: Reddit counts the limit per app)
and never blocks the feeds polled on the same event loop.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Any, ClassVar

import praw
import prawcore

from connectors.base import ConnectorContext
from connectors.reddit_parse import Target, advance, is_new, normalize_reddit, t3_to_post, target_for
from connectors.social_common import ApiHandle, BoundedSession, check_deferred, defer, header_float, unreachable_error
from listener.errors import FetchError, RateLimited
from listener.models import FetchResult, Post, SourceRef
from listener.settings import Settings

log = logging.getLogger(__name__)

GROUP = "reddit:api"  # Reddit counts one limit per app for every endpoint
FIRST_POLL_MAX = 25  # a new source reads only its latest posts
PAGE_MAX = 100  # the largest listing page Reddit gives
MAX_PAGES = 3  # per poll; a source with more new posts than this between polls loses the oldest
DEFAULT_WINDOW = 600.0  # Reddit's rate-limit window, used when a 429 carries no reset header
SHARED_KEY = "reddit:api"


def _api(ctx: ConnectorContext) -> ApiHandle:
    """The run's one praw client (read-only, client credentials), created on first use; no network yet."""
    handle = ctx.shared.get(SHARED_KEY)
    if isinstance(handle, ApiHandle):
        return handle
    settings = ctx.settings.reddit
    session = BoundedSession(timeout=settings.timeout, api_name="Reddit API")
    reddit = praw.Reddit(
        client_id=settings.client_id,
        client_secret=settings.client_secret,
        user_agent=settings.user_agent,
        oauth_url=settings.oauth_base.rstrip("/"),
        reddit_url=settings.www_base.rstrip("/"),
        username=None,  # never a script login, even if a praw.ini in the working directory names one
        password=None,
        check_for_updates=False,
        check_for_async=False,  # deliberate: praw runs in worker threads, never on the event loop
        # prawcore ignores praw's own `timeout` for API calls (it passes a fixed 16 s); the session enforces ours.
        requestor_kwargs={"session": session, "timeout": settings.timeout},
    )
    reddit.read_only = True
    handle = ApiHandle(client=reddit, session=session)
    ctx.shared[SHARED_KEY] = handle
    return handle


class RedditConnector:
    """Polls one subreddit, user or search for submissions newer than the newest seen."""

    kind: ClassVar[str] = "reddit"

    @classmethod
    def unavailable_reason(cls, settings: Settings) -> str | None:
        if settings.reddit.client_id.strip() and settings.reddit.client_secret.strip():
            return None
        return (
            "Reddit sources are skipped: no app credentials "
            "(set LISTENER_REDDIT_CLIENT_ID and LISTENER_REDDIT_CLIENT_SECRET, see docs/social.md)."
        )

    @classmethod
    def normalize_locator(cls, locator: str) -> str | None:
        return normalize_reddit(locator)

    async def fetch(self, source: SourceRef, ctx: ConnectorContext) -> FetchResult:
        """One poll: newest first, following `after` while every post on the page is new."""
        normalized = normalize_reddit(source.locator)
        if normalized is None:
            raise FetchError(
                f'{source.locator!r} is not a Reddit source (use r/sub, u/name or reddit:search:"words")',
                permanent=True,
            )
        target = target_for(normalized)
        api = _api(ctx)
        if api.fatal is not None:
            raise api.fatal
        if api.session.unreachable:
            raise unreachable_error(api.session)
        state = dict(source.state) if source.state.get("locator") == normalized else {"locator": normalized}
        first_poll = "newest_utc" not in state
        fresh: list[dict[str, Any]] = []
        after: str | None = None
        for _page in range(1 if first_poll else MAX_PAGES):
            params = {**target.params, "limit": str(FIRST_POLL_MAX if first_poll else PAGE_MAX)}
            if after:
                params["after"] = after
            try:
                listing = await self._page(api, ctx, target, params)
            except RateLimited:
                if not fresh:
                    raise
                log.warning(
                    "%s: rate limit reached after %d new posts; older new posts are skipped", target.label, len(fresh)
                )
                break
            items = [c["data"] for c in listing.get("children") or [] if c.get("kind") == "t3" and "data" in c]
            new_items = [d for d in items if is_new(d, state)]
            fresh.extend(new_items)
            after = listing.get("after")
            if not after or len(new_items) < len(items):  # reached what we saw last time, or the end
                break
        else:
            if after and not first_poll:
                log.warning("%s: more than %d pages of new posts; the oldest are skipped", target.label, MAX_PAGES)
        posts: list[Post] = [t3_to_post(d) for d in fresh]
        return FetchResult(posts=tuple(posts), state=advance(state, fresh), not_modified=not posts)

    async def _page(
        self, api: ApiHandle, ctx: ConnectorContext, target: Target, params: dict[str, str]
    ) -> dict[str, Any]:
        """One listing page through praw in a thread, with Reddit's answers turned into our errors."""
        check_deferred(ctx, GROUP, target.label)
        reddit = api.client
        call: Callable[[], Any] = lambda: reddit.request(method="GET", path=target.path, params=params)  # noqa: E731
        try:
            body = await api.call(call)
        except prawcore.TooManyRequests as exc:
            raise _rate_limited(ctx, target, exc.response.headers) from None
        except prawcore.Redirect:
            # Reddit answers an unknown subreddit with a redirect to its subreddit search.
            raise FetchError(f"{target.label} does not exist; check the name", permanent=True) from None
        except (prawcore.NotFound, prawcore.Forbidden, prawcore.UnavailableForLegalReasons) as exc:
            if exc.response.status_code == 401:  # prawcore may call a refused token "Forbidden"
                api.fatal = _credentials_error("401 Unauthorized")
                raise api.fatal from None
            raise _missing_or_closed(target, exc.response) from None
        except prawcore.OAuthException as exc:
            api.fatal = _credentials_error(f"token refused: {exc.error}")
            raise api.fatal from None
        except prawcore.ServerError as exc:
            raise FetchError(
                f"Reddit server error ({exc.response.status_code}) for {target.label}; will try again"
            ) from None
        except prawcore.ResponseException as exc:
            if exc.response.status_code == 401:
                api.fatal = _credentials_error("401 Unauthorized")
                raise api.fatal from None
            raise FetchError(f"Reddit refused {target.label} ({exc.response.status_code})") from None
        except prawcore.RequestException:
            if api.session.unreachable:
                raise unreachable_error(api.session) from None
            raise FetchError(f"Reddit request for {target.label} failed; will try again") from None
        _note_remaining(ctx, api.session)
        if not isinstance(body, dict) or body.get("kind") != "Listing" or not isinstance(body.get("data"), dict):
            raise FetchError(f"Reddit answered {target.label} with something that is not a listing")
        return body["data"]


def _rate_limited(ctx: ConnectorContext, target: Target, headers: Any) -> RateLimited:
    """A 429: every Reddit source of the run waits for the reset Reddit announced."""
    wait = header_float(headers, "x-ratelimit-reset") or header_float(headers, "retry-after") or DEFAULT_WINDOW
    until = defer(ctx, GROUP, wait)
    log.info("Reddit rate limit: deferred until %s", until.isoformat(timespec="minutes"))
    return RateLimited(f"{target.label}: Reddit rate limit reached, waiting until {until:%H:%M} UTC", retry_after=wait)


def _note_remaining(ctx: ConnectorContext, session: BoundedSession) -> None:
    """When a page used the window's last call, defer the group now: prawcore would otherwise sleep until reset."""
    remaining = header_float(session.last_headers, "x-ratelimit-remaining")
    if remaining is not None and remaining < 1:
        defer(ctx, GROUP, header_float(session.last_headers, "x-ratelimit-reset") or DEFAULT_WINDOW)


def _missing_or_closed(target: Target, response: Any) -> FetchError:
    """404/403/451: banned, private, quarantined, or gone; permanent only when it will not come back."""
    try:
        reason = str(response.json().get("reason") or "")
    except ValueError:
        reason = ""
    status = response.status_code
    if reason == "banned":
        return FetchError(f"{target.label} is banned by Reddit; remove this source", permanent=True)
    if reason == "private":
        return FetchError(f"{target.label} is private: only approved members can read it")
    if reason in ("quarantined", "gated"):
        return FetchError(f"{target.label} is {reason}: Reddit hides it from apps that have not opted in")
    if target.label.startswith("u/"):
        return FetchError(f"{target.label} was not found: the account is deleted, suspended or misspelt")
    if status == 404:
        return FetchError(f"{target.label} does not exist; check the name", permanent=True)
    return FetchError(f"{target.label} cannot be read (Reddit said {status} {reason})".rstrip())


def _credentials_error(what: str) -> FetchError:
    return FetchError(
        f"Reddit refused the app credentials ({what}): check LISTENER_REDDIT_CLIENT_ID and "
        "LISTENER_REDDIT_CLIENT_SECRET (reddit.com/prefs/apps); Reddit sources wait until then"
    )
