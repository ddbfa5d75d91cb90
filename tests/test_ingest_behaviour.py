"""run_ingest over real HTTP and a real SQLite file: dedupe, edits, stories, first poll, errors, backoff, leases."""

from __future__ import annotations

import os
import subprocess
import sys
import threading
import time
from dataclasses import replace
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import select

from listener.cli.app import App
from listener.db.schema import Insight, Post, Source
from listener.directory import get_customer
from listener.ingest import run_ingest
from listener.sourcing import Resolved, insert_source
from tests.conftest import Invoke
from tests.feeds import rfc822, rss
from tests.servers.http import Reply, Routes, serve, slow_feed

NOW = datetime(2030, 5, 1, 12, 0, tzinfo=UTC)


def add(app: App, url: str, customer: str = "Acme Corp", kind: str = "rss") -> int:
    with app.transaction() as session:
        return insert_source(session, get_customer(session, customer), Resolved(kind, url)).id


def ingest(app: App, now: datetime = NOW, all_sources: bool = True):  # type: ignore[no-untyped-def]
    return run_ingest(app.sessions(), app.settings, all_sources=all_sources, now=now)


def posts(app: App) -> list[Post]:
    with app.transaction() as session:
        return list(session.scalars(select(Post).order_by(Post.id)))


def source(app: App, source_id: int) -> Source:
    with app.transaction() as session:
        row = session.get(Source, source_id)
        assert row is not None
        return row


def test_same_entries_are_never_stored_twice_even_with_tracking_params(local: App) -> None:
    def feed(tag: str) -> bytes:
        return rss(
            [
                {"guid": "g-1", "title": "Launch day", "link": f"https://acme.example/launch?utm_source={tag}"},
                {"title": "No guid here", "link": f"https://acme.example/noguid?fbclid={tag}&id=7"},
            ],
            title=f"Acme {tag}",
        )

    with serve() as (base, routes):
        sid = add(local, f"{base}/feed")
        routes["/feed"] = Reply(feed("a"))
        assert ingest(local).new_posts == 2
        routes["/feed"] = Reply(feed("b"))
        report = ingest(local, NOW + timedelta(hours=2))
    assert report.new_posts == 0 and report.failed == 0
    stored = posts(local)
    assert [p.canonical_url for p in stored] == ["https://acme.example/launch", "https://acme.example/noguid?id=7"]
    assert source(local, sid).polls == 2


def test_unchanged_body_without_validators_is_not_parsed_again(local: App) -> None:
    with serve() as (base, routes):
        add(local, f"{base}/feed")
        routes["/feed"] = Reply(rss([{"guid": "1", "title": "Hello"}]), conditional=False)
        ingest(local)
        assert ingest(local, NOW + timedelta(hours=1)).not_modified == 1


def test_edited_entry_updates_its_post_and_is_classified_again(local: App) -> None:
    with serve() as (base, routes):
        add(local, f"{base}/feed")
        routes["/feed"] = Reply(rss([{"guid": "1", "title": "Acme Corp news", "description": "Draft"}]))
        ingest(local)
        routes["/feed"] = Reply(rss([{"guid": "1", "title": "Acme Corp raises $50M in Series C funding"}]))
        later = NOW + timedelta(hours=1)
        report = ingest(local, later)
    assert report.new_posts == 0 and report.updated_posts == 1
    [post] = posts(local)
    assert post.title == "Acme Corp raises $50M in Series C funding"
    with local.transaction() as session:
        insight = session.scalars(select(Insight)).one()
        assert insight.post_id == post.id and insight.classified_at == later


def test_same_story_on_two_sources_becomes_one_item_with_two_links(local: App) -> None:
    title = "Acme Corp opens its first office in Madrid"
    with serve() as (base, routes):
        add(local, f"{base}/blog")
        add(local, f"{base}/news")
        add(local, f"{base}/other", customer="Globex")
        routes["/blog"] = Reply(rss([{"guid": "b1", "title": title, "link": "https://acme.example/madrid"}]))
        routes["/news"] = Reply(rss([{"guid": "n1", "title": title + "!", "link": "https://news.example/acme"}]))
        routes["/other"] = Reply(rss([{"guid": "o1", "title": title, "link": "https://globex.example/x"}]))
        report = ingest(local)
    assert report.new_posts == 3 - 1  # the repeat is stored but not counted as a new item
    *acme, other = sorted(posts(local), key=lambda p: p.source_id)
    # Whichever source's poll is stored first holds the story; the other's post points to it and adds its link.
    [first] = [p for p in acme if p.duplicate_of_id is None]
    [repeat] = [p for p in acme if p.duplicate_of_id is not None]
    assert repeat.duplicate_of_id == first.id and not repeat.digest_eligible
    assert first.links == [repeat.canonical_url]
    assert other.duplicate_of_id is None  # another customer's post is never merged


