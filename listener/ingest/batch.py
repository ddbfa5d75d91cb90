"""Settling a batch of poll outcomes in one transaction: posts stored, insights written, sources rescheduled."""

from __future__ import annotations

import logging
import os
import time
from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from datetime import datetime
from typing import Any, cast

from sqlalchemy import Table, bindparam, select, update
from sqlalchemy.orm import Session, sessionmaker

from listener.db.schema import Source
from listener.db.session import transaction
from listener.errors import FetchError
from listener.ingest.classify import Classification, delete_insights
from listener.ingest.poll import Outcome
from listener.ingest.report import IngestReport
from listener.ingest.schedule import COLUMNS, SETTLED, SourceRow, settle_error, settle_success
from listener.ingest.store import Stored, store_posts
from listener.models import Insight, Post
from listener.relevance import CustomerHints
from listener.settings import Settings

log = logging.getLogger(__name__)

# A test hook, inert unless set: after the first batch whose posts wait for insights from the parser processes has
# committed, create the file this names and sleep, so that a test can kill -9 the run at exactly that moment
# (tests/test_ingest_crash.py). Never set in production.
HOLD_ENV = "LISTENER_TEST_HOLD_AFTER_STORE"


def hold_after_store() -> None:
    path = os.environ.get(HOLD_ENV)
    if path and not os.path.exists(path):
        with open(path, "w") as marker:
            marker.write(str(os.getpid()))
        time.sleep(3600)


@dataclass
class Pending:
    """A batch's posts that need an insight: classified ahead of storing (ready), or still to classify."""

    to_classify: list[tuple[int, Post, CustomerHints]] = field(default_factory=list)
    classified: list[tuple[int, Insight]] = field(default_factory=list)
    edited: set[int] = field(default_factory=set)  # posts whose old insight is replaced

    def add(self, stored: Stored, ready: dict[str, Insight], hints: CustomerHints) -> None:
        self.edited.update(stored.edited)
        for post_id, post in stored.classify:
            insight = ready.get(post.external_id)
            if insight is None:
                self.to_classify.append((post_id, post, hints))
            else:
                self.classified.append((post_id, insight))


_SOURCES = cast(Table, Source.__table__)
_ROW_COLUMNS = tuple(_SOURCES.c[name] for name in COLUMNS)
_UPDATE_SOURCE = (
    update(_SOURCES).where(_SOURCES.c.id == bindparam("row_id")).values({name: bindparam(name) for name in SETTLED})
)


def _insights(outcome: Outcome) -> dict[str, Insight]:
    """The insights the prepare stage made of the outcome's posts (by external id)."""
    return outcome.prepared.insights if outcome.prepared else {}


def _settled(source: SourceRow) -> dict[str, Any]:
    return {name: getattr(source, name) for name in SETTLED}


