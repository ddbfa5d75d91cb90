"""The fast paths of connectors/feedtext.py (and fastfeed's `_finish`) give exactly what the plain code gives.

html_to_text reads simple markup without an HTML parser, canonical_url and feedparser's `_urljoin` skip urllib for
plain absolute URLs, clean_text and one_line hand clean text back as it is. Each is compared here with the code it
replaced, kept below verbatim as the oracle, on seeded generated inputs that reach the fast paths and their edges
(tag soup of simple and other elements, every character reference, URLs of every shape against good and bad bases).
"""

from __future__ import annotations

import contextlib
import random
import re
import time
import unicodedata
from collections.abc import Callable
from html.entities import html5

import pytest
from feedparser.html import _cp1252
from feedparser.urls import _urljoin
from selectolax.lexbor import LexborHTMLParser

from connectors import fastfeed, feedtext
from connectors.feedtext import canonical_url, clean_text, html_to_text, one_line

# ---------------------------------------------------------------- the code before the fast paths (the oracle)

_DROP = ("script", "style", "noscript", "iframe", "object", "embed", "template", "svg", "math", "head", "form")
_BLOCKS = re.compile(r"(?i)<\s*(br|/p|/div|/li|/h[1-6]|/tr|/blockquote|/pre|hr)\b[^>]*>")
# Lone surrogates are dropped too (they cannot be stored), since the fast paths were written.
_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f\u200b-\u200f\u202a-\u202e\u2066-\u2069\ufeff\ud800-\udfff]")
_SPACES = re.compile(r"[ \t\r\f\v\xa0]+")


def reference_html_to_text(html: str | None, limit: int = feedtext.MAX_TEXT) -> str:
    if not html:
        return ""
    if "<" not in html and "&" not in html:
        return reference_clean_text(html, limit)
    marked = _BLOCKS.sub(lambda m: m.group(0) + "\n", html)
    tree = LexborHTMLParser(marked)
    for tag in _DROP:
        for node in tree.css(tag):
            node.decompose()
    root = tree.body or tree.root
    text = root.text(separator="", deep=True) if root is not None else ""
    return reference_clean_text(text, limit)


def reference_clean_text(text: str, limit: int = feedtext.MAX_TEXT) -> str:
    text = unicodedata.normalize("NFC", text)
    text = _CONTROL.sub("", text)
    lines = [_SPACES.sub(" ", line).strip() for line in text.split("\n")]
    text = "\n".join(line for line in lines if line)
    if len(text) > limit:
        text = text[: limit - 1].rstrip() + "…"
    return text


def reference_one_line(text: str, limit: int = 500) -> str:
    return reference_clean_text(" ".join(text.split()), limit)


def reference_canonical_url(url: str | None, base: str | None = None) -> str:
    """The urllib path every URL took before the plain-URL shortcut (kept in feedtext as the general case)."""
    return feedtext._canonical_url_parsed(url.strip(), base) if url else ""


def reference_finish(text: str | None, base: str | None = None) -> str:
    out = (text or "").strip()
    if base is not None and out:
        out = _urljoin(base, out)
    if out.isascii():
        return out
    with contextlib.suppress(UnicodeEncodeError, UnicodeDecodeError):
        out = out.encode("iso-8859-1").decode("utf-8")
    return out.translate(_cp1252)


def outcome(function: Callable[..., object], *args: object) -> object:
    """The result, or the exception's type and message: both must be the same."""
    try:
        return function(*args)
    except Exception as exc:
        return ("raised", type(exc).__name__, str(exc))


# ---------------------------------------------------------------- generated HTML

SIMPLE = sorted(feedtext._SIMPLE_TAGS)
_OTHER_NAMES = (
    "table tr td tbody caption colgroup pre listing textarea script style title select option svg math template "
    "noscript iframe head body html form button nobr image input frameset frame plaintext xmp noembed noframes object "
    "embed meta link base isindex label ruby menu dialog details summary video foo x-y p1 Custom formation scripts "
    "svgx BR P LI Div spanx bx b_c"
)
OTHER = [*_OTHER_NAMES.split(), "ſpan", "\u212abd", "İ", "ı"]  # Unicode case folding must not make these tags
WORDS = ["hello", "world", "R", "D", "Q", "A", "café", "e\u0301", "😀", "ﬁ", "Å", "$20M", ";", "=", ">", "'", "-->"]
SPACES = [" ", "  ", "\n", "\r\n", "\r", "\t", "\f", "\v", "\xa0", "\u2028", "\u3000", "\u200b", "\u202e", "\ufeff"]
RARE = ["\x00", "\ud800", "\udfff", "\x7f", "\x01", "\x85", "\x1f", "\ue000", "\u0378"]
ODD = ["<", "< ", "<3", "< br>", "</ p>", "</>", "<!-- c -->", "<!DOCTYPE html>", "<?x?>", "<p", "</p", "<1", "<é"]
NAMES = sorted(html5)


