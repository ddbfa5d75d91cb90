"""CPU cost of parsing one feed: `connectors.feedparse.parse_feed` over the ingest benchmark's feeds.

    .venv/bin/python bench/parse.py [--feeds 300] [--items 20] [--repeats 3] [--path fast|feedparser|both]
    .venv/bin/python bench/parse.py --profile        # cProfile of one pass (fast path), top 25 by own time

The feeds are bench/ingest.py's (`FeedSite(feeds, items).document(i)`: RSS 2.0, realistic titles, an escaped
`<p>…</p>` description per item), built once before timing. Each repeat parses every feed once; the figure is the
median over the repeats of CPU time (time.process_time, this process only) per feed, and posts/s from it.
`fast` is the expat path ordinary RSS 2.0/Atom 1.0 takes; `feedparser` forces the general path (fast=False), the one
every other feed takes. Target on the fast path: <= 2.5 ms of CPU per 20-item feed.
"""

from __future__ import annotations

import argparse
import cProfile
import pstats
import statistics
import sys
import time
from datetime import UTC, datetime
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))

from ingest import FeedSite  # noqa: E402

from connectors.feedparse import parse_feed  # noqa: E402

TARGET_MS = 2.5
NOW = datetime(2030, 5, 1, 12, 0, tzinfo=UTC)


def documents(feeds: int, items: int) -> list[tuple[bytes, str]]:
    site = FeedSite(feeds, items)
    site.base_time = datetime(2030, 4, 30, 9, 0, tzinfo=UTC)  # fixed: the same bytes on every run
    return [(site.document(i)[0], f"http://127.0.{i % 250}.1:8080/feed/{i}.xml") for i in range(feeds)]


def one_pass(docs: list[tuple[bytes, str]], fast: bool) -> tuple[float, int]:
    """CPU seconds for parsing every document once, and the posts it gave."""
    posts = 0
    start = time.process_time()
    for body, url in docs:
        parsed = parse_feed(body, url, "application/rss+xml", NOW, fast=fast)
        posts += len(parsed.posts)
    return time.process_time() - start, posts


def measure(docs: list[tuple[bytes, str]], fast: bool, repeats: int) -> tuple[float, float]:
    """(median ms of CPU per feed, posts/s at that median)."""
    one_pass(docs[: min(20, len(docs))], fast)  # warm-up: imports, regex compilation, caches of the modules
    runs = [one_pass(docs, fast) for _ in range(repeats)]
    seconds = statistics.median(r[0] for r in runs)
    posts = runs[0][1]
    return seconds * 1000 / len(docs), posts / seconds if seconds else float("inf")


def main() -> None:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--feeds", type=int, default=300)
    parser.add_argument("--items", type=int, default=20)
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--path", choices=("fast", "feedparser", "both"), default="both")
    parser.add_argument("--profile", action="store_true", help="profile one pass of the fast path instead")
    args = parser.parse_args()
    docs = documents(args.feeds, args.items)
    if args.profile:
        one_pass(docs[:20], True)
        profiler = cProfile.Profile()
        profiler.enable()
        one_pass(docs, True)
        profiler.disable()
        pstats.Stats(profiler).sort_stats("tottime").print_stats(25)
        return
    paths = {"fast": [True], "feedparser": [False], "both": [True, False]}[args.path]
    missed = False
    for fast in paths:
        ms, rate = measure(docs, fast, args.repeats)
        name = "fast path " if fast else "feedparser"
        target = f" (target <= {TARGET_MS} ms)" if fast else ""
        print(f"{name}: {ms:6.2f} ms CPU per {args.items}-item feed, {rate:8.0f} posts/s{target}")
        missed = missed or (fast and ms > TARGET_MS)
    sys.exit(1 if missed else 0)


if __name__ == "__main__":
    main()
