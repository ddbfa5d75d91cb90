"""The Reddit connector against the local fake Reddit API (real JSON, real HTTP on 127.0.0.1): praw is not mocked."""

from __future__ import annotations

import asyncio
import base64
import time
from collections.abc import Iterator
from dataclasses import replace
from typing import Any

import pytest

from connectors.base import ConnectorContext
from connectors.reddit import GROUP, RedditConnector
from listener.demo.fakeapi import FakeSocialAPI
from listener.demo.fakeapi_data import SocialData
from listener.errors import FetchError, RateLimited
from listener.models import FetchResult, SourceRef
from listener.settings import Settings

CLIENT = ("test-client-id", "test-client-secret-XYZ")


@pytest.fixture
def fake() -> Iterator[FakeSocialAPI]:
    data = SocialData()
    data.add_reddit_post(
        "AcmeUsers", "happy_user", "Acme's new dashboard is great", selftext="Love it", seconds_ago=7200
    )
    data.add_reddit_post(
        "AcmeUsers", "acme_official", "We launched Acme 2.0", url="https://acme.example/2-0", seconds_ago=3600
    )
    data.add_reddit_post(
        "sysadmin", "angry_admin", "Is Acme Corp down again?", selftext="Third outage", seconds_ago=600
    )
    data.subreddits.update({"closedclub": "private", "gonesub": "banned"})
    with FakeSocialAPI(data=data, reddit_client=CLIENT) as api:
        yield api


def make_ctx(fake: FakeSocialAPI, *, timeout: float = 5.0, secret: str = CLIENT[1]) -> ConnectorContext:
    settings = Settings()
    rd = replace(
        settings.reddit,
        oauth_base=fake.url,
        www_base=fake.url,
        client_id=CLIENT[0],
        client_secret=secret,
        timeout=timeout,
    )
    return ConnectorContext(settings=replace(settings, reddit=rd), http=None)  # type: ignore[arg-type]


def poll(ctx: ConnectorContext, locator: str = "r/AcmeUsers", state: dict[str, Any] | None = None) -> FetchResult:
    return asyncio.run(RedditConnector().fetch(SourceRef(1, "reddit", locator, state or {}), ctx))


@pytest.mark.parametrize(
    ("locator", "expected"),
    [
        ("r/AcmeUsers", "r/acmeusers"),
        ("/r/AcmeUsers/", "r/acmeusers"),
        ("https://www.reddit.com/r/AcmeUsers/new/", "r/acmeusers"),
        ("old.reddit.com/r/acmeusers", "r/acmeusers"),
        ("u/Acme_Official", "u/acme_official"),
        ("https://reddit.com/user/acme-official/submitted", "u/acme-official"),
        ('reddit:search:"Acme  Corp"', 'reddit:search:"Acme Corp"'),
        ("reddit:search:", None),
        ('reddit:search:""', None),
        ("r/a", None),
        ("https://example.com/r/acme", None),
        ("@acme", None),
    ],
)
def test_locators(locator: str, expected: str | None) -> None:
    assert RedditConnector.normalize_locator(locator) == expected


def test_no_credentials_is_one_sentence() -> None:
    reason = RedditConnector.unavailable_reason(Settings())
    assert reason is not None and "LISTENER_REDDIT_CLIENT_ID" in reason and "LISTENER_REDDIT_CLIENT_SECRET" in reason
    creds = replace(Settings().reddit, client_id="a", client_secret="b")
    assert RedditConnector.unavailable_reason(replace(Settings(), reddit=creds)) is None


def test_oauth_client_credentials_once_per_run_with_a_descriptive_user_agent(fake: FakeSocialAPI) -> None:
    ctx = make_ctx(fake)
    poll(ctx)
    poll(ctx, "u/acme_official")
    (token,) = fake.seen("/api/v1/access_token")
    assert token.method == "POST" and token.query["grant_type"] == "client_credentials"
    assert token.headers["authorization"] == "Basic " + base64.b64encode(":".join(CLIENT).encode()).decode()
    listing = fake.seen("/r/acmeusers/new")[0]
    assert listing.headers["authorization"].startswith("bearer fake-")
    assert listing.headers["user-agent"].startswith(ctx.settings.reddit.user_agent)


