"""Benchmark: `listener ingest` over N feeds on loopback with added latency: a cold run, then a warm one.

    .venv/bin/python bench/ingest.py [--feeds 10000] [--items 20] [--latency 0.2] [--hosts 1000] [--changed 0.05]

Prints, for each run, the wall time, feeds/s and peak memory. Targets on 2 cores: cold <= 60 s, warm <= 20 s,
peak RSS of the ingest process <= 500 MB; the exit status is 1 when a target or a sanity check is missed.

How it is set up, and why the figures are honest:
- The feeds (RSS 2.0, `--items` items each, realistic titles and texts) come from a small asyncio HTTP/1.1 server
  (keep-alive, ETag and Last-Modified, 304 when a validator matches) running in its own process, so it never
  competes with the ingest for a GIL. Every response, 304s included, waits `--latency` seconds first. Every
  document is built before the runs (and a changed one when it changes): on 2 cores the server's own CPU competes
  with the ingest, where a remote site's does not.
- Feed i lives at http://127.0.X.Y:PORT/feed/i.xml on host number i % --hosts, each host a loopback address of
  its own. The fetcher resolves every host name itself (getaddrinfo, then the private-address check, which
  LISTENER_FETCH_ALLOW_PRIVATE_NETWORKS=true relaxes for loopback) and its per-host limit (fetch.per_host, 4 in
  flight) keys on the URL's host name: distinct addresses are distinct hosts to both, as customers' own domains are.
  Names such as feed7.localhost would be closer to life but do not resolve without nss-myhostname, and no
  /etc/hosts is edited. With 1,000 hosts (10 feeds each) the global limit (fetch.concurrency, 200 in flight)
  binds, as for a team whose customers publish on their own domains; `--hosts 20` shows a few big platforms,
  where the per-host limit binds instead. No setting is changed from its default.
- A fresh SQLite file per benchmark; one rep, one customer per feed and one source per feed are seeded with bulk
  SQL (`listener source add` would fetch each feed to discover it, which is not what is measured).
- Each run is the real CLI, `listener ingest --all --json`, in a subprocess with LISTENER_DB and
  LISTENER_FETCH_ALLOW_PRIVATE_NETWORKS=true. cold: every source's first poll (all posts parsed, stored and
  classified). warm: `--changed` of the feeds gained one item, then every source is polled again (--all, because
  none is due yet) with its saved validators; the server counts its 200s and 304s and the bench checks that exactly
  the changed feeds were sent in full and that exactly one new post each was stored.
- Memory: the ingest process's peak RSS from os.wait4's rusage; its parser processes' peaks are sampled from /proc
  (Linux) and shown beside it.
- CPU seconds (user + system) of each run, by process kind: the ingest process (os.wait4), its parser processes
  (sampled from /proc) and the feed server (from /proc; a remote site's CPU is not the ingest's in life, so it is
  shown apart). On a shared machine the wall times are noisy and these are not: compare them between runs.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import random
import re
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from email.utils import format_datetime
from pathlib import Path
from typing import Any
from xml.sax.saxutils import escape

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from tests.procfs import descendants as process_descendants  # noqa: E402

# The shared evaluation set beside the checkout; LISTENER_BENCH_EVAL names it from elsewhere (a git worktree).
EVAL = Path(os.environ.get("LISTENER_BENCH_EVAL") or ROOT.parent / "shared" / "eval" / "dev.jsonl")
TARGETS = {"cold": 60.0, "warm": 20.0}
RSS_TARGET_MB = 500.0
SAMPLE = [  # used when ../shared/eval is absent: a few realistic posts, reused with variations
    ("{c} raises $20M Series B to expand into Europe", "Led by Northwind Ventures, the round funds hiring in sales."),
    ("Our spring webinar: logistics after the peak season", "Join our COO for a 45-minute session and live Q&A."),
    ("{c} named Logistics Startup of the Year", "We are honoured to receive the award from the regional chamber."),
    ("Incident report: delayed shipments on Tuesday", "A carrier outage delayed 3% of orders; all are now delivered."),
    ("We're hiring: senior backend engineer", "Remote within Europe, Python and PostgreSQL, a small kind team."),
    ("What we learned migrating to a new WMS", "Six months, two warehouses, one spreadsheet too many."),
    ("{c} opens its first office in Madrid", "The new team will serve customers across Spain and Portugal."),
    ("Happy holidays from all of us", "Thank you for a wonderful year; see you in January!"),
]


# ---------------------------------------------------------------- the feed server (its own process)


def _posts_pool() -> list[tuple[str, str]]:
    if EVAL.is_file():
        records = [json.loads(line) for line in EVAL.open(encoding="utf-8") if line.strip()]
        pool = [(r.get("title") or r["text"][:80], r["text"]) for r in records]
        if len(pool) >= 40:
            return pool
    return [(t, x) for t, x in SAMPLE]


class FeedSite:
    """Every feed's current document, with its validators."""

    def __init__(self, feeds: int, items: int) -> None:
        self.items = items
        self.pool = _posts_pool()
        self.versions = [0] * feeds
        self.cache: dict[int, tuple[bytes, str, str]] = {}
        self.base_time = datetime.now(UTC).replace(microsecond=0)
        self.counts = {"200": 0, "304": 0, "404": 0, "connections": 0}

    def document(self, i: int) -> tuple[bytes, str, str]:
        cached = self.cache.get(i)
        if cached is None:
            cached = self.cache[i] = self._build(i)
        return cached

    def _build(self, i: int) -> tuple[bytes, str, str]:
        version = self.versions[i]
        company = f"Customer {i}"
        keys = [("new", v) for v in range(version, 0, -1)] + [("item", k) for k in range(self.items)]
        parts = []
        for label, k in keys:
            title, text = self.pool[(i * 7 + (k if label == "item" else 1000 + k)) % len(self.pool)]
            when = self.base_time - timedelta(hours=3 * (k if label == "item" else -k), minutes=i % 60)
            parts.append(
                f"<item><guid isPermaLink='false'>urn:bench:{i}:{label}:{k}</guid>"
                f"<title>{escape(title.format(c=company))}</title>"
                f"<link>https://customer{i}.example/{label}/{k}</link>"
                f"<description>{escape('<p>' + text.format(c=company) + '</p>')}</description>"
                f"<pubDate>{format_datetime(when, usegmt=True)}</pubDate></item>"
            )
        body = (
            "<?xml version='1.0' encoding='utf-8'?><rss version='2.0'><channel>"
            f"<title>{company} blog</title><link>https://customer{i}.example/</link><language>en</language>"
            + "".join(parts)
            + "</channel></rss>"
        ).encode()
        modified = format_datetime(self.base_time + timedelta(minutes=version), usegmt=True)
        return body, f'"{i}-{version}"', modified

    def change(self, every: int) -> int:
        """Add one item to every `every`-th feed; how many changed."""
        changed = 0
        for i in range(0, len(self.versions), every):
            self.versions[i] += 1
            self.cache[i] = self._build(i)
            changed += 1
        return changed


