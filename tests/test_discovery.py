"""Feed discovery: network profile URLs (pure), <link rel=alternate>, usual paths, and `source add` over HTTP."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Mapping
from dataclasses import replace
from urllib.parse import urlsplit, urlunsplit

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from sqlalchemy import func, select

from connectors.discovery import (
    Candidate,
    Discovery,
    alternate_links,
    discover,
    google_news_feed,
    is_youtube_page,
    profile_feed,
    usual_feed_urls,
    youtube_channel_id,
)
from connectors.http import FetchResponse, SafeFetcher
from listener.cli.app import App
from listener.db.schema import Source
from listener.directory import add_customer, add_rep
from listener.errors import BadInput
from listener.settings import FetchSettings
from listener.sourcing import normalize_url, resolve_locator
from tests.conftest import Invoke
from tests.feeds import rss
from tests.servers.http import Reply, hang, serve

RSS = {"Content-Type": "application/rss+xml; charset=utf-8"}
HTML = {"Content-Type": "text/html; charset=utf-8"}
CHANNEL = "UC" + "a1B2c3D4e5F6g7H8i9J0k_"  # 24 characters, like a real channel id


def page(head: str, body: str = "<p>Welcome</p>") -> bytes:
    return f"<!doctype html><html><head><title>Acme</title>{head}</head><body>{body}</body></html>".encode()


# Profile URLs of networks that publish feeds: a pure mapping, no network.


@pytest.mark.parametrize(
    ("url", "feed"),
    [
        ("https://mastodon.social/@acme", "https://mastodon.social/@acme.rss"),
        ("https://fosstodon.org/@acme/", "https://fosstodon.org/@acme.rss"),
        ("https://mastodon.social/@acme@hachyderm.io", "https://hachyderm.io/@acme.rss"),
        ("https://bsky.app/profile/acme.bsky.social", "https://bsky.app/profile/acme.bsky.social/rss"),
        ("https://bsky.app/profile/acme.com/post/3kxyz", "https://bsky.app/profile/acme.com/rss"),
        (
            f"https://www.youtube.com/channel/{CHANNEL}",
            f"https://www.youtube.com/feeds/videos.xml?channel_id={CHANNEL}",
        ),
        (
            f"https://youtube.com/channel/{CHANNEL}/videos",
            f"https://www.youtube.com/feeds/videos.xml?channel_id={CHANNEL}",
        ),
        ("https://www.youtube.com/user/acmecorp", "https://www.youtube.com/feeds/videos.xml?user=acmecorp"),
        (
            "https://www.youtube.com/playlist?list=PL123abc",
            "https://www.youtube.com/feeds/videos.xml?playlist_id=PL123abc",
        ),
        ("https://medium.com/@acme", "https://medium.com/feed/@acme"),
        ("https://medium.com/@acme/launch-day-1a2b3c", "https://medium.com/feed/@acme"),
        ("https://medium.com/acme-engineering", "https://medium.com/feed/acme-engineering"),
        ("https://medium.com/tag/logistics", "https://medium.com/feed/tag/logistics"),
        ("https://acme.medium.com/", "https://acme.medium.com/feed"),
        ("https://acme.substack.com", "https://acme.substack.com/feed"),
        ("https://acme.substack.com/p/our-series-a", "https://acme.substack.com/feed"),
        ("https://github.com/acme/widget", "https://github.com/acme/widget/releases.atom"),
        ("https://github.com/acme/widget.git", "https://github.com/acme/widget/releases.atom"),
        ("https://github.com/acme/widget/releases", "https://github.com/acme/widget/releases.atom"),
    ],
)
def test_profile_urls_map_to_their_feeds(url: str, feed: str) -> None:
    assert profile_feed(url) == feed


@pytest.mark.parametrize(
    "url",
    [
        "https://acme.example/",
        "https://acme.example/blog/post",
        "https://mastodon.social/@acme.rss",  # already the feed
        "https://github.com/acme/widget/releases.atom",
        "https://github.com/acme",  # a user, not a repository
        "https://github.com/orgs/acme",
        "https://github.com/features/actions",
        "https://www.youtube.com/@acme",  # a handle: the channel id is in the page, not the URL
        "https://www.youtube.com/feeds/videos.xml?channel_id=UCx",
        "https://substack.com/@acme",
        "https://www.tiktok.com/@acme",
        "https://www.threads.net/@acme",
        "https://medium.com/feed/@acme",
        "https://medium.com/p/1a2b3c",
        "https://bsky.app/",
    ],
)
def test_urls_that_are_no_known_profile_map_to_nothing(url: str) -> None:
    assert profile_feed(url) is None


def test_youtube_handles_need_their_page() -> None:
    assert is_youtube_page("https://www.youtube.com/@acme")
    assert is_youtube_page("https://www.youtube.com/c/AcmeCorp")
    assert not is_youtube_page(f"https://www.youtube.com/channel/{CHANNEL}")
    assert not is_youtube_page("https://acme.example/@acme")


@pytest.mark.parametrize(
    "html",
    [
        f'<meta itemprop="channelId" content="{CHANNEL}">',
        f'<meta itemprop="identifier" content="{CHANNEL}">',
        f'<link rel="canonical" href="https://www.youtube.com/channel/{CHANNEL}">',
        f'<script>var ytInitialData = {{"metadata":{{"externalId":"{CHANNEL}","title":"Acme"}}}};</script>',
        f'<script>{{"browseId": "{CHANNEL}"}}</script>',
    ],
)
def test_youtube_channel_id_is_read_from_the_page(html: str) -> None:
    assert youtube_channel_id(page(html)) == CHANNEL


def test_youtube_page_without_channel_id() -> None:
    assert youtube_channel_id(page('<meta itemprop="channelId" content="not-an-id">')) is None


def test_google_news_feed_searches_the_exact_name_in_the_customer_language() -> None:
    url = google_news_feed("Nimbus Logistics", "es")
    assert url == "https://news.google.com/rss/search?q=%22Nimbus%20Logistics%22&hl=es-ES&gl=ES&ceid=ES:es"
    assert "hl=en-US" in google_news_feed("Acme")


# <link rel="alternate"> in a page: pure parsing.


def test_alternate_links_resolve_relative_hrefs_and_keep_titles() -> None:
    html = page(
        '<link rel="alternate" type="application/rss+xml" title="Acme news" href="/feed.xml">'
        '<link rel="stylesheet" href="/style.css">'
        '<link rel="alternate" hreflang="es" href="/es/">'
    )
    feeds, title = alternate_links(html, "https://acme.example/blog/")
    assert [(c.url, c.title) for c in feeds] == [("https://acme.example/feed.xml", "Acme news")]
    assert title == "Acme"


def test_alternate_links_honour_base_href() -> None:
    html = page(
        '<base href="https://cdn.acme.example/site/"><link rel="alternate" type="application/atom+xml" href="atom.xml">'
    )
    feeds, _ = alternate_links(html, "https://acme.example/")
    assert [c.url for c in feeds] == ["https://cdn.acme.example/site/atom.xml"]


def test_relative_base_href_resolves_against_the_page() -> None:
    html = page('<base href="/blog/"><link rel="alternate" type="application/rss+xml" href="rss">')
    feeds, _ = alternate_links(html, "https://acme.example/blog/post-1")
    assert [c.url for c in feeds] == ["https://acme.example/blog/rss"]


def test_several_feeds_are_ranked_main_first() -> None:
    html = page(
        '<link rel="alternate" type="application/rss+xml" title="Acme » Comments Feed" href="/comments/feed/">'
        '<link rel="alternate" type="application/rss+xml" title="Partner news" href="https://partner.example/feed">'
        '<link rel="alternate" type="application/rss+xml" title="Acme » Feed" href="/feed/">'
        '<link rel="alternate" type="application/atom+xml" title="Acme (Atom)" href="/feed/atom/">'
        '<link rel="alternate" type="application/rss+xml" title="Acme » Feed" href="/feed/">'  # repeated
    )
    feeds, _ = alternate_links(html, "https://www.acme.example/")
    assert [c.url for c in feeds] == [
        "https://www.acme.example/feed/",
        "https://www.acme.example/feed/atom/",
        "https://partner.example/feed",
        "https://www.acme.example/comments/feed/",
    ]


def test_json_feed_is_a_feed_but_other_json_is_not() -> None:
    html = page(
        '<link rel="alternate" type="application/json" href="/wp-json/wp/v2/pages/2">'
        '<link rel="alternate" type="application/json+oembed" href="/oembed?url=x">'
        '<link rel="alternate" type="application/feed+json" title="JSON Feed" href="/feed.json">'
        '<link rel="alternate" type="application/json" href="/blog/feed.json">'
    )
    feeds, _ = alternate_links(html, "https://acme.example/")
    assert [c.url for c in feeds] == ["https://acme.example/feed.json", "https://acme.example/blog/feed.json"]


def test_usual_feed_urls_try_the_blog_folder_first() -> None:
    urls = usual_feed_urls("https://acme.example/blog/")
    assert urls[:2] == ["https://acme.example/blog/feed", "https://acme.example/blog/feed/"]
    assert "https://acme.example/feed/" in urls and "https://acme.example/rss/" in urls
    assert "https://acme.example/index.xml" in urls and "https://acme.example/feed.json" in urls
    assert urls.index("https://acme.example/blog/atom.xml") < urls.index("https://acme.example/feed")
    assert usual_feed_urls("https://acme.example")[0] == "https://acme.example/feed"


# discover() and `source add` against a real local server.

LOCAL = FetchSettings(allow_private_networks=True, connect_timeout=2.0, total_timeout=5.0)


def run_discover(url: str, fetcher_class: type[SafeFetcher] = SafeFetcher) -> Discovery:
    async def run() -> Discovery:
        fetcher = fetcher_class(LOCAL)
        try:
            return await discover(url, fetcher)
        finally:
            await fetcher.aclose()

    return asyncio.run(run())


@pytest.fixture
def local(app: App) -> App:
    app.settings = replace(app.settings, fetch=LOCAL)
    with app.transaction() as session:
        add_rep(session, "ana@example.com", "Ana")
        add_customer(session, "Acme Corp", rep_email="ana@example.com", language="es")
    return app


def sources(app: App) -> list[tuple[str, str, str]]:
    with app.transaction() as session:
        return [(s.kind, s.locator, s.title) for s in session.scalars(select(Source).order_by(Source.id))]


def count(app: App) -> int:
    with app.transaction() as session:
        return int(session.scalar(select(func.count()).select_from(Source)) or 0)


def test_source_add_of_a_feed_url_adds_it_as_is(local: App, invoke: Invoke) -> None:
    with serve() as (base, routes):
        routes["/feed.xml"] = Reply(
            rss([{"title": "Hi", "link": "https://acme.example/hi"}], title="Acme blog"), headers=RSS
        )
        result = invoke("source", "add", "Acme Corp", f"{base}/feed.xml")
    assert result.exit_code == 0, result.output
    assert f"added {base}/feed.xml as rss ({base}/feed.xml is a feed)" in result.output
    assert sources(local) == [("rss", f"{base}/feed.xml", "Acme blog")]


def test_source_add_of_a_homepage_finds_its_declared_feed(local: App, invoke: Invoke) -> None:
    with serve() as (base, routes):
        routes["/"] = Reply(
            page('<link rel="alternate" type="application/rss+xml" href="/news/feed.xml">'), headers=HTML
        )
        routes["/news/feed.xml"] = Reply(rss([], title="Acme news"), headers=RSS)
        result = invoke("source", "add", "Acme Corp", f"{base}/")
    assert result.exit_code == 0, result.output
    assert f"added {base}/news/feed.xml as rss ({base}/ has a feed at {base}/news/feed.xml)" in result.output
    assert sources(local) == [("rss", f"{base}/news/feed.xml", "Acme")]
    assert routes.hits("/feed") == 0  # a declared feed needs no probing


def test_source_add_names_the_other_feeds_it_found(local: App, invoke: Invoke) -> None:
    with serve() as (base, routes):
        routes["/"] = Reply(
            page(
                '<link rel="alternate" type="application/rss+xml" title="Comments" href="/comments/feed/">'
                '<link rel="alternate" type="application/rss+xml" title="Posts" href="/feed/">'
                '<link rel="alternate" type="application/feed+json" title="Posts (JSON)" href="/feed.json">'
            ),
            headers=HTML,
        )
        result = invoke("source", "add", "Acme Corp", f"{base}/")
    assert result.exit_code == 0, result.output
    lines = result.output.splitlines()
    assert lines[0].startswith(f"added {base}/feed/ as rss")
    assert lines[1] == f"other feeds found: {base}/feed.json, {base}/comments/feed/"
    assert lines[2] == "to watch one of them too: listener source add 'Acme Corp' URL --kind rss"
    assert [s[1] for s in sources(local)] == [f"{base}/feed/"]


def test_json_feed_url_is_added_as_a_feed(local: App, invoke: Invoke) -> None:
    body = b'{"version": "https://jsonfeed.org/version/1.1", "title": "Acme JSON", "items": []}'
    with serve() as (base, routes):
        routes["/feed.json"] = Reply(body, headers={"Content-Type": "application/feed+json"})
        result = invoke("source", "add", "Acme Corp", f"{base}/feed.json")
    assert result.exit_code == 0, result.output
    assert sources(local) == [("rss", f"{base}/feed.json", "Acme JSON")]


def test_usual_paths_are_probed_when_the_page_declares_no_feed(local: App, invoke: Invoke) -> None:
    with serve() as (base, routes):
        routes["/"] = Reply(page(""), headers=HTML)
        routes["/feed"] = Reply(b"", 301, headers={"Location": "/feed/"})  # WordPress
        routes["/feed/"] = Reply(rss([], title="Acme WP"), headers=RSS)
        routes["/atom.xml"] = Reply(rss([], title="Later in the list"), headers=RSS)
        routes["/rss"] = Reply(page(""), headers=HTML)  # a catch-all page is not a feed
        result = invoke("source", "add", "Acme Corp", f"{base}/")
    assert result.exit_code == 0, result.output
    assert sources(local) == [("rss", f"{base}/feed/", "Acme WP")]


def test_usual_paths_under_a_blog_folder(local: App) -> None:
    with serve() as (base, routes):
        routes["/blog/"] = Reply(page(""), headers=HTML)
        routes["/blog/index.xml"] = Reply(rss([], title="Hugo blog"), headers=RSS)
        routes["/rss.xml"] = Reply(rss([], title="Site-wide"), headers=RSS)
        found = run_discover(f"{base}/blog/")
    assert [(c.url, c.title) for c in found.feeds] == [(f"{base}/blog/index.xml", "Hugo blog")]


def test_no_feed_found_says_so_and_offers_kind_page(local: App, invoke: Invoke) -> None:
    with serve() as (base, routes):
        routes["/news"] = Reply(page("", '<a href="/news/one">One story</a>'), headers=HTML)
        result = invoke("source", "add", "Acme Corp", f"{base}/news")
    assert result.exit_code == 2 and result.stdout == ""
    # Only the CLI's own lines: the test server's thread may log a client that hung up after a 404 probe.
    (line,) = [line for line in result.stderr.splitlines() if line.startswith("error: ")]
    assert f"no feed found at {base}/news" in line
    assert f"--kind page: {base}/news" in line
    assert count(local) == 0


def test_mastodon_profile_is_added_as_its_rss(local: App, invoke: Invoke) -> None:
    with serve() as (base, routes):
        routes["/@acme.rss"] = Reply(rss([], title="Acme (@acme@instance)"), headers=RSS)
        routes["/@acme"] = Reply(page(""), headers=HTML)
        result = invoke("source", "add", "Acme Corp", f"{base}/@acme")
    assert result.exit_code == 0, result.output
    assert sources(local) == [("rss", f"{base}/@acme.rss", "Acme (@acme@instance)")]
    assert routes.hits("/@acme") == 0  # the profile's feed answered: the page itself was not needed


def test_profile_whose_feed_fails_falls_back_to_the_page(local: App) -> None:
    with serve() as (base, routes):
        routes["/@acme"] = Reply(page('<link rel="alternate" type="application/atom+xml" href="/users/acme.atom">'))
        routes["/users/acme.atom"] = Reply(rss([]), headers=RSS)
        found = run_discover(f"{base}/@acme")  # /@acme.rss answers 404
    assert [c.url for c in found.feeds] == [f"{base}/users/acme.atom"]


class HostsHere(SafeFetcher):
    """Sends requests for https://<any host> to the local server (the code under test still sees the real URLs)."""

    local_base = ""

    async def get(self, url: str, headers: Mapping[str, str] | None = None) -> FetchResponse:
        parts = urlsplit(url)
        local = urlunsplit(("", "", parts.path, parts.query, "")) if parts.scheme == "https" else url
        return await super().get(self.local_base + local if local != url else url, headers)


