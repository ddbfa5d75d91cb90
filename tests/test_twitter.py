"""The X connector against the local fake X API v2 (real JSON, real HTTP on 127.0.0.1): tweepy is not mocked."""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Iterator
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from connectors.base import ConnectorContext
from connectors.twitter import TIMELINE, TwitterConnector
from listener.demo.fakeapi import FakeSocialAPI
from listener.demo.fakeapi_data import SocialData
from listener.errors import FetchError, RateLimited
from listener.models import FetchResult, SourceRef
from listener.settings import Settings

TOKEN = "test-bearer-AAAA1234"


@pytest.fixture
def fake() -> Iterator[FakeSocialAPI]:
    data = SocialData()
    data.add_x_user("AcmeCorp", "Acme Corp")
    data.add_tweet(
        "AcmeCorp",
        "We raised a $20M Series B! Details: https://t.co/abc123",
        seconds_ago=7200,
        urls=[("https://t.co/abc123", "https://acme.example/news/series-b")],
        metrics={"like_count": 40, "retweet_count": 7, "reply_count": 3},
    )
    data.add_tweet("AcmeCorp", "Nuevo cliente en Madrid 🎉", seconds_ago=3600, lang="es")
    data.add_tweet("AcmeCorp", "@someone thanks!", seconds_ago=1800, kind="reply")
    data.add_tweet("AcmeCorp", "RT @press: Acme named best startup", seconds_ago=900, kind="retweet")
    data.add_x_user("Quiet", "Quiet Inc")
    with FakeSocialAPI(data=data, bearer_token=TOKEN) as api:
        yield api


def make_ctx(fake: FakeSocialAPI, *, timeout: float = 5.0, **twitter: Any) -> ConnectorContext:
    settings = Settings()
    tw = replace(settings.twitter, api_base=fake.url, bearer_token=TOKEN, timeout=timeout, **twitter)
    return ConnectorContext(settings=replace(settings, twitter=tw), http=None)  # type: ignore[arg-type]


def poll(ctx: ConnectorContext, locator: str = "@AcmeCorp", state: dict[str, Any] | None = None) -> FetchResult:
    return asyncio.run(TwitterConnector().fetch(SourceRef(1, "twitter", locator, state or {}), ctx))


@pytest.mark.parametrize(
    ("locator", "expected"),
    [
        ("@AcmeCorp", "@acmecorp"),
        ("https://x.com/AcmeCorp", "@acmecorp"),
        ("https://twitter.com/acmecorp/", "@acmecorp"),
        ("https://mobile.twitter.com/acme_corp?lang=es", "@acme_corp"),
        ("x.com/AcmeCorp/status/123", "@acmecorp"),
        ("https://x.com/home", None),
        ("https://x.com/i/lists/1", None),
        ("https://example.com/AcmeCorp", None),
        ("@has-dash", None),
        ("@waytoolonghandle1234", None),
        ("r/acme", None),
    ],
)
def test_locators(locator: str, expected: str | None) -> None:
    assert TwitterConnector.normalize_locator(locator) == expected


def test_no_token_is_one_sentence() -> None:
    reason = TwitterConnector.unavailable_reason(Settings())
    assert reason is not None and "LISTENER_TWITTER_BEARER_TOKEN" in reason and reason.count(".") >= 1
    with_token = replace(Settings().twitter, bearer_token="x")
    assert TwitterConnector.unavailable_reason(replace(Settings(), twitter=with_token)) is None


