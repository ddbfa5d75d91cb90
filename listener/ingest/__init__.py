"""The ingest run: a short orchestrator over small stages (claim due sources, poll, store and classify, settle)."""

from __future__ import annotations

import asyncio
import logging
import sys
import threading
import time
from collections.abc import Callable, Iterator
from concurrent.futures import Executor
from contextlib import contextmanager
from datetime import UTC, datetime

from sqlalchemy.orm import Session, sessionmaker

from connectors.base import Connector
from connectors.registry import CONNECTORS
from listener.db.renewal import renewed
from listener.db.session import transaction
from listener.ingest.batch import BatchStore
from listener.ingest.classify import Classification, unclassified_posts
from listener.ingest.leases import (
    Claim,
    claim_due,
    count_due_by_kind,
    fair_share,
    new_owner,
    release,
    release_all,
    renew,
)
from listener.ingest.poll import Outcome, make_pool, poll_all
from listener.ingest.prepare import forget_loaded_classifiers, prepare_for
from listener.ingest.report import IngestReport
from listener.ingest.second_opinion import revise_digest_bound
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
    stop: threading.Event | None = None,
) -> IngestReport:
    """Poll every due (or, with all_sources, every enabled) source once, store and classify what is new.

    Setting `stop` (`listener worker` on SIGTERM) ends the run early: no new chunk is claimed, polls in flight
    finish and are stored, claimed sources not started yet are given back."""
    started = time.monotonic()
    run_now = now or datetime.now(UTC)
    report = IngestReport()
    report.timeline["started"] = time.time()
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
        expected = sum(n for kind, n in due.items() if kind not in report.skipped_kinds)
        _poll_claimed(
            sessions,
            settings,
            report,
            pool,
            run_now,
            now,
            all_sources=all_sources,
            progress=progress,
            expected=expected,
            stop=stop,
        )
        report.timeline["released"] = time.time()
    finally:
        if pool is not None:
            pool.shutdown(wait=True, cancel_futures=True)
    report.seconds = time.monotonic() - started
    report.timeline["finished"] = time.time()
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
    expected: int = 0,
    stop: threading.Event | None = None,
) -> None:
    """Claim the due sources a chunk at a time (the next chunk while the last one finishes), poll them, store
    and classify what they hold, release them; stop when nothing is due. Other runs (on this host or others)
    claim the other chunks meanwhile."""
    owner = new_owner()
    clock: Callable[[], datetime] = (lambda: run_now) if now is not None else (lambda: datetime.now(UTC))
    taken: set[int] = set()

    def next_chunk() -> list[Claim]:
        """The next chunk of due sources for this run: none once stopping, or when only sources it gave back
        unsettled come back (they wait for the next run)."""
        if stop is not None and stop.is_set():
            return []
        at = clock()  # not the run's start: a chunk claimed late in a long run gets a lease that lasts
        skip = report.skipped_kinds
        # As the due sources run out, smaller chunks: the workers sharing them finish together.
        size = fair_share(
            sessions,
            owner,
            at,
            max(1, settings.ingest.claim_size),
            settings.fetch.concurrency,
            all_sources=all_sources,
            skip_kinds=skip,
            polled_before=run_now,
        )
        claims = claim_due(
            sessions,
            owner,
            at,
            settings.ingest.lease_seconds,
            all_sources=all_sources,
            skip_kinds=skip,
            limit=size,
            polled_before=run_now,
        )
        fresh = [c for c in claims if c.ref.id not in taken]
        release(sessions, owner, [c.ref.id for c in claims if c.ref.id in taken])
        taken.update(c.ref.id for c in fresh)
        if fresh:
            report.timeline.setdefault("first_claim", time.time())
            report.timeline["last_claim"] = time.time()
        return fresh

    classification = Classification(settings, pool)
    store = BatchStore(sessions, settings, owner, run_now, report, classification)

    def store_batch(batch: list[Outcome]) -> None:
        store(batch)
        report.timeline["last_stored"] = time.time()

    # Posts an earlier run stored but never classified (it crashed, or a commit failed): classified first.
    with transaction(sessions) as session:
        backlog = unclassified_posts(session, owner, run_now, settings.ingest.first_poll_days)
    if backlog:
        log.info("%d posts stored earlier have no insight yet: classifying them", len(backlog))
        report.repaired = len(backlog)
        classification.submit(backlog)
    first = next_chunk()
    if not first:
        store.finish()
        return
    connectors = _Connectors()  # skipped kinds are never claimed, so never made
    try:
        with (
            renewed(
                settings.ingest.lease_seconds,
                lambda: renew(sessions, owner, clock(), settings.ingest.lease_seconds),
                f"the source leases of {owner}",
            ),
            _progress_bar(progress, expected) as advance,
            _quick_gil_handoff(),
        ):
            polling = poll_all(
                first,
                connectors,
                settings,
                store_batch,
                now=clock,
                advance=advance,
                pool=pool,
                prepare=lambda claim: prepare_for(claim, settings, run_now),
                stop=stop,
                more=next_chunk,
            )
            asyncio.run(polling)
        store.finish()
        report.timeline["polled"] = time.time()
        revise_digest_bound(sessions, settings, run_now, taken)  # the learned second opinion, off the bulk path
        report.timeline["second_opinion"] = time.time()
    finally:
        release_all(sessions, owner)


class _Connectors(dict[str, Connector]):
    """One connector per kind, made when a chunk first brings a source of that kind."""

    def __missing__(self, kind: str) -> Connector:
        connector = self[kind] = CONNECTORS[kind]()
        return connector


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
