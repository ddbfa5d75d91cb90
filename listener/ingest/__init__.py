"""The ingest run: a short orchestrator over small stages (claim due sources, poll, store and classify, settle)."""

from __future__ import annotations

import asyncio
import logging
import sys
import time
from collections.abc import Callable, Iterator
from concurrent.futures import Executor
from contextlib import contextmanager
from datetime import UTC, datetime

from sqlalchemy.orm import Session, sessionmaker

from connectors.base import Connector
from connectors.registry import CONNECTORS
from listener.db.session import transaction
from listener.ingest.batch import BatchStore
from listener.ingest.classify import Classification, unclassified_posts
from listener.ingest.leases import claim_due, count_due_by_kind, new_owner, release
from listener.ingest.poll import make_pool, poll_all
from listener.ingest.prepare import forget_loaded_classifiers, prepare_for
from listener.ingest.report import IngestReport
from listener.settings import Settings

log = logging.getLogger(__name__)

__all__ = ["IngestReport", "run_ingest"]


def unavailable_kinds(settings: Settings, kinds: set[str]) -> dict[str, str]:
    """Kinds that cannot run at all (no token, unknown kind), each with the reason said once."""
    reasons: dict[str, str] = {}
    for kind in sorted(kinds):
        connector = CONNECTORS.get(kind)
        reason = connector.unavailable_reason(settings) if connector else f"no connector for kind {kind!r}"
        if reason:
            reasons[kind] = reason
    return reasons


def run_ingest(
    sessions: sessionmaker[Session],
    settings: Settings,
    *,
    all_sources: bool = False,
    progress: bool = False,
    now: datetime | None = None,
) -> IngestReport:
    """Poll every due (or, with all_sources, every enabled) source once, store and classify what is new."""
    started = time.monotonic()
    run_now = now or datetime.now(UTC)
    report = IngestReport()
    forget_loaded_classifiers()
    with transaction(sessions) as session:
        due = count_due_by_kind(session, run_now, all_sources)
    report.skipped_kinds = unavailable_kinds(settings, set(due))
    for kind, reason in report.skipped_kinds.items():
        log.warning("%d %s source(s) skipped: %s", due[kind], kind, reason)
    # Parser processes, when the run is big enough: they parse feeds and classify posts, using every core. Made
    # before claiming, so that they load the classifier meanwhile.
    pool = make_pool(settings, sum(n for kind, n in due.items() if kind not in report.skipped_kinds))
    try:
        _poll_claimed(sessions, settings, report, pool, run_now, now, all_sources=all_sources, progress=progress)
    finally:
        if pool is not None:
            pool.shutdown(wait=True, cancel_futures=True)
    report.seconds = time.monotonic() - started
    return report


def _poll_claimed(
    sessions: sessionmaker[Session],
    settings: Settings,
    report: IngestReport,
    pool: Executor | None,
    run_now: datetime,
    now: datetime | None,
    *,
    all_sources: bool,
    progress: bool,
) -> None:
    """Claim the due sources, poll them, store and classify what they hold, and release them."""
    owner = new_owner()
    claims = claim_due(
        sessions,
        owner,
        run_now,
        settings.ingest.lease_seconds,
        all_sources=all_sources,
        skip_kinds=report.skipped_kinds,
    )
    classification = Classification(settings, pool)
    store = BatchStore(sessions, settings, owner, run_now, report, classification)
    # Posts an earlier run stored but never classified (it crashed, or a commit failed): classified first.
    with transaction(sessions) as session:
        backlog = unclassified_posts(session, owner, run_now, settings.ingest.first_poll_days)
    if backlog:
        log.info("%d posts stored earlier have no insight yet: classifying them", len(backlog))
        report.repaired = len(backlog)
        classification.submit(backlog)
    if not claims:
        store.finish()
        return
    connectors: dict[str, Connector] = {kind: CONNECTORS[kind]() for kind in {c.ref.kind for c in claims}}
    clock: Callable[[], datetime] = (lambda: run_now) if now is not None else (lambda: datetime.now(UTC))
    try:
        with _progress_bar(progress, len(claims)) as advance, _quick_gil_handoff():
            polling = poll_all(
                claims,
                connectors,
                settings,
                store,
                now=clock,
                advance=advance,
                pool=pool,
                prepare=lambda claim: prepare_for(claim, settings, run_now),
            )
            asyncio.run(polling)
        store.finish()
    finally:
        release(sessions, owner, [c.ref.id for c in claims])


@contextmanager
def _quick_gil_handoff() -> Iterator[None]:
    """A shorter GIL switch interval while polling and storing run side by side.

    The storing thread releases the GIL for every SQLite statement and then waits for the event loop to hand it
    back, up to the switch interval (5 ms) each time: tens of thousands of statements spent most of a large run
    waiting. 0.5 ms keeps the hand-off short at the price of a little more switching.
    """
    previous = sys.getswitchinterval()
    sys.setswitchinterval(min(previous, 0.0005))
    try:
        yield
    finally:
        sys.setswitchinterval(previous)


@contextmanager
def _progress_bar(enabled: bool, total: int) -> Iterator[Callable[[int], None]]:
    """A rich progress bar for a person at a terminal; nothing at all under cron."""
    if not enabled:
        yield lambda n: None
        return
    from rich.console import Console
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

    columns = (TextColumn("polling"), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn())
    with Progress(*columns, console=Console(stderr=True), transient=True) as bar:
        task = bar.add_task("poll", total=total)
        yield lambda n: bar.advance(task, n)
