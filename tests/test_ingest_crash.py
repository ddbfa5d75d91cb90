"""Insights are never lost: a kill -9 of a real `listener ingest`, and commits that fail, on a real database.

Posts stored without their insight (the run died, or the commit carrying the insights failed) keep no insight row;
every run classifies such posts first, so the next run repairs them.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager, suppress
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from sqlalchemy import event, func, select
from sqlalchemy.engine import Engine

from listener.cli.app import App
from listener.db.schema import Insight, Post, Source
from listener.demo.fakeapi import FakeSocialAPI
from listener.demo.fakeapi_data import SocialData
from listener.directory import get_customer
from listener.ingest import run_ingest
from listener.ingest.batch import HOLD_ENV
from listener.ingest.poll import POOL_THRESHOLD
from listener.sourcing import Resolved, insert_source
from tests.feeds import rfc822, rss
from tests.servers.http import Reply, Routes, serve

BEARER = "crash-test-bearer"


def _missing(app: App) -> int:
    """Posts that may reach a digest and have no insight."""
    with app.transaction() as session:
        query = (
            select(func.count())
            .select_from(Post)
            .outerjoin(Insight, Insight.post_id == Post.id)
            .where(Insight.id.is_(None), Post.digest_eligible.is_(True), Post.duplicate_of_id.is_(None))
        )
        return int(session.scalar(query) or 0)


def _count(app: App, model: Any) -> int:
    with app.transaction() as session:
        return int(session.scalar(select(func.count()).select_from(model)) or 0)


def _feed(i: int) -> bytes:
    return rss([{"guid": f"f{i}-1", "title": f"Acme Corp opens office number {i}", "date": rfc822(1)}])


def test_kill_9_after_posts_are_stored_and_before_their_insights_then_a_rerun_repairs_them(
    local: App, tmp_path: Path
) -> None:
    """A real `listener ingest` with parser processes, killed right after tweets were stored without insights."""
    data = SocialData()
    data.add_x_user("acmecorp", "Acme Corp")
    for n in range(5):
        data.add_tweet("acmecorp", f"Acme Corp raises ${n + 10}M Series B to open offices in Madrid", seconds_ago=600)
    routes = Routes()
    marker = tmp_path / "stored"
    with FakeSocialAPI(data=data, bearer_token=BEARER) as api, serve(routes) as (base, _):
        with local.transaction() as session:
            customer = get_customer(session, "Acme Corp")
            # Enough feeds for the run to start parser processes: only then are insights written after their posts.
            for i in range(POOL_THRESHOLD):
                routes[f"/f{i}"] = Reply(_feed(i), headers={"Content-Type": "application/rss+xml"})
                insert_source(session, customer, Resolved("rss", f"{base}/f{i}"))
            insert_source(session, customer, Resolved("twitter", "@acmecorp"))
        env = {
            **os.environ,
            "LISTENER_DB": local.settings.database_url,
            "XDG_CONFIG_HOME": str(tmp_path / "cfg"),
            "LISTENER_FETCH_ALLOW_PRIVATE_NETWORKS": "true",
            "LISTENER_TWITTER_API_BASE": api.url,
            "LISTENER_TWITTER_BEARER_TOKEN": BEARER,
            "LISTENER_INGEST_WORKERS": "1",
        }
        command = [sys.executable, "-m", "listener", "ingest", "--json"]
        # A session of its own: the parser processes it leaves behind when killed are cleaned up with it below.
        hold = {**env, HOLD_ENV: str(marker)}
        run = subprocess.Popen(command, env=hold, stdout=subprocess.DEVNULL, start_new_session=True)
        try:
            deadline = time.monotonic() + 120
            while not marker.exists() and run.poll() is None and time.monotonic() < deadline:
                time.sleep(0.05)
            assert marker.exists(), "the run never reached the moment after storing posts without insights"
            os.kill(run.pid, signal.SIGKILL)
        finally:
            with suppress(ProcessLookupError):
                os.killpg(run.pid, signal.SIGKILL)
            run.wait(30)
        assert run.returncode == -signal.SIGKILL
        with local.transaction() as session:
            tweets = session.scalar(select(func.count()).select_from(Post).join(Source).where(Source.kind == "twitter"))
        assert tweets == 5
        assert _missing(local) >= 5  # the kill hit the bad moment: stored tweets without insights

        # The re-run has nothing due (the stored sources were rescheduled) and still classifies them.
        rerun = subprocess.run(command, env=env, capture_output=True, text=True, timeout=300)
    assert rerun.returncode in (0, 1), rerun.stderr
    assert _missing(local) == 0
    with local.transaction() as session:
        kinds = session.scalars(select(Insight.kind).join(Post).join(Source).where(Source.kind == "twitter")).all()
    assert sorted(kinds) == ["win"] * 5  # classified as what they are, not just marked


@contextmanager
def failing_commits(engine: Engine, *, times: int) -> Iterator[list[int]]:
    """Make the next `times` commits of a transaction that wrote insights fail, at the database's commit."""
    failed: list[int] = []

    def wrote(conn: Any, cursor: Any, statement: str, *args: Any) -> None:
        if statement.lstrip().upper().startswith("INSERT INTO INSIGHTS"):
            conn.info["wrote_insights"] = True

    def commit(conn: Any) -> None:
        if conn.info.pop("wrote_insights", False) and len(failed) < times:
            failed.append(1)
            raise RuntimeError("injected commit failure")

    def rollback(conn: Any) -> None:
        conn.info.pop("wrote_insights", None)

    event.listen(engine, "before_cursor_execute", wrote)
    event.listen(engine, "commit", commit)
    event.listen(engine, "rollback", rollback)
    try:
        yield failed
    finally:
        event.remove(engine, "before_cursor_execute", wrote)
        event.remove(engine, "commit", commit)
        event.remove(engine, "rollback", rollback)