def test_subreddit_first_poll_normalizes_posts(fake: FakeSocialAPI) -> None:
    result = poll(make_ctx(fake))
    launch, dashboard = result.posts
    assert (launch.title, launch.links, launch.author) == (
        "We launched Acme 2.0",
        ("https://acme.example/2-0",),
        "u/acme_official",
    )
    assert launch.url.startswith("https://www.reddit.com/r/AcmeUsers/comments/")
    assert launch.external_id.startswith("t3_") and launch.source_kind == "reddit"
    assert (dashboard.text, dashboard.links, dashboard.metrics) == ("Love it", (), {"score": 1, "comments": 0})
    assert launch.published_at is not None and launch.published_at.tzinfo is not None
    assert result.state["newest"] == launch.external_id and result.state["locator"] == "r/acmeusers"
    assert fake.seen("/r/acmeusers/new")[0].query["limit"] == "25"


def test_second_poll_returns_only_new_posts_following_after(fake: FakeSocialAPI) -> None:
    ctx = make_ctx(fake)
    first = poll(ctx)
    fake.reddit_page_size = 2
    for n in range(5):
        fake.data.add_reddit_post("AcmeUsers", "fan", f"post {n}", seconds_ago=100 - n)
    before = len(fake.requests)
    second = poll(ctx, state=first.state)
    assert sorted(p.title for p in second.posts) == [f"post {n}" for n in range(5)]
    pages = fake.requests[before:]
    after = [None, second.posts[1].external_id, second.posts[3].external_id]  # newest first, pages of two
    assert [r.query.get("after") for r in pages] == after
    third = poll(ctx, state=second.state)
    assert third.posts == () and third.not_modified and third.state == second.state


def test_posts_in_the_same_second_are_not_lost_or_repeated(fake: FakeSocialAPI) -> None:
    ctx = make_ctx(fake)
    first = poll(ctx)
    newest = first.state["newest_utc"]
    twin = fake.data.add_reddit_post("AcmeUsers", "fan", "same second")
    twin["created_utc"] = newest
    second = poll(ctx, state=first.state)
    assert [p.title for p in second.posts] == ["same second"]
    assert poll(ctx, state=second.state).posts == ()


def test_user_and_search(fake: FakeSocialAPI) -> None:
    ctx = make_ctx(fake)
    assert [p.title for p in poll(ctx, "u/acme_official").posts] == ["We launched Acme 2.0"]
    found = poll(ctx, 'reddit:search:"Acme Corp"')
    assert [p.title for p in found.posts] == ["Is Acme Corp down again?"]
    search = fake.seen("/search")[0].query
    assert (search["q"], search["sort"], search["type"]) == ('"Acme Corp"', "new", "link")


def test_a_changed_locator_starts_a_fresh_cursor(fake: FakeSocialAPI) -> None:
    ctx = make_ctx(fake)
    first = poll(ctx)
    moved = poll(ctx, "r/sysadmin", state=first.state)
    assert [p.title for p in moved.posts] == ["Is Acme Corp down again?"]


def test_429_defers_every_reddit_source_until_reset(fake: FakeSocialAPI) -> None:
    ctx = make_ctx(fake)
    fake.fail(
        "/r/", 429, headers={"x-ratelimit-remaining": "0", "x-ratelimit-used": "1000", "x-ratelimit-reset": "120"}
    )
    with pytest.raises(RateLimited) as err:
        poll(ctx)
    assert err.value.retry_after == 120 and GROUP in ctx.deferred_until
    calls = len(fake.requests)
    with pytest.raises(RateLimited):
        poll(ctx, "u/acme_official")
    assert len(fake.requests) == calls