@pytest.mark.parametrize(
    ("profile", "feed_path"),
    [
        ("https://bsky.app/profile/acme.bsky.social", "/profile/acme.bsky.social/rss"),
        ("https://github.com/acme/widget", "/acme/widget/releases.atom"),
        ("https://medium.com/@acme", "/feed/@acme"),
        ("https://acme.substack.com/p/series-a", "/feed"),
        ("https://mastodon.social/@acme", "/@acme.rss"),
    ],
)
def test_profiles_are_fetched_at_their_feed(local: App, profile: str, feed_path: str) -> None:
    with serve() as (base, routes):
        routes[feed_path] = Reply(rss([], title="The profile's feed"), headers=RSS)
        HostsHere.local_base = base
        found = run_discover(profile, HostsHere)
        assert [(c.url, c.title) for c in found.feeds] == [(profile_feed(profile), "The profile's feed")]
        assert [path for path, _ in routes.requests] == [feed_path]  # the profile page itself was not needed


def test_youtube_handle_page_gives_the_channel_feed(local: App) -> None:
    youtube_page = page(
        f'<link rel="canonical" href="https://www.youtube.com/channel/{CHANNEL}">'
        f'<link rel="alternate" type="application/rss+xml" title="RSS" '
        f'href="https://www.youtube.com/feeds/videos.xml?channel_id={CHANNEL}">'
    )
    with serve() as (base, routes):
        routes["/@acme"] = Reply(youtube_page, headers=HTML)
        HostsHere.local_base = base
        found = run_discover("https://www.youtube.com/@acme", HostsHere)
    assert [c.url for c in found.feeds] == [f"https://www.youtube.com/feeds/videos.xml?channel_id={CHANNEL}"]
    assert routes.hits("/@acme.rss") == 0  # a YouTube handle is not a Mastodon profile


