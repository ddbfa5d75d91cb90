"""Benchmark: several `listener ingest` processes sharing one PostgreSQL: one worker, then two, then three; then a
worker killed with SIGKILL mid-run.

    .venv/bin/python bench/scale.py [--feeds 20000] [--items 2] [--latency 1.0] [--hosts 1000] [--concurrency 100]
                                    [--workers 1,2,3] [--no-kill] [--profile DIR]

For each phase: a fresh database seeded with one due RSS source per feed, the feed server's counters reset, then N
`listener ingest --json` processes started together (each a separate process, as on separate hosts). Printed: the
sources each one polled, the wall time from the first start to the last exit, the throughput and its ratio to one
worker's, and the checks: the server answered exactly `feeds` requests, every source row says it was polled exactly
once (`polls` = 1) and successfully, every post is stored once, and no lease is left.

The kill phase starts three workers with 20 s leases, SIGKILLs one once a third of the feeds were requested, lets
the other two finish, waits until the dead worker's leases have run out, and runs one more worker: every source
ends polled successfully and every post is stored once; the sources the dead worker had in flight are requested
twice (the only double requests allowed, and counted).

Where the time goes, measured so that a shared machine cannot blur it: for each phase the CPU seconds (user +
system) of each process kind, summed over the workers: the `listener ingest` processes themselves (os.wait4), their
parser processes (sampled from /proc), PostgreSQL (the postmaster's own and its reaped backends', from /proc) and
the bench's feed server (from /proc; it stands in for the remote hosts, whose CPU is not the workers' in life, and
is shown so that it can be subtracted); and per worker a timeline in seconds from the phase's start: started, its
run started (imports done), first chunk claimed, last chunk claimed, last poll stored, done polling and storing,
done with the second opinion's pass, leases released, run finished, exit (the report's `timeline`). On a busy
machine compare those, not the wall times. `--profile DIR` samples every worker with py-spy (pip install py-spy).

The same job in every phase: each run asks the learned second opinion about up to
relevance.second_opinion_max_posts (25) of its own posts after polling, 8-10 CPU seconds for 25 of these posts. Left
at the default, N workers would ask about N times as many posts as one worker, more work rather than slower work,
which on one 2-core machine costs the N-worker phase 10-20 s of CPU that the one-worker phase never spends. So each
of N workers gets 1/N of that budget (rounded up) and every phase asks the model about ~25 posts in all;
`--second-opinion-per-worker` keeps the default instead.

Why these settings: the issue's scale-out case is a worker that waits on the network (1 s a feed, 100 fetches in
flight), so the items per feed are few (2): on this 2-core machine, parsing and classifying 20 items a feed would
make the run CPU-bound, and more processes cannot add cores. The feeds come from bench/ingest.py's server (its own
process, 1,000 loopback addresses as hosts). PostgreSQL is the tests' pgserver (binaries from PyPI). Exit status 1
when a check fails or a target (two workers >= 1.8x, three >= 2.5x one worker's throughput) is missed.
"""

from __future__ import annotations

import argparse
import json
import os
import signal
import subprocess
import sys
import tempfile
import threading
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench.ingest import FeedServer, TreePeaks, listener_command, seed  # noqa: E402
from bench.ingest import process_cpu_seconds as cpu_seconds  # noqa: E402

TARGETS = {2: 1.8, 3: 2.5}
PROFILE_DIR: Path | None = None  # --profile: where each worker's py-spy stacks go


@dataclass
class Phase:
    workers: int
    seconds: float
    polled: list[int]
    requests: int
    problems: list[str]
    cpu: dict[str, float]  # CPU seconds (user + system) by process kind
    timelines: list[str]  # one line per worker: its moments, in seconds from the phase's start


class Worker:
    """One `listener ingest --json` process, with what it costs: its own CPU (os.wait4's rusage, when it exits),
    its parser processes' (sampled from /proc: the forkserver's children are never waited for), its exit time."""

    def __init__(self, process: subprocess.Popen[bytes], name: str) -> None:
        self.process, self.name = process, name
        self.started = time.time()
        self.parsers = TreePeaks(process.pid)
        self.cpu = 0.0
        self.exited = 0.0
        self._waiter = threading.Thread(target=self._wait, daemon=True)
        self._waiter.start()

    def _wait(self) -> None:
        _, status, usage = os.wait4(self.process.pid, 0)
        self.exited = time.time()
        self.process.returncode = os.waitstatus_to_exitcode(status)
        self.cpu = usage.ru_utime + usage.ru_stime

    def wait(self) -> None:
        self._waiter.join()
        self.parsers.stop()

    def kill(self) -> None:
        self.process.send_signal(signal.SIGKILL)