def test_first_poll_normalizes_posts_and_leaves_out_replies_and_retweets(fake: FakeSocialAPI) -> None:
    result = poll(make_ctx(fake))
    assert [p.text for p in result.posts] == [
        "Nuevo cliente en Madrid 🎉",
        "We raised a $20M Series B! Details: https://acme.example/news/series-b",
    ]
    newest, older = result.posts
    user = fake.data.x_users["acmecorp"]
    assert older.url == f"https://x.com/AcmeCorp/status/{fake.data.tweets[0]['id']}"
    assert older.links == ("https://acme.example/news/series-b",)
    assert older.metrics == {"likes": 40, "reposts": 7, "comments": 3, "quotes": 0}
    assert (newest.lang, older.lang, newest.source_kind, newest.author) == ("es", "en", "twitter", "@AcmeCorp")
    assert older.published_at is not None and older.published_at.tzinfo is not None
    assert abs((datetime.now(UTC) - older.published_at) - timedelta(hours=2)) < timedelta(minutes=1)
    assert result.state == {
        "handle": "@acmecorp",
        "user_id": user["id"],
        "username": "AcmeCorp",
        "since_id": fake.data.tweets[1]["id"],
    }
    timeline = fake.seen(f"/2/users/{user['id']}/tweets")[0]
    assert timeline.query["exclude"] == "retweets,replies"
    assert "since_id" not in timeline.query
    assert timeline.headers["authorization"] == f"Bearer {TOKEN}"


def test_settings_keep_replies_and_retweets(fake: FakeSocialAPI) -> None:
    result = poll(make_ctx(fake, include_retweets=True, include_replies=True))
    assert len(result.posts) == 4
    assert "exclude" not in fake.seen("/2/users/")[-1].query


def test_second_poll_uses_since_id_and_no_lookup(fake: FakeSocialAPI) -> None:
    ctx = make_ctx(fake)
    first = poll(ctx)
    fake.data.add_tweet("AcmeCorp", "We are hiring 30 engineers in Lisbon")
    second = poll(ctx, state=first.state)
    assert [p.text for p in second.posts] == ["We are hiring 30 engineers in Lisbon"]
    assert len(fake.seen("/2/users/by/username/")) == 1
    assert fake.seen("/2/users/")[-1].query["since_id"] == first.state["since_id"]
    assert second.state["since_id"] == fake.data.tweets[-1]["id"]

    third = poll(ctx, state=second.state)  # nothing new: result_count 0 and no data
    assert third.posts == () and third.not_modified and third.state == second.state


def test_pagination_follows_next_token(fake: FakeSocialAPI) -> None:
    ctx = make_ctx(fake)
    first = poll(ctx)
    fake.x_page_size = 2
    for n in range(5):
        fake.data.add_tweet("AcmeCorp", f"update {n}", seconds_ago=50 - n)
    before = len(fake.requests)
    result = poll(ctx, state=first.state)
    assert sorted(p.text for p in result.posts) == [f"update {n}" for n in range(5)]
    pages = fake.requests[before:]
    assert [r.query.get("pagination_token") for r in pages] == [None, "p2", "p4"]
    assert all(r.query["since_id"] == first.state["since_id"] for r in pages)
    assert result.state["since_id"] == fake.data.tweets[-1]["id"]


def test_empty_timeline_keeps_user_id_without_since_id(fake: FakeSocialAPI) -> None:
    result = poll(make_ctx(fake), "https://x.com/Quiet")
    assert result.posts == () and result.not_modified
    assert result.state["user_id"] == fake.data.x_users["quiet"]["id"] and "since_id" not in result.state


def test_unknown_account_is_permanent(fake: FakeSocialAPI) -> None:
    with pytest.raises(FetchError, match="does not exist") as err:
        poll(make_ctx(fake), "@nobody_here")
    assert err.value.permanent


def test_429_defers_the_group_and_other_sources_wait_without_a_call(fake: FakeSocialAPI) -> None:
    ctx = make_ctx(fake)
    first = poll(ctx)
    reset = int(time.time()) + 600
    fake.fail("/2/users/", 429, headers={"x-rate-limit-remaining": "0", "x-rate-limit-reset": str(reset)})
    with pytest.raises(RateLimited) as err:
        poll(ctx, state=first.state)
    assert 590 <= (err.value.retry_after or 0) <= 610
    assert abs(ctx.deferred_until[TIMELINE].timestamp() - reset) < 2
    calls = len(fake.requests)
    with pytest.raises(RateLimited):
        poll(
            ctx, "@quiet", state={"handle": "@quiet", "user_id": fake.data.x_users["quiet"]["id"], "username": "Quiet"}
        )
    assert len(fake.requests) == calls  # deferred without touching the network