def test_youtube_handle_page_with_the_id_only_in_its_script(local: App) -> None:
    script = f'<script>var ytInitialData = {{"header":{{"channelId":"{CHANNEL}"}}}};</script>'
    with serve() as (base, routes):
        routes["/c/AcmeCorp"] = Reply(page("", script), headers=HTML)
        HostsHere.local_base = base
        found = run_discover("https://www.youtube.com/c/AcmeCorp", HostsHere)
    assert [c.url for c in found.feeds] == [f"https://www.youtube.com/feeds/videos.xml?channel_id={CHANNEL}"]


def test_loopback_url_is_refused_with_default_settings(app: App, invoke: Invoke) -> None:
    with app.transaction() as session:
        add_rep(session, "ana@example.com", "Ana")
        add_customer(session, "Acme Corp", rep_email="ana@example.com")
    with serve() as (base, routes):
        routes["/feed.xml"] = Reply(rss([]), headers=RSS)
        for extra in ((), ("--kind", "rss"), ("--kind", "page")):
            result = invoke("source", "add", "Acme Corp", f"{base}/feed.xml", *extra)
            assert result.exit_code == 2
            assert result.output.count("\n") == 1
            assert "loopback or private network address" in result.output
            assert "fetch.allow_private_networks" in result.output
        assert routes.requests == []
    assert count(app) == 0


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (("Nobody Inc", "https://acme.example/feed"), "no customer named"),
        (("Acme Corp", "htp:/acme"), "cannot tell what"),
        (("Acme Corp", "https://"), "is not an http(s) URL"),
        (("Acme Corp", "ftp://acme.example/feed", "--kind", "rss"), "is not an http(s) URL"),
        (("Acme Corp", ""), "a source needs a locator"),
        (("Acme Corp", "just words"), "cannot tell what"),
        (("Acme Corp", "--google-news", "--kind", "page"), "--google-news adds an rss source"),
    ],
)
def test_bad_input_exits_2_with_one_line_and_changes_nothing(
    local: App, invoke: Invoke, args: tuple[str, ...], message: str
) -> None:
    result = invoke("source", "add", *args)
    assert result.exit_code == 2
    assert message in result.output
    assert result.output.count("\n") == 1 and result.output.startswith("error: ")
    assert count(local) == 0