def attribute(r: random.Random) -> str:
    name = r.choice(["href", "class", "data-x", "a:b", "_x", "x.y", "HREF", "style"])
    double = r.choice(["x", "a>b", "a<b", "&amp;", "", "it's"])
    single = r.choice(["x", "a>b", '"q"'])
    equals = r.choice(["=", " = ", "\t=\n"])
    plain = r.choice(["x", "a/b", "https://x", "x/"])
    return r.choice(
        [
            name,
            name + '="' + double + '"',
            name + "='" + single + "'",
            name + equals + plain,
            name + '=x"y',
            name + "=`x",
            name + "=",
            name + '="unterminated',
            name + "/",
        ]
    )


def tag(r: random.Random, simple_share: float) -> str:
    name = r.choice(SIMPLE) if r.random() < simple_share else r.choice(OTHER)
    if r.random() < 0.15:
        name = name.upper()
    if r.random() < 0.4:
        return "</" + name + r.choice(["", "", " ", "\n", " x", "/"]) + ">"
    attrs = "".join(r.choice([" ", "\n", "\t"]) + attribute(r) for _ in range(r.choice([0, 0, 1, 3])))
    return "<" + name + attrs + r.choice([">", ">", "/>", " />", "\n>"])


def reference(r: random.Random) -> str:
    kind = r.random()
    if kind < 0.45:
        name = r.choice(NAMES)
        name = name.rstrip(";") if r.random() < 0.3 else name
        return "&" + name + r.choice(["", "", "x", "1", ";", "X;"])
    if kind < 0.8:
        number = r.choice([0, 9, 13, 38, 60, 128, 129, 150, 159, 233, 8217, 0xD800, 0x10FFFF, 0x110000, 10**12])
        text = f"&#{number}" if r.random() < 0.5 else f"&#x{number:x}"
        return text + r.choice([";", ";", "", " ", "9"])
    return r.choice(["&", "& ", "&&", "&#", "&#x", "&#;", "&;", "&ampx", "&amp", "&notit;", "&notin", "&zzzz;"])


def soup(r: random.Random, simple_share: float = 0.8) -> str:
    pieces = []
    for _ in range(r.choice([1, 2, 3, 5, 8, 13, 30])):
        kind = r.random()
        if kind < 0.3:
            pieces.append(tag(r, simple_share))
        elif kind < 0.55:
            pieces.append(r.choice(WORDS))
        elif kind < 0.75:
            pieces.append(r.choice(SPACES))
        elif kind < 0.88:
            pieces.append(reference(r))
        elif kind < 0.97:
            pieces.append(r.choice(ODD))
        else:
            pieces.append(r.choice(RARE))
    return "".join(pieces)


def takes_fast_path(html: str) -> bool:
    return feedtext._simple_text(_BLOCKS.sub(lambda m: m.group(0) + "\n", html)) is not None


# ---------------------------------------------------------------- html_to_text


@pytest.mark.parametrize(("seed", "simple_share"), [(1, 0.8), (2, 0.8), (3, 0.4)])
def test_html_to_text_equals_the_parser_on_tag_soup(seed: int, simple_share: float) -> None:
    r = random.Random(seed)
    cases = [soup(r, simple_share) for _ in range(2500)]
    cases += ["<p>" + case + "</p>" for case in cases[:500]]
    differences = [
        (case, expected, got)
        for case in cases
        if (expected := outcome(reference_html_to_text, case)) != (got := outcome(html_to_text, case))
    ]
    assert not differences, differences[:5]
    fast = sum(map(takes_fast_path, cases))
    assert fast > len(cases) * (0.3 if simple_share > 0.5 else 0.1)  # the fast path is what is being tested


def test_every_character_reference_decodes_as_the_parser_does() -> None:
    cases = []
    for name in NAMES:
        bare = name.rstrip(";")
        cases += [f"<b>a &{bare}{suffix}z</b>" for suffix in ("", ";", "x;", "1", " ", "<i>")]
        cases.append(f"<b>&{bare[:-1]};</b>")
    numbers = [*range(0, 0x300), *range(0xD7F0, 0xE010), *range(0xFDC0, 0xFE00), *range(0xFFF0, 0x10002)]
    numbers += [0x10FFFE, 0x10FFFF, 0x110000, 2**31, 2**32 + 65, 2**64 + 65, 10**30]
    cases += [f"<b>&#{n};|&#{n}|&#x{n:x};|&#X{n:X}y|&#00{n};</b>" for n in numbers]
    assert all(map(takes_fast_path, cases))
    differences = [c for c in cases if html_to_text(c) != reference_html_to_text(c)]
    assert not differences, differences[:5]


