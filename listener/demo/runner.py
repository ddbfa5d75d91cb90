"""`listener demo`: a temporary database, the bundled customers, their feeds served on 127.0.0.1, the real
ingest path, the filter, and each rep's digest written as HTML and text. No network beyond loopback."""

from __future__ import annotations

import tempfile
import time
from collections import Counter
from collections.abc import Callable
from contextlib import ExitStack
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime
from pathlib import Path
from zoneinfo import ZoneInfo

from sqlalchemy import select

from digests.preview import write_digest_files
from listener.db.schema import Insight, Rep
from listener.db.session import init_database, make_engine, session_factory, transaction
from listener.demo.dataset import DATA_DIR, load_dataset, seed
from listener.demo.fakeapi import start_fake_social_server
from listener.demo.feedserver import DemoFeedServer
from listener.ingest import IngestReport, run_ingest
from listener.settings import Settings, load_settings
from listener.sourcing import add_source

# Demo-only credentials for the local fake X and Reddit servers; never valid anywhere else.
DEMO_SECRETS = {"bearer_token": "demo-bearer-token", "client_id": "demo-client", "client_secret": "demo-secret"}


@dataclass
class DemoReport:
    database: str
    out_dir: Path
    reps: int = 0
    customers: int = 0
    sources: int = 0
    ingest: IngestReport | None = None
    kinds: Counter[str] = field(default_factory=Counter)
    files: list[Path] = field(default_factory=list)
    seconds: float = 0.0


# The demo's single run holds about 55 posts that can reach a digest; a team's runs every 15 minutes would have the
# model read each of them (the per-run cap, relevance.second_opinion_max_posts, bounds a first run over thousands of
# feeds), so the demo asks about all of them rather than showing half its posts as the rules alone read them.
DEMO_SECOND_OPINION_POSTS = 100


def demo_settings(base: Settings, db_url: str, social_base: str) -> Settings:
    """The user's settings, pointed at the temporary database and the local fake servers."""
    cap = max(base.relevance.second_opinion_max_posts, DEMO_SECOND_OPINION_POSTS)
    return replace(
        base,
        database=replace(base.database, url=db_url),
        relevance=replace(base.relevance, second_opinion_max_posts=cap),
        fetch=replace(base.fetch, allow_private_networks=True),  # the demo's servers live on 127.0.0.1
        twitter=replace(base.twitter, api_base=social_base, bearer_token=DEMO_SECRETS["bearer_token"]),
        reddit=replace(
            base.reddit,
            oauth_base=social_base,
            www_base=social_base,
            client_id=DEMO_SECRETS["client_id"],
            client_secret=DEMO_SECRETS["client_secret"],
        ),
    )


def run_demo(
    out_dir: Path,
    *,
    base_settings: Settings | None = None,
    now: datetime | None = None,
    say: Callable[[str], None] = print,
) -> DemoReport:
    """Run the whole pipeline on the bundled sample data and write each rep's digest under out_dir."""
    started = time.monotonic()
    now = now or datetime.now(UTC)
    out_dir.mkdir(parents=True, exist_ok=True)
    dataset = load_dataset()
    with ExitStack() as stack:
        workdir = Path(stack.enter_context(tempfile.TemporaryDirectory(prefix="listener-demo-")))
        db_url = f"sqlite:///{workdir / 'demo.db'}"
        engine = make_engine(db_url)
        stack.callback(engine.dispose)
        init_database(engine)
        sessions = session_factory(engine)

        feeds = stack.enter_context(DemoFeedServer(DATA_DIR / "feeds", now=lambda: now))
        social_url, stop_social = start_fake_social_server(DATA_DIR / "social")
        stack.callback(stop_social)
        settings = demo_settings(base_settings or load_settings(None, environ={}), db_url, social_url)
        report = DemoReport(database=db_url, out_dir=out_dir)

        with transaction(sessions) as session:
            seed(session, dataset, now)
            for source in dataset.sources:
                locator = feeds.feed_url(source.locator) if source.is_feed_file else source.locator
                add_source(session, settings, source.customer, locator)
        report.reps, report.customers, report.sources = len(dataset.reps), len(dataset.customers), len(dataset.sources)
        say(f"Seeded {report.reps} reps, {report.customers} customers and {report.sources} sources in {db_url}")
        say(f"Serving the sample feeds on {feeds.url} and fake X/Reddit APIs on {social_url}")

        report.ingest = run_ingest(sessions, settings, all_sources=True, now=now)
        say(
            f"Ingested: {report.ingest.sources_polled} sources polled, {report.ingest.new_posts} new posts, "
            f"{report.ingest.failed} failed"
        )
        with transaction(sessions) as session:
            report.kinds = Counter(session.scalars(select(Insight.kind)).all())
            say("Classified: " + ", ".join(f"{count} {kind}" for kind, count in report.kinds.most_common()))
            for rep in session.scalars(select(Rep).order_by(Rep.email)).all():
                local_today = now.astimezone(ZoneInfo(rep.time_zone)).date()
                report.files += write_digest_files(session, settings, rep, local_today, out_dir, now)
    report.seconds = time.monotonic() - started
    say(f"Wrote {len(report.files)} files in {report.seconds:.1f}s. Open these in a browser or editor:")
    for path in report.files:
        say(f"  {path}")
    return report
