"""The fast RSS 2.0 / Atom 1.0 path (connectors/fastfeed.py) gives exactly what the feedparser path gives.

The safety net: every file of feedparser's corpus (wellformed/, encoding/, entities/) that the fast path accepts is
parsed both ways, with the headers its `Header:` comment names, and the two ParsedFeeds (every post, every field)
must be equal. Plus real-shaped feeds, and documents that must fall back.
"""

from __future__ import annotations

import re
from datetime import UTC, datetime
from pathlib import Path

import pytest

from connectors import fastfeed
from connectors.feedparse import ParsedFeed, parse_feed

CORPUS = Path(__file__).resolve().parents[1].parent / "shared" / "corpus" / "feedparser"
CORPUS_DIRS = ("wellformed", "encoding", "entities")
NOW = datetime(2030, 5, 1, 12, 0, tzinfo=UTC)
URL = "https://blog.example.com/feeds/all.xml"
_HEADER = re.compile(rb"^Header:\s+([^:\r\n]+):(.+)$", re.MULTILINE)


def corpus_files() -> list[tuple[str, bytes, str]]:
    """(relative path, bytes, Content-Type) for every corpus file, as feedparser's own test server serves it."""
    files = []
    for top in CORPUS_DIRS:
        for path in sorted(p for p in (CORPUS / top).rglob("*") if p.is_file()):
            body = path.read_bytes()
            content_type = "application/xml"
            comment = body[: body.find(b"-->") + 3] if body.lstrip().startswith(b"<!--") else b""
            for name, value in _HEADER.findall(comment):
                if name.decode().strip().lower() == "content-type":
                    content_type = value.decode("latin-1").strip()
            files.append((path.relative_to(CORPUS).as_posix(), body, content_type))
    return files


def both(body: bytes, url: str = URL, content_type: str = "application/xml") -> tuple[ParsedFeed, ParsedFeed]:
    return (
        parse_feed(body, url, content_type, NOW, fast=True),
        parse_feed(body, url, content_type, NOW, fast=False),
    )


def accepts(body: bytes, url: str = URL, content_type: str = "application/xml") -> bool:
    """Whether parse_feed would take the fast path for these bytes (the same gate as connectors.feedparse)."""
    from feedparser.encodings import convert_to_utf8

    from connectors.xmlguard import DTDRefused, without_dtd

    headers = {"content-type": content_type or "application/xml", "content-location": url}
    result: dict[str, object] = {"bozo": False, "encoding": "", "headers": headers}
    utf8 = convert_to_utf8(dict(headers), body, result)
    try:
        clean = without_dtd(utf8)
    except DTDRefused:
        return False  # refused before any parser, fast or not
    usual = not result.get("bozo") and clean is utf8
    return (
        usual
        and fastfeed.encoding_agrees(body, content_type, str(result["encoding"]))
        and (fastfeed.parse(clean, url) is not None)
    )


@pytest.mark.skipif(not CORPUS.is_dir(), reason=f"feedparser's corpus is not at {CORPUS}")
def test_fast_path_equals_feedparser_on_the_corpus() -> None:
    files = corpus_files()
    accepted, differences = [], []
    for rel, body, content_type in files:
        url = f"http://127.0.0.1:8097/{rel}"
        if not accepts(body, url, content_type):
            continue
        accepted.append(rel)
        fast, slow = both(body, url, content_type)
        if fast != slow:
            differences.append(f"{rel}:\n  fast: {fast}\n  slow: {slow}")
    print(f"\nfast path: accepted {len(accepted)} of {len(files)} corpus files; {len(differences)} differ")
    assert not differences, "\n".join(differences[:20])
    assert len(accepted) > 300  # the fast path is worth having only if it takes the ordinary feeds


