"""A blog post's comments page, from the feed to the digest's "Comment on the post" action (#14).

RSS 2.0 `<comments>` and Atom `<link rel="replies" type="text/html">` (RFC 4685) are read by both parse paths alike,
checked like every link a rep follows, stored with the post over a real ingest from a local feed server, and the
rep's digest carries that exact URL (read back out of the rendered HTML and text).
"""

from __future__ import annotations

from datetime import UTC, datetime
from html import unescape
from html.parser import HTMLParser
from pathlib import Path

import pytest
from sqlalchemy import select

from connectors.feedparse import parse_feed
from connectors.feedtext import MAX_URL, outbound_url
from digests.actions import with_actions
from digests.build import build_digest, local_date
from digests.model import Item
from listener.cli.app import App
from listener.db.schema import Post, Rep
from listener.directory import add_customer
from tests.conftest import Invoke
from tests.feeds import rfc822
from tests.servers.http import Reply, serve
from tests.test_fastfeed import accepts, both

RSS_COMMENTS = "https://acme.example/2026/series-b?replytocom=0&x=1#comments"
ATOM_REPLIES = "https://acme.example/2026/madrid#respond"


def rss_feed(items: list[tuple[str, str, str]]) -> bytes:
    """An RSS 2.0 feed; each item is (title, link, comments element text or "" for none)."""
    parts = []
    for n, (title, link, comments) in enumerate(items):
        element = f"<comments>{comments}</comments>" if comments else ""
        parts.append(
            f"<item><guid>{link}</guid><title>{title}</title><link>{link}</link>"
            f"<pubDate>{rfc822(1 + n / 10)}</pubDate>{element}</item>"
        )
    return (
        '<?xml version="1.0" encoding="utf-8"?><rss version="2.0"><channel><title>Blog</title>'
        f"<link>https://acme.example/</link><language>en</language>{''.join(parts)}</channel></rss>"
    ).encode()


def atom_feed(title: str, link: str, replies: str) -> bytes:
    when = datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
    return (
        '<?xml version="1.0" encoding="utf-8"?><feed xmlns="http://www.w3.org/2005/Atom" xml:lang="en">'
        "<title>Acme news</title><link href='https://acme.example/'/><id>urn:acme:news</id>"
        f"<entry><id>urn:acme:madrid</id><title>{title}</title><link rel='alternate' type='text/html' href='{link}'/>"
        f"<link rel='replies' type='application/atom+xml' href='/2026/madrid/comments.atom'/>"
        f"<link rel='replies' type='text/html' href='{replies}'/>"
        f"<published>{when}</published><updated>{when}</updated></entry></feed>"
    ).encode()


# ---------------------------------------------------------------- parsing


def test_rss_comments_are_read_alike_by_both_paths() -> None:
    body = rss_feed(
        [
            (
                "Funding",
                "https://acme.example/2026/series-b",
                "https://acme.example/2026/series-b?replytocom=0&amp;x=1#comments",
            ),
            ("Relative", "https://acme.example/2026/two", "/2026/two/#respond"),
            ("None", "https://acme.example/2026/three", ""),
        ]
    )
    assert accepts(body, "https://acme.example/feed/")  # the fast path reads <comments> itself
    fast, slow = both(body, "https://acme.example/feed/")
    assert fast == slow
    assert [p.comments_url for p in fast.posts] == [RSS_COMMENTS, "https://acme.example/2026/two/#respond", ""]
    assert fast.posts[0].url == "https://acme.example/2026/series-b"  # the post's own link is unchanged


def test_atom_replies_html_link_is_the_comments_page() -> None:
    body = atom_feed("Madrid", "https://acme.example/2026/madrid", "/2026/madrid#respond")
    assert accepts(body)
    fast, slow = both(body)
    assert fast == slow
    (post,) = fast.posts
    # the text/html replies link, resolved against the feed's URL; the Atom replies feed is not a page
    assert post.comments_url == "https://blog.example.com/2026/madrid#respond"


@pytest.mark.parametrize(
    "comments",
    [
        "javascript:alert(document.cookie)",
        "JavaScript:alert(1)",
        "data:text/html,<b>x</b>",
        "https://acme.example@evil.example/comments",  # credentials: a link that lies about its host
        "https://acme.example/" + "c" * MAX_URL,
        "mailto:someone@example.com",
    ],
)
def test_an_unsafe_comments_url_is_dropped(comments: str) -> None:
    body = rss_feed(
        [("Funding", "https://acme.example/2026/series-b", comments.replace("&", "&amp;").replace("<", "&lt;"))]
    )
    fast, slow = both(body)
    assert fast == slow
    assert fast.posts[0].comments_url == ""
    assert fast.posts[0].url == "https://acme.example/2026/series-b"  # the post itself stays


def test_outbound_url_keeps_what_a_link_needs() -> None:
    assert (
        outbound_url("HTTPS://Blog.Example.COM:8443/a?b=1&utm_source=x#c")
        == "https://blog.example.com:8443/a?b=1&utm_source=x#c"
    )
    assert outbound_url("../c#comments", "https://acme.example/blog/post/") == "https://acme.example/blog/c#comments"
    assert outbound_url("https://acme.example/a b") == ""
    assert outbound_url("https://acme.example/\x00") == ""
    assert outbound_url("//") == "" and outbound_url("") == "" and outbound_url(None) == ""


def test_json_feed_has_no_comments_field() -> None:
    body = (
        b'{"version": "https://jsonfeed.org/version/1.1", "title": "t", "items": [{"id": "1", "title": "x",'
        b' "url": "https://acme.example/1", "comments": "https://acme.example/1#comments"}]}'
    )
    (post,) = parse_feed(body, "https://acme.example/feed.json", "application/feed+json").posts
    assert post.comments_url == ""