def test_first_poll_only_offers_recent_posts_and_later_polls_offer_new_ones(local: App) -> None:
    items = [
        {"guid": "old", "title": "Old news", "date": rfc822(30, NOW)},
        {"guid": "new", "title": "Fresh news", "date": rfc822(2, NOW)},
        {"guid": "undated", "title": "No date"},
        {"guid": "future", "title": "From the future", "date": rfc822(-400, NOW)},
        {"guid": "garbled", "title": "Garbled date", "date": "yesterday-ish, 99:99"},
    ]
    with serve() as (base, routes):
        add(local, f"{base}/feed")
        routes["/feed"] = Reply(rss(items))
        ingest(local)
        routes["/feed"] = Reply(rss([*items, {"guid": "undated-2", "title": "Another undated"}]))
        ingest(local, NOW + timedelta(hours=1))
    # feedparser resolves a permalink guid against the feed's URL, so posts are looked up by title.
    by_title = {p.title: p for p in posts(local)}
    assert len(by_title) == 6
    eligible = {k for k, p in by_title.items() if p.digest_eligible}
    assert eligible == {"Fresh news", "From the future", "Another undated"}
    assert by_title["From the future"].published_at == NOW  # clamped, not believed
    assert by_title["Garbled date"].published_at is None
    with local.transaction() as session:
        classified = set(session.scalars(select(Insight.post_id)))
    # Only what can reach a digest is classified: the backlog of a first poll costs no classifier time.
    assert classified == {p.id for p in by_title.values() if p.digest_eligible}


def test_backlog_after_a_failed_first_attempt_is_still_a_backlog(local: App) -> None:
    with serve() as (base, routes):
        add(local, f"{base}/feed")
        routes["/feed"] = Reply(b"busy", 500)
        assert ingest(local).failed == 1
        routes["/feed"] = Reply(rss([{"guid": "old-undated", "title": "From the archive"}]))
        assert ingest(local, NOW + timedelta(hours=2)).new_posts == 1
    [post] = posts(local)
    assert not post.digest_eligible  # the source's first successful poll: undated posts are backlog


def test_failures_back_off_exponentially_up_to_the_cap_and_recover(local: App) -> None:
    local.settings = replace(local.settings, ingest=replace(local.settings.ingest, max_backoff_hours=3))
    with serve() as (base, routes):
        sid = add(local, f"{base}/feed")
        routes["/feed"] = Reply(b"boom", 500)
        waits = []
        now = NOW
        for _ in range(4):
            report = ingest(local, now, all_sources=False)
            assert report.failed == 1 and report.failures[0][2] == "HTTP 500 Internal Server Error"
            row = source(local, sid)
            assert row.next_poll_at is not None
            waits.append(row.next_poll_at - now)
            now = row.next_poll_at
        assert waits == [timedelta(hours=1), timedelta(hours=2), timedelta(hours=3), timedelta(hours=3)]
        assert row.error_count == 4 and row.failing_since == NOW and row.enabled
        routes["/feed"] = Reply(rss([{"guid": "1", "title": "Back"}]))
        assert ingest(local, now, all_sources=False).failed == 0
    row = source(local, sid)
    assert row.error_count == 0 and row.failing_since is None and row.last_error == ""


def test_rate_limit_defers_without_counting_an_error(local: App) -> None:
    with serve() as (base, routes):
        sid = add(local, f"{base}/feed")
        routes["/feed"] = Reply(b"", 429, {"Retry-After": "900"})
        report = ingest(local)
    assert report.deferred == 1 and report.failed == 0
    row = source(local, sid)
    assert row.error_count == 0 and row.next_poll_at == NOW + timedelta(seconds=900)


def test_gone_disables_with_reason_and_moved_updates_locator(local: App, invoke: Invoke) -> None:
    with serve() as (base, routes):
        gone = add(local, f"{base}/gone")
        moved = add(local, f"{base}/old")
        routes["/gone"] = Reply(b"", 410)
        routes["/old"] = Reply(b"", 301, {"Location": "/new"})
        routes["/new"] = Reply(rss([{"guid": "1", "title": "Moved"}]))
        ingest(local)
        assert source(local, moved).locator == f"{base}/new"
        assert not source(local, gone).enabled and "410" in source(local, gone).disabled_reason
        ingest(local, NOW + timedelta(days=3))
        assert routes.hits("/gone") == 1 and routes.hits("/old") == 1  # disabled is never polled; moved polls /new
    listing = invoke("source", "list", "--failing")
    assert f"{gone}\tAcme Corp\trss\t{base}/gone\tdisabled: HTTP 410" in listing.output
    assert "next try never" in listing.output and str(moved) + "\t" not in listing.output


