"""Benchmark: build and render the morning digests of 1,000 reps with 50 customers each, on SQLite.

    .venv/bin/python bench/digest.py [--reps 1000] [--customers 50] [--workers 2] [--db PATH [--reuse]]

Creates a fresh SQLite database with a realistic mix (posts over the last 60 days, about a third of them
relevant, some backlog and duplicates, interactions, contacts with birthdays, failing sources, a week of sent
digests), then times building and rendering every rep's digest. Prints the seconds; the target is <= 30 s on 2 cores.
"""

from __future__ import annotations

import argparse
import hashlib
import random
import sys
import tempfile
import time
from concurrent.futures import ProcessPoolExecutor
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from sqlalchemy import insert, select

from digests.build import build_digest
from digests.render import render
from listener.db.schema import Contact, Customer, Digest, Insight, Interaction, Post, Rep, Source
from listener.db.session import init_database, make_engine, session_factory
from listener.settings import load_settings

NOW = datetime(2026, 11, 23, 8, 0, tzinfo=UTC)
TODAY = NOW.date()
MIX = [  # (kind, category, weight): most posts are noise, wins and news lead the relevant ones
    ("none", "promo", 18), ("none", "chatter", 15), ("none", "other", 12),
    ("news", "content", 14), ("news", "event", 6), ("news", "hiring", 5), ("news", "update", 4),
    ("win", "funding", 2), ("win", "launch", 5), ("win", "award", 3), ("win", "partnership", 3),
    ("win", "customer_win", 2), ("win", "leadership", 2), ("win", "milestone", 1),
    ("goal", "plan", 4), ("challenge", "incident", 2), ("challenge", "layoffs", 1), ("challenge", "departure", 1),
]  # fmt: skip
FACTS = {
    "funding": {"amount": "$20M", "round": "Series B"}, "launch": {"product": "Atlas 2"},
    "award": {"award": "Best Workplace", "award_by": "Forbes"}, "partnership": {"partner": "Initech"},
    "event": {"event": "Web Summit", "place": "Lisbon"}, "plan": {"topic": "expanding to Mexico"},
    "content": {"topic": "warehouse automation"}, "leadership": {"person": "Jo Smith", "role": "CFO"},
}  # fmt: skip
INTERESTS = ["coffee", "tea", "cycling", "running", "books", "wine", "food", "plants", "music", "chocolate"]


def populate(url: str, reps: int, customers_per_rep: int, seed: int = 7) -> None:
    """Fill a fresh database through SQLAlchemy Core bulk inserts (the ORM would dominate the setup time)."""
    rng = random.Random(seed)
    engine = make_engine(url)
    init_database(engine)
    kinds = [(k, c) for k, c, w in MIX for _ in range(w)]
    with engine.begin() as conn:
        conn.execute(insert(Rep), [
            {"id": r + 1, "email": f"rep{r}@example.com", "name": f"Rep {r}", "time_zone": "Europe/Madrid",
             "digest_hour": 7, "language": "es" if r % 4 == 0 else "en", "created_at": NOW - timedelta(days=500)}
            for r in range(reps)
        ])  # fmt: skip
        customers, contacts, sources, interactions = [], [], [], []
        for r in range(reps):
            for c in range(customers_per_rep):
                cid = r * customers_per_rep + c + 1
                customers.append({
                    "id": cid, "name": f"Customer {cid}", "rep_id": r + 1, "domains": [f"c{cid}.example"],
                    "aliases": [], "interests": rng.sample(INTERESTS, 2), "language": "es" if cid % 5 == 0 else "en",
                    "touch_cadence_days": rng.choice([14, 30, 45]), "created_at": NOW - timedelta(days=300),
                    "customer_since": date(2018 + cid % 7, 1 + cid % 12, 1 + cid % 28),
                    "founded_on": date(1990 + cid % 30, 1 + (cid * 7) % 12, 1 + (cid * 3) % 28),
                    "muted_until": TODAY + timedelta(days=3) if cid % 97 == 0 else None,
                })  # fmt: skip
                for k in range(1 + cid % 2):
                    contacts.append({"customer_id": cid, "name": f"Contact{k} Person{cid}", "role": "CTO",
                                     "email": f"c{k}@c{cid}.example",
                                     "birthday": f"{1 + (cid + k) % 12:02d}-{1 + (cid * 5 + k) % 28:02d}"})  # fmt: skip
                failing = cid % 33 == 0
                sources.append({
                    "id": cid, "customer_id": cid, "kind": "rss", "locator": f"https://c{cid}.example/feed",
                    "created_at": NOW - timedelta(days=300), "error_count": 4 if failing else 0,
                    "last_error": "HTTP 503" if failing else "",
                    "failing_since": NOW - timedelta(days=2) if failing else None,
                    "enabled": True, "cursor": {},
                })  # fmt: skip
                for _ in range(rng.randint(0, 3)):
                    interactions.append({"rep_id": r + 1, "customer_id": cid,
                                         "kind": rng.choice(["call", "email", "meeting", "congrats"]),
                                         "happened_at": NOW - timedelta(days=rng.randint(1, 90)),
                                         "note": ""})  # fmt: skip
        conn.execute(insert(Customer), customers)
        conn.execute(insert(Contact), contacts)
        conn.execute(insert(Source), sources)
        conn.execute(insert(Interaction), interactions)

        post_id = 0
        posts: list[dict[str, Any]] = []
        insights: list[dict[str, Any]] = []
        shown: dict[int, list[int]] = {}
        for cust in customers:
            for _ in range(rng.randint(4, 12)):  # posts in the last 60 days
                post_id += 1
                kind, category = rng.choice(kinds)
                published = NOW - timedelta(hours=rng.uniform(1, 24 * 60))
                key = hashlib.sha256(str(post_id).encode()).hexdigest()
                posts.append({
                    "id": post_id, "source_id": cust["id"], "customer_id": cust["id"], "external_id": key,
                    "canonical_url": f"https://c{cust['id']}.example/p/{post_id}",
                    "title": f"{cust['name']} {category} news number {post_id}", "text": "Lorem ipsum " * 40,
                    "author": "", "published_at": published, "fetched_at": published, "language": cust["language"],
                    "content_hash": key, "story_key": key[:16], "links": [], "metrics": {},
                    "duplicate_of_id": post_id - 1 if post_id % 50 == 0 else None,
                    "digest_eligible": post_id % 40 != 0,
                })  # fmt: skip
                insights.append({
                    "id": post_id, "post_id": post_id, "kind": kind, "category": category,
                    "score": round(rng.uniform(0.4, 0.98), 2), "language": cust["language"],
                    "evidence": [category], "facts": FACTS.get(category, {}), "classified_at": published,
                    "acted_at": published if rng.random() < 0.05 else None,
                })  # fmt: skip
                if published < NOW - timedelta(days=1) and kind != "none" and rng.random() < 0.5:
                    shown.setdefault(cust["rep_id"], []).append(post_id)
            if len(posts) > 20_000:
                conn.execute(insert(Post), posts)
                conn.execute(insert(Insight), insights)
                posts, insights = [], []
        if posts:
            conn.execute(insert(Post), posts)
            conn.execute(insert(Insight), insights)
        conn.execute(insert(Digest), [
            {"rep_id": r + 1, "digest_date": TODAY - timedelta(days=d), "status": "sent",
             "insight_ids": shown.get(r + 1, [])[d::7], "created_at": NOW - timedelta(days=d), "item_count": 5}
            for r in range(reps) for d in range(1, 8)
        ])  # fmt: skip
    engine.dispose()