RSS = b"""<?xml version="1.0" encoding="UTF-8"?>
<rss version="2.0" xmlns:content="http://purl.org/rss/1.0/modules/content/"
     xmlns:dc="http://purl.org/dc/elements/1.1/" xmlns:atom="http://www.w3.org/2005/Atom"
     xmlns:wfw="http://wellformedweb.org/CommentAPI/" xmlns:slash="http://purl.org/rss/1.0/modules/slash/">
<channel>
  <title>Acme &amp; Co. blog</title>
  <atom:link href="https://blog.example.com/feed/" rel="self" type="application/rss+xml" />
  <link>https://blog.example.com/</link>
  <description>News from Acme</description>
  <lastBuildDate>Mon, 06 Jan 2025 10:00:00 +0000</lastBuildDate>
  <language>en-US</language>
  <sy:updatePeriod xmlns:sy="http://purl.org/rss/1.0/modules/syndication/">hourly</sy:updatePeriod>
  <image><url>https://blog.example.com/logo.png</url><title>Acme</title><link>https://blog.example.com/</link></image>
  <item>
    <title>Acme raises $20M &#8211; Series B</title>
    <link>/2025/01/series-b?utm_source=rss&amp;id=7</link>
    <comments>https://blog.example.com/2025/01/series-b#comments</comments>
    <dc:creator><![CDATA[Jane Doe]]></dc:creator>
    <pubDate>Mon, 06 Jan 2025 09:30:00 +0000</pubDate>
    <category><![CDATA[News]]></category>
    <guid isPermaLink="false">https://blog.example.com/?p=123</guid>
    <description><![CDATA[<p>Led by Northwind, the round funds hiring&#8230;</p>]]></description>
    <content:encoded><![CDATA[<p>Led by <a href="/northwind">Northwind</a>, the round funds
      hiring in sales.</p><script>alert(1)</script><p>More soon.</p>]]></content:encoded>
    <wfw:commentRss>https://blog.example.com/2025/01/series-b/feed/</wfw:commentRss>
    <slash:comments>3</slash:comments>
    <enclosure url="https://cdn.example.com/deck.pdf" length="1234" type="application/pdf" />
  </item>
  <item>
    <title>Spring webinar</title>
    <guid>posts/webinar</guid>
    <description>Join our COO &lt;b&gt;live&lt;/b&gt;.</description>
    <pubDate>Tue, 07 Jan 2025 08:00:00 GMT</pubDate>
    <author>jane@example.com (Jane Doe)</author>
  </item>
</channel>
</rss>
"""

ATOM = """<?xml version="1.0" encoding="utf-8"?>
<feed xmlns="http://www.w3.org/2005/Atom" xml:lang="fr-FR">
  <title type="text">Le blog d'Acme</title>
  <link href="https://acme.example.fr/" />
  <link rel="self" href="https://acme.example.fr/atom.xml" />
  <id>urn:uuid:60a76c80-d399-11d9-b93C-0003939e0af6</id>
  <updated>2025-01-06T10:00:00Z</updated>
  <author><name>Acme</name></author>
  <entry>
    <title type="html">Acme ouvre &lt;em&gt;Madrid&lt;/em&gt;</title>
    <link rel="alternate" type="text/html" href="/2025/madrid"/>
    <link rel="enclosure" href="https://cdn.example.fr/madrid.jpg" type="image/jpeg"/>
    <id>tag:acme.example.fr,2025:madrid</id>
    <published>2025-01-06T09:00:00+01:00</published>
    <updated>2025-01-07T09:00:00+01:00</updated>
    <author><name>Marie Curie</name><email>marie@example.fr</email></author>
    <summary>Une nouvelle équipe.</summary>
    <content type="html">&lt;p&gt;La nouvelle équipe servira l'Espagne et le Portugal.&lt;/p&gt;</content>
    <category term="news"/>
  </entry>
  <entry>
    <title>Sans lien</title>
    <id>https://acme.example.fr/2025/sans-lien</id>
    <updated>2025-01-05T09:00:00Z</updated>
    <summary type="text">Résumé seulement.</summary>
  </entry>
</feed>
""".encode()


def test_real_shaped_rss_2() -> None:
    assert accepts(RSS)
    fast, slow = both(RSS)
    assert fast == slow
    assert fast.title == "Acme & Co. blog" and fast.lang == "en" and fast.link == "https://blog.example.com/"
    first, second = fast.posts
    assert first.title == "Acme raises $20M – Series B"
    assert first.url == "https://blog.example.com/2025/01/series-b?id=7"
    assert first.text == "Led by Northwind, the round funds\nhiring in sales.\nMore soon."  # content:encoded wins
    assert first.external_id == "https://blog.example.com/?p=123"
    assert first.author == "Jane Doe"
    assert first.links == ("https://cdn.example.com/deck.pdf",)
    assert first.published_at == datetime(2025, 1, 6, 9, 30, tzinfo=UTC)
    # a permalink guid is the link, resolved against the feed URL like feedparser does
    assert second.url == "https://blog.example.com/feeds/posts/webinar"
    assert second.external_id == "https://blog.example.com/feeds/posts/webinar"
    assert second.text == "Join our COO live."
    assert second.author == "jane@example.com (Jane Doe)"


