"""feedparser's corpus of 2,248 real-world feeds through the real ingest path: served, fetched, parsed, stored.

Every file is served from one local server with the headers its `Header:` lines name (status, Location,
Content-Type with odd charsets, ETag...), compressed files with the Content-Encoding they test, and becomes one
source of its own customer; one `run_ingest` polls them all (fetcher, rss connector, parser processes, storing,
classification). What must hold, checked for every file and reported in one message listing the files:

- nothing raises, hangs or allocates without bound (the run ends in time; the process tree's peak RSS is bounded);
- a source fails only where the HTTP exchange itself is broken (404, a redirect with nowhere to go, an empty
  document, a body that is not what its Content-Encoding says), and then with a one-line reason;
- every feed yields its entries: as many stored posts as feedparser (run on the same bytes and headers, here) gives
  entries that carry something a rep can read: a title, visible text or an http(s) link. Entries holding only
  metadata (an author, a date, a category, geo, rights) cannot become a digest item and are dropped on purpose.
  A feed whose DOCTYPE declares anything (its own entities) is refused with one line: no DTD is ever processed
  (connectors/xmlguard.py); a DOCTYPE that only names an external DTD is dropped, never loaded;
- what reaches a digest is safe: one-line titles and authors, no markup or `javascript:` in plain text, only
  absolute http(s) URLs, no control characters, and failure messages that are one bounded line.
"""

from __future__ import annotations

import gzip
import io
import os
import re
import threading
import time
import warnings
import zlib
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from unittest import mock
from urllib.parse import urlsplit

import feedparser
import feedparser.api
import pytest
from sqlalchemy import insert, select

from listener.cli.app import App
from listener.db.schema import Customer, Post, Rep, Source
from listener.ingest import IngestReport, run_ingest
from tests.procfs import descendants
from tests.servers.http import Reply, serve

CORPUS = Path(__file__).resolve().parents[1].parent / "shared" / "corpus" / "feedparser"
NOW = datetime(2030, 5, 1, 12, 0, tzinfo=UTC)
RUN_LIMIT = 120.0  # seconds: the ingest of the whole corpus takes a few; more means something hangs
RSS_LIMIT = 800 * 1024 * 1024  # bytes per process (test process, parser processes): far above normal, below a bomb

# Files whose source must fail, and the one-line reason it must give.
EXPECTED_FAILURES = {
    "http/http_status_404.xml": r"^HTTP 404",
    "http/http_status_302-no-location.xml": r"^HTTP 302 .*without a Location",
    "illformed/rss_empty_document.xml": r"not a feed",
    # Content-Encoding: gzip/deflate on a body that is plain XML, or a gzip stream whose checksum fails: a browser
    # refuses these too (ERR_CONTENT_DECODING_FAILED), and damaged data must never pass for a complete feed.
    "compression/gzip-not-compressed.gz": r"^corrupt gzip body",
    "compression/deflate-not-compressed.z": r"^corrupt deflate body",
    "compression/gzip-struct-error.gz": r"^corrupt gzip body",
    # an internal subset declaring entities: refused as a whole (issue #17), never expanded
    "wellformed/rss/entity_in_doctype.xml": r"^the feed declares a DTD; Listener never processes DTDs$",
    "wellformed/rdf/doctype_contains_entity_decl.xml": r"^the feed declares a DTD; Listener never processes DTDs$",
}
# Files where feedparser's count of readable entries and ours differ for a reason we stand by.
EXPECTED_DIFFERENCES = {
    **dict.fromkeys(
        (
            "wellformed/namespace/atommathml.xml",
            "wellformed/namespace/rss2.0mathml.xml",
            "wellformed/namespace/atomsvgdesc.xml",
            "wellformed/namespace/atomsvgtitle.xml",
            "wellformed/namespace/rss2.0svgtitle.xml",
        ),
        "the entry's only text is inside <math> or <svg>, which plain-text conversion drops",
    ),
    # feedparser's sanitizer re-escapes the '<' of these; as HTML they are a bogus comment and a bare doctype.
    "wellformed/rss/item_description_not_a_doctype.xml": "the description is an HTML comment: no visible text",
    "wellformed/rss/item_description_not_a_doctype2.xml": "the description is a bare <!DOCTYPE: no visible text",
}
_HEADER = re.compile(rb"^Header:\s+([^:\r\n]+):(.+)$", re.MULTILINE)
_TAG = re.compile(r"<[^>]*>")
_ENCODINGS = {".gz": "gzip", ".z": "deflate"}
_UNSAFE_TEXT = re.compile(r"(?i)<\s*/?\s*(script|iframe|object|embed|style)\b|javascript\s*:")
_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f\u202a-\u202e\u2066-\u2069]")
_REDIRECT = {301, 302, 303, 307, 308}