def test_429_after_a_page_keeps_what_was_read(fake: FakeSocialAPI) -> None:
    ctx = make_ctx(fake)
    first = poll(ctx)
    fake.x_page_size = 2
    for n in range(4):
        fake.data.add_tweet("AcmeCorp", f"update {n}", seconds_ago=50 - n)
    fake.fail("/2/users/", 429, headers={"x-rate-limit-reset": str(int(time.time()) + 60)}, skip=1)
    result = poll(ctx, state=first.state)
    assert [p.text for p in result.posts] == ["update 3", "update 2"]
    assert TIMELINE in ctx.deferred_until


def test_401_is_one_clear_error_and_stops_the_other_sources(fake: FakeSocialAPI) -> None:
    ctx = make_ctx(fake)
    ctx = replace(ctx, settings=replace(ctx.settings, twitter=replace(ctx.settings.twitter, bearer_token="wrong")))
    with pytest.raises(FetchError) as err:
        poll(ctx)
    assert "401" in err.value.message and "LISTENER_TWITTER_BEARER_TOKEN" in err.value.message
    assert "wrong" not in err.value.message
    calls = len(fake.requests)
    with pytest.raises(FetchError) as again:
        poll(ctx, "@quiet")
    assert again.value.message == err.value.message and len(fake.requests) == calls


def test_403_client_not_enrolled_says_what_to_do(fake: FakeSocialAPI) -> None:
    body = {
        "title": "Client Forbidden",
        "detail": "When authenticating requests to the Twitter API v2 endpoints, you must use keys and tokens from "
        "a Twitter developer App that is attached to a Project.",
        "reason": "client-not-enrolled",
        "type": "https://api.twitter.com/2/problems/client-forbidden",
    }
    fake.fail("/2/users/", 403, body=body)
    with pytest.raises(FetchError, match=r"403 Forbidden: When authenticating.*plan"):
        poll(make_ctx(fake))


def test_404_and_5xx_are_errors_on_that_source_only(fake: FakeSocialAPI) -> None:
    ctx = make_ctx(fake)
    fake.fail("/2/users/by/username/acmecorp", 404)
    with pytest.raises(FetchError, match="not found") as missing:
        poll(ctx)
    assert missing.value.permanent
    fake.fail("/2/users/by/username/acmecorp", 503)
    with pytest.raises(FetchError, match="server error") as down:
        poll(ctx)
    assert not down.value.permanent and not isinstance(down.value, RateLimited)
    assert poll(ctx).posts  # the next call goes through: a 5xx is not remembered


def test_a_server_that_never_answers_times_out_and_the_run_stops_asking(fake: FakeSocialAPI) -> None:
    ctx = make_ctx(fake, timeout=0.5)
    fake.hang("/2/users/")
    started = time.monotonic()
    with pytest.raises(FetchError, match=r"did not answer within 0\.5 s"):
        poll(ctx)
    assert time.monotonic() - started < 3
    calls = len(fake.requests)
    with pytest.raises(FetchError, match="did not answer"):
        poll(ctx, "@quiet")
    assert len(fake.requests) == calls


def test_the_event_loop_keeps_running_while_x_hangs(fake: FakeSocialAPI) -> None:
    ctx = make_ctx(fake, timeout=2.0)
    fake.hang("/2/users/")

    async def scenario() -> None:
        task = asyncio.create_task(TwitterConnector().fetch(SourceRef(1, "twitter", "@AcmeCorp", {}), ctx))
        gaps = []
        last = time.monotonic()
        while not task.done():  # the feeds of the same run, polled meanwhile
            await asyncio.sleep(0.02)
            now = time.monotonic()
            gaps.append(now - last)
            last = now
        # tweepy's calls are blocking: run on the loop, they would stall it for a whole 2 s read timeout at once. A
        # tick can come late on a busy machine, but not by seconds (ten ticks' total under 0.5 s failed under load).
        assert len(gaps) >= 20 and max(gaps) < 1.5, (len(gaps), max(gaps))
        with pytest.raises(FetchError):
            await task

    asyncio.run(scenario())


def test_token_never_reaches_the_logs(fake: FakeSocialAPI, caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.DEBUG)
    poll(make_ctx(fake))
    assert caplog.records  # tweepy and urllib3 did log at DEBUG
    assert all(TOKEN not in record.getMessage() for record in caplog.records)