def test_text_xml_without_charset() -> None:
    """text/xml with no charset means US-ASCII: an ASCII document is read fast, a non-ASCII one by feedparser."""
    assert accepts(RSS, URL, "text/xml")
    assert not accepts(ATOM, URL, "text/xml")
    for body in (RSS, ATOM):
        fast, slow = both(body, URL, "text/xml")
        assert fast == slow


def test_real_shaped_atom_1() -> None:
    assert accepts(ATOM)
    fast, slow = both(ATOM)
    assert fast == slow
    assert fast.title == "Le blog d'Acme" and fast.lang == "fr" and fast.link == "https://acme.example.fr/"
    first, second = fast.posts
    assert first.title == "Acme ouvre Madrid"
    assert first.url == "https://blog.example.com/2025/madrid"  # relative: against the URL it was served from
    assert first.text == "La nouvelle équipe servira l'Espagne et le Portugal."
    assert first.author == "Marie Curie (marie@example.fr)"
    assert first.links == ("https://cdn.example.fr/madrid.jpg",)
    assert first.published_at == datetime(2025, 1, 6, 8, 0, tzinfo=UTC)
    assert first.updated_at == datetime(2025, 1, 7, 8, 0, tzinfo=UTC)
    # no alternate link: feedparser makes the (permalink) id the link
    assert second.url == "https://acme.example.fr/2025/sans-lien"
    assert second.text == "Résumé seulement."


@pytest.mark.parametrize(
    "body",
    [
        # a DOCTYPE with an internal entity: the feed is refused before any parser sees it
        b'<?xml version="1.0"?><!DOCTYPE rss [<!ENTITY boom "EXPANDED">]>'
        b"<rss version='2.0'><channel><title>t</title><item><title>a &boom; b</title>"
        b"<link>https://x.example/1</link></item></channel></rss>",
        # a billion laughs
        b'<?xml version="1.0"?><!DOCTYPE lolz [<!ENTITY lol "lol"><!ENTITY lol2 "&lol;&lol;&lol;&lol;">]>'
        b"<rss version='2.0'><channel><item><title>&lol2;</title><link>https://x.example/1</link></item>"
        b"</channel></rss>",
    ],
)
def test_dtds_are_refused_and_expand_nothing(body: bytes) -> None:
    assert fastfeed.parse(body, URL) is None  # even handed the raw bytes, the fast path refuses a DTD
    for parsed in both(body):
        assert parsed.error == "the feed declares a DTD; Listener never processes DTDs"
        assert "EXPANDED" not in repr(parsed) and "lollol" not in repr(parsed) and parsed.posts == ()


@pytest.mark.parametrize(
    ("body", "content_type"),
    [
        (b"<rss version='0.91'><channel><item><title>x</title></item></channel></rss>", "application/xml"),
        (b"<rdf:RDF xmlns:rdf='http://www.w3.org/1999/02/22-rdf-syntax-ns#'/>", "application/xml"),
        (b"<rss version='2.0'><channel xml:base='http://a.example/'><item><link>x</link></item></channel></rss>", ""),
        (b"<rss version='2.0'><channel><item><title>a <b>b</b></title></item></channel></rss>", ""),
        (b"<rss version='2.0'><channel><item><title>a</title><title>b</title></item></channel></rss>", ""),
        ("<rss version='2.0'><channel><item><title>é</title></item></channel></rss>".encode("latin-1"), ""),
        (
            b"<?xml version='1.0' encoding='utf-8'?><rss version='2.0'><channel><item><title>x</title></item>"
            b"</channel></rss>",
            "application/xml; charset=iso-8859-1",
        ),
        (
            b"<feed xmlns='http://www.w3.org/2005/Atom'><entry><content type='xhtml'><div "
            b"xmlns='http://www.w3.org/1999/xhtml'>x</div></content></entry></feed>",
            "",
        ),
        (
            b"<rss version='2.0' xmlns:itunes='http://www.itunes.com/dtds/podcast-1.0.dtd'><channel><item>"
            b"<itunes:summary>s</itunes:summary></item></channel></rss>",
            "",
        ),
        (b"<rss version='2.0'><channel><item><title>x</title></channel></rss>", ""),  # not well-formed
    ],
)
def test_unusual_documents_fall_back_to_feedparser(body: bytes, content_type: str) -> None:
    assert not accepts(body, URL, content_type)
    fast, slow = both(body, URL, content_type)
    assert fast == slow