class BatchStore:
    """Called from the storing thread with each batch of outcomes; keeps the run's report."""

    def __init__(
        self,
        sessions: sessionmaker[Session],
        settings: Settings,
        owner: str,
        now: datetime,
        report: IngestReport,
        classification: Classification,
    ) -> None:
        self.sessions = sessions
        self.settings = settings
        self.owner = owner
        self.now = now
        self.report = report
        self.classification = classification
        self._moved: set[tuple[int, str, str]] = set()  # (customer, kind, locator) the batch's redirects move to

    def __call__(self, outcomes: Sequence[Outcome]) -> None:
        try:
            self._write(outcomes, isolated=False)
        except Exception:
            # A storing bug hit one of the sources: the batch was rolled back. Written again with a savepoint per
            # source, only that source loses its posts. Savepoints cost a quarter of storing, so only when needed.
            log.info("a batch of %d sources failed storing; writing it again source by source", len(outcomes))
            try:
                self._write(outcomes, isolated=True)
            except Exception as exc:
                # The database refused the batch twice (a failed commit, a lost connection): nothing of it is
                # stored. Its sources fail, for this run only: their leases go back at the end of the run, they are
                # due again, and insights this batch was to write stay queued for the next transaction.
                log.exception("a batch of %d sources could not be stored", len(outcomes))
                self._fail(outcomes, FetchError(f"storing failed: {type(exc).__name__}"))

    def _write(self, outcomes: Sequence[Outcome], *, isolated: bool) -> None:
        ids = [o.claim.ref.id for o in outcomes]
        done = IngestReport()  # counted into the run's report once the batch is committed, never twice
        self._moved = set()
        with transaction(self.sessions) as session:
            connection = session.connection()
            if isolated and connection.dialect.name == "sqlite":
                # pysqlite opens a transaction only before a write, and a SAVEPOINT outside one is a transaction of
                # its own that its RELEASE commits: each source's posts would be committed apart from the batch and
                # survive its failed commit without their insights. The batch's transaction starts first.
                connection.exec_driver_sql("BEGIN IMMEDIATE")
            # Only rows this run still holds: if our lease expired and another run took the source, it owns it now.
            held = {
                row.id: SourceRow(**row._mapping)
                for row in connection.execute(
                    select(*_ROW_COLUMNS).where(_SOURCES.c.id.in_(ids), _SOURCES.c.lease_owner == self.owner)
                )
            }
            pending = Pending()
            for outcome in outcomes:
                source = held.get(outcome.claim.ref.id)
                if source is None:
                    log.warning("source %s: lease lost before its result was stored", outcome.claim.ref.id)
                    continue
                self._settle(session, source, outcome, pending, done, isolated)
            if held:  # every held row was settled: one statement for the batch
                connection.execute(_UPDATE_SOURCE, [{"row_id": s.id, **_settled(s)} for s in held.values()])
            # An edited post's old insight goes with its old text, in this transaction: if its new insight is never
            # written, the post is left without one, which the next run sees and repairs.
            delete_insights(session, sorted(pending.edited))
            if self.classification.inline and pending.to_classify:  # no parser processes: classified right here
                pending.classified.extend(self.classification.classify_now(pending.to_classify))
                pending.to_classify = []
            self.classification.write_classified(session, pending.classified, self.now)
            self.classification.write_ready(session, self.now)
        self.classification.written()
        self.report.add(done)
        # The whole batch at once: the classifier works on large chunks, in the parser processes when there are.
        self.classification.submit(pending.to_classify)
        if pending.to_classify:
            hold_after_store()

    def finish(self) -> None:
        """Write the insights still being classified once polling is over.

        If that fails, the posts stay without insights until the next run classifies them: counted as unclassified,
        which makes the run's exit status 1.
        """
        try:
            with transaction(self.sessions) as session:
                self.classification.write_ready(session, self.now, wait=True)
            self.classification.written()
        except Exception:
            log.exception("the insights of %d posts could not be written", self.classification.waiting)
            self.report.unclassified += self.classification.waiting

    def _fail(self, outcomes: Sequence[Outcome], error: FetchError) -> None:
        """Count a batch that could not be stored as failed, source by source."""
        done = IngestReport()
        for outcome in outcomes:
            ref = outcome.claim.ref
            done.sources_polled += 1
            done.failed += 1
            done.failures.append((ref.id, ref.locator, error.message))
        self.report.add(done)

    def _settle(
        self,
        session: Session,
        source: SourceRow,
        outcome: Outcome,
        pending: Pending,
        done: IngestReport,
        isolated: bool,
    ) -> None:
        ref = outcome.claim.ref
        done.sources_polled += 1
        result = outcome.result
        # A savepoint per source only when the batch is written again after a failure, and only for sources with
        # something to store: a 304 changes the row's columns alone, which the batch writes in one statement.
        savepoint = isolated and result is not None and bool(result.posts or result.new_locator)
        if outcome.error is None and result is not None and not savepoint:
            stored = self._store(session, source, outcome, done)
            pending.add(stored, _insights(outcome), outcome.claim.hints())
            return
        if outcome.error is None and result is not None:
            trial = replace(source)  # the row as settled if storing succeeds; left as it was if it fails
            try:
                with session.begin_nested():  # a storing bug loses this source's posts, never the batch
                    stored = self._store(session, trial, outcome, done)
                pending.add(stored, _insights(outcome), outcome.claim.hints())
                vars(source).update(vars(trial))
                return
            except Exception as exc:
                log.exception("source %s (%s): storing failed", ref.id, ref.locator)
                outcome = Outcome(outcome.claim, error=FetchError(f"storing failed: {type(exc).__name__}"))
        error = outcome.error or FetchError("no result")
        verdict = settle_error(source, error, self.now, self.settings.ingest)
        if verdict == "deferred":
            done.deferred += 1
            log.info("source %s (%s): deferred: %s", ref.id, ref.locator, error.message)
        else:
            done.failed += 1
            done.failures.append((ref.id, ref.locator, error.message))
            log.warning("source %s (%s): %s", ref.id, ref.locator, error.message)

    def _store(self, session: Session, source: SourceRow, outcome: Outcome, done: IngestReport) -> Stored:
        """Store the posts and settle the source; what storing did (which posts need an insight)."""
        result = outcome.result
        assert result is not None
        claim = outcome.claim
        if result.not_modified:
            done.not_modified += 1
        keys = outcome.prepared.keys if outcome.prepared else None
        stored = store_posts(session, claim, result.posts, self.now, self.settings.ingest.first_poll_days, keys)
        done.new_posts += stored.new
        done.updated_posts += stored.updated
        if result.new_locator and result.new_locator != source.locator:
            self._move(session, source, result.new_locator)
        settle_success(source, result, self.now, self.settings.ingest)
        return stored

    def _move(self, session: Session, source: SourceRow, new_locator: str) -> None:
        """A permanent redirect: the source now lives at the new URL (unless the customer already has that one)."""
        clash = session.scalar(
            select(Source.id).where(
                Source.customer_id == source.customer_id, Source.kind == source.kind, Source.locator == new_locator
            )
        )
        if clash is not None:
            log.info("source %s: moved to %s, which source %s already polls", source.id, new_locator, clash)
            return
        if (source.customer_id, source.kind, new_locator) in self._moved:  # not written yet: the query cannot see it
            log.info("source %s: moved to %s, where another source of this batch moves too", source.id, new_locator)
            return
        log.info("source %s: permanently moved from %s to %s", source.id, source.locator, new_locator)
        self._moved.add((source.customer_id, source.kind, new_locator))
        source.locator = new_locator