def run_slice(url: str, rep_ids: list[int]) -> tuple[int, int, int, float]:
    """Build and render the digests of some reps; returns (digests, items, html bytes, CPU seconds)."""
    cpu = time.process_time()
    settings = load_settings(None, environ={"LISTENER_DB": url, "XDG_CONFIG_HOME": "/nonexistent"})
    engine = make_engine(url)
    sessions = session_factory(engine)
    digests = items = size = 0
    with sessions() as session:
        for rep_id in rep_ids:
            rep = session.get(Rep, rep_id)
            assert rep is not None
            digest = build_digest(session, settings, rep, TODAY, NOW)
            rendered = render(digest)
            digests += 1
            items += digest.item_count
            size += len(rendered.html) + len(rendered.text)
    engine.dispose()
    return digests, items, size, time.process_time() - cpu


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--reps", type=int, default=1000)
    parser.add_argument("--customers", type=int, default=50)
    parser.add_argument("--workers", type=int, default=2, help="processes building digests (default 2: two cores)")
    parser.add_argument("--db", help="SQLite file to create (default: a temporary one)")
    parser.add_argument("--reuse", action="store_true", help="keep an existing --db file instead of filling a new one")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(args.db) if args.db else Path(tmp) / "bench.db"
        url = f"sqlite:///{path}"
        started = time.perf_counter()
        if not (args.reuse and path.is_file()):
            path.unlink(missing_ok=True)
            populate(url, args.reps, args.customers)
        setup = time.perf_counter() - started
        engine = make_engine(url)
        with session_factory(engine)() as session:
            rep_ids = list(session.scalars(select(Rep.id).order_by(Rep.id)))
            n_insights = session.query(Insight).count()
        engine.dispose()
        slices = [rep_ids[i :: args.workers] for i in range(args.workers)]
        started = time.perf_counter()
        if args.workers == 1:
            results = [run_slice(url, rep_ids)]
        else:
            with ProcessPoolExecutor(args.workers) as pool:
                results = list(pool.map(run_slice, [url] * args.workers, slices))
        seconds = time.perf_counter() - started
    digests = sum(r[0] for r in results)
    items = sum(r[1] for r in results)
    size = sum(r[2] for r in results)
    # CPU time does not grow when other processes share the cores: busiest worker's CPU ~ wall time on idle cores.
    cpu_max = max(r[3] for r in results)
    print(f"setup: {len(rep_ids)} reps, {len(rep_ids) * args.customers} customers, {n_insights} insights "
          f"in {setup:.1f} s")  # fmt: skip
    print(f"built and rendered {digests} digests ({items} items, {size / digests / 1024:.1f} KB each) "
          f"with {args.workers} worker(s) in {seconds:.2f} s")  # fmt: skip
    print(f"CPU: {sum(r[3] for r in results):.2f} s in all, {cpu_max:.2f} s for the busiest worker "
          f"(~ the wall time on {args.workers} idle cores; other load inflates the wall time above)")  # fmt: skip
    print(f"{seconds:.2f}")


if __name__ == "__main__":
    main()