@dataclass
class CorpusFile:
    """One corpus file and how it is served."""

    rel: str
    body: bytes
    status: int = 200
    headers: dict[str, str] = field(default_factory=dict)

    @property
    def location(self) -> str:
        return next((v for k, v in self.headers.items() if k.lower() == "location"), "")

    @property
    def content_type(self) -> str:
        return next((v for k, v in self.headers.items() if k.lower() == "content-type"), "application/xml")


def load_corpus(root: Path) -> list[CorpusFile]:
    """Every file with the status and headers its comment names (as feedparser's own test server sends them)."""
    files = []
    for path in sorted(p for p in root.rglob("*") if p.is_file() and p.name != "LICENSE"):
        body = path.read_bytes()
        item = CorpusFile(path.relative_to(root).as_posix(), body)
        if path.suffix in _ENCODINGS:
            item.headers["Content-Encoding"] = _ENCODINGS[path.suffix]
        else:
            comment = body[: body.find(b"-->") + 3] if body.lstrip().startswith(b"<!--") else b""
            for name, value in _HEADER.findall(comment):
                key, text = name.decode().strip(), value.decode("latin-1").strip()
                if key.lower() == "status":
                    item.status = int(text)
                else:
                    item.headers[key] = text
            item.headers.setdefault("Content-Type", "application/xml")
        files.append(item)
    return files


def _decoded(item: CorpusFile) -> bytes | None:
    """The body as a client that honours Content-Encoding reads it; None when it cannot be decoded."""
    encoding = item.headers.get("Content-Encoding")
    try:
        if encoding == "gzip":
            return gzip.decompress(item.body)
        if encoding == "deflate":
            try:
                return zlib.decompress(item.body)
            except zlib.error:
                return zlib.decompress(item.body, -zlib.MAX_WBITS)
    except (OSError, EOFError, zlib.error):
        return None
    return item.body


def _visible(html: Any) -> str:
    return _TAG.sub("", str(html or "")).replace("&nbsp;", " ").strip()


def readable_entries(body: bytes, content_type: str, url: str) -> int:
    """How many distinct entries feedparser finds that carry a title, visible text or an http(s) link.

    Two entries are the same entry (stored once) when they share an id, or having none, a link, or having neither,
    their title and text: feeds repeat entries, and a source never stores one twice.
    """
    # feedparser as it comes: connectors.feedparse gives it a SAX parser that refuses DTDs, which would raise here
    stock_parsers = mock.patch.object(feedparser.api, "PREFERRED_XML_PARSERS", [])
    with warnings.catch_warnings(), stock_parsers:
        warnings.simplefilter("ignore")
        headers = {"content-type": content_type, "content-location": url}
        parsed = feedparser.parse(io.BytesIO(body), response_headers=headers)
    keys: set[tuple[str, ...]] = set()
    for entry in parsed.entries:
        title = _visible(entry.get("title"))
        texts = [c.get("value", "") for c in entry.get("content", []) or []]
        texts += [dict.get(entry, "summary", ""), dict.get(entry, "subtitle", "")]
        text = next((v for t in texts if (v := _visible(t))), "")
        link = str(entry.get("link", "") or "").strip()
        link = link if urlsplit(link).scheme in ("http", "https") else ""
        if title or text or link:
            entry_id = str(entry.get("id", "") or "").strip()
            keys.add(("id", entry_id) if entry_id else ("link", link) if link else ("text", title, text))
    return len(keys)