def _response(status: str, headers: dict[str, str], body: bytes = b"") -> bytes:
    lines = [f"HTTP/1.1 {status}", *(f"{k}: {v}" for k, v in headers.items()), f"Content-Length: {len(body)}"]
    return ("\r\n".join(lines) + "\r\n\r\n").encode() + body


async def _answer(site: FeedSite, target: str, request: dict[str, str], latency: float) -> bytes:
    if target.startswith("/_"):  # control, from the bench itself: no latency
        if target.startswith("/_change"):
            every = int(target.split("=", 1)[1])
            return _response("200 OK", {"Content-Type": "application/json"}, json.dumps(site.change(every)).encode())
        if target == "/_stats":
            return _response("200 OK", {"Content-Type": "application/json"}, json.dumps(site.counts).encode())
        if target == "/_reset":
            site.counts = dict.fromkeys(site.counts, 0)
            return _response("200 OK", {}, b"ok")
    await asyncio.sleep(latency)
    match = re.fullmatch(r"/feed/(\d+)\.xml", target)
    if match is None or int(match.group(1)) >= len(site.versions):
        site.counts["404"] += 1
        return _response("404 Not Found", {})
    body, etag, modified = site.document(int(match.group(1)))
    if request.get("if-none-match") == etag or (
        "if-none-match" not in request and request.get("if-modified-since") == modified
    ):
        site.counts["304"] += 1
        return _response("304 Not Modified", {"ETag": etag, "Last-Modified": modified})
    site.counts["200"] += 1
    headers = {"Content-Type": "application/rss+xml; charset=utf-8", "ETag": etag, "Last-Modified": modified}
    return _response("200 OK", headers, body)


