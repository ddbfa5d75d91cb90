"""Hostile pages and posts cost a bounded time and fail alone: the run and the other sources go on."""

from __future__ import annotations

import asyncio
import threading
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime, timedelta
from typing import Any, ClassVar

import pytest
from sqlalchemy import select

from connectors.base import ConnectorContext
from connectors.pagelinks import MAX_DEPTH, PageTooComplex, article_links
from connectors.parsing import ParserQueue
from listener.cli.app import App
from listener.db.schema import Source
from listener.directory import get_customer
from listener.ingest import run_ingest
from listener.ingest.leases import Claim
from listener.ingest.poll import POOL_THRESHOLD, _poll_one, _RunContext
from listener.models import FetchResult, Post, SourceRef
from listener.relevance import CustomerHints, load_classifier
from listener.sourcing import Resolved, insert_source
from tests.feeds import rfc822, rss
from tests.servers.http import Reply, serve

NOW = datetime(2030, 5, 1, 12, 0, tzinfo=UTC)
HTML = {"Content-Type": "text/html; charset=utf-8"}
# 0.9 MB of links, each nested one level deeper inside a <nav>: 9 s of parsing before the caps (quadratic).
NESTED_NAV = (
    "<html><body><nav>" + "".join(f'<div><a href="/blog/post-{i}">Post number {i}</a>' for i in range(15_000))
).encode()
# Links left open, each holding the rest of the page: as deep as the nested <div>s, so refused too.
LINKS_IN_LINKS = ("<html><body>" + "".join(f'<a href="/blog/p{i}"><td>x' for i in range(40_000))).encode()
# Flat, 3 MB of links to elsewhere: parsed, in linear time, and nothing found.
MANY_LINKS = (
    "<html><body>" + "".join(f'<a href="https://x.example/{i}">Elsewhere {i}</a>' for i in range(60_000))
).encode()
# Nested as deep as the cap allows, with links at every level: linear work.
AT_THE_CAP = (
    "<html><body><nav>" + "".join(f'<span><a href="/blog/p{i}">Post number {i}</a>' for i in range(MAX_DEPTH - 2))
).encode()


def test_pages_past_the_nesting_cap_are_refused_and_others_cost_linear_time() -> None:
    with pytest.raises(PageTooComplex, match="nested deeper than"):
        article_links(NESTED_NAV, "https://acme.example/blog/")
    with pytest.raises(PageTooComplex, match="nested deeper than"):
        article_links(LINKS_IN_LINKS, "https://acme.example/blog/")
    assert article_links(AT_THE_CAP, "https://acme.example/blog/") == []  # every link is in the <nav>
    assert article_links(MANY_LINKS, "https://acme.example/blog/") == []
    with pytest.raises(PageTooComplex, match="larger than"):
        article_links(b"<p>" * 2_000_000, "https://acme.example/blog/")


WORDS = ("launch", "award", "office", "hiring", "funding", "partner", "event", "webinar", "report", "milestone")


def _healthy_feeds(local: App, base: str, routes: Any, count: int) -> list[int]:
    ids = []
    with local.transaction() as session:
        customer = get_customer(session, "Globex")
        for i in range(count):
            title = f"{WORDS[i % len(WORDS)]} {WORDS[(i * 7 + 3) % len(WORDS)]} {i} at Globex"
            items = [{"guid": f"g{i}", "title": title, "date": rfc822(1, NOW)}]
            routes[f"/feed{i}"] = Reply(rss(items), headers={"Content-Type": "application/rss+xml"})
            ids.append(insert_source(session, customer, Resolved("rss", f"{base}/feed{i}")).id)
    return ids


@pytest.mark.parametrize("healthy", [6, POOL_THRESHOLD], ids=["in-process", "parser-processes"])
def test_hostile_pages_fail_alone_and_healthy_feeds_on_another_host_succeed(local: App, healthy: int) -> None:
    with serve(host="127.0.0.1") as (evil, evil_routes), serve(host="127.0.0.2") as (good, good_routes):
        evil_routes["/nested"] = Reply(NESTED_NAV, headers=HTML)
        evil_routes["/links"] = Reply(LINKS_IN_LINKS, headers=HTML)
        evil_routes["/cap"] = Reply(AT_THE_CAP, headers=HTML)
        evil_routes["/many"] = Reply(MANY_LINKS, headers=HTML)
        with local.transaction() as session:
            acme = get_customer(session, "Acme Corp")
            hostile = {
                insert_source(session, acme, Resolved("page", f"{evil}/{path}")).id: path
                for path in ("nested", "links", "cap", "many")
            }
        healthy_ids = _healthy_feeds(local, good, good_routes, healthy)
        report = run_ingest(local.sessions(), local.settings, all_sources=True, now=NOW)
    failures = {source_id: message for source_id, _, message in report.failures}
    assert {hostile[i] for i in failures} == {"nested", "links"}, failures  # refused, each alone
    assert all("nested deeper than" in message for message in failures.values())
    with local.transaction() as session:
        rows = session.scalars(select(Source).where(Source.id.in_(healthy_ids))).all()
    assert all(row.last_success_at is not None and row.error_count == 0 for row in rows)
    assert report.new_posts == healthy


