"""CPU cost of storing alone: the ingest's storing thread (BatchStore) over N feeds' first polls, in batches of 100.

    .venv/bin/python bench/store.py [--feeds 2000] [--items 20] [--profile]

The feeds are bench/ingest.py's, parsed and classified beforehand exactly as a parser process does
(`parse_and_prepare`: the RSS connector's `parse`, then the source's prepare stage), so what is timed is what the
storing thread does with them: read
the batch's source rows, insert the posts and their insights, write the rows back, commit. A fresh SQLite file, one
customer and one source per feed (as in bench/ingest.py). Prints wall and CPU time (this process) per feed.
`--profile` prints a cProfile of the storing, top 30 by own time.
"""

from __future__ import annotations

import argparse
import cProfile
import pstats
import sys
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))

from ingest import FeedSite, seed  # noqa: E402

from connectors.rss import parse  # noqa: E402
from listener.db.session import make_engine, session_factory  # noqa: E402
from listener.ingest.batch import BatchStore  # noqa: E402
from listener.ingest.classify import Classification  # noqa: E402
from listener.ingest.leases import claim_due, new_owner  # noqa: E402
from listener.ingest.poll import BATCH, Outcome  # noqa: E402
from listener.ingest.prepare import parse_and_prepare, prepare_for  # noqa: E402
from listener.ingest.report import IngestReport  # noqa: E402
from listener.models import FetchResult  # noqa: E402
from listener.settings import load_settings  # noqa: E402


def feed_url(i: int) -> str:
    return f"https://customer{i}.example/feed.xml"


def main() -> None:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--feeds", type=int, default=2000, help="how many feeds (sources)")
    parser.add_argument("--items", type=int, default=20, help="items per feed")
    parser.add_argument("--profile", action="store_true", help="cProfile the storing, top 30 by own time")
    args = parser.parse_args()
    settings = load_settings(None, environ={})
    now = datetime.now(UTC)
    db_url = f"sqlite:///{Path(tempfile.mkdtemp(prefix='listener-store-')) / 'bench.db'}"
    seed(db_url, feed_url, args.feeds)  # the ingest benchmark's customers and sources
    engine = make_engine(db_url)
    sessions = session_factory(engine)
    owner = new_owner()
    claims = claim_due(sessions, owner, now, 3600, all_sources=True)
    site = FeedSite(args.feeds, args.items)
    feed_of = {feed_url(i): i for i in range(args.feeds)}
    outcomes = []
    for claim in claims:
        i = feed_of[claim.ref.locator]
        parsed, prepared = parse_and_prepare(
            prepare_for(claim, settings, now), parse, site.document(i)[0], claim.ref.locator, "application/rss+xml", now
        )
        assert prepared is not None
        state = {"etag": f'"{i}"', "last_modified": "", **prepared.state}
        result = FetchResult(parsed.posts, state, declared_lang=parsed.lang)
        outcomes.append(Outcome(claim, result=result, prepared=prepared))
    report = IngestReport()
    store = BatchStore(sessions, settings, owner, now, report, Classification(settings, None))

    def storing() -> None:
        for start in range(0, len(outcomes), BATCH):
            store(outcomes[start : start + BATCH])
        store.finish()

    started, cpu = time.perf_counter(), time.process_time()
    if args.profile:
        profile = cProfile.Profile()
        profile.runcall(storing)
        pstats.Stats(profile).sort_stats("tottime").print_stats(30)
    else:
        storing()
    wall, cpu = time.perf_counter() - started, time.process_time() - cpu
    engine.dispose()
    if report.new_posts != args.feeds * args.items or report.failed:
        raise SystemExit(f"expected {args.feeds * args.items} new posts and no failure, got {report.as_json()}")
    print(
        f"stored {args.feeds:,} first polls ({report.new_posts:,} posts with their insights): {wall:.2f} s wall, "
        f"{cpu:.2f} s CPU, {cpu / args.feeds * 1000:.2f} ms CPU per feed"
    )


if __name__ == "__main__":
    main()