async def _connection(
    site: FeedSite, latency: float, reader: asyncio.StreamReader, writer: asyncio.StreamWriter
) -> None:
    site.counts["connections"] += 1
    try:
        while True:
            head = await reader.readuntil(b"\r\n\r\n")
            lines = head.decode("latin-1").split("\r\n")
            target = lines[0].split(" ")[1] if lines[0].count(" ") >= 2 else "/"
            request = {}
            for line in lines[1:]:
                name, _, value = line.partition(":")
                request[name.strip().lower()] = value.strip()
            writer.write(await _answer(site, target, request, latency))
            await writer.drain()
            if request.get("connection", "").lower() == "close":
                break
    except (asyncio.IncompleteReadError, asyncio.LimitOverrunError, ConnectionError):
        pass
    finally:
        writer.close()


def host_address(h: int) -> str:
    """Loopback address number h (127.0.0.1, 127.0.0.2, ... 127.0.1.1, ...), each one 'host' for the fetcher."""
    return f"127.0.{h // 250}.{h % 250 + 1}"


async def serve(feeds: int, items: int, latency: float, hosts: int) -> None:
    """Listen on `hosts` loopback addresses (one socket each), print {address: port} once ready, serve forever."""
    site = FeedSite(feeds, items)
    for i in range(feeds):  # built before the runs: a remote server's CPU is not the ingest's (2 s of 10,000)
        site.document(i)
    ports: dict[str, int] = {}
    servers = []
    for h in range(hosts):
        address = host_address(h)
        server = await asyncio.start_server(
            lambda r, w: _connection(site, latency, r, w), address, 0, backlog=1024, reuse_address=True
        )
        ports[address] = server.sockets[0].getsockname()[1]
        servers.append(server)
    print(json.dumps(ports), flush=True)
    await asyncio.Event().wait()


# ---------------------------------------------------------------- the bench (this process)


@dataclass
class Run:
    name: str
    seconds: float
    report: dict[str, Any]
    rss_mb: float  # the ingest process
    workers_mb: float  # the largest of its child processes (parsers), 0 when not measurable
    counts: dict[str, int]
    cpu: float = 0.0  # CPU seconds (user + system) of the ingest process itself
    workers_cpu: float = 0.0  # CPU seconds of its descendants (the parser processes), sampled from /proc
    server_cpu: float = 0.0  # CPU seconds of the feed server during the run (it stands in for remote hosts)


class FeedServer:
    """The feed server subprocess, and a small client for its control URLs."""

    def __init__(self, feeds: int, items: int, latency: float, hosts: int) -> None:
        args = ["--serve", f"--feeds={feeds}", f"--items={items}", f"--latency={latency}", f"--hosts={hosts}"]
        self.process = subprocess.Popen([sys.executable, __file__, *args], stdout=subprocess.PIPE, text=True)
        assert self.process.stdout is not None
        line = self.process.stdout.readline()
        if not line:
            raise SystemExit("the feed server did not start")
        self.ports: dict[str, int] = json.loads(line)
        self.hosts = hosts

    def url(self, i: int) -> str:
        address = host_address(i % self.hosts)
        return f"http://{address}:{self.ports[address]}/feed/{i}.xml"

    def control(self, path: str) -> Any:
        import urllib.request

        address = host_address(0)
        with urllib.request.urlopen(f"http://{address}:{self.ports[address]}{path}", timeout=30) as answer:
            body = answer.read()
        return json.loads(body) if body[:1] in (b"{", b"[") or body.isdigit() else body

    def close(self) -> None:
        self.process.terminate()
        self.process.wait(10)


def seed(db_url: str, url_of: Callable[[int], str], feeds: int) -> None:
    """A migrated database with one rep, and one customer and one due RSS source per feed (bulk SQL)."""
    from sqlalchemy import insert

    from listener.db.schema import Customer, Rep, Source
    from listener.db.session import init_database, make_engine, session_factory

    engine = make_engine(db_url)
    init_database(engine)
    now = datetime.now(UTC)
    with session_factory(engine).begin() as session:
        rep = session.scalar(
            insert(Rep).returning(Rep.id), {"email": "bench@example.com", "name": "Bench", "created_at": now}
        )
        customers = session.scalars(
            insert(Customer).returning(Customer.id, sort_by_parameter_order=True),
            [{"name": f"Customer {i}", "rep_id": rep, "created_at": now} for i in range(feeds)],
        ).all()
        session.execute(
            insert(Source),
            [
                {"customer_id": cid, "kind": "rss", "locator": url_of(i), "created_at": now}
                for i, cid in enumerate(customers)
            ],
        )
    engine.dispose()