@pytest.mark.parametrize(
    "html",
    [
        "<p>Led by Northwind Ventures, the round funds hiring.</p>\n",
        '<p>Q&A with <a href="https://x.example/a?b=1&amp;c=2">us</a> &amp; R&D &#8217;s&nbsp;news</p>',
        "  \n <b>x</b>",  # whitespace before the first tag goes to the head
        "a\rb<br>c\r\nd",  # CR and CRLF are newlines to the parser
        "a <3 b <i>x</i> <",  # a "<" that starts no tag is text; one at the end is left to the parser
        "a\x00b<b>c</b>",  # NUL: the parser's business
        "<p>\ud800x</p>",  # lone surrogates are dropped on the way into the parser
        "<ſpan>x</ſpan><\u212abd>y",  # not tags: Unicode case folding must not make them ones
        "<p>x</p><frameset><noframes>hello</noframes>",
        "<p><tt><frameset style=x><aside>a</aside>\x00<noframes>hello &amp; more</noframes>",  # the body changes
        "&#" + "9" * 5000 + ";",  # beyond int()'s digit limit
        "&#x" + "0" * 5000 + "41",
        "<div>" * 3000 + "deep",
        "<p>x</p>" * 3000,  # dense markup: the parser
        ("<p>A long post, plain words &amp; a <a href='https://x.example/'>link</a> " + "more words " * 300) * 8,
        "<a" + " b" * 5000,
        "< " * 5000,
    ],
)
def test_html_to_text_edge_cases(html: str) -> None:
    assert outcome(html_to_text, html) == outcome(reference_html_to_text, html)
    assert outcome(html_to_text, html, 40) == outcome(reference_html_to_text, html, 40)


# Every element of HTML, obsolete ones included: whatever the fast path reads must give the parser's text around each
# (newlines dropped after <pre>, text foster-parented out of tables, raw text, RCDATA, head elements, frames...).
_ELEMENT_NAMES = (
    "a abbr acronym address applet area article aside audio b base basefont bdi bdo bgsound big blink blockquote "
    "body br button canvas caption center cite code col colgroup data datalist dd del details dfn dialog dir div dl "
    "dt em embed fieldset figcaption figure font footer form frame frameset h1 h2 h3 h4 h5 h6 head header hgroup hr "
    "html i iframe image img input ins isindex kbd keygen label legend li link listing main map mark marquee math "
    "menu menuitem meta meter multicol nav nextid nobr noembed noframes noscript object ol optgroup option output p "
    "param picture plaintext pre progress q rb rp rt rtc ruby s samp script search section select selectedcontent "
    "slot small source spacer span strike strong style sub summary sup svg table tbody td template textarea tfoot th "
    "thead time title tr track tt u ul var video wbr xmp"
)
ELEMENTS = _ELEMENT_NAMES.split()
TEMPLATES = (
    "a<{0}>\nb<b>c</b>d</{0}>e<p>f",
    "<p>a<{0} x='1'>\n\nb</{0}>c</p>d",
    "<table>a<{0}>b</{0}><tr><td>c</td></tr>d</table>e",
    "<ul><li>a<{0}>b<li>c</{0}>d</ul>",
    "<b>a<{0}>b</b>c</{0}>d",
    "<{0}><{0}>a</{0}>b",
    "<table><{0}>a</{0}>b</table>c",
    "<{0}><td>a</td>b</{0}>c",
)


@pytest.mark.parametrize("name", ELEMENTS)
def test_html_to_text_around_every_element(name: str) -> None:
    for template in TEMPLATES:
        for html in (template.format(name), template.format(name.upper())):
            assert outcome(html_to_text, html) == outcome(reference_html_to_text, html), html


def test_the_bench_descriptions_take_the_fast_path() -> None:
    assert feedtext._simple_text("<p>Led by Northwind Ventures, the round funds hiring.</p>\n") is not None
    assert feedtext._simple_text('We\'re hiring. <a href="https://corvane.dev/careers">Join us</a>.') is not None


# ---------------------------------------------------------------- clean_text and one_line


def test_clean_text_and_one_line_equal_the_plain_code() -> None:
    r = random.Random(7)
    alphabet = WORDS + SPACES + RARE + ["a", "b", " ", " ", "\n", "é", "\u0301", "ǅ", "\u2066", "…"]
    cases = ["", " ", "plain", "plain text", " lead", "trail ", "a  b", "\u0065\u0301", "é"]
    cases += ["".join(r.choice(alphabet) for _ in range(r.randrange(1, 40))) for _ in range(20000)]
    for case in cases:
        for limit in (5, 40, feedtext.MAX_TEXT):
            assert clean_text(case, limit) == reference_clean_text(case, limit), (case, limit)
            assert one_line(case, limit) == reference_one_line(case, limit), (case, limit)


# ---------------------------------------------------------------- canonical_url and fastfeed's _finish