def test_duplicate_source_is_refused_before_any_fetch(local: App, invoke: Invoke) -> None:
    with serve() as (base, routes):
        routes["/feed.xml"] = Reply(rss([]), headers=RSS)
        assert invoke("source", "add", "Acme Corp", f"{base}/feed.xml").exit_code == 0
        hits = len(routes.requests)
        for spelling in (f"{base}/feed.xml", f"{base.upper().replace('HTTP', 'http')}/feed.xml#top"):
            result = invoke("source", "add", "acme corp", spelling)
            assert result.exit_code == 2
            assert result.output.count("\n") == 1 and "already has rss source" in result.output
        assert len(routes.requests) == hits
    assert count(local) == 1


def test_duplicate_found_through_discovery_is_refused(local: App, invoke: Invoke) -> None:
    with serve() as (base, routes):
        routes["/"] = Reply(page('<link rel="alternate" type="application/rss+xml" href="/feed.xml">'), headers=HTML)
        routes["/feed.xml"] = Reply(rss([]), headers=RSS)
        assert invoke("source", "add", "Acme Corp", f"{base}/feed.xml").exit_code == 0
        result = invoke("source", "add", "Acme Corp", f"{base}/")
    assert result.exit_code == 2 and "already has rss source" in result.output
    assert count(local) == 1