class TreePeaks:
    """Peak RSS (VmHWM) and CPU time of a process's descendants (found once a second), sampled from /proc every 0.2 s.

    The parser processes are the forkserver's children, which the ingest process never waits for, so the rusage of
    os.wait4 leaves their CPU out; the last sample of each is at most 0.2 s short.
    """

    def __init__(self, pid: int) -> None:
        self.pid = pid
        self.peaks: dict[int, int] = {}
        self.cpu_ticks: dict[int, int] = {}
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)
        if Path("/proc/self/status").exists():
            self._thread.start()

    def _run(self) -> None:
        descendants: list[int] = []
        tick = 0
        while not self._stop.wait(0.2):
            # Finding the descendants means reading every process's stat: once a second, not at every sample (the
            # sampler's own CPU competes with the ingest on 2 cores). Parser processes start once, and early.
            if tick % 5 == 0:
                descendants = process_descendants(self.pid)
            tick += 1
            for pid in descendants:
                try:
                    stat = Path(f"/proc/{pid}/stat").read_text()
                    status = Path(f"/proc/{pid}/status").read_text()
                except OSError:
                    continue
                fields = stat.rsplit(")", 1)[1].split()  # fields[0] is the state, the third of stat(5)
                self.cpu_ticks[pid] = int(fields[11]) + int(fields[12])  # utime + stime
                if found := re.search(r"^VmHWM:\s+(\d+) kB", status, re.MULTILINE):
                    self.peaks[pid] = max(self.peaks.get(pid, 0), int(found.group(1)))

    def stop(self) -> float:
        """The largest descendant's peak, in MB."""
        self._stop.set()
        if self._thread.is_alive():
            self._thread.join()
        return max(self.peaks.values(), default=0) / 1024

    def cpu_seconds(self) -> float:
        """CPU time of the descendants, summed."""
        return sum(self.cpu_ticks.values()) / os.sysconf("SC_CLK_TCK") if self.cpu_ticks else 0.0


def listener_command() -> list[str]:
    script = Path(sys.executable).with_name("listener")
    return [str(script)] if script.exists() else [sys.executable, "-m", "listener"]


def ingest(name: str, db_url: str, workdir: Path, server: FeedServer, profile: bool = False) -> Run:
    """One `listener ingest --all --json` in a subprocess: its wall time, JSON report and peak memory."""
    env = {
        **os.environ,
        "LISTENER_DB": db_url,
        "LISTENER_FETCH_ALLOW_PRIVATE_NETWORKS": "true",
        "XDG_CONFIG_HOME": str(workdir / "config"),  # no user config file is read
    }
    env.pop("LISTENER_CONFIG", None)
    server.control("/_reset")
    server_before = process_cpu_seconds(server.process.pid)
    out, err = workdir / f"{name}.out", workdir / f"{name}.err"
    with out.open("wb") as stdout, err.open("wb") as stderr:
        started = time.monotonic()
        command = [*listener_command(), "ingest", "--all", "--json"]
        if profile:  # py-spy samples the ingest and its parser processes; collapsed stacks, one file per run
            spy = [
                str(Path(sys.executable).with_name("py-spy")),
                "record",
                "--subprocesses",
                "--format",
                "raw",
                "--rate",
                "50",
                "--nonblocking",
                "--gil",  # only the thread holding the GIL: where each process's Python time goes
            ]
            command = [*spy, "--output", str(workdir / f"{name}.stacks"), "--", *command]
        process = subprocess.Popen(command, stdout=stdout, stderr=stderr, env=env)
        tree = TreePeaks(process.pid)
        _, status, usage = os.wait4(process.pid, 0)
        seconds = time.monotonic() - started
        process.returncode = os.waitstatus_to_exitcode(status)
    workers = tree.stop()
    lines = [line for line in out.read_text().splitlines() if line.startswith("{")]  # py-spy may print too
    if not lines:
        raise SystemExit(f"{name}: ingest printed nothing (exit {process.returncode}):\n{err.read_text()[-2000:]}")
    rss_mb = usage.ru_maxrss / 1024 if sys.platform != "darwin" else usage.ru_maxrss / 2**20
    cpu = usage.ru_utime + usage.ru_stime
    stats = server.control("/_stats")
    server_cpu = process_cpu_seconds(server.process.pid) - server_before
    return Run(name, seconds, json.loads(lines[-1]), rss_mb, workers, stats, cpu, tree.cpu_seconds(), server_cpu)