class Postgres:
    """A PostgreSQL server for the bench (pgserver, as tests/conftest.py starts it); a fresh database per phase."""

    def __init__(self, workdir: Path) -> None:
        import pgserver

        self.server = pgserver.get_server(workdir / "pg", cleanup_mode="stop")
        self.count = 0

    def fresh(self) -> str:
        from urllib.parse import parse_qs, urlsplit

        self.count += 1
        name = f"scale_{self.count}"
        self.server.psql(f"CREATE DATABASE {name};")
        socket_dir = parse_qs(urlsplit(self.server.get_uri()).query)["host"][0]
        return f"postgresql+psycopg://postgres:@/{name}?host={socket_dir}"

    def pid(self) -> int:
        """The postmaster's process id (the first line of its postmaster.pid)."""
        pid = self.server.get_pid()
        assert pid is not None, "PostgreSQL is not running"
        return pid

    def close(self) -> None:
        self.server.cleanup()


def start(db_url: str, workdir: Path, name: str, env_extra: dict[str, str]) -> Worker:
    env = {
        **os.environ,
        "LISTENER_DB": db_url,
        "LISTENER_FETCH_ALLOW_PRIVATE_NETWORKS": "true",
        "XDG_CONFIG_HOME": str(workdir / "config"),
        # Every worker of this bench shares one host's two cores: one encoder thread each, as the README advises
        # for several workers on one host (relevance.second_opinion_threads).
        "LISTENER_RELEVANCE_SECOND_OPINION_THREADS": "1",
        **env_extra,
    }
    env.pop("LISTENER_CONFIG", None)
    out = (workdir / f"{name}.out").open("wb")
    err = (workdir / f"{name}.err").open("wb")
    command = [*listener_command(), "ingest", "--json"]
    if PROFILE_DIR is not None:  # py-spy samples the worker and its parser processes: where their CPU goes
        spy = [str(Path(sys.executable).with_name("py-spy")), "record", "--subprocesses", "--format", "raw"]
        command = [
            *spy,
            "--rate",
            "50",
            "--nonblocking",
            "--output",
            str(PROFILE_DIR / f"{name}.stacks"),
            "--",
            *command,
        ]
    return Worker(subprocess.Popen(command, stdout=out, stderr=err, env=env), name)


def report_of(workdir: Path, name: str) -> dict[str, Any]:
    lines = [line for line in (workdir / f"{name}.out").read_text().splitlines() if line.startswith("{")]
    if not lines:
        raise SystemExit(f"{name} printed nothing:\n{(workdir / f'{name}.err').read_text()[-2000:]}")
    return dict(json.loads(lines[-1]))


def polled_by(workdir: Path, name: str) -> int:
    return int(report_of(workdir, name)["sources_polled"])


def failed_polls(workdir: Path, names: list[str]) -> list[str]:
    """The polls the workers themselves report as failed (a time limit on a loaded machine, say), one line each."""
    return [
        f"{name}: source {failure['source_id']} failed: {failure['error']}"
        for name in names
        for failure in report_of(workdir, name)["failures"]
    ]


def database_checks(db_url: str, feeds: int, items: int, *, twice_allowed: bool = False) -> list[str]:
    from sqlalchemy import func, select

    from listener.db.schema import Post, Source
    from listener.db.session import make_engine, session_factory

    engine = make_engine(db_url)
    problems = []
    with session_factory(engine)() as session:
        posts = session.scalar(select(func.count()).select_from(Post))
        unpolled = session.scalar(select(func.count()).select_from(Source).where(Source.last_success_at.is_(None)))
        leased = session.scalar(select(func.count()).select_from(Source).where(Source.lease_owner != ""))
        polls: dict[int, int] = dict(session.execute(select(Source.polls, func.count()).group_by(Source.polls)).all())
    engine.dispose()
    if posts != feeds * items:
        problems.append(f"{posts} posts stored, expected {feeds * items}")
    if unpolled:
        problems.append(f"{unpolled} sources never polled successfully")
    if leased:
        problems.append(f"{leased} leases left")
    if not twice_allowed and polls != {1: feeds}:
        problems.append(f"sources by number of polls: {polls}, expected every one polled once")
    return problems


