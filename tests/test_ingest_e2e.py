"""The first end-to-end path: add a feed by URL, ingest it over real HTTP, posts and insights stored."""

from __future__ import annotations

import json
from dataclasses import replace

import pytest
from sqlalchemy import func, select

from listener.cli.app import App
from listener.db.schema import Insight, Post, Source
from listener.directory import add_customer, add_rep
from tests.conftest import Invoke
from tests.feeds import rfc822, rss
from tests.servers.http import Reply, serve


@pytest.fixture
def local_app(app: App) -> App:
    """The test App, allowed to fetch from loopback, with a rep and a customer."""
    app.settings = replace(app.settings, fetch=replace(app.settings.fetch, allow_private_networks=True))
    with app.transaction() as session:
        add_rep(session, "ana@example.com", "Ana")
        add_customer(session, "Acme Corp", rep_email="ana@example.com")
    return app


def test_add_feed_then_ingest_stores_and_classifies(local_app: App, invoke: Invoke) -> None:
    items = [
        {"guid": "1", "title": "Acme Corp raises $20M Series B", "link": "https://acme.example/b", "date": rfc822(1)},
        {
            "guid": "2",
            "title": "Acme Corp opens an office in Madrid",
            "link": "https://acme.example/m",
            "date": rfc822(2),
        },
    ]
    with serve() as (base, routes):
        routes["/feed.xml"] = Reply(rss(items), headers={"Content-Type": "application/rss+xml", "ETag": '"v1"'})
        added = invoke("source", "add", "Acme Corp", f"{base}/feed.xml")
        assert added.exit_code == 0, added.output
        assert "as rss" in added.output

        first = invoke("ingest", "--json")
        assert first.exit_code == 0, first.output
        figures = json.loads(first.output.strip().splitlines()[-1])
        assert figures["sources_polled"] == 1 and figures["new_posts"] == 2 and figures["failed"] == 0

        second = invoke("ingest", "--all", "--json")
        figures = json.loads(second.output.strip().splitlines()[-1])
        assert figures["not_modified"] == 1 and figures["new_posts"] == 0
        assert routes.requests[-1][1].get("If-None-Match") == '"v1"'

    with local_app.transaction() as session:
        assert session.scalar(select(func.count()).select_from(Post)) == 2
        assert session.scalar(select(func.count()).select_from(Insight)) == 2
        source = session.scalars(select(Source)).one()
        assert source.etag == '"v1"' and source.lease_owner == "" and source.next_poll_at is not None