def process_cpu_seconds(pid: int) -> float:
    """A live process's CPU seconds (user + system, its waited-for children's included) from /proc; 0 without it."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return 0.0
    return sum(int(f) for f in fields[11:15]) / os.sysconf("SC_CLK_TCK")  # utime stime cutime cstime


def show(run: Run, feeds: int) -> None:
    report = run.report
    print(
        f"{run.name:>4}: {run.seconds:6.1f} s  {feeds / run.seconds:7.0f} feeds/s  peak RSS {run.rss_mb:5.0f} MB"
        f" (parser processes up to {run.workers_mb:.0f} MB each)  | polled {report['sources_polled']},"
        f" not modified {report['not_modified']}, new posts {report['new_posts']}, failed {report['failed']};"
        f" server sent {run.counts['200']} x 200, {run.counts['304']} x 304"
        f" on {run.counts['connections'] - 1} connections"
    )
    # CPU seconds are what a busy machine cannot blur: compare them between runs when the wall times are noisy.
    total = run.cpu + run.workers_cpu + run.server_cpu
    print(
        f"      CPU s: ingest {run.cpu:.1f}, parsers {run.workers_cpu:.1f}, feed server {run.server_cpu:.1f};"
        f" total {total:.1f} = {1000 * total / feeds:.2f} ms a feed"
    )


def check(cold: Run, warm: Run, feeds: int, items: int, changed: int) -> list[str]:
    """Sanity checks (each run did what it claims) and the targets; what was missed."""
    missed = []
    if cold.report["failed"] or cold.report["new_posts"] != feeds * items or cold.counts["200"] != feeds:
        missed.append(f"cold run: expected {feeds * items} new posts from {feeds} full responses, no failure")
    if warm.counts["304"] != feeds - changed or warm.counts["200"] != changed:
        missed.append(f"warm run: expected {changed} x 200 and {feeds - changed} x 304 (conditional GETs)")
    if warm.report["failed"] or warm.report["new_posts"] != changed:
        missed.append(f"warm run: expected {changed} new posts and no failure")
    for run in (cold, warm):
        if run.seconds > TARGETS[run.name]:
            missed.append(f"{run.name} run took {run.seconds:.1f} s (target <= {TARGETS[run.name]:g} s)")
        if run.rss_mb > RSS_TARGET_MB:
            missed.append(f"{run.name} run peaked at {run.rss_mb:.0f} MB RSS (target <= {RSS_TARGET_MB:g} MB)")
    return missed


def main() -> None:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--feeds", type=int, default=10_000, help="how many feeds (sources)")
    parser.add_argument("--items", type=int, default=20, help="items per feed")
    parser.add_argument("--latency", type=float, default=0.2, help="seconds added to every response")
    parser.add_argument("--hosts", type=int, default=1000, help="distinct loopback hosts the feeds are spread over")
    parser.add_argument("--changed", type=float, default=0.05, help="share of feeds that gain an item before warm")
    parser.add_argument("--keep", action="store_true", help="keep the temporary folder (database, outputs)")
    parser.add_argument(
        "--profile", action="store_true", help="sample each run with py-spy into WORKDIR/NAME.stacks (implies --keep)"
    )
    parser.add_argument("--serve", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args()
    hosts = max(1, min(args.hosts, args.feeds, 250 * 250))
    if args.serve:
        asyncio.run(serve(args.feeds, args.items, args.latency, hosts))
        return
    random.seed(1)
    workdir = Path(tempfile.mkdtemp(prefix="listener-bench-"))
    db_url = f"sqlite:///{workdir / 'bench.db'}"
    print(
        f"ingest benchmark: {args.feeds:,} feeds x {args.items} items, {args.latency * 1000:.0f} ms latency, "
        f"{hosts:,} loopback hosts; {os.cpu_count()} cores; work in {workdir}"
    )
    server = FeedServer(args.feeds, args.items, args.latency, hosts)
    try:
        seed(db_url, server.url, args.feeds)
        cold = ingest("cold", db_url, workdir, server, args.profile)
        show(cold, args.feeds)
        every = max(1, round(1 / args.changed)) if args.changed > 0 else args.feeds + 1
        changed = server.control(f"/_change?every={every}")
        warm = ingest("warm", db_url, workdir, server, args.profile)
        show(warm, args.feeds)
    finally:
        server.close()
    missed = check(cold, warm, args.feeds, args.items, changed)
    for line in missed:
        print("MISSED:", line)
    if not missed:
        print(f"targets met: cold <= {TARGETS['cold']:g} s, warm <= {TARGETS['warm']:g} s, RSS <= {RSS_TARGET_MB:g} MB")
    if not (args.keep or args.profile):
        import shutil

        shutil.rmtree(workdir, ignore_errors=True)
    sys.exit(1 if missed else 0)


if __name__ == "__main__":
    main()
