"""Several real `listener ingest` processes on one database, claiming due sources in chunks: every source polled,
none twice, leases renewed while a poll is slow and taken over after a worker is killed with SIGKILL."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import func, select

from listener.cli.app import App
from listener.db.schema import Post, Source
from listener.directory import add_customer, add_rep, get_customer
from listener.settings import load_settings
from listener.sourcing import Resolved, insert_source
from tests.servers.http import Routes, serve, slow_feed


@pytest.fixture
def shared(any_db_url: str, tmp_path: Path) -> Iterator[tuple[App, str]]:
    settings = load_settings(None, environ={"LISTENER_DB": any_db_url, "XDG_CONFIG_HOME": str(tmp_path / "cfg")})
    application = App(settings=settings)
    with application.transaction() as session:
        add_rep(session, "ana@example.com", "Ana")
        add_customer(session, "Acme Corp", rep_email="ana@example.com")
    yield application, any_db_url
    application.close()


def add_feeds(app: App, routes: Routes, base: str, count: int, seconds: float) -> None:
    with app.transaction() as session:
        customer = get_customer(session, "Acme Corp")
        for i in range(count):
            routes[f"/f{i}"] = slow_feed(seconds)
            insert_source(session, customer, Resolved("rss", f"{base}/f{i}"))


def start_ingest(db_url: str, tmp_path: Path, fetch_concurrency: str = "", **settings: str) -> subprocess.Popen[str]:
    env = {
        **os.environ,
        "LISTENER_DB": db_url,
        "XDG_CONFIG_HOME": str(tmp_path / "cfg"),
        "LISTENER_FETCH_ALLOW_PRIVATE_NETWORKS": "true",
        "LISTENER_FETCH_TOTAL_TIMEOUT": "30",
        "LISTENER_INGEST_WORKERS": "1",
        **{f"LISTENER_INGEST_{key.upper()}": value for key, value in settings.items()},
        **({"LISTENER_FETCH_CONCURRENCY": fetch_concurrency} if fetch_concurrency else {}),
    }
    return subprocess.Popen(
        [sys.executable, "-m", "listener", "ingest", "--json"],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


def polled(process: subprocess.Popen[str]) -> int:
    import json

    out, err = process.communicate(timeout=300)
    assert process.returncode == 0, err[-2000:]
    return int(json.loads(out.strip().splitlines()[-1])["sources_polled"])


def every_source_settled_once(app: App, count: int) -> None:
    with app.transaction() as session:
        assert session.scalar(select(func.count()).select_from(Post)) == count  # one item a feed, stored once
        sources = session.scalars(select(Source)).all()
        assert len(sources) == count
        assert all(s.last_success_at is not None and s.lease_owner == "" for s in sources)


@pytest.mark.parametrize("processes", [3])
def test_concurrent_processes_share_the_due_sources_in_chunks(
    shared: tuple[App, str], tmp_path: Path, processes: int
) -> None:
    app, db_url = shared
    count = 60
    routes = Routes()
    with serve(routes) as (base, _):
        # A process claims chunks only while fewer polls wait than its window holds (twice fetch.concurrency): with 2
        # fetches at a time, one process alone would take 30 s over these 60 feeds of 1 s, so the others, however
        # late a loaded machine starts them, find chunks left (with the default 200, the first one up could
        # rightly take all 60 at once: it can poll them all together).
        add_feeds(app, routes, base, count, 1.0)
        workers = [start_ingest(db_url, tmp_path, fetch_concurrency="2", claim_size="4") for _ in range(processes)]
        shares = [polled(w) for w in workers]
        hits = [routes.hits(f"/f{i}") for i in range(count)]
    assert sum(shares) == count and hits == [1] * count, (shares, hits)
    assert sum(1 for share in shares if share) >= 2, shares  # chunks, not everything to the first that asks
    every_source_settled_once(app, count)


def test_two_processes_on_sqlite_share_the_due_sources(db_url: str, tmp_path: Path) -> None:
    settings = load_settings(None, environ={"LISTENER_DB": db_url, "XDG_CONFIG_HOME": str(tmp_path / "cfg")})
    app = App(settings=settings)
    try:
        with app.transaction() as session:
            add_rep(session, "ana@example.com", "Ana")
            add_customer(session, "Acme Corp", rep_email="ana@example.com")
        count = 40
        routes = Routes()
        with serve(routes) as (base, _):
            add_feeds(app, routes, base, count, 1.0)
            workers = [start_ingest(db_url, tmp_path, claim_size="4") for _ in range(2)]
            shares = [polled(w) for w in workers]
            hits = [routes.hits(f"/f{i}") for i in range(count)]
        assert sum(shares) == count and hits == [1] * count, (shares, hits)
        every_source_settled_once(app, count)
    finally:
        app.close()


def test_leases_are_renewed_while_polls_outlast_them(shared: tuple[App, str], tmp_path: Path) -> None:
    """Polls of 5 s under 2 s leases: the first process keeps renewing, so a second one started meanwhile finds
    nothing to take (without renewal it polled every feed again: review F8)."""
    app, db_url = shared
    count = 6
    routes = Routes()
    with serve(routes) as (base, _):
        add_feeds(app, routes, base, count, 5.0)
        first = start_ingest(db_url, tmp_path, lease_seconds="2")
        deadline = time.monotonic() + 120
        while sum(routes.hits(f"/f{i}") for i in range(count)) < count and time.monotonic() < deadline:
            time.sleep(0.1)  # the first process has all its polls in flight
        time.sleep(2.5)  # longer than a lease: only renewal keeps them
        second = start_ingest(db_url, tmp_path, lease_seconds="2")
        shares = [polled(first), polled(second)]
        hits = [routes.hits(f"/f{i}") for i in range(count)]
    assert shares == [count, 0] and hits == [1] * count, (shares, hits)
    every_source_settled_once(app, count)


def test_a_killed_workers_sources_are_taken_over_after_its_leases_expire(
    shared: tuple[App, str], tmp_path: Path
) -> None:
    app, db_url = shared
    count = 8
    routes = Routes()
    with serve(routes) as (base, _):
        add_feeds(app, routes, base, count, 4.0)
        victim = start_ingest(db_url, tmp_path, lease_seconds="30")
        deadline = time.monotonic() + 120
        while sum(routes.hits(f"/f{i}") for i in range(count)) < count and time.monotonic() < deadline:
            time.sleep(0.1)
        victim.send_signal(signal.SIGKILL)  # mid-poll: nothing settled, every lease still held
        victim.wait(30)
        with app.transaction() as session:
            held = session.scalar(select(func.count()).select_from(Source).where(Source.lease_owner != ""))
            assert held == count
        early = start_ingest(db_url, tmp_path, lease_seconds="30")  # well within the leases: nothing to take
        assert polled(early) == 0
        while True:  # the leases run out 30 s after the last renewal, since nobody renews them any more
            with app.transaction() as session:
                last = session.scalar(select(func.max(Source.lease_until)))
            assert last is not None
            if last.replace(tzinfo=None) < datetime.now(UTC).replace(tzinfo=None):
                break
            time.sleep(0.5)
        heir = start_ingest(db_url, tmp_path, lease_seconds="30")
        assert polled(heir) == count
        hits = [routes.hits(f"/f{i}") for i in range(count)]
    assert hits == [2] * count  # the killed worker's requests, then the heir's
    every_source_settled_once(app, count)


# --- listener worker -------------------------------------------------------------------------------------------


def start_worker(db_url: str, tmp_path: Path, *args: str, **env: str) -> subprocess.Popen[str]:
    return subprocess.Popen(
        [sys.executable, "-m", "listener", "worker", *args],
        env={
            **os.environ,
            "LISTENER_DB": db_url,
            "XDG_CONFIG_HOME": str(tmp_path / "cfg"),
            "LISTENER_FETCH_ALLOW_PRIVATE_NETWORKS": "true",
            "LISTENER_FETCH_TOTAL_TIMEOUT": "30",
            "LISTENER_INGEST_WORKERS": "1",
            **env,
        },
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


def test_sigterm_finishes_the_polls_in_flight_and_gives_back_the_rest(shared: tuple[App, str], tmp_path: Path) -> None:
    app, db_url = shared
    count = 12
    routes = Routes()
    with serve(routes) as (base, _):
        add_feeds(app, routes, base, count, 3.0)
        # One fetch at a time (two polls in the window): most of the 6-source chunk waits when SIGTERM comes.
        worker = start_worker(db_url, tmp_path, LISTENER_FETCH_CONCURRENCY="1", LISTENER_INGEST_CLAIM_SIZE="6")
        deadline = time.monotonic() + 120
        while not any(routes.hits(f"/f{i}") for i in range(count)) and time.monotonic() < deadline:
            time.sleep(0.1)
        worker.send_signal(signal.SIGTERM)
        out, err = worker.communicate(timeout=120)
        assert worker.returncode == 0, err[-2000:]
        assert "SIGTERM: finishing the polls in flight" in err and "1 cycle(s)" in out
        started = {i for i in range(count) if routes.hits(f"/f{i}")}
        with app.transaction() as session:
            sources = {int(s.locator.rsplit("/f", 1)[1]): s for s in session.scalars(select(Source))}
            assert all(s.lease_owner == "" and s.lease_until is None for s in sources.values())  # all given back
            assert {i for i, s in sources.items() if s.last_success_at is not None} == started  # in flight: stored
            assert session.scalar(select(func.count()).select_from(Post)) == len(started)
        assert 0 < len(started) < count
        rest = start_worker(db_url, tmp_path, "--once")  # the next worker polls the rest, nothing twice
        out, err = rest.communicate(timeout=300)
        assert rest.returncode == 0, err[-2000:]
        hits = [routes.hits(f"/f{i}") for i in range(count)]
    assert hits == [1] * count, hits
    every_source_settled_once(app, count)


class GatedInbox:
    """An SMTP handler that holds every message until `together` of them were in DATA at the same time (then lets
    all through), or `patience` seconds passed: several workers are each in the middle of a different rep's digest
    at once only if they share the due reps, so `opened` tells whether they did."""

    def __init__(self, together: int, patience: float = 120.0) -> None:
        import asyncio

        self.together, self.patience = together, patience
        self.in_data = 0
        self.opened = False
        self.gate = asyncio.Event()
        self.recipients: list[str] = []

    async def handle_DATA(self, server: object, session: object, envelope: Any) -> str:
        import asyncio

        self.in_data += 1
        if self.in_data >= self.together:
            self.opened = True
            self.gate.set()
        try:
            await asyncio.wait_for(self.gate.wait(), self.patience)
        except TimeoutError:
            self.gate.set()  # not shared: let everything through so the test ends, `opened` stays False
        finally:
            self.in_data -= 1
        self.recipients.extend(envelope.rcpt_tos)
        return "250 2.0.0 OK"


def add_due_reps(app: App, count: int) -> list[str]:
    """`count` reps whose digest is due now (hour 0, every day), each with one win to report; the reps already there
    (the fixture's Ana, due from 07:00 on work days) have paused their digests, so the test holds at any hour."""
    from sqlalchemy import select

    from listener.db.schema import DigestPause, Rep
    from tests.test_digest_helpers import add_customer as customer_for
    from tests.test_digest_helpers import add_insight
    from tests.test_digest_helpers import add_rep as rep_row

    reps = [f"rep{n}@example.com" for n in range(count)]
    with app.transaction() as session:
        for rep_id in session.scalars(select(Rep.id)):
            session.add(DigestPause(rep_id=rep_id, paused_at=datetime.now(UTC)))
        for n, email in enumerate(reps):
            rep = rep_row(session, email, name=f"Rep {n}", time_zone="UTC", digest_hour=0, workdays="")
            add_insight(session, customer_for(session, rep, f"Customer {n}"), "win", "launch", f"Customer {n} ships",
                        now=datetime.now(UTC))  # the workers build the digests at the real time  # fmt: skip
    return reps


def smtp_server(handler: object) -> Any:
    from aiosmtpd.controller import Controller

    from tests.test_deliver import free_port

    port = free_port()
    controller = Controller(handler, hostname="127.0.0.1", port=port)
    controller.start()
    return controller, {"LISTENER_SMTP_HOST": "127.0.0.1", "LISTENER_SMTP_PORT": str(port)}


def sent_by(out: str) -> int:
    """The digests a worker says it sent, from its last line ("... 4 digests sent ...")."""
    import re

    found = re.search(r"(\d+) digests sent", out)
    assert found, out
    return int(found.group(1))


@pytest.mark.parametrize("workers", [2, 3])
def test_workers_share_the_due_digests_in_chunks_each_rep_once(
    shared: tuple[App, str], tmp_path: Path, workers: int
) -> None:
    from listener.db.schema import Digest, Rep

    app, db_url = shared
    reps = add_due_reps(app, 12)
    # Three reps a chunk: each worker's first chunk holds different reps, so all of them can be in DATA at once.
    handler = GatedInbox(together=workers)
    controller, smtp = smtp_server(handler)
    try:
        started = [
            start_worker(db_url, tmp_path, "--once", LISTENER_DIGEST_CLAIM_SIZE="3", **smtp) for _ in range(workers)
        ]
        outputs = [w.communicate(timeout=300) for w in started]
    finally:
        controller.stop()
    assert [w.returncode for w in started] == [0] * workers, [err[-2000:] for _, err in outputs]
    assert sorted(handler.recipients) == sorted(reps)  # each rep once, across the workers
    assert handler.opened, "the workers never held different reps' digests at the same time"
    shares = [sent_by(out) for out, _ in outputs]
    assert sum(shares) == len(reps) and all(shares), shares
    with app.transaction() as session:
        assert sorted(session.scalars(select(Digest.status))) == ["sent"] * len(reps)
        assert set(session.scalars(select(Digest.attempts))) == {1}
        assert set(session.scalars(select(Rep.digest_lease_owner))) == {""}  # every lease given back


def test_rep_leases_are_disjoint_expire_and_skip_finished_digests(shared: tuple[App, str]) -> None:
    """The chunk claim itself, on both databases: two owners get disjoint chunks, a dead owner's reps come back
    once its leases run out, and a rep whose digest was sent is never leased again that day."""
    from datetime import timedelta

    from digests.claims import claim_reps, release_reps, renew_reps
    from digests.deliver import STALE_CLAIM
    from listener.db.schema import Digest, Rep

    app, _ = shared
    add_due_reps(app, 5)
    with app.transaction() as session:
        ids = list(session.scalars(select(Rep.id).order_by(Rep.id)))
    today = datetime(2030, 5, 1, 12, 0, tzinfo=UTC)
    due = {today.date(): ids}
    sessions = app.sessions()

    def claim(owner: str, at: datetime, limit: int = 2) -> list[int]:
        return claim_reps(sessions, owner, at, 60, due, limit, STALE_CLAIM)

    first, second, third = claim("a", today), claim("b", today), claim("c", today, 10)
    assert len(first) == len(second) == 2 and len(third) == len(ids) - 4
    assert sorted(first + second + third) == ids  # disjoint, and together every due rep
    assert claim("d", today + timedelta(seconds=30)) == []  # all held
    assert renew_reps(sessions, "a", today + timedelta(seconds=30), 60) == 2  # "a" lives on, the others died
    later = today + timedelta(seconds=61)
    assert sorted(claim("e", later, 10)) == sorted(second + third)  # expired: free again; "a"'s still held
    release_reps(sessions, "a", [first[0]])  # "a" finished one rep (say, sent) and gave it back
    release_reps(sessions, "e")
    with app.transaction() as session:
        session.add(Digest(rep_id=first[0], digest_date=today.date(), status="sent", created_at=today))
        session.add(Digest(rep_id=second[0], digest_date=today.date(), status="failed", created_at=today))
    again = claim("f", later, 10)
    assert first[0] not in again and second[0] in again  # sent: done for the day; failed: retried
    assert first[1] not in again  # still "a"'s


def test_sigterm_stops_a_digest_run_and_gives_back_the_reps_not_started(
    shared: tuple[App, str], tmp_path: Path
) -> None:
    from listener.db.schema import Digest, Rep

    app, db_url = shared
    reps = add_due_reps(app, 6)
    handler = GatedInbox(together=2, patience=3.0)  # one worker: each message waits 3 s, time to send SIGTERM
    controller, smtp = smtp_server(handler)
    try:
        worker = start_worker(db_url, tmp_path, LISTENER_DIGEST_CLAIM_SIZE="6", **smtp)
        deadline = time.monotonic() + 120
        while not handler.in_data and time.monotonic() < deadline:
            time.sleep(0.05)
        assert handler.in_data, "no digest reached the SMTP server"
        worker.send_signal(signal.SIGTERM)
        out, err = worker.communicate(timeout=120)
        assert worker.returncode == 0, err[-2000:]
        assert sent_by(out) == 1  # the digest in hand was finished, no other started
        with app.transaction() as session:
            assert set(session.scalars(select(Rep.digest_lease_owner))) == {""}  # the other five given back
            assert session.scalar(select(func.count()).select_from(Digest)) == 1
        rest = start_worker(db_url, tmp_path, "--once", **smtp)  # the next worker sends the other five at once
        out, err = rest.communicate(timeout=300)
        assert rest.returncode == 0, err[-2000:]
    finally:
        controller.stop()
    assert sent_by(out) == len(reps) - 1
    assert sorted(handler.recipients) == sorted(reps)
