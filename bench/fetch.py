"""Benchmark: CPU time per request of SafeFetcher (connectors/http.py), for full 200 responses and for 304s.

    .venv/bin/python bench/fetch.py [--urls 3000] [--hosts 300] [--latency 0.2] [--items 20] [--runs 3]
                                    [--profile FILE.prof]

Prints, for each phase of each run, the CPU milliseconds the fetching process spent per request (all its threads,
time.process_time), the wall time, requests/s and how many TCP connections the server accepted; then the median
CPU ms per request over the runs.

How it is set up:
- The feed server is bench/ingest.py's (`--serve`), in its own process so it never competes for our GIL: URL i is
  http://127.0.X.Y:PORT/feed/i.xml on loopback host number i % --hosts, RSS 2.0 with --items items (about 10 KB
  with the default 20, their texts from ../shared/eval/dev.jsonl, or a small built-in sample where it is absent:
  compare figures made with the same one), every response (304s too) delayed by --latency seconds, ETag and
  Last-Modified on each, and a 304 when If-None-Match (or If-Modified-Since) matches.
- The fetcher is built as an ingest run builds it: one SafeFetcher per phase, settings from
  listener.settings.load_settings with LISTENER_FETCH_ALLOW_PRIVATE_NETWORKS=true and no config file (so
  fetch.concurrency 200 and fetch.per_host 4), requests issued as listener/ingest/poll.py does (a window of twice
  the concurrency, hosts interleaved).
- Phase "200": every URL without validators (a cold run). Phase "304": a new fetcher, every URL with the ETag and
  Last-Modified the first phase saw (a warm run of unchanged feeds). Each phase checks every status it got.
- Only the fetching is timed: imports, the server's start and the building of the URL list are not.
- --profile writes a cProfile of the last run's phases, timed by the CPU clock (`python -m pstats FILE`); its own
  overhead multiplies that run's CPU figures. py-spy samples without slowing the run:
  `py-spy record -r 250 -o out.svg -- python bench/fetch.py --runs 1`.
"""

from __future__ import annotations

import argparse
import asyncio
import cProfile
import os
import statistics
import sys
import time
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))

from ingest import FeedServer  # noqa: E402

from connectors.http import SafeFetcher  # noqa: E402
from listener.settings import FetchSettings, load_settings  # noqa: E402


@dataclass
class Phase:
    name: str
    requests: int
    cpu: float
    wall: float
    connections: int

    def line(self) -> str:
        return (
            f"{self.name}: {self.cpu / self.requests * 1000:6.3f} ms CPU/request  {self.requests / self.wall:7.0f} "
            f"requests/s  ({self.requests} requests in {self.wall:5.2f} s wall, {self.cpu:5.2f} s CPU, "
            f"{self.connections} TCP connections)"
        )


def fetch_settings() -> FetchSettings:
    environ = {"LISTENER_FETCH_ALLOW_PRIVATE_NETWORKS": "true", "XDG_CONFIG_HOME": "/nonexistent-listener-bench"}
    return load_settings(None, environ=environ).fetch


async def fetch_all(
    settings: FetchSettings, urls: list[str], validators: Mapping[str, tuple[str, str]], expect: int
) -> dict[str, tuple[str, str]]:
    """Every URL through one SafeFetcher (with its validators, if any); the validators each response carried."""
    fetcher = SafeFetcher(settings)
    window = asyncio.Semaphore(max(1, settings.concurrency) * 2)
    seen: dict[str, tuple[str, str]] = {}

    async def one(url: str) -> None:
        headers = {}
        if url in validators:
            etag, modified = validators[url]
            headers = {"If-None-Match": etag, "If-Modified-Since": modified}
        async with window:
            response = await fetcher.get(url, headers)
        if response.status != expect:
            raise SystemExit(f"{url}: HTTP {response.status}, expected {expect}")
        if expect == 200 and len(response.body) < 100:
            raise SystemExit(f"{url}: a {len(response.body)}-byte body")
        seen[url] = (response.headers.get("etag", ""), response.headers.get("last-modified", ""))

    try:
        await asyncio.gather(*(one(url) for url in urls))
    finally:
        await fetcher.aclose()
    return seen


def phase(
    name: str,
    server: FeedServer,
    urls: list[str],
    validators: Mapping[str, tuple[str, str]],
    expect: int,
    profiler: cProfile.Profile | None,
) -> tuple[Phase, dict[str, tuple[str, str]]]:
    settings = fetch_settings()
    server.control("/_reset")
    cpu, wall = time.process_time(), time.perf_counter()
    if profiler is not None:
        profiler.enable()
    seen = asyncio.run(fetch_all(settings, urls, validators, expect))
    if profiler is not None:
        profiler.disable()
    cpu, wall = time.process_time() - cpu, time.perf_counter() - wall
    counts = server.control("/_stats")
    if counts.get(str(expect)) != len(urls):
        raise SystemExit(f"{name}: the server counted {counts}, expected {len(urls)} x {expect}")
    # The stats request itself is one more connection.
    return Phase(name, len(urls), cpu, wall, counts.get("connections", 0) - 1), seen


def main() -> None:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--urls", type=int, default=3000, help="requests per phase (feeds)")
    parser.add_argument("--hosts", type=int, default=300, help="distinct loopback hosts the URLs are spread over")
    parser.add_argument("--latency", type=float, default=0.2, help="seconds the server waits before each answer")
    parser.add_argument("--items", type=int, default=20, help="items per feed (sets the size of a 200's body)")
    parser.add_argument("--runs", type=int, default=3, help="runs of both phases; the median is reported")
    parser.add_argument("--profile", metavar="FILE", help="write a cProfile of the last run's phases to FILE")
    args = parser.parse_args()
    hosts = max(1, min(args.hosts, args.urls, 250 * 250))
    print(
        f"fetch benchmark: {args.urls:,} URLs on {hosts} loopback hosts, {args.latency * 1000:.0f} ms latency, "
        f"{args.items} items per feed; {args.runs} runs; {os.cpu_count()} cores"
    )
    server = FeedServer(args.urls, args.items, args.latency, hosts)
    results: dict[str, list[Phase]] = {"200": [], "304": []}
    try:
        urls = [server.url(i) for i in range(args.urls)]
        for run in range(args.runs):
            profiler = cProfile.Profile(time.process_time) if args.profile and run == args.runs - 1 else None
            full, validators = phase("200", server, urls, {}, 200, profiler)
            print(f"run {run + 1}  {full.line()}", flush=True)
            cached, _ = phase("304", server, urls, validators, 304, profiler)
            print(f"run {run + 1}  {cached.line()}", flush=True)
            results["200"].append(full)
            results["304"].append(cached)
            if profiler is not None:
                profiler.dump_stats(args.profile)
    finally:
        server.close()
    for name, phases in results.items():
        per_request = statistics.median(p.cpu / p.requests * 1000 for p in phases)
        rate = statistics.median(p.requests / p.wall for p in phases)
        print(f"median {name}: {per_request:.3f} ms CPU/request, {rate:.0f} requests/s")


if __name__ == "__main__":
    main()
