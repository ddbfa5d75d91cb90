"""The `page` kind: a blog page without a feed, watched for new article links (and their titles)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from hypothesis import given, settings
from hypothesis import strategies as st
from sqlalchemy import select

from connectors.pagelinks import article_links, decode_html
from listener.cli.app import App
from listener.db.schema import Post, Source
from listener.ingest import run_ingest
from tests.conftest import Invoke
from tests.servers.http import Reply, serve

NOW = datetime(2030, 5, 1, 12, 0, tzinfo=UTC)
HTML = {"Content-Type": "text/html; charset=utf-8"}
CHROME = """
<header class="site"><a href="/">Acme home</a><a href="/products/widgets">Our widgets range</a></header>
<nav><a href="/blog/">Blog</a><a href="/about">About us</a><a href="/pricing-plans">Pricing plans</a></nav>
<aside><a href="/2030/04/popular-post">A popular post from the sidebar</a></aside>
<footer><a href="/privacy">Privacy policy</a><a href="/jobs-at-acme">Work with us today</a></footer>
"""


def blog(*posts: tuple[str, str], wrap: str = "main") -> bytes:
    items = "".join(
        f'<article><header><h2><a href="{href}">{title}</a></h2></header><p>Summary.</p>'
        f'<a href="{href}">Read more</a> <a href="/tag/news">News</a> <a href="/author/ana">Ana</a></article>'
        for href, title in posts
    )
    more = '<a href="/blog/?page=2">Older posts</a><a href="/blog/page/2/">Next page</a>'
    head = "<html><head><title>Acme blog</title></head>"
    return f"{head}<body>{CHROME}<{wrap}>{items}{more}</{wrap}></body></html>".encode()


def links(body: bytes, url: str = "https://acme.example/blog/") -> list[tuple[str, str]]:
    return article_links(body, url)


def test_article_links_with_titles_and_no_chrome() -> None:
    body = blog(
        ("/blog/series-a", "Acme raises its Series A"), ("https://www.acme.example/blog/new-depot", "A new depot")
    )
    assert links(body) == [
        ("https://acme.example/blog/series-a", "Acme raises its Series A"),
        ("https://www.acme.example/blog/new-depot", "A new depot"),
    ]


def test_pages_without_article_or_main_still_skip_navigation_and_footer() -> None:
    body = (
        "<html><body>"
        + CHROME
        + '<div class="list"><h3><a href="/2030/05/launch">Launch of the spring line</a></h3>'
        + '<h3><a href="https://other.example/story">Someone else\'s story</a></h3>'
        + '<a href="mailto:press@acme.example">Write to the press team</a><a href="#top">Back to top</a>'
        + '<a href="/2030/05/ok">OK</a></div></body></html>'
    ).encode()
    assert links(body) == [("https://acme.example/2030/05/launch", "Launch of the spring line")]


def test_read_more_links_take_the_heading_of_their_post() -> None:
    body = (
        b"<html><body><main>"
        b'<div class="post"><h2>Our new warehouse in Valencia</h2><p>...</p>'
        b'<a href="/news/valencia">Read more</a></div>'
        b'<div class="post"><h2>Q1 results</h2><a href="/news/q1">Continue reading \xe2\x86\x92</a></div>'
        b"</main></body></html>"
    )
    assert links(body, "https://acme.example/news/") == [
        ("https://acme.example/news/valencia", "Our new warehouse in Valencia"),
        ("https://acme.example/news/q1", "Q1 results"),
    ]


def test_base_href_and_relative_links() -> None:
    body = (
        b'<html><head><base href="https://acme.example/es/"></head>'
        b'<body><main><a href="noticias/ronda">Cerramos ronda</a></main></body></html>'
    )
    assert links(body, "https://acme.example/es/blog") == [("https://acme.example/es/noticias/ronda", "Cerramos ronda")]


def test_page_charset_is_honoured() -> None:
    body = (
        '<html><head><meta charset="iso-8859-1"></head>'
        '<body><main><a href="/n/1">Logística en España</a></main></body></html>'
    )
    encoded = body.encode("latin-1")
    assert decode_html(encoded) == body
    assert links(encoded, "https://acme.example/") == [("https://acme.example/n/1", "Logística en España")]
    assert decode_html("año".encode("cp1252")) == "año"  # no declaration, not UTF-8


def stored(app: App) -> list[tuple[str, str, bool]]:
    with app.transaction() as session:
        return [(p.canonical_url, p.title, p.digest_eligible) for p in session.scalars(select(Post).order_by(Post.id))]


def test_watched_page_new_links_become_posts(local: App, invoke: Invoke) -> None:
    with serve() as (base, routes):
        routes["/blog/"] = Reply(
            blog(("/blog/one", "First post here"), ("/blog/two", "Second post here")), headers=HTML
        )
        result = invoke("source", "add", "Acme Corp", f"{base}/blog/", "--kind", "page")
        assert result.exit_code == 0, result.output
        assert f"added {base}/blog/ as page" in result.output
        assert routes.requests == []  # --kind skips detection

        first = run_ingest(local.sessions(), local.settings, all_sources=True, now=NOW)
        assert (first.sources_polled, first.new_posts, first.failed) == (1, 2, 0)
        # The backlog found on the first poll is stored but never sent as news.
        assert stored(local) == [
            (f"{base}/blog/one", "First post here", False),
            (f"{base}/blog/two", "Second post here", False),
        ]

        routes["/blog/"] = Reply(
            blog(
                ("/blog/three", "Acme opens a depot in Lisbon"),
                ("/blog/one", "First post here"),
                ("/blog/two", "Second post here"),
            ),
            headers=HTML,
        )
        second = run_ingest(local.sessions(), local.settings, all_sources=True, now=NOW + timedelta(hours=2))
    assert (second.new_posts, second.failed) == (1, 0)
    assert stored(local)[-1] == (f"{base}/blog/three", "Acme opens a depot in Lisbon", True)
    assert len(stored(local)) == 3


def test_page_that_is_not_html_fails_with_a_clear_error(local: App, invoke: Invoke) -> None:
    with serve() as (base, routes):
        routes["/logo.png"] = Reply(b"\x89PNG", headers={"Content-Type": "image/png"})
        assert invoke("source", "add", "Acme Corp", f"{base}/logo.png", "--kind", "page").exit_code == 0
        report = run_ingest(local.sessions(), local.settings, all_sources=True, now=NOW)
    assert report.failed == 1
    with local.transaction() as session:
        source = session.scalars(select(Source)).one()
        assert source.last_error == "expected an HTML page, got image/png"


@settings(max_examples=200, deadline=None)
@given(st.binary(max_size=3000), st.text(max_size=200))
def test_article_links_survive_any_page(noise: bytes, text: str) -> None:
    made = f'<main><a href="{text}">{text}</a><nav><a href="/x/{text}">{text}</a></nav></main>'.encode(
        "utf-8", "replace"
    )
    for body in (noise, made, noise + made):
        found = article_links(body, "https://acme.example/blog/", "text/html; charset=bogus")
        assert all(url.startswith("https://acme.example/") and len(title) >= 4 for url, title in found)