HOSTS = [
    "example.com",
    "Example.COM",
    "a",
    "x-y.example",
    "-x.com",
    "ex..com",
    "example.com.",
    "127.0.0.1",
    "[::1]",
    "[::1",
    "user:pw@h.com",
    "h.com:8080",
    "h.com:443",
    "h.com:x",
    "exämple.com",
    "ｅxample.com",
    "",
]
PATHS = ["", "/", "/a/b", "/a;b", "/a;", "/a%20b", "/a b", "/a\tb", "/../x", "//x", "/é", "/a:b@c", "/a!$&'()*+,=", "x"]
QUERIES = [
    "",
    "?",
    "?a=1",
    "?a=1&b=2",
    "?utm_source=rss",
    "?a=1&utm_medium=x&fbclid=z",
    "?UTM_Source=x",
    "?a",
    "?a=",
    "?a=1&&b=2",
    "?a=b+c",
    "?a=b%20c",
    "?a=1;b=2",
    "?=x",
    "?a=é",
    "?wt.mc_id=1&x=2",
    "?a=~x.y-z_",
    "?a=1&",
    "?a==b",
]
FRAGMENTS = ["", "#", "#x", "#a?b", "#a#b", "#é"]
BASES = [
    None,
    "",
    "https://blog.example.com/feeds/all.xml",
    "http://h.com/a/b/",
    "ftp://h.com/x",
    "http://[::1",  # urljoin raises on this base: so must canonical_url
    "https://h.com/?q=1#f",
    "HTTPS://H.COM/",
    "relative/base",
    "http://ｅx.com/",
    "https://[::1]:8443/p",
]


def url(r: random.Random) -> str:
    if r.random() < 0.5:  # mostly plain absolute URLs: the fast path and its edges
        scheme = r.choice(["http://", "https://"])
        host = r.choice(["example.com", "Example.COM", "a.b.c", "127.0.0.1", "h.com.", "h.com:443", "h.com:8080"])
        path = r.choice(["", "/", "/a/b", "/a%20b", "/~u", "/a:b@c", "/a!$&'()*+,=", "/%zz", "//x", "/../x", "/a;b"])
        query = r.choice(["", "", "", "?a=1", "?a=1&b=2", "?utm_source=rss", "?a=1&fbclid=z&b=", "?", "?a", "?a=b+c"])
    else:
        scheme = r.choice(["http://", "https://", "HTTP://", "ftp://", "javascript:", "", "//", "http:/", "https:///"])
        host, path, query = r.choice(HOSTS), r.choice(PATHS), r.choice(QUERIES)
    text = scheme + host + path + query + r.choice(FRAGMENTS)
    return r.choice(["", "", " ", "\n", "\u3000"]) + text + r.choice(["", "", " ", "\t"])


def test_canonical_url_equals_the_plain_code() -> None:
    r = random.Random(11)
    cases = [(url(r), r.choice(BASES)) for _ in range(20000)]
    differences = [
        (u, base, expected, got)
        for u, base in cases
        if (expected := outcome(reference_canonical_url, u, base)) != (got := outcome(canonical_url, u, base))
    ]
    assert not differences, differences[:5]
    assert sum(1 for u, _ in cases if feedtext._SIMPLE_URL.fullmatch(u.strip())) > 2000


def test_fastfeed_finish_equals_feedparsers_processing() -> None:
    r = random.Random(13)
    texts = [url(r) for _ in range(6000)] + ["Ã©tÃ©", "caf\x80\x99", "plain", "€ café \x85", "  https://x.example/a  "]
    for text in texts:
        for base in (None, "", "https://blog.example.com/feeds/all.xml", "http://h.com/a/", "http://[::1", "feed://h"):
            assert fastfeed._finish(text, base) == reference_finish(text, base), (text, base)


def test_deeply_nested_hostile_markup_is_read_in_bounded_time() -> None:
    """The parser's cost grows with the square of nesting depth: only MAX_HTML characters of an entry are read."""
    depth = 100_000  # took the HTML parser over two minutes before the cap
    started = time.process_time()
    assert html_to_text("<div>" * depth + "x" + "</div>" * depth) == ""
    assert html_to_text("<p>" + "word " * 50_000 + "</p>").startswith("word word")
    assert time.process_time() - started < 10  # seconds of CPU; about one on the development machine


def test_lone_surrogates_are_dropped_from_text_and_urls() -> None:
    # Half a surrogate pair cannot be encoded as UTF-8: left in, it would fail the post's storing.
    assert clean_text("We \ud83d launched\udc00 today") == "We launched today"
    assert one_line("Ana \ud800") == "Ana"
    assert (
        canonical_url("https://acme.example/launch\ud800?q=\udc00x&utm_source=a") == "https://acme.example/launch?q=x"
    )