def test_a_pathological_post_classifies_in_bounded_time_with_a_sane_result(local: App) -> None:
    classifier = load_classifier(local.settings)
    hints = CustomerHints(name="Acme Corp")
    for text in ("1," * 20_000, "1.1." * 10_000, "$1 " * 10_000, "Acme Corp raises " * 5_000):
        post = Post("x", "", "Acme Corp", text, NOW)
        done: list[Any] = []
        worker = threading.Thread(target=lambda p=post, d=done: d.append(classifier.classify(p, hints=hints)))
        worker.start()
        worker.join(60)  # generous: only a runaway (minutes, as before the caps) fails this
        assert done, f"classifying {text[:12]!r}… did not finish"
        assert 0.0 <= done[0].score <= 1.0
    normal = classifier.classify(Post("y", "", "Acme Corp raises $20M Series B", "", NOW), hints=hints)
    assert normal.category == "funding"


class _ParsesSlowly:
    """A connector whose parse waits in the parser queue longer than the poll's time limit."""

    kind: ClassVar[str] = "rss"

    async def fetch(self, source: SourceRef, ctx: ConnectorContext) -> FetchResult:
        quotient, _ = await ctx.parse(divmod, 17, 5)
        return FetchResult(posts=(), state={"quotient": quotient})


def test_the_wait_for_a_parser_process_is_not_counted_against_the_time_limit() -> None:
    import time

    gate = threading.Event()

    async def main() -> Any:
        with ThreadPoolExecutor(max_workers=1) as pool:
            pool.submit(gate.wait, 30)  # the only parser is busy (starting, or with other sources) for a while
            threading.Timer(1.5, gate.set).start()
            run = _RunContext(ConnectorContext(settings=None, http=None), ParserQueue(pool, in_flight=1))  # type: ignore[arg-type]
            claim = Claim(SourceRef(1, "rss", "https://acme.example/feed", {}), customer_id=1, first_poll=False)
            started = time.monotonic()
            outcome = await _poll_one(_ParsesSlowly(), claim, run, limit=0.5, prepare=None)  # type: ignore[arg-type]
            return outcome, time.monotonic() - started

    outcome, took = asyncio.run(main())
    assert outcome.error is None, outcome.error
    assert outcome.result.state == {"quotient": 3}
    assert took >= 1.0  # it did wait past its 0.5 s limit, and was not failed for it


def test_discovery_refuses_a_page_past_the_caps() -> None:
    from connectors.discovery import alternate_links

    with pytest.raises(PageTooComplex, match="nested deeper than"):
        alternate_links(NESTED_NAV, "https://acme.example/")
    page = b'<html><head><link rel="alternate" type="application/rss+xml" href="/feed.xml"></head></html>'
    candidates, _ = alternate_links(page, "https://acme.example/")
    assert [c.url for c in candidates] == ["https://acme.example/feed.xml"]


def test_a_large_run_stores_the_one_new_item_of_each_changed_feed(local: App) -> None:
    """With parser processes: unchanged posts are dropped where parsed, the new one of each feed is stored."""
    count = POOL_THRESHOLD + 1
    with serve(host="127.0.0.2") as (good, routes):
        _healthy_feeds(local, good, routes, count)
        first = run_ingest(local.sessions(), local.settings, all_sources=True, now=NOW)
        for i in range(count):
            items = [
                {"guid": f"n{i}", "title": f"Lisbon update {i}", "date": rfc822(0.5, NOW)},
                {"guid": f"g{i}", "title": f"{WORDS[i % len(WORDS)]} {WORDS[(i * 7 + 3) % len(WORDS)]} {i} at Globex"},
            ]
            items[1]["date"] = rfc822(1, NOW)
            routes[f"/feed{i}"] = Reply(rss(items), headers={"Content-Type": "application/rss+xml"})
        # A later run (a run never re-claims what was polled at or after its own start: see leases.polled_before)
        second = run_ingest(local.sessions(), local.settings, all_sources=True, now=NOW + timedelta(minutes=15))
    assert (first.new_posts, first.failed) == (count, 0)
    assert (second.new_posts, second.updated_posts, second.failed) == (count, 0, 0)