def test_unreachable_url_says_what_to_do(local: App, invoke: Invoke) -> None:
    with serve() as (base, _):
        result = invoke("source", "add", "Acme Corp", f"{base}/gone")
    assert result.exit_code == 2
    assert "cannot read" in result.output and "HTTP 404" in result.output and "--kind rss" in result.output
    assert count(local) == 0


def test_google_news_is_one_flag_away(local: App, invoke: Invoke) -> None:
    result = invoke("source", "add", "Acme Corp", "--google-news")
    assert result.exit_code == 0, result.output
    assert "added a Google News search for 'Acme Corp'" in result.output
    assert sources(local) == [("rss", google_news_feed("Acme Corp", "es"), "Google News: Acme Corp")]
    again = invoke("source", "add", "Acme Corp", "--google-news")
    assert again.exit_code == 2 and "already has" in again.output
    words = invoke("source", "add", "Acme Corp", "Acme  Widget", "--google-news")
    assert words.exit_code == 0 and sources(local)[-1][1] == google_news_feed("Acme Widget", "es")


# Wild input never breaks the pure parts.

URLISH = st.builds(
    lambda scheme, host, path: f"{scheme}://{host}/{path}",
    st.sampled_from(["http", "https", "HTTP", "ftp", ""]),
    st.sampled_from(
        ["mastodon.social", "bsky.app", "www.youtube.com", "github.com", "medium.com", "a.substack.com", ""]
    ),
    st.text(alphabet=st.characters(codec="utf-8", exclude_categories=("Cs",)), max_size=60),
)