def expected_posts(item: CorpusFile, by_rel: dict[str, CorpusFile], base: str) -> int:
    """What a source serving this file must end up with: the redirect target's entries, or the file's own."""
    seen = set()
    while item.status in _REDIRECT and item.location and item.rel not in seen:
        seen.add(item.rel)
        target = urlsplit(item.location).path.removeprefix("/tests/")
        if target not in by_rel:
            return 0  # the redirect to a 304: not modified, nothing new
        item = by_rel[target]
    body = _decoded(item)
    if item.status != 200 or body is None:
        return 0
    return readable_entries(body, item.content_type, f"{base}/{item.rel}")


class PeakRss:
    """Samples the peak resident memory of this process and every descendant (parser processes) while it runs."""

    def __init__(self) -> None:
        self.peaks: dict[int, int] = {}
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)
        self.available = Path("/proc/self/status").exists()

    def __enter__(self) -> PeakRss:
        if self.available:
            self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        if self.available:
            self._thread.join()
            self._sample()

    def _run(self) -> None:
        while not self._stop.wait(0.1):
            self._sample()

    def _sample(self) -> None:
        for pid in [os.getpid(), *descendants(os.getpid())]:
            try:
                status = Path(f"/proc/{pid}/status").read_text()
            except OSError:
                continue
            match = re.search(r"^VmHWM:\s+(\d+) kB", status, re.MULTILINE)
            if match:
                self.peaks[pid] = max(self.peaks.get(pid, 0), int(match.group(1)) * 1024)


def seed(app: App, files: list[CorpusFile], base: str) -> dict[int, CorpusFile]:
    """One customer per file (no cross-source story merging between unrelated files), one due source each."""
    created = datetime.now(UTC)
    with app.transaction() as session:
        rep_id = session.scalar(
            insert(Rep).returning(Rep.id),
            [{"email": "corpus@example.com", "name": "Corpus", "created_at": created}],
        )
        customers = session.scalars(
            insert(Customer).returning(Customer.id, sort_by_parameter_order=True),
            [{"name": f"Corpus {i}", "rep_id": rep_id, "created_at": created} for i in range(len(files))],
        ).all()
        rows = [
            {"customer_id": cid, "kind": "rss", "locator": f"{base}/{item.rel}", "created_at": created}
            for cid, item in zip(customers, files, strict=True)
        ]
        ids = session.scalars(insert(Source).returning(Source.id, sort_by_parameter_order=True), rows).all()
    return dict(zip(ids, files, strict=True))


def run_with_limit(app: App) -> IngestReport:
    """run_ingest over every source, failing the test (not hanging it) when it does not end in time."""
    outcome: list[IngestReport | BaseException] = []

    def target() -> None:
        try:
            outcome.append(run_ingest(app.sessions(), app.settings, all_sources=True, now=NOW))
        except BaseException as exc:
            outcome.append(exc)

    thread = threading.Thread(target=target, daemon=True)
    thread.start()
    thread.join(RUN_LIMIT)
    if thread.is_alive():
        pytest.fail(f"ingest of the corpus did not finish within {RUN_LIMIT:g} s")
    if isinstance(outcome[0], BaseException):
        raise outcome[0]
    return outcome[0]


def unsafe(post: Post) -> list[str]:
    """What is wrong with a stored post as digest material."""
    problems = []
    for name in ("title", "author"):
        value = getattr(post, name)
        if "\n" in value or "\r" in value:
            problems.append(f"{name} spans lines: {value[:60]!r}")
    for name in ("title", "text", "author"):
        value = getattr(post, name)
        if match := _UNSAFE_TEXT.search(value):
            problems.append(f"{name} holds {match.group(0)!r}")
        if _CONTROL.search(value):
            problems.append(f"{name} holds control characters")
    for url in (post.canonical_url, *post.links):
        if url and not re.match(r"https?://[^\s/]+", url):
            problems.append(f"unsafe URL {url[:80]!r}")
    return problems


