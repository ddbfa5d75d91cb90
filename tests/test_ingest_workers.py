"""Several ingest workers on one shared database: SQLite locks, PostgreSQL `FOR UPDATE SKIP LOCKED` leases."""

from __future__ import annotations

import multiprocessing
import os
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy import select

from listener.cli.app import App
from listener.db.schema import Post, Source
from listener.directory import add_customer, add_rep, get_customer
from listener.ingest import run_ingest
from listener.ingest.leases import claim_due, fair_share, new_owner
from listener.ingest.poll import POOL_THRESHOLD, make_pool
from listener.settings import load_settings
from listener.sourcing import Resolved, insert_source
from tests.servers.http import Routes, serve, slow_feed

NOW = datetime(2030, 5, 1, 12, 0, tzinfo=UTC)
SOURCES = 16


@pytest.fixture
def shared_app(any_db_url: str, tmp_path: Path) -> Iterator[App]:
    """An App on a fresh SQLite file or PostgreSQL database, allowed to fetch from loopback."""
    settings = load_settings(None, environ={"LISTENER_DB": any_db_url, "XDG_CONFIG_HOME": str(tmp_path / "cfg")})
    settings = replace(settings, fetch=replace(settings.fetch, allow_private_networks=True, total_timeout=5))
    application = App(settings=settings)
    with application.transaction() as session:
        add_rep(session, "ana@example.com", "Ana")
        add_customer(session, "Acme Corp", rep_email="ana@example.com")
    yield application
    application.close()


def test_overlapping_workers_poll_each_source_exactly_once(shared_app: App) -> None:
    routes = Routes()
    with serve(routes) as (base, _):
        with shared_app.transaction() as session:
            customer = get_customer(session, "Acme Corp")
            for i in range(SOURCES):
                routes[f"/f{i}"] = slow_feed(0.2)  # long enough for the runs to overlap
                insert_source(session, customer, Resolved("rss", f"{base}/f{i}"))
        reports = []

        def worker() -> None:
            reports.append(run_ingest(shared_app.sessions(), shared_app.settings, all_sources=False, now=NOW))

        threads = [threading.Thread(target=worker) for _ in range(3)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(60)
    assert len(reports) == 3
    assert sum(r.sources_polled for r in reports) == SOURCES
    assert [routes.hits(f"/f{i}") for i in range(SOURCES)] == [1] * SOURCES
    with shared_app.transaction() as session:
        assert len(session.scalars(select(Post)).all()) == SOURCES
        leftover = session.scalars(select(Source).where(Source.lease_owner != "")).all()
        assert leftover == []  # every lease was settled and given back


def test_claims_are_disjoint_and_an_expired_lease_is_claimable_again(shared_app: App) -> None:
    with shared_app.transaction() as session:
        customer = get_customer(session, "Acme Corp")
        for i in range(SOURCES):
            insert_source(session, customer, Resolved("rss", f"https://acme.example/f{i}"))
    sessions = shared_app.sessions()
    claimed: list[list[int]] = []

    def claim() -> None:
        claims = claim_due(sessions, new_owner(), NOW, lease_seconds=600)
        claimed.append([c.ref.id for c in claims])

    threads = [threading.Thread(target=claim) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(30)
    every = [source_id for ids in claimed for source_id in ids]
    assert len(every) == SOURCES and len(set(every)) == SOURCES  # all claimed, none twice

    # A worker that crashed never releases its leases: they are free again once they expire, not before.
    assert claim_due(sessions, new_owner(), NOW + timedelta(seconds=599), lease_seconds=600) == []
    later = claim_due(sessions, new_owner(), NOW + timedelta(seconds=601), lease_seconds=600)
    assert len(later) == SOURCES


def test_chunks_shrink_to_a_runs_share_as_the_due_sources_run_out(shared_app: App) -> None:
    """Full chunks while plenty are due; then what is left over the runs holding leases, never below the floor
    (what a run polls at once): the last chunks are spread over the workers instead of one taking them all."""
    with shared_app.transaction() as session:
        customer = get_customer(session, "Acme Corp")
        for i in range(30):
            insert_source(session, customer, Resolved("rss", f"https://acme.example/f{i}"))
    sessions = shared_app.sessions()
    me = new_owner()
    assert fair_share(sessions, me, NOW, 20, 4) == 20  # 30 due, nobody else: a full chunk
    assert len(claim_due(sessions, "other-1", NOW, 600, limit=20)) == 20
    assert fair_share(sessions, me, NOW, 20, 4) == 5  # 10 left, two runs: half each
    assert fair_share(sessions, me, NOW, 20, 8) == 8  # never below the floor
    assert len(claim_due(sessions, "other-2", NOW, 600, limit=2)) == 2
    assert fair_share(sessions, me, NOW, 20, 1) == 3  # 8 left over three runs
    assert fair_share(sessions, "other-1", NOW, 20, 1) == 4  # counted once; "me" holds no lease: two runs
    later = NOW + timedelta(seconds=601)  # both died: their leases ran out, all 30 due again, one run
    assert fair_share(sessions, me, later, 20, 4) == 20


def _preload_in_a_fresh_interpreter(tmp_path: Path, config: str) -> subprocess.CompletedProcess[str]:
    """Import the forkserver's preload module as the forkserver does, with this config file."""
    path = tmp_path / "listener.toml"
    path.write_text(config, encoding="utf-8")
    code = (
        "import listener.ingest.preload\n"
        "from listener.ingest.prepare import _LOADED\n"
        "from listener.relevance.language import _identifier\n"
        "print(len(_LOADED), _identifier.cache_info().currsize)\n"
    )
    env = {**os.environ, "LISTENER_CONFIG": str(path), "XDG_CONFIG_HOME": str(tmp_path / "cfg")}
    return subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=env, timeout=120)


def test_the_forkserver_preload_loads_the_classifier_and_the_language_model(tmp_path: Path) -> None:
    done = _preload_in_a_fresh_interpreter(tmp_path, "")
    assert done.returncode == 0, done.stderr
    assert done.stdout.split() == ["1", "1"]


def test_a_bad_config_only_leaves_the_preload_empty(tmp_path: Path) -> None:
    """The run reports a bad config itself; the forkserver must still start (each process then loads its own)."""
    done = _preload_in_a_fresh_interpreter(tmp_path, "[relevance]\nmin_score = 'not a number'\n")
    assert done.returncode == 0, done.stderr
    assert done.stdout.split() == ["0", "0"]


def test_the_parser_processes_start_before_the_first_job() -> None:
    """The first process waits for the forkserver's preload: started at the first job, it stalled the event loop."""
    before = {process.pid for process in multiprocessing.active_children()}
    pool = make_pool(load_settings(None, environ={"LISTENER_INGEST_WORKERS": "2"}), POOL_THRESHOLD)
    assert pool is not None
    try:
        deadline = time.monotonic() + 60
        started: set[int | None] = set()
        while len(started) < 2 and time.monotonic() < deadline:  # no job is submitted here
            started = {process.pid for process in multiprocessing.active_children()} - before
            time.sleep(0.05)
        assert len(started) == 2
    finally:
        pool.shutdown(wait=True)