def answered(counts: dict[str, int]) -> int:
    """Requests the feed server answered (its counters also count connections)."""
    return sum(int(counts.get(status, 0)) for status in ("200", "304", "404"))


def phase(pg: Postgres, server: FeedServer, workdir: Path, args: argparse.Namespace, workers: int) -> Phase:
    db_url = pg.fresh()
    seed(db_url, server.url, args.feeds)
    server.control("/_reset")
    env = {"LISTENER_FETCH_CONCURRENCY": str(args.concurrency), **second_opinion_share(args, workers)}
    before = {"PostgreSQL": cpu_seconds(pg.pid()), "feed server": cpu_seconds(server.process.pid)}
    started = time.time()
    processes = [start(db_url, workdir, f"w{workers}-{n}", env) for n in range(workers)]
    for process in processes:
        process.wait()
    seconds = time.time() - started
    time.sleep(0.5)  # the workers' PostgreSQL backends exit and are reaped
    cpu = {
        "workers": sum(w.cpu for w in processes),
        "parsers": sum(w.parsers.cpu_seconds() for w in processes),
        "PostgreSQL": cpu_seconds(pg.pid()) - before["PostgreSQL"],
        "feed server": cpu_seconds(server.process.pid) - before["feed server"],
    }
    timelines = [timeline(w, started, workdir) for w in processes]
    counts = server.control("/_stats")
    requests = answered(counts)
    problems = database_checks(db_url, args.feeds, args.items)
    if requests != args.feeds:
        problems.append(f"the server answered {requests} requests for {args.feeds} feeds ({counts})")
    polled = [polled_by(workdir, f"w{workers}-{n}") for n in range(workers)]
    problems += failed_polls(workdir, [f"w{workers}-{n}" for n in range(workers)])
    if sum(polled) != args.feeds:
        problems.append(f"the workers report {sum(polled)} sources polled, expected {args.feeds}")
    return Phase(workers, seconds, polled, requests, problems, cpu, timelines)