@settings(max_examples=300, deadline=None)
@given(st.one_of(URLISH, st.text(max_size=80)))
def test_profile_feed_never_raises_and_answers_http_urls(url: str) -> None:
    feed = profile_feed(url)
    assert feed is None or feed.startswith(("http://", "https://"))


@settings(max_examples=200, deadline=None)
@given(st.binary(max_size=2000), st.text(max_size=300))
def test_alternate_links_and_channel_ids_survive_any_bytes(noise: bytes, text: str) -> None:
    html = page(f'<link rel="alternate" type="application/rss+xml" href="{text}">'.encode("utf-8", "replace").decode())
    for body in (noise, html, noise + html):
        feeds, _ = alternate_links(body, "https://acme.example/")
        assert all(c.url.startswith(("http://", "https://")) for c in feeds)
        youtube_channel_id(body)


@settings(max_examples=200, deadline=None)
@given(st.text(max_size=200))
def test_normalize_url_is_stable(text: str) -> None:
    url = f"https://Acme.Example:443/{text}"
    try:
        once = normalize_url(url)
    except ValueError:
        return
    assert normalize_url(once) == once and once.startswith("https://acme.example/")


@pytest.mark.parametrize(
    "url",
    [
        "http://2130706433/feed",
        "http://0x7f000001/feed",
        "http://127.1/feed",
        "http://[::1]/feed",
        "http://localhost./f",
    ],
)
def test_loopback_spellings_are_refused_without_fetching(local: App, url: str) -> None:
    strict = replace(local.settings, fetch=FetchSettings())
    with pytest.raises(BadInput, match="loopback or private network address"):
        resolve_locator(strict, url, "rss")
    assert resolve_locator(local.settings, url, "rss").kind == "rss"  # allowed when private networks are