def test_html_instead_of_a_feed_fails_that_source_only_and_exits_1(local: App, invoke: Invoke) -> None:
    with serve() as (base, routes):
        add(local, f"{base}/page")
        add(local, f"{base}/feed")
        routes["/page"] = Reply(b"<html><body><p>Welcome</p></body></html>", headers={"Content-Type": "text/html"})
        routes["/feed"] = Reply(rss([{"guid": "1", "title": "Fine"}]))
        result = invoke("ingest")
    assert result.exit_code == 1
    assert "HTML page" in result.output and "1 new posts, 1 failed" in result.output
    failing = invoke("source", "list", "--failing")
    assert "error: the document is an HTML page" in failing.output and "since 20" in failing.output


def test_wrong_encoding_and_entity_bomb_are_survived(local: App) -> None:
    latin1 = rss([{"guid": "1", "title": "Año nuevo en España"}]).decode().encode("latin-1")
    bomb = (
        b'<?xml version="1.0"?><!DOCTYPE rss [<!ENTITY a "lollollollollollollollol">'
        + b"".join(
            b'<!ENTITY %c "&%c;&%c;&%c;&%c;&%c;&%c;&%c;&%c;&%c;&%c;">' % ((98 + i,) + (97 + i,) * 10) for i in range(9)
        )
        + b']><rss version="2.0"><channel><title>t</title><item><guid>b</guid><title>&j;</title>'
        + b"<description>&j;</description></item></channel></rss>"
    )
    external = (
        b'<?xml version="1.0"?><!DOCTYPE rss [<!ENTITY xxe SYSTEM "file:///etc/passwd">]>'
        b'<rss version="2.0"><channel><title>t</title><item><guid>x</guid><title>leak &xxe; here</title>'
        b"</item></channel></rss>"
    )
    with serve() as (base, routes):
        add(local, f"{base}/latin1")
        add(local, f"{base}/bomb")
        add(local, f"{base}/xxe")
        routes["/latin1"] = Reply(latin1, headers={"Content-Type": "application/rss+xml; charset=utf-8"})
        routes["/bomb"] = Reply(bomb)
        routes["/xxe"] = Reply(external)
        started = time.monotonic()
        report = ingest(local)
    assert time.monotonic() - started < 10 and report.failed == 2  # a DTD is refused (issue #17), never expanded
    assert {reason for _, _, reason in report.failures} == {"the feed declares a DTD; Listener never processes DTDs"}
    texts = " ".join(p.title + " " + p.text for p in posts(local))
    assert "lollol" not in texts and "root:" not in texts
    assert any(p.title.startswith("A") and "Espa" in p.title for p in posts(local))