def test_last_call_of_the_window_defers_the_next_source_instead_of_sleeping(fake: FakeSocialAPI) -> None:
    ctx = make_ctx(fake)
    fake.reddit_remaining = 1  # this call is the window's last one; prawcore would sleep before the next
    assert poll(ctx).posts
    calls = len(fake.requests)
    started = time.monotonic()
    with pytest.raises(RateLimited) as err:
        poll(ctx, "u/acme_official")
    assert time.monotonic() - started < 1 and len(fake.requests) == calls
    assert 0 < (err.value.retry_after or 0) <= 600


def test_rejected_credentials_are_one_error_for_all_sources(fake: FakeSocialAPI) -> None:
    ctx = make_ctx(fake, secret="wrong-secret")
    with pytest.raises(FetchError, match="LISTENER_REDDIT_CLIENT_ID") as err:
        poll(ctx)
    assert "wrong-secret" not in err.value.message
    calls = len(fake.requests)
    with pytest.raises(FetchError) as again:
        poll(ctx, "u/acme_official")
    assert again.value.message == err.value.message and len(fake.requests) == calls


@pytest.mark.parametrize(
    ("locator", "message", "permanent"),
    [
        ("r/gonesub", "banned", True),
        ("r/closedclub", "private", False),
        ("r/nosuchsub", "does not exist", True),  # reddit redirects unknown subreddits to its search
        ("u/nobody_at_all", "deleted, suspended or misspelt", False),
    ],
)
def test_banned_private_and_missing(fake: FakeSocialAPI, locator: str, message: str, permanent: bool) -> None:
    with pytest.raises(FetchError, match=message) as err:
        poll(make_ctx(fake), locator)
    assert err.value.permanent is permanent


def test_5xx_is_an_error_on_that_source_after_prawcore_retries(fake: FakeSocialAPI) -> None:
    ctx = make_ctx(fake)
    fake.fail("/r/acmeusers/new", 503, times=3)
    with pytest.raises(FetchError, match="server error") as err:
        poll(ctx)
    assert not err.value.permanent and len(fake.seen("/r/acmeusers/new")) == 3
    assert poll(ctx, "u/acme_official").posts  # the rest of the run goes on


def test_a_server_that_never_answers_times_out(fake: FakeSocialAPI) -> None:
    ctx = make_ctx(fake, timeout=0.5)
    fake.hang("/r/")
    started = time.monotonic()
    with pytest.raises(FetchError, match=r"did not answer within 0\.5 s"):
        poll(ctx)
    assert time.monotonic() - started < 4  # one timeout, then at most prawcore's first retry pause (< 2 s)
    calls = len(fake.requests)
    with pytest.raises(FetchError, match="did not answer"):
        poll(ctx, "u/acme_official")
    assert len(fake.requests) == calls


def test_the_event_loop_keeps_running_while_reddit_hangs(fake: FakeSocialAPI) -> None:
    ctx = make_ctx(fake, timeout=2.0)
    fake.hang("/api/v1/access_token")

    async def scenario() -> None:
        task = asyncio.create_task(RedditConnector().fetch(SourceRef(1, "reddit", "r/acmeusers", {}), ctx))
        gaps = []
        last = time.monotonic()
        while not task.done():
            await asyncio.sleep(0.02)
            now = time.monotonic()
            gaps.append(now - last)
            last = now
        # praw's calls are blocking: run on the loop, they would stall it for a whole 2 s read timeout at once. On a
        # free loop the ticks go on through the hang; on a busy machine a tick can come late, but not by seconds
        # (an earlier bound on ten ticks' total, 0.5 s, failed under load with the loop free).
        assert len(gaps) >= 20 and max(gaps) < 1.5, (len(gaps), max(gaps))
        with pytest.raises(FetchError):
            await task

    asyncio.run(scenario())


def test_demo_data_serves_a_customer_on_reddit() -> None:
    with FakeSocialAPI() as demo:
        ctx = make_ctx(demo)
        ctx = replace(
            ctx,
            settings=replace(
                ctx.settings, reddit=replace(ctx.settings.reddit, client_id="demo-client", client_secret="demo-secret")
            ),
        )
        titles = [p.title for p in poll(ctx, 'reddit:search:"Nimbus Logistics"').posts]
    assert any("tracking down" in t for t in titles) and any(t.startswith("¿Alguien") for t in titles)