def test_a_site_without_scheme_is_taken_as_https(local: App) -> None:
    found = Discovery(feeds=(Candidate("https://acme.example/blog/feed/", "Acme"),))
    resolved = resolve_locator(local.settings, "acme.example/blog", discovery=found)
    assert (resolved.kind, resolved.locator, resolved.title) == ("rss", "https://acme.example/blog/feed/", "Acme")
    assert (
        resolved.message
        == "added https://acme.example/blog/feed/ as rss (https://acme.example/blog has a feed at https://acme.example/blog/feed/)"
    )


def test_a_slow_site_costs_one_time_limit_not_one_per_usual_path() -> None:
    quick = FetchSettings(allow_private_networks=True, connect_timeout=1.0, total_timeout=1.5)

    async def run(url: str) -> Discovery:
        fetcher = SafeFetcher(quick)
        try:
            return await discover(url, fetcher)
        finally:
            await fetcher.aclose()

    with serve() as (base, routes):
        routes["/"] = Reply(page(""), headers=HTML)
        for path in ("/feed", "/feed/", "/rss"):  # three of the four slots per host hang...
            routes[path] = hang(10)
        routes["/atom.xml"] = Reply(rss([], title="Atom here"), headers=RSS)  # ...the fourth gets here
        started = time.monotonic()
        found = asyncio.run(run(f"{base}/"))
        assert [c.url for c in found.feeds] == [f"{base}/atom.xml"]
        assert time.monotonic() - started < 3

        for url in usual_feed_urls(f"{base}/"):
            routes[url.removeprefix(base)] = hang(10)  # /?feed=rss2 too; the page itself still answers
        started = time.monotonic()
        assert asyncio.run(run(f"{base}/")).feeds == ()
        assert time.monotonic() - started < 3  # not 24 probes x 1.5 s


def test_alternate_link_titles_in_the_page_charset() -> None:
    html = (
        '<html><head><meta charset="iso-8859-1"><title>Logística</title>'
        '<link rel="alternate" type="application/rss+xml" title="Noticias de España" href="/rss"></head></html>'
    )
    feeds, title = alternate_links(html.encode("latin-1"), "https://acme.example/")
    assert (feeds[0].title, title) == ("Noticias de España", "Logística")
