"""Work done where a feed is parsed: unchanged posts dropped by fingerprint, the rest classified before storing."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from sqlalchemy import select

from listener.cli.app import App
from listener.db.schema import Insight, Post, Source
from listener.ingest.identity import content_hash, fingerprint, story_key
from listener.ingest.poll import POOL_THRESHOLD
from listener.ingest.prepare import SEEN_KEY, Prepare
from listener.models import Kind
from listener.models import Post as ParsedPost
from listener.relevance import CustomerHints
from tests.feeds import rfc822, rss
from tests.servers.http import Reply, serve
from tests.test_ingest_behaviour import add, ingest, posts

NOW = datetime(2030, 5, 1, 12, 0, tzinfo=UTC)


def post(external_id: str, title: str, days_ago: float | None = 1) -> ParsedPost:
    published = None if days_ago is None else NOW - timedelta(days=days_ago)
    return ParsedPost(external_id, f"https://acme.example/{external_id}", title, "", published)


def work(local: App, seen: frozenset[str] = frozenset(), first_poll: bool = False) -> Prepare:
    hints = CustomerHints(name="Acme Corp", aliases=(), language="")
    return Prepare(settings=local.settings, hints=hints, seen=seen, first_poll=first_poll, now=NOW)


def test_posts_seen_unchanged_at_the_last_poll_are_dropped_and_the_rest_classified(local: App) -> None:
    same = post("1", "Acme Corp raises $20M Series B")
    edited_before, edited_after = post("2", "Draft"), post("2", "Acme Corp opens an office in Madrid")
    new = post("3", "Acme Corp is hiring a support engineer")
    prepared = work(local, frozenset({fingerprint(same), fingerprint(edited_before)}))((same, edited_after, new))
    assert prepared.posts == (edited_after, new)
    assert set(prepared.insights) == {"2", "3"}
    assert prepared.insights["2"].category == "expansion"
    # The next poll drops what this one saw, whatever was dropped now.
    assert prepared.state[SEEN_KEY] == [fingerprint(p) for p in (same, edited_after, new)]
    # Storing's keys (content hash, story key) of what is shipped, computed once here.
    assert prepared.keys == {
        p.external_id: (content_hash(p.title, p.text), story_key(p.title, p.url, p.text)) for p in (edited_after, new)
    }


def test_a_repeated_id_ships_the_keys_of_its_first_post_as_storing_keeps_the_first(local: App) -> None:
    first, again = post("1", "Acme Corp opens an office in Madrid"), post("1", "Acme Corp opens an office in Lyon")
    prepared = work(local)((first, again))
    assert prepared.keys == {
        "1": (content_hash(first.title, first.text), story_key(first.title, first.url, first.text))
    }


def test_a_first_polls_backlog_is_not_classified_where_it_is_parsed(local: App) -> None:
    recent, old, undated = post("r", "Acme Corp wins an award"), post("o", "Old", 30), post("u", "Undated", None)
    prepared = work(local, first_poll=True)((recent, old, undated))
    assert prepared.posts == (recent, old, undated)  # all are stored ...
    assert set(prepared.insights) == {"r"}  # ... only what may reach a digest is classified
    later = work(local, first_poll=False)((undated,))
    assert set(later.insights) == {"u"}  # after the first poll, an undated post is news


def test_fingerprints_tell_edits_apart() -> None:
    assert fingerprint(post("1", "A")) != fingerprint(post("1", "B"))
    assert fingerprint(post("1", "A")) != fingerprint(post("2", "A"))
    # Fields are separated, so moving text between title and id does not collide.
    assert fingerprint(post("1", "2A")) != fingerprint(post("12", "A"))
    # What storing does not count as an edit (spacing, case) does not count here either.
    assert fingerprint(post("1", "Big  News")) == fingerprint(post("1", "big news"))


def test_changed_feed_stores_only_what_changed_and_classifies_it(local: App) -> None:
    items = [
        {"guid": "a", "title": "Acme Corp raises $20M Series B", "date": rfc822(1, NOW)},
        {"guid": "b", "title": "Draft", "date": rfc822(1, NOW)},
    ]
    with serve() as (base, routes):
        sid = add(local, f"{base}/feed")
        routes["/feed"] = Reply(rss(items))
        assert ingest(local).new_posts == 2
        changed = [
            items[0],
            {"guid": "b", "title": "Acme Corp opens an office in Madrid", "date": rfc822(1, NOW)},
            {"guid": "c", "title": "Acme Corp lays off 10% of its staff", "date": rfc822(0.5, NOW)},
        ]
        routes["/feed"] = Reply(rss(changed, title="Acme blog (new title)"))
        report = ingest(local, NOW + timedelta(hours=1))
    assert (report.new_posts, report.updated_posts, report.failed) == (1, 1, 0)
    with local.transaction() as session:
        by_title = {p.title: p for p in session.scalars(select(Post))}
        kinds = {row.post_id: row.kind for row in session.scalars(select(Insight))}
        state = session.get(Source, sid)
        assert state is not None and len(state.cursor[SEEN_KEY]) == 3
    assert set(by_title) == {"Acme Corp raises $20M Series B", "Acme Corp opens an office in Madrid",
                             "Acme Corp lays off 10% of its staff"}  # fmt: skip
    assert kinds[by_title["Acme Corp opens an office in Madrid"].id] == Kind.WIN
    assert kinds[by_title["Acme Corp lays off 10% of its staff"].id] == Kind.CHALLENGE
    assert len(kinds) == 3


def test_an_edited_post_too_old_for_a_digest_is_still_classified_after_storing(local: App) -> None:
    """Not classified where it was parsed (too old to be news), the edit is classified by the storing side."""
    with serve() as (base, routes):
        add(local, f"{base}/feed")
        routes["/feed"] = Reply(rss([{"guid": "x", "title": "Draft", "date": rfc822(40, NOW)}]))
        ingest(local)
        assert posts(local)[0].digest_eligible is False
        routes["/feed"] = Reply(rss([{"guid": "x", "title": "Acme Corp raises $5M", "date": rfc822(40, NOW)}]))
        assert ingest(local, NOW + timedelta(hours=1)).updated_posts == 1
    with local.transaction() as session:
        [insight] = session.scalars(select(Insight)).all()
        assert (insight.kind, insight.category) == ("win", "funding")


def test_parser_processes_classify_a_large_run(local: App) -> None:
    count = POOL_THRESHOLD + 2  # enough sources for the run to start its parser processes
    with serve() as (base, routes):
        for i in range(count):
            add(local, f"{base}/f{i}", customer="Acme Corp")
            routes[f"/f{i}"] = Reply(
                rss([{"guid": f"{i}", "title": f"Acme Corp raises ${i + 1}M", "date": rfc822(1, NOW)}])
            )
        report = ingest(local)
    assert (report.new_posts, report.failed) == (count, 0)
    with local.transaction() as session:
        facts = [row.facts for row in session.scalars(select(Insight).order_by(Insight.post_id))]
    assert len(facts) == count
    assert sorted(f.get("amount_value") for f in facts) == sorted(float((i + 1) * 1_000_000) for i in range(count))