_RSS_PARTS = [
    "<title>Plain title</title>",
    "<title>  Caf\u00c3\u00a9 &amp; cr\u00c3\u00a8me  </title>",  # UTF-8 read as Latin-1: feedparser repairs it
    "<title>&#x93;Quoted&#x94; &lt;b&gt;bold&lt;/b&gt;</title>",  # C1 controls: feedparser maps them as cp1252
    "<title></title>",
    "<dc:title>DC title</dc:title>",
    "<link>https://example.org/a?x=1&amp;y=2</link>",
    "<link>relative/path?utm_source=x&amp;b=2#frag</link>",
    "<link>https://example.org/q?a=1&amp;amp;b=2&amp;c;=3</link>",
    "<link></link>",
    "<link> </link>",
    "<atom:link rel='alternate' href='/alt'/>",
    "<atom:link rel='related' type='text/html' href='https://example.org/rel'/>",
    "<guid>https://example.org/guid-link</guid>",
    "<guid>../up/guid</guid>",
    "<guid isPermaLink='false'>urn:x:1</guid>",
    "<guid isPermaLink='true'>tag:example.org,2025:1</guid>",
    "<guid ispermalink='false'>lower-case attribute</guid>",
    "<description>Text &amp; more</description>",
    "<description><![CDATA[<p>Para <a href='/x'>link</a></p><p>two</p>]]></description>",
    "<description></description>",
    "<content:encoded><![CDATA[<div>Full <b>content</b> here</div>]]></content:encoded>",
    "<content:encoded></content:encoded>",
    "<pubDate>Mon, 06 Jan 2025 09:30:00 +0000</pubDate>",
    "<pubDate>2025-01-06T09:30:00Z</pubDate>",
    "<pubDate>not a date</pubDate>",
    "<pubDate>Sat, 01 Jan 1994 00:00:00 GMT</pubDate>",
    "<dc:date>2025-02-01T00:00:00+02:00</dc:date>",
    "<author>jane@example.org (Jane)</author>",
    "<dc:creator>Dr. &lt;Who&gt;</dc:creator>",
    "<category>News</category>",
    "<comments>/comments</comments>",
    "<comments>https://example.org/post#comments</comments>",
    "<comments>javascript:alert(1)</comments>",
    "<comments>  ../c?id=1&amp;x=2#respond </comments>",
    "<enclosure url='/media/a.mp3' length='1' type='audio/mpeg'/>",
    "<enclosure url='https://cdn.example.org/b.jpg' type='image/jpeg'/>",
    "<language>de-DE</language>",
    "<dc:language>pt_BR</dc:language>",
    "<source url='https://other.example/feed'>Other</source>",
    "<wfw:commentRss>https://example.org/c/feed</wfw:commentRss>",
    "<slash:comments>4</slash:comments>",
    "<feedburner:origLink>https://example.org/orig</feedburner:origLink>",
    "<media:content url='https://example.org/m.jpg' medium='image'/>",
    "<media:thumbnail url='https://example.org/t.jpg'/>",
    "<foo:bar xmlns:foo='http://unknown.example/ns'>x</foo:bar>",
    "<x:y xmlns:x='http://unknown.example/2' a='b'>text</x:y>",
]
_CHANNEL_PARTS = [
    "<title>Channel &amp; title</title>",
    "<link>https://example.org/home</link>",
    "<link>/relative-home</link>",
    "<atom:link href='https://example.org/feed' rel='self' type='application/rss+xml'/>",
    "<atom:link href='https://example.org/alt-home' rel='alternate'/>",
    "<language>fr</language>",
    "<description>About</description>",
    "<image><url>https://example.org/i.png</url><title>Img</title><link>https://example.org/img</link></image>",
    "<sy:updatePeriod>hourly</sy:updatePeriod>",
    "<guid>https://example.org/channel-guid</guid>",
]
_NAMESPACES_DECL = (
    "xmlns:content='http://purl.org/rss/1.0/modules/content/' xmlns:dc='http://purl.org/dc/elements/1.1/' "
    "xmlns:atom='http://www.w3.org/2005/Atom' xmlns:wfw='http://wellformedweb.org/CommentAPI/' "
    "xmlns:slash='http://purl.org/rss/1.0/modules/slash/' xmlns:media='http://search.yahoo.com/mrss/' "
    "xmlns:feedburner='http://rssnamespace.org/feedburner/ext/1.0' "
    "xmlns:sy='http://purl.org/rss/1.0/modules/syndication/'"
)