def second_opinion_share(args: argparse.Namespace, workers: int) -> dict[str, str]:
    """The same job in every phase: N workers ask the learned second opinion about as many posts together as one
    worker does alone (each its share of relevance.second_opinion_max_posts), unless --second-opinion-per-worker.

    Each run asks the model about up to that many of its own posts (8-10 CPU seconds for 50 of these posts): with
    the default, three workers ask about three times as many posts as one. That is more work, not slower work (on
    separate hosts each pays it on its own cores), so a ratio of throughputs compares equal jobs."""
    if args.second_opinion_per_worker:
        return {}
    from listener.settings import RelevanceSettings

    total = RelevanceSettings().second_opinion_max_posts
    return {"LISTENER_RELEVANCE_SECOND_OPINION_MAX_POSTS": str(-(-total // workers))}


def timeline(worker: Worker, origin: float, workdir: Path) -> str:
    """When the worker started, claimed its first and last chunk, stored its last poll, finished polling and
    storing, returned from the run and exited (seconds from the phase's start), from its report's timeline."""
    moments = dict(report_of(workdir, worker.name).get("timeline", {}))
    moments = {"started": worker.started, **{f"run {k}": v for k, v in moments.items()}, "exit": worker.exited}
    return f"{worker.name}: " + ", ".join(f"{key} {value - origin:.1f}" for key, value in moments.items())


def show_cost(cpu: dict[str, float], feeds: int) -> str:
    """CPU seconds by process kind, and per feed: what a busy machine's wall times cannot tell."""
    total = sum(cpu.values())
    parts = ", ".join(f"{kind} {seconds:.1f}" for kind, seconds in cpu.items())
    return f"CPU s: {parts}; total {total:.1f} = {1000 * total / feeds:.2f} ms a feed"


def kill_phase(pg: Postgres, server: FeedServer, workdir: Path, args: argparse.Namespace) -> dict[str, Any]:
    db_url = pg.fresh()
    seed(db_url, server.url, args.feeds)
    server.control("/_reset")
    lease = 20
    env = {
        "LISTENER_FETCH_CONCURRENCY": str(args.concurrency),
        "LISTENER_INGEST_LEASE_SECONDS": str(lease),
        **second_opinion_share(args, 3),
    }
    started = time.monotonic()
    processes = [start(db_url, workdir, f"kill-{n}", env) for n in range(3)]
    while answered(server.control("/_stats")) < args.feeds // 3:
        time.sleep(0.2)
    processes[0].kill()
    killed_at = time.monotonic() - started
    for process in processes:
        process.wait()
    survivors_done = time.monotonic() - started
    time.sleep(lease + 1)  # the dead worker's leases, no longer renewed, run out
    heir = start(db_url, workdir, "kill-heir", env)
    heir.wait()
    seconds = time.monotonic() - started
    requests = answered(server.control("/_stats"))
    return {
        "killed_at": killed_at,
        "survivors_done": survivors_done,
        "seconds": seconds,
        "polled": [polled_by(workdir, f"kill-{n}") for n in (1, 2)] + [polled_by(workdir, "kill-heir")],
        "requested_twice": requests - args.feeds,
        "problems": database_checks(db_url, args.feeds, args.items, twice_allowed=True)
        + failed_polls(workdir, ["kill-1", "kill-2", "kill-heir"]),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--feeds", type=int, default=20_000)
    parser.add_argument("--items", type=int, default=2)
    parser.add_argument("--latency", type=float, default=1.0)
    parser.add_argument("--hosts", type=int, default=1000)
    parser.add_argument("--concurrency", type=int, default=100)
    parser.add_argument("--no-kill", action="store_true", help="Skip the SIGKILL phase.")
    parser.add_argument(
        "--profile", type=Path, help="Sample each worker with py-spy into PROFILE/NAME.stacks (slows them down)."
    )
    parser.add_argument(
        "--second-opinion-per-worker",
        action="store_true",
        help="Every worker asks the model about up to relevance.second_opinion_max_posts posts (the product default; "
        "N workers then do N times one worker's model work), instead of sharing one worker's budget.",
    )
    parser.add_argument("--workers", default="1,2,3", help="The phases' worker counts, e.g. 3 (ratios need 1 first).")
    args = parser.parse_args()
    if args.profile:
        global PROFILE_DIR
        PROFILE_DIR = args.profile.resolve()
        PROFILE_DIR.mkdir(parents=True, exist_ok=True)
    sys.stdout.reconfigure(line_buffering=True)  # type: ignore[union-attr]  # each phase shows as it ends
    failures: list[str] = []
    with tempfile.TemporaryDirectory(prefix="listener-scale-") as tmp:
        workdir = Path(tmp)
        (workdir / "config").mkdir()
        pg = Postgres(workdir)
        server = FeedServer(args.feeds, args.items, args.latency, args.hosts)
        try:
            print(
                f"{args.feeds:,} feeds x {args.items} items, {args.latency} s latency, {args.hosts} hosts, "
                f"fetch.concurrency {args.concurrency}; load average before: {os.getloadavg()[0]:.1f}"
            )
            phases = []
            for workers in [int(n) for n in args.workers.split(",")]:
                result = phase(pg, server, workdir, args, workers)
                phases.append(result)
                rate = args.feeds / result.seconds
                ratio = rate / (args.feeds / phases[0].seconds)
                print(
                    f"{workers} worker(s): {result.seconds:6.1f} s, {rate:6.1f} feeds/s, {ratio:.2f}x one worker; "
                    f"polled {result.polled}; {result.requests} requests; load {os.getloadavg()[0]:.1f}"
                )
                print(f"  {show_cost(result.cpu, args.feeds)}")
                for line in result.timelines:
                    print(f"  {line}")
                for problem in result.problems:
                    print(f"  ! {problem}")
                failures += result.problems
                if workers in TARGETS and ratio < TARGETS[workers]:
                    failures.append(f"{workers} workers: {ratio:.2f}x, target {TARGETS[workers]}x")
            if not args.no_kill:
                killed = kill_phase(pg, server, workdir, args)
                print(
                    f"kill: worker 0 SIGKILLed at {killed['killed_at']:.1f} s, the other two done at "
                    f"{killed['survivors_done']:.1f} s, the heir (after the 20 s leases ran out) at "
                    f"{killed['seconds']:.1f} s; polled {killed['polled']}; "
                    f"{killed['requested_twice']} feeds requested twice (in flight when killed)"
                )
                for problem in killed["problems"]:
                    print(f"  ! {problem}")
                failures += killed["problems"]
        finally:
            server.close()
            pg.close()
    if failures:
        print("FAILED: " + "; ".join(failures))
        raise SystemExit(1)
    print("all checks passed")


if __name__ == "__main__":
    main()