# ---------------------------------------------------------------- ingest to digest


class _Links(HTMLParser):
    """Every <a href> of a document with its text, hrefs decoded as a browser would."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.links: list[tuple[str, str]] = []
        self._href: str | None = None
        self._text: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag == "a":
            self._href, self._text = dict(attrs).get("href") or "", []

    def handle_data(self, data: str) -> None:
        if self._href is not None:
            self._text.append(data)

    def handle_endtag(self, tag: str) -> None:
        if tag == "a" and self._href is not None:
            self.links.append(("".join(self._text).strip(), self._href))
            self._href = None


def _items(app: App) -> dict[str, Item]:
    with app.transaction() as session:
        rep = session.scalars(select(Rep).where(Rep.email == "ana@example.com")).one()
        now = datetime.now(UTC)
        digest = with_actions(
            build_digest(session, app.settings, rep, local_date(rep.time_zone, now), now), app.settings, rep_id=rep.id
        )
    return {item.headline: item for item in digest.items()}


def test_a_real_ingest_gives_the_digest_a_comment_on_the_post_action(
    local: App, invoke: Invoke, tmp_path: Path
) -> None:
    with local.transaction() as session:
        add_customer(session, "Initech", rep_email="ana@example.com")
    acme_rss = rss_feed(
        [
            (
                "Acme Corp raises $20M Series B led by Northwind",
                "https://acme.example/2026/series-b",
                "https://acme.example/2026/series-b?replytocom=0&amp;x=1#comments",
            )
        ]
    )
    acme_atom = atom_feed("Acme Corp opens a new office in Madrid", "https://acme.example/2026/madrid", ATOM_REPLIES)
    globex = rss_feed([("Globex wins the 2026 Logistics Innovation Award", "https://globex.example/award", "")])
    initech = rss_feed(
        [("Initech launches its new routing platform", "https://initech.example/launch", "javascript:alert(1)")]
    )
    with serve() as (base, routes):
        for path, body in (("/acme.rss", acme_rss), ("/acme.atom", acme_atom), ("/globex.rss", globex)):
            routes[path] = Reply(body, headers={"Content-Type": "application/xml"})
        routes["/initech.rss"] = Reply(initech, headers={"Content-Type": "application/rss+xml"})
        for customer, path in (
            ("Acme Corp", "/acme.rss"),
            ("Acme Corp", "/acme.atom"),
            ("Globex", "/globex.rss"),
            ("Initech", "/initech.rss"),
        ):
            added = invoke("source", "add", customer, base + path)
            assert added.exit_code == 0, added.output
        ran = invoke("ingest", "--json")
        assert ran.exit_code == 0, ran.output

    with local.transaction() as session:
        stored = dict(session.execute(select(Post.canonical_url, Post.comments_url)).all())
    assert stored == {
        "https://acme.example/2026/series-b": RSS_COMMENTS,
        "https://acme.example/2026/madrid": ATOM_REPLIES,
        "https://globex.example/award": "",
        "https://initech.example/launch": "",  # javascript: never stored
    }

    items = _items(local)
    by_customer = {item.customer: [] for item in items.values()}
    for item in items.values():
        by_customer[item.customer].append(item)
    assert set(by_customer) == {"Acme Corp", "Globex", "Initech"}, items.keys()
    comments = {
        item.customer + ":" + item.headline: a.url
        for item in items.values()
        for a in item.actions
        if a.kind == "comments"
    }
    assert sorted(comments.values()) == sorted([RSS_COMMENTS, ATOM_REPLIES]), comments
    for item in by_customer["Globex"] + by_customer["Initech"]:
        assert [a for a in item.actions if a.kind == "comments"] == []
        assert all(not a.url.lower().startswith("javascript") for a in item.actions)
    for item in by_customer["Acme Corp"]:
        assert item.comments_url not in item.links  # a link of its own, not "Read the post"

    # The rendered email: the action's link decodes back to the exact URL, in the HTML and the text part.
    result = invoke("digest", "preview", "--rep", "ana@example.com", "--out", str(tmp_path / "out"))
    assert result.exit_code == 0, result.output
    html = (tmp_path / "out" / "ana@example.com.html").read_text(encoding="utf-8")
    text = (tmp_path / "out" / "ana@example.com.txt").read_text(encoding="utf-8")
    parser = _Links()
    parser.feed(html)
    found = sorted(href for label, href in parser.links if label == "Comment on the post")
    assert set(found) == {RSS_COMMENTS, ATOM_REPLIES}  # (a "today" line may repeat a card's actions)
    assert "javascript" not in html.lower() and "javascript" not in text.lower()
    for url in (RSS_COMMENTS, ATOM_REPLIES):
        assert f"Comment on the post: {url}" in text
    assert "replytocom=0&amp;x=1#comments" in html and unescape("replytocom=0&amp;x=1") == "replytocom=0&x=1"


def test_an_edited_post_takes_its_new_comments_page(local: App, invoke: Invoke) -> None:
    link = "https://acme.example/2026/series-b"
    with serve() as (base, routes):
        routes["/acme.rss"] = Reply(rss_feed([("Acme Corp raises $20M", link, "")]))
        assert invoke("source", "add", "Acme Corp", base + "/acme.rss").exit_code == 0
        assert invoke("ingest", "--json").exit_code == 0
        routes["/acme.rss"] = Reply(rss_feed([("Acme Corp raises $20M Series B", link, link + "#comments")]))
        again = invoke("ingest", "--all", "--json")
        assert again.exit_code == 0, again.output
    with local.transaction() as session:
        (row,) = session.execute(select(Post.title, Post.comments_url)).all()
    assert tuple(row) == ("Acme Corp raises $20M Series B", link + "#comments")