def test_fast_path_equals_feedparser_on_generated_rss() -> None:
    """Random real-world shapes (seeded): every document the fast path accepts gives feedparser's posts."""
    import random

    rng = random.Random(20251201)
    accepted = 0
    for n in range(400):
        channel = rng.sample(_CHANNEL_PARTS, rng.randint(0, 4))
        items = ["<item>" + "".join(rng.sample(_RSS_PARTS, rng.randint(1, 7))) + "</item>" for _ in range(3)]
        at = rng.randint(0, len(channel))
        lang = rng.choice(["", " xml:lang='es'"])
        body = (
            f"<?xml version='1.0' encoding='utf-8'?><rss version='2.0' {_NAMESPACES_DECL}{lang}><channel>"
            + "".join(channel[:at] + items + channel[at:])
            + "</channel></rss>"
        ).encode()
        url = rng.choice([URL, "http://example.net/dir/feed.rss"])
        if accepts(body, url):
            accepted += 1
            fast, slow = both(body, url)
            assert fast == slow, f"document {n}:\n{body.decode()}\nfast: {fast}\nslow: {slow}"
    assert accepted > 100


_ATOM_PARTS = [
    "<title>Atom title</title>",
    "<title type='html'>&lt;em&gt;Html&lt;/em&gt; &amp;amp; title</title>",
    "<title type='text'>  Caf\u00c3\u00a9  </title>",
    "<id>tag:example.org,2025:entry-1</id>",
    "<id>https://example.org/entry-id</id>",
    "<id>entry/relative-id</id>",
    "<link href='/e1'/>",
    "<link rel='alternate' type='text/html' href='https://example.org/e2?utm_medium=x&amp;k=v'/>",
    "<link rel='alternate' type='application/xhtml+xml' href='https://example.org/e3'/>",
    "<link rel='enclosure' href='https://cdn.example.org/e.mp3' length='5'/>",
    "<link rel='replies' type='application/atom+xml' href='/replies'/>",
    "<link rel='replies' type='text/html' href='/post#comments'/>",
    "<link rel='replies' type='text/html' href='javascript:alert(1)'/>",
    "<link rel='self' href='https://example.org/self'/>",
    "<published>2025-01-06T09:00:00+01:00</published>",
    "<updated>2025-01-07T09:00:00Z</updated>",
    "<updated>yesterday</updated>",
    "<author><name>Ann</name></author>",
    "<author><name>Bob</name><email>bob@example.org</email><uri>/bob</uri></author>",
    "<author><email>only@example.org</email></author>",
    "<author><uri>https://example.org/anon</uri></author>",
    "<contributor><name>Carl</name></contributor>",
    "<summary>Short &amp; sweet</summary>",
    "<summary type='html'>&lt;p&gt;Html summary&lt;/p&gt;</summary>",
    "<content type='html'>&lt;p&gt;Body &lt;b&gt;bold&lt;/b&gt;&lt;/p&gt;</content>",
    "<content>Plain body</content>",
    "<content type='text'></content>",
    "<category term='x' label='X'/>",
    "<rights>(c) me</rights>",
    "<thr:total xmlns:thr='http://purl.org/syndication/thread/1.0'>2</thr:total>",
]
_FEED_PARTS = [
    "<title>Feed</title>",
    "<link href='https://example.org/'/>",
    "<link rel='self' href='https://example.org/atom'/>",
    "<id>https://example.org/feed-id</id>",
    "<id>urn:uuid:1</id>",
    "<updated>2025-01-01T00:00:00Z</updated>",
    "<author><name>Feed author</name></author>",
    "<subtitle type='html'>&lt;b&gt;sub&lt;/b&gt;</subtitle>",
    "<generator uri='https://gen.example'>Gen</generator>",
]


def test_fast_path_equals_feedparser_on_generated_atom() -> None:
    import random

    rng = random.Random(51)
    accepted = 0
    for n in range(400):
        head = rng.sample(_FEED_PARTS, rng.randint(0, 5))
        entries = ["<entry>" + "".join(rng.sample(_ATOM_PARTS, rng.randint(1, 8))) + "</entry>" for _ in range(3)]
        lang = rng.choice(["", " xml:lang='en-GB'", " xml:lang=''"])
        body = (
            f"<?xml version='1.0' encoding='utf-8'?><feed xmlns='http://www.w3.org/2005/Atom'{lang}>"
            + "".join(head + entries)
            + "</feed>"
        ).encode()
        if accepts(body):
            accepted += 1
            fast, slow = both(body)
            assert fast == slow, f"document {n}:\n{body.decode()}\nfast: {fast}\nslow: {slow}"
    assert accepted > 100