NOW = datetime(2030, 5, 1, 12, 0, tzinfo=UTC)
TITLES = (
    "Acme Corp raises $12M Series A led by Index Ventures",
    "Acme Corp wins the Red Dot design award",
    "Acme Corp hires Jane Doe as chief revenue officer",
)


def _three_feeds(local: App, routes: Routes, base: str) -> None:
    with local.transaction() as session:
        customer = get_customer(session, "Acme Corp")
        for i, title in enumerate(TITLES):
            items = [{"guid": f"f{i}-1", "title": title, "date": rfc822(1, NOW)}]
            routes[f"/f{i}"] = Reply(rss(items), headers={"Content-Type": "application/rss+xml"})
            insert_source(session, customer, Resolved("rss", f"{base}/f{i}"))


def test_a_commit_that_keeps_failing_is_reported_as_failed_and_the_next_run_stores_everything(local: App) -> None:
    routes = Routes()
    with serve(routes) as (base, _):
        _three_feeds(local, routes, base)
        with failing_commits(local.engine(), times=1000) as failed:
            report = run_ingest(local.sessions(), local.settings, now=NOW)
        assert failed  # the injection hit
        assert report.failed == 3 and "storing failed" in report.failures[0][2]
        assert _missing(local) == 0  # nothing half-stored
        again = run_ingest(local.sessions(), local.settings, now=NOW + timedelta(minutes=1))
    assert again.failed == 0 and again.new_posts == 3
    assert _count(local, Post) == 3 and _missing(local) == 0


def test_a_commit_that_fails_once_loses_no_insight(local: App) -> None:
    routes = Routes()
    with serve(routes) as (base, _):
        _three_feeds(local, routes, base)
        with failing_commits(local.engine(), times=1) as failed:
            report = run_ingest(local.sessions(), local.settings, now=NOW)
    assert failed == [1]
    assert report.failed == 0 and report.new_posts == 3  # written again, source by source
    assert _count(local, Post) == 3 and _missing(local) == 0


def test_an_edit_drops_the_old_insight_with_the_old_text(local: App) -> None:
    """The old insight goes in the edit's own transaction: a crash can leave none, never a stale one."""
    routes = Routes()
    with serve(routes) as (base, _):
        _three_feeds(local, routes, base)
        run_ingest(local.sessions(), local.settings, now=NOW)
        with local.transaction() as session:
            before = dict(session.execute(select(Insight.post_id, Insight.category)).all())
        assert len(before) == 3
        items = [{"guid": "f0-1", "title": "Acme Corp announces layoffs of 200 staff", "date": rfc822(1, NOW)}]
        routes["/f0"] = Reply(rss(items), headers={"Content-Type": "application/rss+xml"})
        with failing_commits(local.engine(), times=1000):
            report = run_ingest(local.sessions(), local.settings, now=NOW + timedelta(hours=2))
        # The batch with the edited source could not be stored: its old text and insight stay.
        assert report.failed >= 1 and any(locator.endswith("/f0") for _, locator, _ in report.failures)
        with local.transaction() as session:
            assert dict(session.execute(select(Insight.post_id, Insight.category)).all()) == before
        run_ingest(local.sessions(), local.settings, now=NOW + timedelta(hours=4))
    with local.transaction() as session:
        categories = session.execute(select(Post.title, Insight.category).join(Insight)).all()
    assert ("Acme Corp announces layoffs of 200 staff", "layoffs") in categories
    assert _missing(local) == 0