def test_overlapping_runs_never_poll_a_source_twice(local: App) -> None:
    routes = Routes()

    with serve(routes) as (base, _):
        for i in range(12):
            routes[f"/f{i}"] = slow_feed(0.3)
            add(local, f"{base}/f{i}")
        reports = []
        threads = [threading.Thread(target=lambda: reports.append(ingest(local, all_sources=False))) for _ in range(3)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(60)
    assert sum(r.sources_polled for r in reports) == 12
    assert all(routes.hits(f"/f{i}") == 1 for i in range(12))
    assert len(posts(local)) == 12


def test_kind_without_credentials_is_skipped_once_with_the_reason(local: App) -> None:
    with local.transaction() as session:
        insert_source(session, get_customer(session, "Acme Corp"), Resolved("twitter", "acmecorp"))
        for n in range(3):
            insert_source(session, get_customer(session, "Acme Corp"), Resolved("twitter", f"acme{n}"))
    report = ingest(local)
    assert report.sources_polled == 0 and "TWITTER_BEARER_TOKEN" in report.skipped_kinds["twitter"]
    # The real entry point, with its logging set up as under cron: the reason is said once, not per source.
    env = {"PATH": os.environ.get("PATH", ""), "LISTENER_DB": local.settings.database_url, "LISTENER_CONFIG": ""}
    run = subprocess.run(
        [sys.executable, "-m", "listener", "ingest", "--all"], env=env, capture_output=True, text=True, timeout=120
    )
    assert run.returncode == 0, run.stderr
    assert (run.stdout + run.stderr).count("TWITTER_BEARER_TOKEN") == 1, run.stderr


def test_a_long_queue_of_sources_is_not_cut_short_by_the_per_poll_time_limit(
    local: App, monkeypatch: pytest.MonkeyPatch
) -> None:
    import listener.ingest.poll as poll

    monkeypatch.setattr(poll, "SLACK_SECONDS", 0.0)
    local.settings = replace(
        local.settings, fetch=replace(local.settings.fetch, concurrency=2, per_host=2, total_timeout=1.0)
    )
    routes = Routes()

    with serve(routes) as (base, _):
        for i in range(10):  # 10 polls of 0.4 s, 2 at a time: 2 s in all, twice the 1 s each poll may take
            routes[f"/f{i}"] = slow_feed(0.4)
            add(local, f"{base}/f{i}")
        report = ingest(local)
    assert report.failed == 0 and report.new_posts == 10


def test_lone_surrogates_in_a_json_feed_are_stored_without_them(local: App) -> None:
    """JSON escapes can name half a surrogate pair, which no database encoding accepts: dropped, post kept."""
    feed = (
        b'{"version": "https://jsonfeed.org/version/1.1", "title": "Acme \\ud83d news", "items": [{'
        b'"id": "tag:acme.example,2030:\\udc00launch", "url": "https://acme.example/launch\\ud800",'
        b'"title": "Launch \\ud83d day", "content_text": "We launched \\udc00 today.",'
        b'"authors": [{"name": "Ana \\ud800"}], "date_published": "2030-04-30T10:00:00Z"}]}'
    )
    with serve() as (base, routes):
        add(local, f"{base}/feed.json")
        routes["/feed.json"] = Reply(feed, headers={"Content-Type": "application/feed+json"})
        report = ingest(local)
    assert report.failed == 0 and report.new_posts == 1
    (stored,) = posts(local)
    assert (stored.title, stored.text, stored.author) == ("Launch day", "We launched today.", "Ana")
    fields = (stored.external_id, stored.canonical_url, stored.title, stored.text, stored.author)
    assert not any("\ud800" <= ch <= "\udfff" for value in fields for ch in value)


def test_a_storing_bug_in_one_source_loses_only_that_sources_posts(local: App, monkeypatch: pytest.MonkeyPatch) -> None:
    """A batch is stored without savepoints; when storing raises, it is written again with one per source."""
    from listener.ingest import batch

    real_store_posts = batch.store_posts
    broken: set[int] = set()

    def store_posts(session, claim, *args):  # type: ignore[no-untyped-def]
        if claim.ref.id in broken:
            raise RuntimeError("a bug in storing")
        return real_store_posts(session, claim, *args)

    monkeypatch.setattr(batch, "store_posts", store_posts)
    with serve() as (base, routes):
        good = add(local, f"{base}/good", customer="Acme Corp")
        bad = add(local, f"{base}/bad", customer="Globex")
        opening = {"guid": "g1", "title": "Acme Corp opens an office in Madrid", "date": rfc822(1, NOW)}
        routes["/good"] = Reply(rss([opening]))
        routes["/bad"] = Reply(rss([{"guid": "b1", "title": "Globex wins an award", "date": rfc822(1, NOW)}]))
        broken.add(bad)
        report = ingest(local)
    # Counted once, although the batch was written twice.
    assert (report.sources_polled, report.new_posts, report.failed) == (2, 1, 1)
    assert report.failures == [(bad, f"{base}/bad", "storing failed: RuntimeError")]
    (stored,) = posts(local)
    assert stored.source_id == good and stored.title == "Acme Corp opens an office in Madrid"
    with local.transaction() as session:
        assert session.scalar(select(Insight.category).where(Insight.post_id == stored.id)) == "expansion"
    assert source(local, good).error_count == 0 and source(local, bad).error_count == 1


def test_two_sources_moved_to_one_url_leave_one_source_there(local: App) -> None:
    """A customer's two feeds redirected to the same URL: one source moves, the other keeps its URL; none fails."""
    with serve() as (base, routes):
        first, second = add(local, f"{base}/a"), add(local, f"{base}/b")
        routes["/a"] = Reply(b"", 301, {"Location": "/same"})
        routes["/b"] = Reply(b"", 308, {"Location": "/same"})
        routes["/same"] = Reply(rss([{"guid": "1", "title": "Moved", "date": rfc822(1, NOW)}]))
        report = ingest(local)
    assert report.failed == 0 and report.sources_polled == 2
    locators = sorted(source(local, sid).locator for sid in (first, second))
    assert locators in ([f"{base}/a", f"{base}/same"], [f"{base}/b", f"{base}/same"])