@pytest.fixture
def corpus() -> list[CorpusFile]:
    if not CORPUS.is_dir():
        pytest.skip(f"feedparser corpus not found at {CORPUS} (a copy of shared/ beside the checkout holds it)")
    return load_corpus(CORPUS)


@pytest.mark.slow
def test_every_corpus_file_goes_through_ingest_safely_and_yields_its_entries(
    app: App, corpus: list[CorpusFile]
) -> None:
    app.settings = replace(
        app.settings, fetch=replace(app.settings.fetch, allow_private_networks=True, total_timeout=10.0)
    )
    by_rel = {item.rel: item for item in corpus}
    started = time.monotonic()
    with serve() as (base, routes):
        for item in corpus:
            # Redirects point at feedparser's own test server: http://localhost:8097/tests/<file>.
            headers = {k: re.sub(r"^http://localhost:8097(/tests)?", base, v) for k, v in item.headers.items()}
            routes[f"/{item.rel}"] = Reply(item.body, item.status, headers)
        routes["/-/return-304.xml"] = Reply(b"", 304, {"Content-Type": "text/xml"})
        sources = seed(app, corpus, base)
        with PeakRss() as memory:
            report = run_with_limit(app)
    ingest_seconds = time.monotonic() - started
    expected = {sid: expected_posts(item, by_rel, base) for sid, item in sources.items()}

    with app.transaction() as session:
        rows = {s.id: s for s in session.scalars(select(Source))}
        stored: dict[int, list[Post]] = {}
        for post in session.scalars(select(Post)):
            stored.setdefault(post.source_id, []).append(post)

    problems: list[str] = []
    for sid, item in sources.items():
        row, posts = rows[sid], stored.get(sid, [])
        failure = EXPECTED_FAILURES.get(item.rel)
        if row.last_error and not (failure and re.search(failure, row.last_error)):
            problems.append(f"{item.rel}: failed: {row.last_error}")
        elif failure and not row.last_error:
            problems.append(f"{item.rel}: should fail ({failure}) but stored {len(posts)} posts")
        if "\n" in row.last_error or len(row.last_error) > 500 or _UNSAFE_TEXT.search(row.last_error):
            problems.append(f"{item.rel}: unsafe error message {row.last_error[:80]!r}")
        if item.rel in EXPECTED_DIFFERENCES:
            if len(posts) == expected[sid]:
                problems.append(f"{item.rel}: no longer differs from feedparser: drop it from EXPECTED_DIFFERENCES")
        elif not failure and len(posts) != expected[sid]:
            problems.append(f"{item.rel}: {len(posts)} posts stored, feedparser finds {expected[sid]} readable entries")
        for post in posts:
            problems += [f"{item.rel}: {p}" for p in unsafe(post)]
    problems += [
        f"{rel}: listed above but not in the corpus"
        for rel in {*EXPECTED_DIFFERENCES, *EXPECTED_FAILURES} - set(by_rel)
    ]
    peak = max(memory.peaks.values(), default=0)
    if peak > RSS_LIMIT:
        problems.append(
            f"a process of the run peaked at {peak / 2**20:.0f} MB resident (limit {RSS_LIMIT / 2**20:.0f})"
        )

    summary = (
        f"{len(corpus)} files, {report.sources_polled} polled, "
        f"{report.failed} failed ({len(EXPECTED_FAILURES)} expected), "
        f"{len(EXPECTED_DIFFERENCES)} explained differences, "
        f"{sum(map(len, stored.values()))} posts, ingest {ingest_seconds:.1f} s, peak RSS {peak / 2**20:.0f} MB"
    )
    print(summary)  # shown with -s or -rP: the run's figures
    assert report.sources_polled == len(corpus), summary
    assert not problems, f"{len(problems)} problem(s) ({summary}):\n" + "\n".join(problems[:200])
